// Package serve is Kallima's HTTP API: it loads trained runs of any family
// and answers sampling, interpolation, translation and encoding requests
// through the family contract's capability interfaces (family.Generator,
// Conditional, Coded, Translator, Encoder, Reconstructor), with no code
// particular to a family.
//
// Arenas and grad mode are process-wide (see docs/ARCHITECTURE.md), so
// every forward pass runs on one goroutine, the server's worker: it takes
// requests from a channel and merges concurrent compatible sample requests
// (same model, same kind of request) into one forward pass. A generator
// loaded for serving is in evaluation mode, so a request's samples do not
// depend on what they were batched with.
package serve

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/safetensors"
)

// Options configures a Server. The zero value of a field means its
// default.
type Options struct {
	// MaxN is the most samples (or interpolation steps) one request may
	// ask for; default 64.
	MaxN int
	// MaxInflight is the most generation requests admitted at once
	// (queued for the worker or being computed); beyond it a request
	// waits up to QueueWait for a place, then gets 429 with Retry-After.
	// Default 4.
	MaxInflight int
	// QueueWait is how long a request waits for a place; 0 answers 429 at
	// once.
	QueueWait time.Duration
	// BodyLimit is the largest request body accepted (413 beyond);
	// default 4 MiB.
	BodyLimit int64
	// MaxBatch is the most samples the worker merges into one forward
	// pass; default max(MaxN, 64). A request larger than it runs alone.
	// Larger passes are not always faster per sample: on a small CPU a
	// model's buffers may outgrow its caches (kallima bench serve shows
	// it).
	MaxBatch int
	// BatchWindow is how long the worker waits for more compatible
	// requests to merge into a forward pass when other requests are in
	// flight; default 2 ms.
	BatchWindow time.Duration
	// Web, when set, is the page: it answers the paths outside /v1/ that
	// no other route takes. Its 404s and 405s are answered with the API's
	// JSON error, like the API's own.
	Web http.Handler
	// Extra, when set, registers more routes on the server's mux (the
	// live training routes).
	Extra func(mux *http.ServeMux)
	// Log receives one line per model loaded, per skipped checkpoint and
	// per model whose requests cannot be batched; nil for none.
	Log io.Writer
	// Raw serves G's live weights instead of their EMA.
	Raw bool
}

