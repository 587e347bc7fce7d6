package serve

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
)

// errClosed answers a request that reached a closed server.
var errClosed = &Error{Status: 503, Msg: "the server is shutting down"}

// job is one piece of work for the worker: a generation (gen set), which
// may be merged with others, or any other forward pass (fn set: a
// translation, an encoding), run alone.
type job struct {
	gen  *genJob
	fn   func()
	done chan struct{}
	err  error
}

// genJob asks model m for the samples of noise z [n, dim] and request req
// (labels and codes, one per row).
type genJob struct {
	m   *Model
	z   *tensor.Tensor
	req family.Request
	out *tensor.Tensor // the samples, [n, ...], owned by the job
}

// key says which generations may share a forward pass: the same model,
// and the same kind of request (with or without labels, the same code
// names), so that the merged request is one the model answers.
func (g *genJob) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%p|%t", g.m, g.req.Labels != nil)
	names := make([]string, 0, len(g.req.Codes))
	for n := range g.req.Codes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString("|" + n)
	}
	return b.String()
}

// worker runs every forward pass on one goroutine (arenas and grad mode
// are process-wide), merging compatible generations that arrive within
// window of each other into one pass of at most maxRows rows.
type worker struct {
	jobs     chan *job
	quit     chan struct{}
	wg       sync.WaitGroup
	window   time.Duration
	maxRows  int
	metrics  *metrics
	inflight *atomic.Int64

	statsMu sync.Mutex
	stats   map[int]int // rows per forward pass -> passes
}

func startWorker(window time.Duration, maxRows int, m *metrics, inflight *atomic.Int64) *worker {
	w := &worker{jobs: make(chan *job), quit: make(chan struct{}), window: window, maxRows: maxRows, metrics: m, inflight: inflight, stats: map[int]int{}}
	w.wg.Add(1)
	go w.loop()
	return w
}

// stop ends the loop after its current pass.
func (w *worker) stop() {
	close(w.quit)
	w.wg.Wait()
}

// do hands j to the worker and waits for it; it returns errClosed when the
// worker has stopped.
func (w *worker) do(j *job) error {
	j.done = make(chan struct{})
	select {
	case w.jobs <- j:
	case <-w.quit:
		return errClosed
	}
	select {
	case <-j.done:
		return j.err
	case <-w.quit:
		// The loop finishes the pass it runs before it stops.
		<-j.done
		return j.err
	}
}

func (w *worker) loop() {
	defer w.wg.Done()
	var pending []*job // taken from the channel but not yet merged
	for {
		var first *job
		if len(pending) > 0 {
			first, pending = pending[0], pending[1:]
		} else {
			select {
			case first = <-w.jobs:
			case <-w.quit:
				return
			}
		}
		if first.fn != nil {
			w.run(first, first.fn)
			continue
		}
		batch, rows, key := []*job{first}, first.gen.z.Size(0), first.gen.key()
		var rest []*job
		for _, j := range pending {
			if j.gen != nil && j.gen.key() == key && rows+j.gen.z.Size(0) <= w.maxRows {
				batch, rows = append(batch, j), rows+j.gen.z.Size(0)
			} else {
				rest = append(rest, j)
			}
		}
		pending = rest
		// Wait for more only when more requests are admitted than this
		// batch holds: otherwise none can come, and waiting is latency.
		if w.window > 0 && w.inflight.Load() > int64(len(batch)) {
			timer := time.NewTimer(w.window)
		collect:
			for rows < w.maxRows && w.inflight.Load() > int64(len(batch)+len(pending)) {
				select {
				case j := <-w.jobs:
					if j.gen != nil && j.gen.key() == key && rows+j.gen.z.Size(0) <= w.maxRows {
						batch, rows = append(batch, j), rows+j.gen.z.Size(0)
					} else {
						pending = append(pending, j)
					}
				case <-timer.C:
					break collect
				case <-w.quit:
					break collect
				}
			}
			timer.Stop()
		}
		w.generate(batch, rows)
	}
}

// run runs fn as job j, turning a panic into an error (a bug in a model
// must not take the server down) and closing j.done.
func (w *worker) run(j *job, fn func()) {
	defer close(j.done)
	defer func() {
		if r := recover(); r != nil {
			j.err = &Error{Status: 500, Msg: fmt.Sprintf("internal error: %v", r)}
			debug.PrintStack()
		}
	}()
	arena := tensor.OpenArena()
	defer arena.Close()
	fn()
}

// generate runs the merged batch (rows samples in all) as one forward pass
// and gives each job its rows.
func (w *worker) generate(batch []*job, rows int) {
	w.metrics.batch.Observe(float64(rows))
	w.statsMu.Lock()
	w.stats[rows]++
	w.statsMu.Unlock()
	first := batch[0].gen
	dim := first.z.Size(1)
	// Pad to a bucket size by repeating the first row: rows are
	// independent (evaluation mode), and a few sizes let the arena's free
	// list reuse the same buffers pass after pass instead of keeping a
	// set per size.
	padded := bucket(rows, w.maxRows)
	z := tensor.New(padded, dim)
	var req family.Request
	if first.req.Labels != nil {
		req.Labels = make([]int, 0, padded)
	}
	if first.req.Codes != nil {
		req.Codes = map[string][]float64{}
	}
	at := 0
	for _, j := range batch {
		g := j.gen
		n := g.z.Size(0)
		copy(z.Data()[at*dim:], g.z.Data())
		req.Labels = append(req.Labels, g.req.Labels...)
		for name, vs := range g.req.Codes {
			req.Codes[name] = append(req.Codes[name], vs...)
		}
		at += n
	}
	for i := rows; i < padded; i++ {
		copy(z.Data()[i*dim:(i+1)*dim], z.Data()[:dim])
		if req.Labels != nil {
			req.Labels = append(req.Labels, req.Labels[0])
		}
		for name, vs := range req.Codes {
			req.Codes[name] = append(vs, vs[0])
		}
	}
	var out *tensor.Tensor
	var err error
	whole := &job{done: make(chan struct{})}
	w.run(whole, func() {
		var o *tensor.Tensor
		if o, err = first.m.Sampler.SampleRequest(z, req); err == nil {
			// Copy out of the arena before it closes.
			out = tensor.FromSlice(slices.Clone(o.Data()), o.Shape()...)
		}
	})
	if err == nil {
		err = whole.err
	}
	at = 0
	for _, j := range batch {
		n := j.gen.z.Size(0)
		if err != nil {
			j.err = err
		} else {
			j.gen.out = tensor.Slice(out, 0, at, at+n)
		}
		at += n
		close(j.done)
	}
}

// bucket returns the forward pass size for rows samples: the smallest of
// 1, 2, 3, 4, 6, 8, 12, 16, 24, ... (powers of two and 1.5 times them) at
// least rows, or rows itself beyond max. Padding wastes at most a third of
// a pass (up to max, itself a bucket).
func bucket(rows, max int) int {
	for b := 1; b < max; b *= 2 {
		if rows <= b {
			return b
		}
		if b >= 2 && rows <= b+b/2 && b+b/2 < max {
			return b + b/2
		}
	}
	if rows <= max {
		return max
	}
	return rows
}
