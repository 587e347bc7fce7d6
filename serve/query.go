package serve

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/pipeline"
)

// Bounds on what one request may ask, whatever the server's MaxN: a query
// can name a few codes, a traversal a few rows, an interpolation a few
// steps.
const (
	maxCodeParams = 16   // code= parameters in one query
	maxRows       = 256  // rows of a continuous code traversal
	maxQueryBytes = 8192 // a sample query's length
	defaultN      = 16
	defaultRows   = 9
	defaultSteps  = 8
)

// Error is a request the server refuses: an HTTP status and a message,
// and the parameter at fault when one is ("" otherwise). It is written as
// the JSON body {"error": Msg, "param": Param}.
type Error struct {
	Status int
	Param  string
	Msg    string
}

// Error returns the message, naming the parameter.
func (e *Error) Error() string {
	if e.Param == "" {
		return e.Msg
	}
	return e.Param + ": " + e.Msg
}

// badParam returns a 400 Error naming param.
func badParam(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Param: param, Msg: fmt.Sprintf(format, args...)}
}

// SampleQuery is a parsed sample request, before it meets a model: the
// parameters of GET sample.png and of the POST sample body.
type SampleQuery struct {
	// Seed seeds the noise (default 1); N is the number of samples
	// (default 16), or a code traversal's columns.
	Seed uint64
	N    int
	// NSet reports whether N was given (a traversal picks its own
	// column count otherwise).
	NSet bool
	// Class is the class of every sample of a conditional model, -1 for
	// the classes in turn; Classes, when set (POST only), gives one class
	// per sample instead.
	Class   int
	Classes []int
	// Truncation is the resampling threshold (BigGAN's truncation), 0 for
	// none.
	Truncation float64
	// Codes holds fixed latent codes and at most one traversal.
	Codes pipeline.CodeSpec
	// Rows is the number of values of a continuous code's traversal.
	Rows int
}

// canonical returns the query in a fixed form: two queries that draw the
// same samples have the same canonical form (the ETag hashes it).
func (q SampleQuery) canonical() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed=%d&n=%d&nset=%t&class=%d&truncation=%g&rows=%d", q.Seed, q.N, q.NSet, q.Class, q.Truncation, q.Rows)
	if q.Classes != nil {
		fmt.Fprintf(&b, "&classes=%v", q.Classes)
	}
	names := slices.Clone(q.Codes.Names)
	slices.Sort(names)
	for _, n := range names {
		if t := q.Codes.Trav; t != nil && t.Name == n {
			fmt.Fprintf(&b, "&code=%s=%g:%g", n, t.Lo, t.Hi)
		} else {
			fmt.Fprintf(&b, "&code=%s=%g", n, q.Codes.Fixed[n])
		}
	}
	return b.String()
}

// ParseSampleQuery parses the query of GET sample.png: seed, n (1 to
// maxN), class, truncation, code (repeatable: NAME=V or NAME=LO:HI) and
// rows (a continuous traversal's values). Unknown parameters are ignored
// (a page may add a cache-buster); a parameter given twice, other than
// code, is an error. It checks syntax and bounds only; whether the model
// has the class or the code is checked when the query meets it. Errors
// are *Error values naming the parameter.
func ParseSampleQuery(v url.Values, maxN int) (SampleQuery, error) {
	q := SampleQuery{Seed: 1, N: defaultN, Class: -1, Rows: defaultRows}
	one := func(name string) (string, bool, error) {
		vs := v[name]
		switch len(vs) {
		case 0:
			return "", false, nil
		case 1:
			return vs[0], true, nil
		}
		return "", false, badParam(name, "given %d times, want once", len(vs))
	}
	if s, ok, err := one("seed"); err != nil {
		return q, err
	} else if ok {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return q, badParam("seed", "%q is not a whole number 0 to %d", clip(s), uint64(math.MaxUint64))
		}
		q.Seed = seed
	}
	if s, ok, err := one("n"); err != nil {
		return q, err
	} else if ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxN {
			return q, badParam("n", "%q: want a whole number 1 to %d", clip(s), maxN)
		}
		q.N, q.NSet = n, true
	}
	if s, ok, err := one("class"); err != nil {
		return q, err
	} else if ok && s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k < 0 {
			return q, badParam("class", "%q: want a class number 0 or more", clip(s))
		}
		q.Class = k
	}
	if s, ok, err := one("truncation"); err != nil {
		return q, err
	} else if ok && s != "" {
		t, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return q, badParam("truncation", "%q is not a number", clip(s))
		}
		if err := checkTruncation(t); err != nil {
			return q, err
		}
		q.Truncation = t
	}
	if s, ok, err := one("rows"); err != nil {
		return q, err
	} else if ok {
		r, err := strconv.Atoi(s)
		if err != nil || r < 2 || r > maxRows {
			return q, badParam("rows", "%q: want a whole number 2 to %d", clip(s), maxRows)
		}
		q.Rows = r
	}
	codes := v["code"]
	if len(codes) > maxCodeParams {
		return q, badParam("code", "given %d times, at most %d", len(codes), maxCodeParams)
	}
	for _, c := range codes {
		if err := q.Codes.Set(c); err != nil {
			return q, badParam("code", "%v", err)
		}
	}
	if q.Codes.Given() && (q.Class >= 0 || q.Classes != nil) {
		return q, badParam("code", "latent codes go with an InfoGAN model, class with a conditional one: not both")
	}
	return q, nil
}

