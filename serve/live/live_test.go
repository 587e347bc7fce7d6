package live

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
)

// tiny2D is a ring8 run of a few steps of small networks.
func tiny2D(t *testing.T, steps int) config.Config {
	t.Helper()
	c := config.Default()
	for _, kv := range []string{"train.batch=32", "train.steps=" + fmt.Sprint(steps), "train.checkpoint_every=0", "train.sample_every=4",
		"train.sample_n=100", "model.g_hidden=[16,16]", "model.d_hidden=[16,16]"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// sse reads server-sent events from a stream.
type sse struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

func openEvents(t *testing.T, url string) *sse {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &sse{resp.Body, sc}
}

// next returns the next event's name and data.
func (s *sse) next(t *testing.T) (string, []byte) {
	t.Helper()
	name := ""
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: ") && name != "":
			return name, []byte(line[len("data: "):])
		}
	}
	t.Fatalf("event stream ended: %v", s.sc.Err())
	return "", nil
}

func serveHub(h *Hub) *httptest.Server {
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	srv.Config.RegisterOnShutdown(h.Close)
	return srv
}

// trainWatched trains c into a run folder called name with h's hook while
// a page of the hub served at url watches (its first event, the state,
// read): the page's events, and the error when training ends.
func trainWatched(t *testing.T, h *Hub, url, name string, c config.Config) (*sse, chan error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	hook := h.Attach(context.Background(), name, dir, !c.IsImage(), c.Train.Steps)
	ev := openEvents(t, url+"/v1/live/"+name+"/events")
	if name, _ := ev.next(t); name != "state" {
		t.Fatalf("first event %q, want state", name)
	}
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard, OnStep: hook})
		done <- err
	}()
	return ev, done
}

// TestAttachEvents trains a tiny 2-D run with the hub's hook while a page
// watches: it gets every step's metrics in order, the sample grids, and
// fields with points, D's grid, arrows and the warped noise grid; the
// history route then holds every step.
func TestAttachEvents(t *testing.T) {
	h := NewHub(Options{FieldEvery: time.Nanosecond})
	srv := serveHub(h)
	defer srv.Close()
	defer h.Close()
	c := tiny2D(t, 8)
	ev, done := trainWatched(t, h, srv.URL, "ring8", c)
	var steps []int
	samples, fields := 0, 0
	for len(steps) < 8 || fields == 0 || samples < 2 {
		name, data := ev.next(t)
		switch name {
		case "metrics":
			var r run.Record
			if err := json.Unmarshal(data, &r); err != nil || r.Scalars["d/loss"] == 0 {
				t.Fatalf("metrics %s: %v", data, err)
			}
			steps = append(steps, r.Step)
		case "sample":
			var s struct{ URL string }
			json.Unmarshal(data, &s)
			resp, err := http.Get(srv.URL + s.URL)
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("sample %s: %v %v", s.URL, resp, err)
			}
			resp.Body.Close()
			samples++
		case "field":
			var f struct {
				Step       int
				Real, Fake [][2]float64
				Arrows     [][4]float64
				Grid       struct {
					N int
					D []float64
				}
				Warp [][][2]float64
			}
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatal(err)
			}
			if len(f.Real) != 100 || len(f.Fake) != 100 || len(f.Arrows) != 100 || len(f.Grid.D) != f.Grid.N*f.Grid.N || f.Grid.N == 0 || len(f.Warp) == 0 {
				t.Fatalf("field at step %d: %d real, %d fake, %d arrows, %d D for n %d, %d polylines", f.Step, len(f.Real), len(f.Fake), len(f.Arrows), len(f.Grid.D), f.Grid.N, len(f.Warp))
			}
			fields++
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		if s != i+1 {
			t.Fatalf("metrics steps %v, want 1..8", steps)
		}
	}
	if samples < 2 {
		t.Errorf("%d sample events, want those of steps 4 and 8", samples)
	}
	var hist struct{ Records []run.Record }
	getJSON(t, srv.URL+"/v1/live/ring8/history", 200, &hist)
	if len(hist.Records) != 8 || hist.Records[7].Step != 8 {
		t.Fatalf("history of %d records, want 8", len(hist.Records))
	}
	var runs struct{ Runs []RunInfo }
	getJSON(t, srv.URL+"/v1/live", 200, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Kind != "points" || runs.Runs[0].Step != 8 || !runs.Runs[0].InProcess {
		t.Fatalf("runs %+v", runs.Runs)
	}
	var e struct{ Error, Param string }
	getJSON(t, srv.URL+"/v1/live/nope/history", 404, &e)
	if e.Param != "name" || e.Error == "" {
		t.Fatalf("unknown run: %+v", e)
	}
}

