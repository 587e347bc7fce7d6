package data

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kallima-gan/kallima/tensor"
)

// Dataset is a finite, indexable collection of labelled images.
type Dataset interface {
	// Len is the number of samples.
	Len() int
	// Shape is one image's shape, [C, H, W].
	Shape() []int
	// Get returns sample i's image, C*H*W row-major values in [-1, 1], and
	// its label (0 for an unlabelled set). The slice may be a view of the
	// data set's storage: callers copy it and never modify it. A Loader
	// calls Get from one goroutine at a time.
	Get(i int) (image []float32, label int)
}

// Set is an in-memory Dataset: every image in one tensor.
type Set struct {
	Images  *tensor.Tensor // [N, C, H, W], values in [-1, 1]
	Labels  []int          // [N], each in 0..len(Classes)-1
	Classes []string       // class names: label k is Classes[k]
}

// Len is the number of images, N.
func (s *Set) Len() int { return s.Images.Size(0) }

// Shape is one image's shape, [C, H, W].
func (s *Set) Shape() []int { return s.Images.Shape()[1:] }

// Get returns image i (a view of Images, C*H*W values) and its label. It
// panics if i is out of range.
func (s *Set) Get(i int) ([]float32, int) {
	n := s.Len()
	if i < 0 || i >= n {
		panic(fmt.Sprintf("data.Set.Get: index %d of %d images", i, n))
	}
	chw := s.Images.Len() / n
	return s.Images.Data()[i*chw : (i+1)*chw : (i+1)*chw], s.Labels[i]
}

// Slice returns images lo..hi-1 as a set of their own (copied), with the
// same classes. It panics if the range is not within 0..Len().
func (s *Set) Slice(lo, hi int) *Set {
	if lo < 0 || hi > s.Len() || lo > hi {
		panic(fmt.Sprintf("data.Set.Slice: [%d:%d] of %d images", lo, hi, s.Len()))
	}
	return &Set{Images: tensor.Slice(s.Images, 0, lo, hi), Labels: slices.Clone(s.Labels[lo:hi]), Classes: s.Classes}
}

// Select returns the images idx, in that order, as a set of their own
// (copied), with the same classes. It panics if an index is out of range.
func (s *Set) Select(idx []int) *Set {
	n := s.Len()
	chw := s.Images.Len() / max(n, 1)
	src := s.Images.Data()
	img := make([]float32, len(idx)*chw)
	labels := make([]int, len(idx))
	for i, j := range idx {
		if j < 0 || j >= n {
			panic(fmt.Sprintf("data.Set.Select: index %d of %d images", j, n))
		}
		copy(img[i*chw:(i+1)*chw], src[j*chw:(j+1)*chw])
		labels[i] = s.Labels[j]
	}
	return &Set{Images: tensor.FromSlice(img, append([]int{len(idx)}, s.Shape()...)...), Labels: labels, Classes: s.Classes}
}

// LoaderConfig configures a Loader. The zero value of every field but
// BatchSize is a usable default.
type LoaderConfig struct {
	// BatchSize is the number of samples per batch; it must be positive.
	BatchSize int
	// Seed seeds the generator that shuffles each epoch.
	Seed uint64
	// Sequential visits the samples in index order every epoch instead of
	// shuffling them.
	Sequential bool
	// DropLast drops each epoch's last batch when it holds fewer than
	// BatchSize samples. Without it that batch is returned, smaller.
	DropLast bool
	// Prefetch is the number of batches prepared ahead on a background
	// goroutine; 0 means 2. A negative value turns prefetching off: Next
	// builds each batch itself.
	Prefetch int
	// Hold is the number of batches the caller uses at once; 0 means 1. A
	// batch returned by Next stays valid until Hold further calls to Next
	// (or SetState or Close).
	Hold int
}

// Batch is one batch of samples.
type Batch struct {
	Images *tensor.Tensor // [B, C, H, W]; B < BatchSize only for a last partial batch
	Labels []int          // [B]
	Epoch  int            // the epoch it belongs to, from 0
	Index  int            // its index within the epoch, from 0
}

// LoaderState is a Loader's position, for a checkpoint: restoring it with
// SetState (on a loader over the same data with the same BatchSize,
// Sequential and DropLast) makes Next return exactly the batches that would
// have followed.
type LoaderState struct {
	Epoch int    `json:"epoch"` // the current epoch, from 0
	Batch int    `json:"batch"` // batches of the current epoch already returned
	RNG   []byte `json:"rng"`   // the shuffling generator's state at the start of the current epoch
}