// checkTruncation checks a resampling threshold (0 for none).
func checkTruncation(t float64) error {
	if err := (gan.Truncation{Threshold: t}).Validate(); err != nil {
		return badParam("truncation", "%v", err)
	}
	return nil
}

// clip shortens a value quoted in an error, so a long query does not make
// a long answer.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// SampleBody is the JSON body of POST /v1/models/{name}/sample.
type SampleBody struct {
	Seed       *uint64            `json:"seed"`
	N          *int               `json:"n"`
	Class      *int               `json:"class"`
	Classes    []int              `json:"classes"`
	Truncation float64            `json:"truncation"`
	Codes      map[string]float64 `json:"codes"`
	// Format is "png" (the default), "json" or "safetensors".
	Format string `json:"format"`
}

// Query turns the body into a SampleQuery, checking it as
// ParseSampleQuery does.
func (b SampleBody) Query(maxN int) (SampleQuery, error) {
	q := SampleQuery{Seed: 1, N: defaultN, Class: -1, Rows: defaultRows}
	if b.Seed != nil {
		q.Seed = *b.Seed
	}
	if b.N != nil {
		if *b.N < 1 || *b.N > maxN {
			return q, badParam("n", "%d: want 1 to %d", *b.N, maxN)
		}
		q.N, q.NSet = *b.N, true
	}
	if b.Class != nil {
		if *b.Class < 0 {
			return q, badParam("class", "%d: want a class number 0 or more", *b.Class)
		}
		q.Class = *b.Class
	}
	if b.Classes != nil {
		if b.Class != nil {
			return q, badParam("classes", "give class or classes, not both")
		}
		if len(b.Classes) < 1 || len(b.Classes) > maxN {
			return q, badParam("classes", "%d classes: want 1 to %d, one per sample", len(b.Classes), maxN)
		}
		if b.N != nil && *b.N != len(b.Classes) {
			return q, badParam("classes", "%d classes for n %d: want one per sample", len(b.Classes), *b.N)
		}
		for _, k := range b.Classes {
			if k < 0 {
				return q, badParam("classes", "class %d: want 0 or more", k)
			}
		}
		q.Classes, q.N, q.NSet = b.Classes, len(b.Classes), true
	}
	if err := checkTruncation(b.Truncation); err != nil {
		return q, err
	}
	q.Truncation = b.Truncation
	if len(b.Codes) > maxCodeParams {
		return q, badParam("codes", "%d codes, at most %d", len(b.Codes), maxCodeParams)
	}
	names := make([]string, 0, len(b.Codes))
	for n := range b.Codes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := q.Codes.Set(n + "=" + strconv.FormatFloat(b.Codes[n], 'g', -1, 64)); err != nil {
			return q, badParam("codes", "%v", err)
		}
	}
	if q.Codes.Given() && (q.Class >= 0 || q.Classes != nil) {
		return q, badParam("codes", "latent codes go with an InfoGAN model, class with a conditional one: not both")
	}
	switch b.Format {
	case "", "png", "json", "safetensors":
	default:
		return q, badParam("format", "%q: want png, json or safetensors", clip(b.Format))
	}
	return q, nil
}

// InterpolateQuery is a parsed GET interpolate.png query.
type InterpolateQuery struct {
	Seed, Seed2 uint64
	Steps       int
	Class       int // -1: class 0 of a conditional model
	Slerp       bool
}

// ParseInterpolateQuery parses seed (default 1), seed2 (default 2), steps
// (2 to maxN, default 8), class and slerp (true or false).
func ParseInterpolateQuery(v url.Values, maxN int) (InterpolateQuery, error) {
	q := InterpolateQuery{Seed: 1, Seed2: 2, Steps: min(defaultSteps, maxN), Class: -1}
	for _, name := range []string{"seed", "seed2", "steps", "class", "slerp"} {
		vs := v[name]
		if len(vs) > 1 {
			return q, badParam(name, "given %d times, want once", len(vs))
		}
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		s := vs[0]
		var err error
		switch name {
		case "seed", "seed2":
			var x uint64
			if x, err = strconv.ParseUint(s, 10, 64); err == nil {
				if name == "seed" {
					q.Seed = x
				} else {
					q.Seed2 = x
				}
			}
		case "steps":
			if q.Steps, err = strconv.Atoi(s); err == nil && (q.Steps < 2 || q.Steps > maxN) {
				err = errors.New("out of range")
			}
		case "class":
			if q.Class, err = strconv.Atoi(s); err == nil && q.Class < 0 {
				err = errors.New("negative")
			}
		case "slerp":
			q.Slerp, err = strconv.ParseBool(s)
		}
		if err != nil {
			want := map[string]string{"seed": "a whole number", "seed2": "a whole number", "steps": fmt.Sprintf("a whole number 2 to %d", maxN),
				"class": "a class number 0 or more", "slerp": "true or false"}[name]
			return q, badParam(name, "%q: want %s", clip(s), want)
		}
	}
	return q, nil
}