func getJSON(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %s, want %d", url, resp.Status, code)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func post(t *testing.T, url string, code int) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("POST %s: %s, want %d", url, resp.Status, code)
	}
}

// TestPauseStep pauses a run from the page before it starts: it stops
// after its first step, takes exactly one more per step request, and
// finishes when resumed.
func TestPauseStep(t *testing.T) {
	h := NewHub(Options{})
	srv := serveHub(h)
	defer srv.Close()
	defer h.Close()
	c := tiny2D(t, 6)
	hook := h.Attach(context.Background(), "ring8", filepath.Join(t.TempDir(), "ring8"), true, c.Train.Steps)
	post(t, srv.URL+"/v1/live/ring8/pause", 200)
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Run(context.Background(), c, pipeline.Options{OnStep: hook})
		done <- err
	}()
	stepIs := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for h.Runs()[0].Step != want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // and it stays there
		if got := h.Runs()[0].Step; got != want {
			t.Fatalf("paused run at step %d, want %d", got, want)
		}
	}
	stepIs(1)
	post(t, srv.URL+"/v1/live/ring8/step", 200)
	stepIs(2)
	post(t, srv.URL+"/v1/live/ring8/step", 200)
	post(t, srv.URL+"/v1/live/ring8/step", 200)
	stepIs(4)
	post(t, srv.URL+"/v1/live/ring8/resume", 200)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("resumed run did not finish")
	}
	if s := h.Runs()[0].Step; s != 6 {
		t.Fatalf("finished at step %d, want 6", s)
	}
	post(t, srv.URL+"/v1/live/nope/pause", 404)
}

// TestTail follows a run folder another process writes: the records
// already there, then each complete line appended (a half-written one
// waits), and the newest grid; it cannot be paused.
func TestTail(t *testing.T) {
	dir := t.TempDir()
	snap, err := tiny2D(t, 100).YAML()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, run.ConfigFile), snap, 0o644)
	os.MkdirAll(filepath.Join(dir, run.SamplesDir), 0o755)
	mf := filepath.Join(dir, run.MetricsFile)
	line := func(step int) string {
		return fmt.Sprintf(`{"step":%d,"wall_time":1,"scalars":{"d/loss":0.5}}`+"\n", step)
	}
	os.WriteFile(mf, []byte(line(1)+line(2)), 0o644)
	h := NewHub(Options{Poll: 5 * time.Millisecond})
	srv := serveHub(h)
	defer srv.Close()
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.Tail(ctx, "run", dir); err != nil {
		t.Fatal(err)
	}
	if err := h.Tail(ctx, "run", t.TempDir()); err == nil {
		t.Fatal("tailing an empty folder: no error")
	}
	ev := openEvents(t, srv.URL+"/v1/live/run/events")
	f, err := os.OpenFile(mf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l3 := line(3)
	f.WriteString(l3[:10]) // half a line
	time.Sleep(30 * time.Millisecond)
	f.WriteString(l3[10:] + line(4))
	png := []byte("\x89PNG, as far as the tailer cares")
	os.WriteFile(filepath.Join(dir, run.SamplesDir, "step-000004.png"), png, 0o644)
	var steps []int
	sample := false
	for len(steps) < 2 || !sample {
		name, data := ev.next(t)
		switch name {
		case "metrics":
			var r run.Record
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatalf("metrics %s: %v", data, err)
			}
			steps = append(steps, r.Step)
		case "sample":
			sample = strings.Contains(string(data), `"step":4`)
		}
	}
	if steps[0] != 3 || steps[1] != 4 {
		t.Fatalf("tailed steps %v, want [3 4]", steps)
	}
	var hist struct{ Records []run.Record }
	getJSON(t, srv.URL+"/v1/live/run/history", 200, &hist)
	if len(hist.Records) != 4 {
		t.Fatalf("history %d records, want 4", len(hist.Records))
	}
	resp, err := http.Get(srv.URL + "/v1/live/run/sample.png")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != string(png) {
		t.Fatalf("sample.png: %d bytes, want the grid's %d", len(b), len(png))
	}
	post(t, srv.URL+"/v1/live/run/pause", 409)
}