func (o Options) withDefaults() Options {
	o.MaxN = cmp.Or(o.MaxN, 64)
	o.MaxInflight = cmp.Or(o.MaxInflight, 4)
	o.BodyLimit = cmp.Or(o.BodyLimit, 4<<20)
	o.BatchWindow = cmp.Or(o.BatchWindow, 2*time.Millisecond)
	o.MaxBatch = cmp.Or(o.MaxBatch, max(o.MaxN, 64))
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

// Model is one loaded run.
type Model struct {
	// Name is the run folder's base name (with -2, -3, ... when two runs
	// share one); Dir is the folder.
	Name, Dir string
	// Sampler is the run's generator, nil for a run that only translates.
	Sampler *pipeline.Sampler
	// Translator is the run's translator, nil for a run that does not
	// translate.
	Translator *pipeline.Translator
	// Sum is the SHA-256 its checkpoint file records of its content.
	Sum string
	// Merge reports whether the model's requests are merged into shared
	// forward passes: whether its samples came out bit for bit the same
	// whatever the pass's size and their place in it when New probed it.
	// (OpenBLAS's GEMM rounds some shapes differently, by an ulp, so an
	// MLP generator's rows may depend on the batch; such a model runs
	// each request alone, at its own size, so an answer stays a function
	// of its query.)
	Merge bool
	info  ModelInfo
}

// Server answers the API's requests for a set of loaded models. It is
// safe for concurrent use; Close stops its worker.
type Server struct {
	opts    Options
	models  map[string]*Model
	order   []*Model
	mux     *http.ServeMux // the API's routes and opts.Extra's
	handler http.Handler   // mux, the page and JSON errors (serveHTTP)
	metrics *metrics
	work    *worker
	slots   chan struct{}
	queued  atomic.Int64 // requests holding a slot
	ready   atomic.Bool
	once    sync.Once
}

// New loads the runs in the folders runs (the newest checkpoint that
// verifies of each; the EMA weights unless opts.Raw) and returns a server
// for them. A run is served for what its model can do: sampling for a
// generator, translation for a translator. An error names the run that
// does not load. With no runs the server answers only its other routes
// (opts.Web, opts.Extra).
func New(runs []string, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if opts.MaxN < 1 || opts.MaxBatch < 1 || opts.MaxInflight < 1 || opts.BodyLimit < 1 || opts.BatchWindow < 0 || opts.QueueWait < 0 {
		return nil, fmt.Errorf("serve: options %+v: limits must be positive", opts)
	}
	s := &Server{opts: opts, models: map[string]*Model{}, slots: make(chan struct{}, opts.MaxInflight)}
	for _, dir := range runs {
		m, err := load(dir, opts)
		if err != nil {
			return nil, err
		}
		base := cmp.Or(filepath.Base(filepath.Clean(dir)), "run")
		m.Name = base
		for k := 2; s.models[m.Name] != nil; k++ {
			m.Name = base + "-" + strconv.Itoa(k)
		}
		m.info = describe(m, opts.MaxN)
		if m.Sampler != nil {
			if m.Merge, err = rowInvariant(m.Sampler, opts.MaxBatch); err != nil {
				return nil, fmt.Errorf("serve: %s: %w", dir, err)
			}
			m.info.Batched = m.Merge
		}
		s.models[m.Name] = m
		s.order = append(s.order, m)
		fmt.Fprintf(opts.Log, "serving %s: %s (model.kind %s, step %d, %s)\n", m.Name, dir, m.info.Family, m.info.Step, m.info.Weights)
		if m.Sampler != nil && !m.Merge {
			fmt.Fprintf(opts.Log, "serve: %s: its samples depend on the size of the forward pass with this BLAS, so each request runs alone (no batching)%s\n", m.Name, coretypeHint())
		}
	}
	s.metrics = newMetrics()
	s.work = startWorker(opts.BatchWindow, opts.MaxBatch, s.metrics, &s.queued)
	s.mux = s.routes()
	s.handler = http.HandlerFunc(s.serveHTTP)
	s.ready.Store(true)
	return s, nil
}

// load loads the generator and/or translator of the run in dir.
func load(dir string, opts Options) (*Model, error) {
	m := &Model{Dir: dir}
	g, skipped, errG := pipeline.LoadSampler(dir, opts.Raw)
	for _, e := range skipped {
		fmt.Fprintf(opts.Log, "serve: %s: skipping a checkpoint: %v\n", dir, e)
	}
	t, _, errT := pipeline.LoadTranslator(dir, opts.Raw)
	if errG != nil && errT != nil {
		if errors.Is(errG, run.ErrNotRun) || errors.Is(errG, run.ErrNoCheckpoint) || errors.Is(errG, run.ErrCorrupt) {
			return nil, fmt.Errorf("serve: %w", errG)
		}
		return nil, fmt.Errorf("serve: %s: neither samples (%w) nor translates (%w)", dir, errG, errT)
	}
	path := ""
	if errG == nil {
		m.Sampler, path = g, g.Path
	}
	if errT == nil {
		m.Translator = t
		path = cmp.Or(path, t.Path)
	}
	h, err := safetensors.LoadHeader(path)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	m.Sum = h.Metadata["run.sha256"]
	return m, nil
}

// Handler returns the server's routes: the API, /metrics, and opts.Web
// and opts.Extra's routes. A path no route takes gets a JSON 404, a
// method a route's path does not take a JSON 405 with an Allow header.
func (s *Server) Handler() http.Handler { return s.handler }

// Models returns the loaded models in the order of New's runs.
func (s *Server) Models() []*Model { return s.order }

// BatchSizes returns how many forward passes of each size (samples
// generated at once, merged requests' rows) the server has run.
func (s *Server) BatchSizes() map[int]int {
	s.work.statsMu.Lock()
	defer s.work.statsMu.Unlock()
	return maps.Clone(s.work.stats)
}

// PassTime returns the time the worker has spent in generation passes
// (the noise, the forward pass and the copy of the samples): over a load
// test's wall time, the share of it the worker was busy.
func (s *Server) PassTime() time.Duration {
	s.work.statsMu.Lock()
	defer s.work.statsMu.Unlock()
	return s.work.busy
}

// Close stops the worker after the forward pass it is running; requests
// still waiting get 503. It is safe to call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.ready.Store(false)
		s.work.stop()
	})
}