// Loader serves a Dataset as an endless stream of batches, shuffled anew
// each epoch by a seeded tensor.RNG (the same seed gives the same order),
// and, by default, prepares the next batches on a background goroutine so
// that Next rarely waits.
//
// Memory: the batch tensors are a fixed ring of Prefetch+Hold buffers made
// at construction with make, outside tensor's pool, so no tensor.Arena ever
// reclaims them, whichever goroutine fills them and whenever an arena is
// open; a step arena around the trainer's step is safe. A batch stays
// valid until Hold further calls to Next; callers copy what they keep
// longer, and never pass a batch's tensor to tensor.Release.
//
// A Loader is driven from one goroutine: Next, State, SetState and Close
// are not safe for concurrent use.
type Loader struct {
	ds       Dataset
	cfg      LoaderConfig
	chw      int
	shape    []int
	nb       int // batches per epoch
	prefetch int // 0: no background goroutine
	hold     int

	free  chan *slot
	ready chan *slot
	held  []*slot
	quit  chan struct{}
	done  chan struct{}
	cur   *cursor // the producer's; touched only by it while it runs

	pos    LoaderState // the consumer's position
	wait   time.Duration
	closed bool
}

// slot is one preallocated batch buffer.
type slot struct {
	full, part *tensor.Tensor // [BatchSize, C, H, W] and the last partial batch's view of the same memory
	labels     []int
	batch      Batch
	start      []byte // RNG state at the start of batch's epoch
}

// NewLoader returns a Loader over ds. It returns an error if the
// configuration is invalid or an epoch would hold no batch.
func NewLoader(ds Dataset, cfg LoaderConfig) (*Loader, error) {
	if cfg.BatchSize <= 0 {
		return nil, fmt.Errorf("loader: batch size %d, want a positive number", cfg.BatchSize)
	}
	if cfg.Hold < 0 {
		return nil, fmt.Errorf("loader: hold %d, want 0 or more", cfg.Hold)
	}
	n := ds.Len()
	shape := append([]int(nil), ds.Shape()...)
	chw := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("loader: data set image shape %v", shape)
		}
		chw *= d
	}
	if len(shape) != 3 {
		return nil, fmt.Errorf("loader: data set image shape %v, want [C, H, W]", shape)
	}
	nb := n / cfg.BatchSize
	if !cfg.DropLast && n%cfg.BatchSize != 0 {
		nb++
	}
	if nb == 0 {
		return nil, fmt.Errorf("loader: %d samples make no batch of %d (DropLast %v)", n, cfg.BatchSize, cfg.DropLast)
	}
	l := &Loader{ds: ds, cfg: cfg, chw: chw, shape: shape, nb: nb, prefetch: cfg.Prefetch, hold: cfg.Hold}
	if l.prefetch == 0 {
		l.prefetch = 2
	}
	l.prefetch = max(l.prefetch, 0)
	if l.hold == 0 {
		l.hold = 1
	}
	r := l.prefetch + l.hold
	l.free = make(chan *slot, r)
	l.ready = make(chan *slot, r)
	l.held = make([]*slot, 0, l.hold)
	bs, last := cfg.BatchSize, n%cfg.BatchSize
	for range r {
		buf := make([]float32, bs*chw) // outside tensor's pool: arenas never own it
		s := &slot{full: tensor.FromSlice(buf, bs, shape[0], shape[1], shape[2]), labels: make([]int, bs)}
		if last != 0 && !cfg.DropLast {
			s.part = tensor.FromSlice(buf[:last*chw], last, shape[0], shape[1], shape[2])
		}
		l.free <- s
	}
	rng := tensor.NewRNG(cfg.Seed)
	l.pos = LoaderState{RNG: rng.State()}
	l.start(l.newCursor(rng, 0, 0))
	return l, nil
}

// BatchesPerEpoch is the number of batches in one epoch.
func (l *Loader) BatchesPerEpoch() int { return l.nb }

// Wait is the total time Next has spent waiting for (or, without
// prefetching, building) batches.
func (l *Loader) Wait() time.Duration { return l.wait }

// Next returns the next batch, starting a new epoch (reshuffled) after the
// last batch of one. The batch is valid until Hold further calls to Next.
// It panics if the loader is closed.
func (l *Loader) Next() Batch {
	if l.closed {
		panic("data.Loader.Next: loader is closed")
	}
	if len(l.held) == l.hold {
		l.free <- l.held[0]
		copy(l.held, l.held[1:])
		l.held = l.held[:len(l.held)-1]
	}
	t0 := time.Now()
	var s *slot
	if l.prefetch == 0 {
		s = <-l.free
		l.fill(s, l.cur)
	} else {
		s = <-l.ready
	}
	l.wait += time.Since(t0)
	l.held = append(l.held, s)
	l.pos = LoaderState{Epoch: s.batch.Epoch, Batch: s.batch.Index + 1, RNG: s.start}
	return s.batch
}

// State returns the loader's position after the batches Next has returned
// (not those prefetched), for a checkpoint.
func (l *Loader) State() LoaderState {
	st := l.pos
	st.RNG = append([]byte(nil), st.RNG...)
	return st
}

