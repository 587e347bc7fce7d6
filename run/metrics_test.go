package run

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLog checks that each Log appends one line that is readable at once
// (before Close), with the step, a current wall time and the scalars,
// NaN and infinities included.
func TestLog(t *testing.T) {
	r := newRun(t, Options{Warn: io.Discard})
	logs := []map[string]float64{
		{"d/loss": 0.6931471805599453, "g/loss": 1e-300},
		{"d/loss": math.NaN(), "g/loss": math.Inf(1), "g/grad": math.Inf(-1)},
		{},
		{"lr": 2e-4},
	}
	before := float64(time.Now().Add(-time.Second).UnixNano()) / 1e9
	for i, s := range logs {
		if err := r.Log(10*(i+1), s); err != nil {
			t.Fatal(err)
		}
		recs, err := r.Metrics()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != i+1 {
			t.Fatalf("after %d logs, read %d records", i+1, len(recs))
		}
	}
	after := float64(time.Now().Add(time.Second).UnixNano()) / 1e9
	recs, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		if rec.Step != 10*(i+1) || rec.WallTime < before || rec.WallTime > after {
			t.Errorf("record %d: step %d, wall time %v (want within [%v, %v])", i, rec.Step, rec.WallTime, before, after)
		}
		if len(rec.Scalars) != len(logs[i]) {
			t.Errorf("record %d: scalars %v, want %v", i, rec.Scalars, logs[i])
		}
		for k, want := range logs[i] {
			got, ok := rec.Scalars[k]
			if !ok || math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("record %d: %s = %v, want %v", i, k, got, want)
			}
		}
	}
	lines := strings.Split(readFile(t, filepath.Join(r.Dir(), MetricsFile)), "\n")
	if len(lines) != len(logs)+1 || lines[len(logs)] != "" {
		t.Fatalf("metrics.jsonl has lines %q", lines)
	}
	// Each line is plain JSON that any reader accepts.
	for _, line := range lines[:len(logs)] {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
	}
	if want := `"scalars":{"d/loss":"NaN","g/grad":"-Infinity","g/loss":"Infinity"}}`; !strings.HasSuffix(lines[1], want) {
		t.Errorf("line 2 is %q, want it to end with %q", lines[1], want)
	}
}

// TestReadMetricsTornLine checks that a last line cut short by a crash is
// ignored when reading and cut off when the run is reopened, so that later
// records start on a line of their own; a complete last line that lost
// only its newline is kept.
func TestReadMetricsTornLine(t *testing.T) {
	tests := []struct {
		name  string
		tail  string // appended after two complete records
		read  int    // records ReadMetrics returns
		cut   bool   // Open warns that it cut the tail
		after int    // records after reopening and logging once more
	}{
		{"torn mid-number", `{"step":30,"wall_time":17`, 2, true, 3},
		{"torn mid-key", `{"step":30,"wall_time":1.5,"scal`, 2, true, 3},
		{"only a brace", `{`, 2, true, 3},
		{"complete without newline", `{"step":30,"wall_time":1.5,"scalars":{"x":1}}`, 3, false, 4},
		{"clean", ``, 2, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r, err := Create(dir, testConfig, Options{Warn: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			for step := 10; step <= 20; step += 10 {
				if err := r.Log(step, map[string]float64{"x": float64(step)}); err != nil {
					t.Fatal(err)
				}
			}
			r.Close()
			path := filepath.Join(dir, MetricsFile)
			appendFile(t, path, tt.tail)

			recs, err := ReadMetrics(path)
			if err != nil || len(recs) != tt.read {
				t.Fatalf("ReadMetrics: %d records, %v; want %d", len(recs), err, tt.read)
			}
			opts, warn := quiet(0)
			r, err = Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := strings.Contains(warn.String(), "torn last line"); got != tt.cut {
				t.Errorf("warned about a torn line: %v, want %v (%q)", got, tt.cut, warn)
			}
			if err := r.Log(40, map[string]float64{"x": 40}); err != nil {
				t.Fatal(err)
			}
			recs, err = r.Metrics()
			if err != nil || len(recs) != tt.after {
				t.Fatalf("after reopening: %d records, %v; want %d", len(recs), err, tt.after)
			}
			if last := recs[len(recs)-1]; last.Step != 40 || last.Scalars["x"] != 40 {
				t.Errorf("last record %+v", last)
			}
		})
	}
}

// TestReadMetricsBadLine checks that a bad line before the last is an
// error naming the line, returned with the records before it.
func TestReadMetricsBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsFile)
	writeFile(t, path, `{"step":1,"wall_time":1,"scalars":{}}`+"\n"+`{"step":2,"wall_ti`+"\n"+`{"step":3,"wall_time":3,"scalars":{}}`+"\n")
	recs, err := ReadMetrics(path)
	if err == nil || !strings.Contains(err.Error(), "line 2") || len(recs) != 1 || recs[0].Step != 1 {
		t.Errorf("ReadMetrics: %d records, error %v; want 1 record and an error naming line 2", len(recs), err)
	}
	for _, bad := range []string{`{"wall_time":1,"scalars":{}}`, `{"step":1,"wall_time":1,"scalars":{"x":"Inf"}}`, `[1]`} {
		var rec Record
		if err := json.Unmarshal([]byte(bad), &rec); err == nil {
			t.Errorf("Unmarshal(%s) accepted it as %+v", bad, rec)
		}
	}
	if _, err := ReadMetrics(filepath.Join(t.TempDir(), "missing.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadMetrics of a missing file: %v", err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLogConcurrent logs from several goroutines at once: every record
// must come out whole, on its own line.
func TestLogConcurrent(t *testing.T) {
	r := newRun(t, Options{Warn: io.Discard})
	const workers, each = 4, 50
	done := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := range each {
				if e := r.Log(w*each+i, map[string]float64{"w": float64(w), "i": float64(i)}); e != nil && err == nil {
					err = e
				}
			}
			done <- err
		}()
	}
	for range workers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	recs, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, rec := range recs {
		if w, i := int(rec.Scalars["w"]), int(rec.Scalars["i"]); w*each+i != rec.Step {
			t.Errorf("record %+v mixes two logs", rec)
		}
		seen[rec.Step] = true
	}
	if len(recs) != workers*each || len(seen) != workers*each {
		t.Errorf("%d records (%d distinct steps), want %d", len(recs), len(seen), workers*each)
	}
}