// HTTPServer returns an http.Server for the handler at addr with timeouts
// that keep a slow or stuck client from holding a connection: 5 s to send
// the headers, 30 s the whole request, 60 s to write the answer, 2 min of
// idle keep-alive, 64 KiB of headers. A streaming route (server-sent
// events) extends its own write deadline with http.ResponseController.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// ModelInfo is a model's entry in GET /v1/models.
type ModelInfo struct {
	Name       string     `json:"name"`
	Run        string     `json:"run"`
	Family     string     `json:"family"`
	Step       int        `json:"step"`
	Checkpoint string     `json:"checkpoint_sha256"`
	Weights    string     `json:"weights"`
	Kind       string     `json:"kind"`
	Channels   int        `json:"channels"`
	Height     int        `json:"height"`
	Width      int        `json:"width"`
	ZDim       int        `json:"z_dim"`
	Classes    int        `json:"classes"`
	ClassNames []string   `json:"class_names"`
	Codes      []CodeInfo `json:"codes"`
	Domains    []string   `json:"domains"`
	Can        []string   `json:"can"`
	MaxN       int        `json:"max_n"`
	Prior      string     `json:"prior,omitempty"`
	// Batched reports whether concurrent requests share forward passes
	// (Model.Merge).
	Batched bool `json:"batched"`
}

// CodeInfo describes one latent code of a Coded model.
type CodeInfo struct {
	Name       string  `json:"name"`
	Categories int     `json:"categories"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
}

// describe fills m's listing entry from its capabilities.
func describe(m *Model, maxN int) ModelInfo {
	in := ModelInfo{Name: m.Name, Run: m.Dir, Checkpoint: m.Sum, MaxN: maxN, ClassNames: []string{}, Codes: []CodeInfo{}, Domains: []string{}, Can: []string{}}
	if g := m.Sampler; g != nil {
		in.Family, in.Step, in.Weights = g.Config.Model.Kind, g.Step, g.Weights
		in.ZDim, in.Classes, in.Prior = g.Prior.Dim, g.Classes, g.Prior.Kind
		if g.ClassNames != nil {
			in.ClassNames = g.ClassNames
		}
		in.Kind = "points"
		if g.IsImage {
			in.Kind = "image"
			in.Channels, in.Height = g.Config.ImageShape()
			in.Width = in.Height
		}
		in.Can = append(in.Can, "sample")
		if g.IsImage {
			in.Can = append(in.Can, "interpolate")
		}
		if c, ok := g.Generator.(family.Coded); ok {
			for _, k := range c.Codes() {
				in.Codes = append(in.Codes, CodeInfo{Name: k.Name, Categories: k.Categories, Lo: k.Lo, Hi: k.Hi})
			}
		}
		if _, ok := g.Generator.(family.Encoder); ok && g.IsImage {
			in.Can = append(in.Can, "encode")
		}
	}
	if t := m.Translator; t != nil {
		if m.Sampler == nil {
			in.Family, in.Step, in.Weights, in.Kind = t.Config.Model.Kind, t.Step, t.Weights, "image"
			sh := t.Translator.Shape()
			if len(sh) == 3 {
				in.Channels, in.Height, in.Width = sh[0], sh[1], sh[2]
			}
		}
		in.Domains = t.Translator.Domains()
		in.Can = append(in.Can, "translate")
	}
	return in
}

// coretypeHint names OPENBLAS_CORETYPE when it is set: some of OpenBLAS's
// kernels (Haswell's and Zen's on an AMD EPYC family 26) round a row by
// its place in the product where the kernel the library picks itself does
// not (docs/SERVING.md, Batching).
func coretypeHint() string {
	if ct := blas.CoreType(); ct != "" {
		return fmt.Sprintf("; OPENBLAS_CORETYPE=%s is set, and the kernel OpenBLAS picks for this CPU by itself may not have this property", ct)
	}
	return ""
}