// SetState moves the loader to a position State returned: the next batch
// is the one that followed it. Batches returned before are invalid after.
// It returns an error if the state does not fit this loader.
func (l *Loader) SetState(st LoaderState) error {
	if l.closed {
		return errors.New("loader: set state: loader is closed")
	}
	if st.Epoch < 0 || st.Batch < 0 || st.Batch > l.nb {
		return fmt.Errorf("loader: set state: epoch %d, batch %d of %d per epoch", st.Epoch, st.Batch, l.nb)
	}
	rng := tensor.NewRNG(0)
	if err := rng.SetState(st.RNG); err != nil {
		return fmt.Errorf("loader: set state: %w", err)
	}
	l.stop()
	for _, s := range l.held {
		l.free <- s
	}
	l.held = l.held[:0]
	for len(l.ready) > 0 {
		l.free <- <-l.ready
	}
	l.pos = LoaderState{Epoch: st.Epoch, Batch: st.Batch, RNG: append([]byte(nil), st.RNG...)}
	l.start(l.newCursor(rng, st.Epoch, st.Batch))
	return nil
}

// Close stops the background goroutine and waits for it to exit. Batches
// returned before are invalid after. Closing twice is harmless.
func (l *Loader) Close() {
	if l.closed {
		return
	}
	l.stop()
	l.closed = true
}

// start starts producing from c (in the background when prefetching).
func (l *Loader) start(c *cursor) {
	l.cur = c
	if l.prefetch == 0 {
		return
	}
	l.quit, l.done = make(chan struct{}), make(chan struct{})
	go l.produce(c, l.quit, l.done)
}

// stop stops the producer goroutine, if any, and waits for it.
func (l *Loader) stop() {
	if l.quit == nil {
		return
	}
	close(l.quit)
	<-l.done
	l.quit, l.done = nil, nil
}

// produce fills free slots in order and queues them until told to quit.
func (l *Loader) produce(c *cursor, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		var s *slot
		select {
		case s = <-l.free:
		case <-quit:
			return
		}
		l.fill(s, c)
		select {
		case l.ready <- s:
		case <-quit:
			l.free <- s // room is certain: the ring holds every slot
			return
		}
	}
}

// fill copies the samples of c's next batch into s.
func (l *Loader) fill(s *slot, c *cursor) {
	epoch, index, idx, start := c.advance()
	t := s.full
	if len(idx) < l.cfg.BatchSize {
		t = s.part
	}
	d := t.Data()
	for j, i := range idx {
		img, label := l.ds.Get(i)
		if len(img) != l.chw {
			panic(fmt.Sprintf("data.Loader: data set's Get(%d) returned %d values for shape %v", i, len(img), l.shape))
		}
		copy(d[j*l.chw:(j+1)*l.chw], img)
		s.labels[j] = label
	}
	s.batch = Batch{Images: t, Labels: s.labels[:len(idx)], Epoch: epoch, Index: index}
	s.start = start
}

// cursor walks the epochs: it draws each epoch's order and hands out the
// index lists of its batches.
type cursor struct {
	n, bs, nb    int
	shuffle      bool
	rng          *tensor.RNG
	epoch, batch int
	start        []byte // rng's state at the start of the epoch
	order        []int
	drawn        bool // order holds the current epoch's order
}

// newCursor returns a cursor at batch b of epoch e, whose order is drawn
// from rng (at the state it had at the start of e).
func (l *Loader) newCursor(rng *tensor.RNG, e, b int) *cursor {
	c := &cursor{n: l.ds.Len(), bs: l.cfg.BatchSize, nb: l.nb, shuffle: !l.cfg.Sequential, rng: rng, epoch: e, batch: b}
	c.order = make([]int, c.n)
	if b == c.nb { // the state saved after an epoch's last batch
		c.draw()
		c.epoch, c.batch, c.drawn = e+1, 0, false
	}
	return c
}

// draw records the generator's state and draws the current epoch's order
// (a Fisher-Yates shuffle, in place: no allocation).
func (c *cursor) draw() {
	c.start = c.rng.State()
	for i := range c.order {
		c.order[i] = i
	}
	if c.shuffle {
		for i := c.n - 1; i > 0; i-- {
			j := c.rng.Intn(i + 1)
			c.order[i], c.order[j] = c.order[j], c.order[i]
		}
	}
	c.drawn = true
}

// advance returns the next batch's epoch, index, sample indices and the
// generator state at the start of its epoch, and moves past it.
func (c *cursor) advance() (epoch, index int, idx []int, start []byte) {
	if !c.drawn {
		c.draw()
	}
	lo := c.batch * c.bs
	epoch, index, idx, start = c.epoch, c.batch, c.order[lo:min(lo+c.bs, c.n)], c.start
	c.batch++
	if c.batch == c.nb {
		c.epoch, c.batch, c.drawn = c.epoch+1, 0, false
	}
	return
}