// TestSlowClient: a page that reads nothing keeps only the newest events
// its buffer holds, and the sender never blocks.
func TestSlowClient(t *testing.T) {
	h := NewHub(Options{Buffer: 4})
	lr := h.add(RunInfo{Name: "r"})
	_, c, _, err := h.subscribe("r")
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	for i := 1; i <= 10; i++ {
		h.record(lr, run.Record{Step: i, Scalars: map[string]float64{"g/loss": 1}})
	}
	h.mu.Unlock()
	if c.dropped != 6 || len(c.ch) != 4 {
		t.Fatalf("dropped %d, queued %d; want 6 and 4", c.dropped, len(c.ch))
	}
	e := <-c.ch
	if !strings.Contains(string(e.data), `"step":7`) {
		t.Fatalf("oldest kept event %s, want step 7's", e.data)
	}
	h.unsubscribe(lr, c)
	if len(lr.clients) != 0 || len(lr.history) != 10 {
		t.Fatalf("%d clients, %d records after unsubscribe", len(lr.clients), len(lr.history))
	}
}

// TestHistoryBounded: a long run's history stays bounded, keeps its first
// and newest records and stays in step order.
func TestHistoryBounded(t *testing.T) {
	h := NewHub(Options{})
	lr := h.add(RunInfo{Name: "r"})
	h.mu.Lock()
	defer h.mu.Unlock()
	const n = 3 * maxHistory
	for i := 1; i <= n; i++ {
		h.record(lr, run.Record{Step: i})
	}
	hist := lr.history
	if len(hist) > maxHistory || len(hist) < maxHistory/2 || hist[0].Step != 1 || hist[len(hist)-1].Step != n {
		t.Fatalf("%d records from step %d to %d", len(hist), hist[0].Step, hist[len(hist)-1].Step)
	}
	for i := 1; i < len(hist); i++ {
		if hist[i].Step <= hist[i-1].Step {
			t.Fatalf("record %d at step %d after step %d", i, hist[i].Step, hist[i-1].Step)
		}
	}
	for i := len(hist) - 100; i < len(hist); i++ {
		if hist[i].Step != hist[i-1].Step+1 {
			t.Fatalf("the newest records were thinned: step %d after %d", hist[i].Step, hist[i-1].Step)
		}
	}
}

