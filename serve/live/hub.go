// Package live shows training as it happens: a Hub holds the runs being
// trained and serves their metrics, newest sample grid and (for 2-D runs)
// field as server-sent events, so the web page (package serve/web) draws
// curves, grids and the 2-D view while a run trains.
//
// A Hub is fed in one of two ways. In process, `kallima train -serve`
// gives pipeline.Options.OnStep the hook from Hub.Attach: every step's
// scalars and sample path go to the hub, the 2-D field is computed on the
// training goroutine while a page watches (at most Options.FieldEvery),
// and the page can pause training (the hook blocks) and step it. Out of
// process, Hub.Tail follows a run folder being written by another process
// (metrics.jsonl read incrementally, the newest grid in samples/), which
// is what `kallima serve RUN` does; such a run has no field and cannot be
// paused.
//
// Events never block training: each page has a bounded buffer, and a
// page that reads too slowly loses its oldest events, not the trainer's
// time. A page opened late reads the whole curve from the history route.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
)

// Options tune a Hub; zeros take the defaults.
type Options struct {
	// Buffer is the number of events a page may fall behind by before
	// its oldest are dropped; default 256.
	Buffer int
	// Heartbeat is the interval of the SSE comment lines that keep idle
	// connections (and proxies) open; default 15 s.
	Heartbeat time.Duration
	// FieldEvery is the least time between two 2-D fields computed
	// while training runs (paused or stepped training always gets one);
	// default 200 ms, five a second.
	FieldEvery time.Duration
	// Poll is how often Tail looks at a run folder; default 500 ms.
	Poll time.Duration
}

// Hub holds the live runs and the pages watching them. Its methods are
// safe for concurrent use.
type Hub struct {
	opt  Options
	mu   sync.Mutex
	runs []*liveRun
	done chan struct{}
	once sync.Once
}

