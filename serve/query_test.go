package serve

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
)

// FuzzParseSampleQuery feeds arbitrary queries to the parser: it must not
// panic, and what it accepts must be within the bounds (n, rows, codes);
// what it refuses must be a 400 naming a parameter. The seed corpus runs
// in the normal tests.
func FuzzParseSampleQuery(f *testing.F) {
	for _, s := range []string{
		"", "seed=1&n=16", "n=64", "n=65", "n=-1", "n=99999999999999999999", "seed=18446744073709551615",
		"class=3", "class=-2", "truncation=0.5", "truncation=1e308", "truncation=-0", "truncation=Inf",
		"code=c1=3", "code=c1=0:9&code=c2=-1:1", "code=c2=-1:1&rows=300", "code=c1=3&class=1", "code==",
		"code=c1=1:0", "rows=2", "seed=1&seed=2", "%zz", "n=1&n=1", "v=123&seed=7",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseSampleQuery(v, 64)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Param == "" {
				t.Fatalf("%q: error %v is not a 400 naming a parameter", raw, err)
			}
			return
		}
		if q.N < 1 || q.N > 64 || q.Rows < 2 || q.Rows > maxRows || len(q.Codes.Names) > maxCodeParams {
			t.Fatalf("%q: accepted out of bounds: %+v", raw, q)
		}
		if q.Codes.Given() && q.Class >= 0 {
			t.Fatalf("%q: accepted codes with a class", raw)
		}
		if q.canonical() == "" {
			t.Fatalf("%q: empty canonical form", raw)
		}
	})
}

// FuzzSampleBody feeds arbitrary JSON to the POST sample body's parser,
// with the same promises as FuzzParseSampleQuery.
func FuzzSampleBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"seed":3,"n":4}`, `{"n":1000}`, `{"classes":[0,1,2],"n":3}`, `{"classes":[]}`,
		`{"class":-1}`, `{"truncation":-1}`, `{"codes":{"c1":3,"c2":1e309}}`, `{"format":"gif"}`, `{"class":1,"codes":{"c1":0}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var b SampleBody
		if json.Unmarshal([]byte(raw), &b) != nil {
			return
		}
		q, err := b.Query(64)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.Param == "" {
				t.Fatalf("%q: error %v is not a 400 naming a parameter", raw, err)
			}
			return
		}
		if q.N < 1 || q.N > 64 || len(q.Codes.Names) > maxCodeParams || (q.Classes != nil && len(q.Classes) != q.N) {
			t.Fatalf("%q: accepted out of bounds: %+v", raw, q)
		}
	})
}

// TestCanonicalQuery checks that the canonical form ignores parameter
// order and cache-busters but not values.
func TestCanonicalQuery(t *testing.T) {
	parse := func(s string) string {
		v, _ := url.ParseQuery(s)
		q, err := ParseSampleQuery(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		return q.canonical()
	}
	if parse("seed=2&n=4&code=c1=1&code=c2=0:1") != parse("code=c2=0:1&n=4&v=9&code=c1=1&seed=2") {
		t.Errorf("order or a cache-buster changed the canonical form")
	}
	if parse("seed=2&n=4") == parse("seed=2&n=5") || parse("n=4") == parse("n=4&truncation=0.5") {
		t.Errorf("different queries share a canonical form")
	}
}

// TestBucket checks the forward pass sizes: at least the rows, at most a
// half more, and the rows themselves from max on.
func TestBucket(t *testing.T) {
	for rows := 1; rows <= 70; rows++ {
		b := bucket(rows, 64)
		if b < rows || (rows <= 64 && float64(b) > 1.5*float64(rows)+0.5 && rows > 2) || (rows > 64 && b != rows) {
			t.Errorf("bucket(%d, 64) = %d", rows, b)
		}
	}
	if got := []int{bucket(1, 64), bucket(5, 64), bucket(7, 64), bucket(17, 64), bucket(40, 64), bucket(60, 64), bucket(64, 64)}; !slices.Equal(got, []int{1, 6, 8, 24, 48, 64, 64}) {
		t.Errorf("buckets %v", got)
	}
}