// tinyCandidates is a tiny image run of 8 steps trained as three
// candidates of 4.
func tinyCandidates(t *testing.T) config.Config {
	t.Helper()
	c := config.Default()
	for _, kv := range []string{"data.kind=synthetic", "data.n=48", "data.classes=3", "model.kind=dcgan", "model.width=4", "model.z_dim=8",
		"train.batch=8", "train.steps=8", "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=1",
		"train.candidates=3", "train.candidate_steps=4", "train.candidate_metric=g/loss"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestAttachCandidates trains a tiny image run as three candidates with
// the hub's hook while a page watches: the page is told to reload at
// each candidate's first step and when the kept one continues, and the
// history then holds the run's own curve (the kept candidate's steps, then
// the run's), not the last candidate's.
func TestAttachCandidates(t *testing.T) {
	c := tinyCandidates(t)
	h := NewHub(Options{})
	srv := serveHub(h)
	defer srv.Close()
	defer h.Close()
	ev, done := trainWatched(t, h, srv.URL, "picked", c)
	dir := h.Runs()[0].Dir
	var resets []int
	var stages []string // as the state events change it
	for n := 0; n < 3*4+4; {
		name, data := ev.next(t)
		switch name {
		case "metrics":
			n++
		case "state":
			var st struct{ Stage string }
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			if len(stages) == 0 || stages[len(stages)-1] != st.Stage {
				stages = append(stages, st.Stage)
			}
		case "reset":
			var r struct{ Step int }
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			resets = append(resets, r.Step)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(resets) != "[1 1 1 5]" {
		t.Fatalf("reset events at steps %v, want [1 1 1 5] (three candidates, then the kept one continued)", resets)
	}
	ch, ok, err := pipeline.ReadChoice(dir)
	if err != nil || !ok {
		t.Fatalf("choice: %v, %v", ok, err)
	}
	wantStages := []string{}
	for k, cand := range ch.Candidates {
		wantStages = append(wantStages, fmt.Sprintf("candidate %d of 3 (seed %d)", k+1, cand.Seed))
	}
	wantStages = append(wantStages, fmt.Sprintf("candidate %d of 3 (seed %d), kept at step 4", ch.Kept+1, ch.Candidates[ch.Kept].Seed))
	if !slices.Equal(stages, wantStages) {
		t.Fatalf("the page was shown the stages\n%q\nwant\n%q", stages, wantStages)
	}
	if st := h.Runs()[0].Stage; st != wantStages[3] {
		t.Fatalf("GET /v1/live's stage %q, want %q", st, wantStages[3])
	}
	want, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var hist struct{ Records []run.Record }
	getJSON(t, srv.URL+"/v1/live/picked/history", 200, &hist)
	if len(hist.Records) != 8 || len(want) != 8 {
		t.Fatalf("history of %d records, the run's metrics %d: want 8 each", len(hist.Records), len(want))
	}
	for i, r := range hist.Records {
		if r.Step != want[i].Step || r.Scalars["g/loss"] != want[i].Scalars["g/loss"] || r.Scalars["d/loss"] != want[i].Scalars["d/loss"] {
			t.Fatalf("history record %d: step %d g/loss %v, the run's step %d g/loss %v", i, r.Step, r.Scalars["g/loss"], want[i].Step, want[i].Scalars["g/loss"])
		}
	}
}

// TestTailCandidates tails a run with candidates as another process
// trains it: after every step the hub's history is the curve of the
// folder being written (each candidate's, then the run's, which starts
// with the kept candidate's), and a page is told to reset at each switch.
func TestTailCandidates(t *testing.T) {
	testTailCandidates(t, tinyCandidates(t), 3)
	// With two finalists a finalist may be an earlier candidate than the
	// last one trained: the tailer follows the folder written last.
	c := tinyCandidates(t)
	c.Train.Finalists, c.Train.FinalistSteps = 2, 6
	testTailCandidates(t, c, -1)
}

// testTailCandidates trains c while tailing it; resets is the number of
// reset events a page gets (-1: not checked).
func testTailCandidates(t *testing.T, c config.Config, wantResets int) {
	dir := filepath.Join(t.TempDir(), "picked")
	h := NewHub(Options{Poll: time.Millisecond})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lr *liveRun
	var page *client
	check := func(v pipeline.StepView) error {
		if lr == nil {
			// The run folder exists from the first step on.
			if err := h.Tail(ctx, "picked", dir); err != nil {
				return err
			}
			lr = h.runs[0]
			_, page, _, _ = h.subscribe("picked")
		}
		want, err := run.ReadMetrics(filepath.Join(v.Dir, run.MetricsFile))
		if err != nil {
			return err
		}
		var got []run.Record
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			h.mu.Lock()
			got = slices.Clone(lr.history)
			h.mu.Unlock()
			if len(got) == len(want) && len(got) > 0 && got[len(got)-1].Step == v.Step {
				break
			}
		}
		if len(got) != len(want) {
			return fmt.Errorf("%s at step %d: tailed %d records, the folder has %d", v.Dir, v.Step, len(got), len(want))
		}
		h.mu.Lock()
		stage := lr.info.Stage
		h.mu.Unlock()
		if want := pipeline.Stage(c, dir, v.Dir, v.Step); stage != want || want == "" {
			return fmt.Errorf("%s at step %d: stage %q, want %q (not empty)", v.Dir, v.Step, stage, want)
		}
		for i := range got {
			if got[i].Step != want[i].Step || got[i].Scalars["g/loss"] != want[i].Scalars["g/loss"] {
				return fmt.Errorf("%s at step %d: record %d is step %d g/loss %v, the folder's step %d g/loss %v", v.Dir, v.Step, i, got[i].Step, got[i].Scalars["g/loss"], want[i].Step, want[i].Scalars["g/loss"])
			}
		}
		return nil
	}
	if _, err := pipeline.Train(ctx, c, dir, pipeline.Options{Warn: io.Discard, OnStep: check}); err != nil {
		t.Fatal(err)
	}
	resets := 0
	for len(page.ch) > 0 {
		if e := <-page.ch; e.name == "reset" {
			resets++
		}
	}
	if wantResets >= 0 && resets != wantResets {
		t.Fatalf("%d reset events, want %d (candidates 2 and 3, then the kept one continued)", resets, wantResets)
	}
}