// NewHub returns an empty hub.
func NewHub(o Options) *Hub {
	if o.Buffer <= 0 {
		o.Buffer = 256
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.FieldEvery <= 0 {
		o.FieldEvery = 200 * time.Millisecond
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	return &Hub{opt: o, done: make(chan struct{})}
}

// Close ends every event stream, so an http.Server's Shutdown is not held
// up by them (register it with Server.RegisterOnShutdown), and releases a
// paused training.
func (h *Hub) Close() { h.once.Do(func() { close(h.done) }) }

// RunInfo describes a live run (GET /v1/live).
type RunInfo struct {
	Name      string `json:"name"`
	Dir       string `json:"dir"`
	Kind      string `json:"kind"` // "image" or "points"
	Step      int    `json:"step"`
	Steps     int    `json:"steps"`
	Paused    bool   `json:"paused"`
	InProcess bool   `json:"in_process"`
	// Stage says which candidate of a run with train.candidates the
	// curve and grid are of (pipeline.Stage); "" otherwise.
	Stage string `json:"stage,omitempty"`
}

// event is one server-sent event.
type event struct {
	name string
	data []byte
}

// client is one page's event stream.
type client struct {
	ch      chan event
	dropped int // events dropped because the page read too slowly
}

// liveRun is one run's state; its fields are guarded by Hub.mu.
type liveRun struct {
	info      RunInfo
	history   []run.Record
	sample    string // newest sample grid's path
	field     []byte // newest field event's data
	fieldStep int    // the step it shows
	clients   map[*client]struct{}
	budget    int           // steps a paused run may still take
	wake      chan struct{} // closed and replaced when pause state changes
}

// Runs lists the live runs in the order they were added.
func (h *Hub) Runs() []RunInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := make([]RunInfo, len(h.runs))
	for i, lr := range h.runs {
		r[i] = lr.info
	}
	return r
}

// add registers a run under name, deduplicated with -2, -3, ...
func (h *Hub) add(info RunInfo) *liveRun {
	h.mu.Lock()
	defer h.mu.Unlock()
	base := info.Name
	for i := 2; h.find(info.Name) != nil; i++ {
		info.Name = base + "-" + strconv.Itoa(i)
	}
	lr := &liveRun{info: info, clients: map[*client]struct{}{}, wake: make(chan struct{})}
	h.runs = append(h.runs, lr)
	return lr
}

// find returns the run called name, or nil; h.mu is held.
func (h *Hub) find(name string) *liveRun {
	for _, lr := range h.runs {
		if lr.info.Name == name {
			return lr
		}
	}
	return nil
}

// broadcast sends e to every page of lr without blocking: a page whose
// buffer is full loses its oldest event. h.mu is held.
func (h *Hub) broadcast(lr *liveRun, e event) {
	for c := range lr.clients {
		for {
			select {
			case c.ch <- e:
			default:
				select {
				case <-c.ch:
					c.dropped++
				default:
				}
				continue
			}
			break
		}
	}
}

// maxHistory bounds the records a run keeps for pages opened late: past
// it, every other record of the older part is dropped, so a long run's
// curve keeps its shape at a coarser step in bounded memory.
const maxHistory = 20000

// record adds one step's scalars to lr's history and sends them. h.mu is
// held.
func (h *Hub) record(lr *liveRun, rec run.Record) {
	// A rollback repeats steps: the new ones replace the old.
	for len(lr.history) > 0 && lr.history[len(lr.history)-1].Step >= rec.Step {
		lr.history = lr.history[:len(lr.history)-1]
	}
	lr.history = append(lr.history, rec)
	if len(lr.history) > maxHistory {
		lr.history = thin(lr.history, maxHistory/2)
	}
	lr.info.Step = rec.Step
	h.broadcast(lr, event{"metrics", metricsJSON(rec)})
}

// reset makes past lr's history (the steps before step) and tells the
// pages to read it again. h.mu is held.
func (h *Hub) reset(lr *liveRun, past []run.Record, step int) {
	if len(past) > maxHistory {
		past = thin(past, maxHistory/2)
	}
	lr.history = past
	h.broadcast(lr, event{"reset", []byte(`{"step":` + strconv.Itoa(step) + `}`)})
}

// thin keeps every other record of hist but the newest keep, which it
// keeps all.
func thin(hist []run.Record, keep int) []run.Record {
	old := len(hist) - keep
	out := hist[:0]
	for i, r := range hist {
		if i >= old || i%2 == 0 {
			out = append(out, r)
		}
	}
	return out
}

// setStage makes stage lr's and tells the pages when it changed. h.mu is
// held.
func (h *Hub) setStage(lr *liveRun, stage string) {
	if stage != lr.info.Stage {
		lr.info.Stage = stage
		h.broadcast(lr, event{"state", stateJSON(lr.info)})
	}
}

// setSample makes path lr's newest grid and tells the pages. h.mu is held.
func (h *Hub) setSample(lr *liveRun, step int, path string) {
	lr.sample = path
	h.broadcast(lr, event{"sample", sampleJSON(lr.info.Name, step)})
}

// Attach adds a run trained in this process and returns the hook to give
// pipeline.Options.OnStep. name is the run's name on the page (the run
// folder's base name; deduplicated), dir its folder, points whether it is
// a 2-D run, steps its train.steps. While the run is paused from the page
// the hook blocks (until resumed, stepped, ctx is done or the hub closes).
func (h *Hub) Attach(ctx context.Context, name, dir string, points bool, steps int) func(pipeline.StepView) error {
	kind := "image"
	if points {
		kind = "points"
	}
	lr := h.add(RunInfo{Name: name, Dir: dir, Kind: kind, Steps: steps, InProcess: true})
	var lastField time.Time
	var lastDir string
	var cfg *config.Config // the run's, read at its first step (for Stage)
	var stage string
	return func(v pipeline.StepView) error {
		var past []run.Record
		reset := v.Dir != "" && v.Dir != lastDir
		if reset && cfg == nil {
			if c, err := pipeline.RunConfig(dir); err == nil {
				cfg = &c
			}
		}
		// The run's own folder is named by its choice, read once; a
		// candidate's stage changes with its step (a finalist).
		if cfg != nil && v.Dir != "" && (reset || filepath.Clean(v.Dir) != filepath.Clean(dir)) {
			stage = pipeline.Stage(*cfg, dir, v.Dir, v.Step)
		}
		if reset {
			// The session's first step (a resumed run has a past), a
			// new candidate of a run with train.candidates, or the kept
			// one continued: the curve so far is the folder's. A page
			// told "reset" reloads it.
			lastDir = v.Dir
			past, _ = run.ReadMetrics(filepath.Join(v.Dir, run.MetricsFile)) // unreadable: start the curve here
			past = slices.DeleteFunc(past, func(r run.Record) bool { return r.Step >= v.Step })
		}
		h.mu.Lock()
		lr.info.Steps = v.Steps
		if reset {
			h.reset(lr, past, v.Step)
		}
		h.setStage(lr, stage)
		h.record(lr, run.Record{Step: v.Step, WallTime: float64(time.Now().UnixNano()) / 1e9, Scalars: v.Logs})
		if v.Sample != "" {
			h.setSample(lr, v.Step, v.Sample)
		}
		// A paused run (about to block) always shows where it stopped.
		watched, paused := len(lr.clients) > 0, lr.info.Paused && lr.budget == 0
		h.mu.Unlock()
		if v.Points && watched && (paused || time.Since(lastField) >= h.opt.FieldEvery || v.Step == v.Steps) {
			lastField = time.Now()
			if err := h.sendField(lr, v); err != nil {
				return err
			}
		}
		return h.wait(ctx, lr, v)
	}
}

// sendField computes the step's field (on the training goroutine, as the
// networks require) and sends it.
func (h *Hub) sendField(lr *liveRun, v pipeline.StepView) error {
	f, err := v.Field(pipeline.FieldOptions{})
	if err != nil {
		return fmt.Errorf("live view: %w", err)
	}
	b, ok := fieldJSON(f)
	h.mu.Lock()
	defer h.mu.Unlock()
	lr.fieldStep = f.Step
	if ok {
		lr.field = b
		h.broadcast(lr, event{"field", b})
	}
	return nil
}

// wait blocks while lr is paused with no step to take. A page that
// opens meanwhile wakes it, and gets the field of the step it stopped at
// (computed here, on the training goroutine).
func (h *Hub) wait(ctx context.Context, lr *liveRun, v pipeline.StepView) error {
	for {
		h.mu.Lock()
		if !lr.info.Paused {
			h.mu.Unlock()
			return nil
		}
		if lr.budget > 0 {
			lr.budget--
			h.mu.Unlock()
			return nil
		}
		stale := v.Points && len(lr.clients) > 0 && lr.fieldStep != v.Step
		wake := lr.wake
		h.mu.Unlock()
		if stale {
			if err := h.sendField(lr, v); err != nil {
				return err
			}
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil // the trainer sees ctx itself and stops
		case <-h.done:
			return nil
		}
	}
}

// wakeUp tells a waiting hook that something changed. h.mu is held.
func (lr *liveRun) wakeUp() {
	close(lr.wake)
	lr.wake = make(chan struct{})
}

// ErrNotInProcess is returned by Control for a run this process does not
// train (a tailed folder): it cannot be paused.
var ErrNotInProcess = errors.New("the run is not trained by this process (only kallima train -serve can pause it)")

// ErrNoRun is returned for a name the hub does not hold.
var ErrNoRun = errors.New("no such live run")

// Control pauses ("pause"), resumes ("resume") or steps ("step": one
// more step, then paused) the run called name and returns its state.
func (h *Hub) Control(name, action string) (RunInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	lr := h.find(name)
	if lr == nil {
		return RunInfo{}, fmt.Errorf("%w: %q", ErrNoRun, name)
	}
	if !lr.info.InProcess {
		return lr.info, fmt.Errorf("%s: %w", name, ErrNotInProcess)
	}
	switch action {
	case "pause":
		lr.info.Paused = true
	case "resume":
		lr.info.Paused, lr.budget = false, 0
	case "step":
		lr.info.Paused = true
		lr.budget++
	default:
		return lr.info, fmt.Errorf("unknown action %q (pause, resume, step)", action)
	}
	lr.wakeUp()
	h.broadcast(lr, event{"state", stateJSON(lr.info)})
	return lr.info, nil
}

// subscribe adds a page to the run called name and returns its stream and
// what it should see first (state, newest sample and field).
func (h *Hub) subscribe(name string) (*liveRun, *client, []event, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	lr := h.find(name)
	if lr == nil {
		return nil, nil, nil, fmt.Errorf("%w: %q", ErrNoRun, name)
	}
	c := &client{ch: make(chan event, h.opt.Buffer)}
	lr.clients[c] = struct{}{}
	lr.wakeUp() // a paused hook computes the field for it
	first := []event{{"state", stateJSON(lr.info)}}
	if lr.sample != "" {
		first = append(first, event{"sample", sampleJSON(lr.info.Name, lr.info.Step)})
	}
	if lr.field != nil {
		first = append(first, event{"field", lr.field})
	}
	return lr, c, first, nil
}

func (h *Hub) unsubscribe(lr *liveRun, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(lr.clients, c)
}

// metricsJSON is a metrics event: {"step":N,"scalars":{...}} (NaN and
// infinities as strings, as metrics.jsonl writes them).
func metricsJSON(r run.Record) []byte {
	b, err := r.MarshalJSON()
	if err != nil {
		return []byte(`{"step":` + strconv.Itoa(r.Step) + `,"scalars":{}}`)
	}
	return b
}

func sampleJSON(name string, step int) []byte {
	b, _ := json.Marshal(map[string]any{"step": step, "url": fmt.Sprintf("/v1/live/%s/sample.png?v=%d", name, step)})
	return b
}

func stateJSON(i RunInfo) []byte {
	b, _ := json.Marshal(map[string]any{"step": i.Step, "steps": i.Steps, "paused": i.Paused, "stage": i.Stage})
	return b
}

// fieldJSON encodes a field event; ok is false when it holds a NaN or an
// infinity (a diverged run), which JSON cannot carry.
func fieldJSON(f *pipeline.Field) (b []byte, ok bool) {
	type grid struct {
		X0 float64   `json:"x0"`
		X1 float64   `json:"x1"`
		Y0 float64   `json:"y0"`
		Y1 float64   `json:"y1"`
		N  int       `json:"n"`
		D  []float32 `json:"d"`
	}
	v := struct {
		Step   int            `json:"step"`
		Real   [][2]float32   `json:"real"`
		Fake   [][2]float32   `json:"fake"`
		Arrows [][4]float32   `json:"arrows"`
		Grid   *grid          `json:"grid"`
		Warp   [][][2]float32 `json:"warp"`
	}{Step: f.Step, Real: f.Real, Fake: f.Fake, Arrows: f.Arrows, Warp: f.Warp}
	if f.D != nil {
		v.Grid = &grid{f.X0, f.X1, f.Y0, f.Y1, f.N, f.D}
	} else {
		v.Grid = &grid{X0: f.X0, X1: f.X1, Y0: f.Y0, Y1: f.Y1}
	}
	if math.IsNaN(f.X0) || math.IsInf(f.X0, 0) {
		return nil, false
	}
	b, err := json.Marshal(v)
	return b, err == nil
}
