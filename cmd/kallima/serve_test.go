package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/bench"
)

// lineWriter sends each write to a channel, so a test can read the
// address a running command prints.
type lineWriter struct {
	mu sync.Mutex
	c  chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.c <- string(p):
	default:
	}
	return len(p), nil
}

// TestServe starts kallima serve on a tiny run at a free port, fetches a
// grid, then stops it as SIGTERM would and checks the exit code; and
// checks the usage errors.
func TestServe(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	ctx, cancel := context.WithCancel(context.Background())
	old := serveContext
	serveContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { serveContext = old }()
	out := &lineWriter{c: make(chan string, 4)}
	codec := make(chan int, 1)
	go func() { codec <- runServe([]string{dir, "-addr", "127.0.0.1:0"}, out, io.Discard) }()
	var line string
	select {
	case line = <-out.c:
	case code := <-codec:
		t.Fatalf("serve exited with %d", code)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	_, rest, ok := strings.Cut(line, "http://")
	if !ok {
		t.Fatalf("no address in %q", line)
	}
	url := "http://" + strings.Fields(rest)[0]
	res, err := http.Get(url + "/v1/models/dcgan/sample.png?n=4")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("sample.png: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	// The page and the live view of the run's folder come with it.
	for _, path := range []string{"/", "/v1/live", "/v1/live/dcgan/history"} {
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(body) == 0 {
			t.Fatalf("GET %s: %d, %d bytes", path, res.StatusCode, len(body))
		}
		if path == "/v1/live" && !strings.Contains(string(body), `"dcgan"`) {
			t.Fatalf("GET /v1/live does not list the run: %s", body)
		}
	}
	// The page must not answer for what no route takes: errors stay JSON,
	// and a route asked with another method is a 405 naming its methods.
	for _, c := range []struct {
		method, path string
		code         int
		allow        string
	}{
		{"GET", "/v1/models/dcgan/encode", 405, "POST"},
		{"GET", "/v1/models/dcgan/sample", 405, "POST"},
		{"DELETE", "/v1/models/dcgan", 405, "GET, HEAD"},
		{"GET", "/v1/nothing", 404, ""},
		{"GET", "/nonexistent", 404, ""},
	} {
		req, err := http.NewRequest(c.method, url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Error string }
		err = json.NewDecoder(res.Body).Decode(&e)
		res.Body.Close()
		if res.StatusCode != c.code || res.Header.Get("Content-Type") != "application/json" || err != nil || e.Error == "" || res.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q, Allow %q (%v); want a JSON %d, Allow %q", c.method, c.path, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Allow"), err, c.code, c.allow)
		}
	}
	cancel()
	select {
	case code := <-codec:
		if code != exitOK {
			t.Fatalf("exit code %d after the stop signal", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	for _, args := range [][]string{{}, {dir, "-max-n", "0"}, {t.TempDir() + "/nope"}} {
		if code, _, stderr := call(runServe, args...); code != exitUsage || stderr == "" {
			t.Errorf("%q: code %d, stderr %q; want a usage error", args, code, stderr)
		}
	}
	if code, _, stderr := call(runServe, dir, filepath.Join(dir, ".")); code != exitUsage || !strings.Contains(stderr, "are the same run folder") {
		t.Errorf("one run twice: code %d, stderr %q", code, stderr)
	}
	empty := t.TempDir() // a run's config, no checkpoint yet
	if b, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err != nil || os.WriteFile(filepath.Join(empty, "config.yaml"), b, 0o644) != nil {
		t.Fatal(err)
	}
	if code, _, stderr := call(runServe, empty, "-addr", "127.0.0.1:0"); code != exitError || !strings.Contains(stderr, "once it writes its first") {
		t.Errorf("a folder without a checkpoint: code %d, stderr %q", code, stderr)
	}
}

// TestBenchServe runs a short load test on a tiny run and checks the
// report: requests answered, no error but 429, forward passes counted,
// memory read, and the baseline loop run.
func TestBenchServe(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	// A machine saturated by other tests can answer no request in a short
	// window; what is checked is the report, not the speed, so a window
	// that answered none is run once more, longer.
	var res ServeBench
	for _, d := range []time.Duration{150 * time.Millisecond, 2 * time.Second} {
		var err error
		if res, err = benchServe(dir, 4, 4, 4, 0, d, time.Second, 2*time.Millisecond, nil); err != nil {
			t.Fatal(err)
		}
		if res.Codes["200"] > 0 {
			break
		}
		t.Logf("no request answered in %v (a loaded machine?): once more for longer", d)
	}
	if res.Codes["200"] == 0 || len(res.Errors) > 0 || res.OKPerSec <= 0 || res.P99ms < res.P50ms || res.MaxBatch < 4 || res.LoopPerSec <= 0 ||
		res.Busy <= 0 || res.Busy > 1 || res.PassSamplesPerSec <= 0 {
		t.Fatalf("result %+v", res)
	}
	for code := range res.Codes {
		if code != "200" && code != "429" {
			t.Errorf("status %s in the load test", code)
		}
	}
	if res.CPU != bench.CPU() {
		t.Errorf("report names the CPU %q, want %q", res.CPU, bench.CPU())
	}
	if !res.Batched && res.MaxBatch != 4 {
		t.Errorf("batching off (this BLAS), yet a pass of %d samples from requests of 4", res.MaxBatch)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && (res.RSSBeforeKiB == 0 || res.RSSAfterKiB == 0) {
		t.Errorf("RSS not read: %d, %d", res.RSSBeforeKiB, res.RSSAfterKiB)
	}
	var rounds ServeRounds
	for _, d := range []string{"100ms", "1s"} {
		code, stdout, stderr := call(runBenchServe, dir, "-clients", "2", "-n", "4", "-duration", d, "-rounds", "3", "-json")
		rounds = ServeRounds{}
		if code != exitOK || json.Unmarshal([]byte(stdout), &rounds) != nil || len(rounds.Rounds) != 3 {
			t.Fatalf("-rounds 3: code %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if !slices.ContainsFunc(rounds.Rounds, func(r ServeBench) bool { return r.Codes["200"] == 0 }) {
			break
		}
		t.Logf("a round of %s answered no request (a loaded machine?): once more for longer", d)
	}
	var ratios []float64
	for _, r := range rounds.Rounds {
		if r.Ratio <= 0 || r.Codes["200"] == 0 {
			t.Errorf("round %+v", r)
		}
		ratios = append(ratios, r.Ratio)
	}
	slices.Sort(ratios)
	if rounds.MedianRatio != ratios[1] {
		t.Errorf("median ratio %g of %v, want the middle one", rounds.MedianRatio, ratios)
	}
	for _, args := range [][]string{{dir, "-clients", "0"}, {dir, "-duration", "11m"}, {dir, "-rounds", "0"}, {}} {
		if code, _, _ := call(runBenchServe, args...); code != exitUsage {
			t.Errorf("%q: code %d, want a usage error", args, code)
		}
	}
}
