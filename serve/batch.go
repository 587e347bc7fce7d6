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
	"github.com/kallima-gan/kallima/pipeline"
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

// genJob asks model m for n samples: build makes their noise [n, dim] and
// request (labels and codes, one per row). It runs on the worker, like
// every tensor allocation of the server: an open arena owns the buffers
// any goroutine allocates, so a handler allocating while the worker's pass
// runs would lose its tensor when the pass ends. Handlers hold only plain
// Go values and tensors made with tensor.FromSlice (no pool).
type genJob struct {
	m      *Model
	n      int
	labels bool     // whether the request has labels
	codes  []string // the code names it sets, sorted
	build  func() (*tensor.Tensor, family.Request)
	out    *tensor.Tensor // the samples, [n, ...], on a slice of their own
}

// key says which generations may share a forward pass: the same model,
// and the same kind of request (with or without labels, the same code
// names), so that the merged request is one the model answers.
func (g *genJob) key() string {
	return fmt.Sprintf("%p|%t|%s", g.m, g.labels, strings.Join(g.codes, ","))
}

// merges reports whether j may join a pass with key key holding rows
// samples, at most max.
func (j *job) merges(key string, rows, max int) bool {
	return j.gen != nil && j.gen.m.Merge && j.gen.key() == key && rows+j.gen.n <= max
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
	stats   map[int]int   // rows per forward pass -> passes
	busy    time.Duration // in generation passes, noise and copy included
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
	lastJobs := 0      // requests the last generation pass merged
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
		batch, rows, key := []*job{first}, first.gen.n, first.gen.key()
		var rest []*job
		for _, j := range pending {
			if first.gen.m.Merge && j.merges(key, rows, w.maxRows) {
				batch, rows = append(batch, j), rows+j.gen.n
			} else {
				rest = append(rest, j)
			}
		}
		pending = rest
		// Wait for more only when more are expected than this batch
		// holds: requests admitted but not yet here, or as many as the
		// last pass merged (clients whose answers that pass made are
		// still reading them or sending their next request, not yet
		// admitted). Otherwise none can come, and waiting is latency; a
		// load that shrinks costs one window, then the last pass is small.
		expect := func() int64 { return max(w.inflight.Load(), int64(lastJobs)) }
		if w.window > 0 && first.gen.m.Merge && expect() > int64(len(batch)) {
			timer := time.NewTimer(w.window)
		collect:
			for rows < w.maxRows && expect() > int64(len(batch)+len(pending)) {
				select {
				case j := <-w.jobs:
					if first.gen.m.Merge && j.merges(key, rows, w.maxRows) {
						batch, rows = append(batch, j), rows+j.gen.n
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
		lastJobs = len(batch)
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
	var out *tensor.Tensor
	var err error
	start := time.Now()
	defer func() {
		w.statsMu.Lock()
		w.busy += time.Since(start)
		w.statsMu.Unlock()
	}()
	whole := &job{done: make(chan struct{})}
	// Everything inside the arena (noise, the pass): only the copy of the
	// samples outlives it.
	w.run(whole, func() {
		padded := rows
		if first.m.Merge {
			padded = bucket(rows, w.maxRows)
		}
		z, req := merge(batch, rows, padded)
		var o *tensor.Tensor
		if o, err = first.m.Sampler.SampleRequest(z, req); err == nil {
			out = tensor.FromSlice(slices.Clone(o.Data()), o.Shape()...)
		}
	})
	if err == nil {
		err = whole.err
	}
	at := 0
	for _, j := range batch {
		n := j.gen.n
		if err != nil {
			j.err = err
		} else {
			// A view of the copy (FromSlice takes no pooled buffer).
			per := out.Len() / out.Size(0)
			j.gen.out = tensor.FromSlice(out.Data()[at*per:(at+n)*per:(at+n)*per], append([]int{n}, out.Shape()[1:]...)...)
		}
		at += n
		close(j.done)
	}
}

// merge builds the noise and request of the batch's jobs (rows samples in
// all) one after the other, padded to padded rows by repeating the first
// row: rows are independent (evaluation mode), and a few sizes let the
// arena's free list reuse the same buffers pass after pass instead of
// keeping a set per size.
func merge(batch []*job, rows, padded int) (*tensor.Tensor, family.Request) {
	first := batch[0].gen
	var z *tensor.Tensor
	var req family.Request
	if first.labels {
		req.Labels = make([]int, 0, padded)
	}
	if len(first.codes) > 0 {
		req.Codes = map[string][]float64{}
	}
	at, dim := 0, 0
	for _, j := range batch {
		zj, rj := j.gen.build()
		if z == nil {
			dim = zj.Size(1)
			z = tensor.New(padded, dim)
		}
		copy(z.Data()[at*dim:], zj.Data())
		req.Labels = append(req.Labels, rj.Labels...)
		for name, vs := range rj.Codes {
			req.Codes[name] = append(req.Codes[name], vs...)
		}
		at += j.gen.n
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
	return z, req
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

// rowInvariant reports whether g's samples are the same bit for bit
// whatever the size of the pass and their place in it: it draws maxBatch
// noise rows (at most 64; classes in turn for a conditional model) and
// compares one pass over all of them with passes over the first and the
// last b rows, for every bucket size b below.
func rowInvariant(g *pipeline.Sampler, maxBatch int) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("probing the generator: %v", r)
		}
	}()
	// No arena: the probe's buffers, of every bucket size, go to the
	// garbage collector instead of the free list, which keeps what it is
	// given.
	n := min(maxBatch, 64)
	z := g.Prior.Sample(tensor.NewRNG(1), n)
	labels := func(lo, hi int) []int {
		if g.Classes == 0 {
			return nil
		}
		l := make([]int, hi-lo)
		for i := range l {
			l[i] = (lo + i) % g.Classes
		}
		return l
	}
	all, err := g.SampleRequest(z, family.Request{Labels: labels(0, n)})
	if err != nil {
		return false, err
	}
	per := all.Len() / n
	for b := 1; b < n; b = bucket(b+1, n) {
		for _, lo := range []int{0, n - b} {
			part, err := g.SampleRequest(tensor.Slice(z, 0, lo, lo+b), family.Request{Labels: labels(lo, lo+b)})
			if err != nil {
				return false, err
			}
			if !slices.Equal(part.Data(), all.Data()[lo*per:(lo+b)*per]) {
				return false, nil
			}
		}
	}
	return true, nil
}
