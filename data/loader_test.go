package data

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/tensor"
)

// indexSet returns a Set of n [1, 1, 2] images whose pixels are (i, -i) and
// whose labels are i%3, so a batch tells which samples it holds.
func indexSet(n int) *Set {
	pix := make([]float32, 2*n)
	labels := make([]int, n)
	for i := range n {
		pix[2*i], pix[2*i+1] = float32(i), -float32(i)
		labels[i] = i % 3
	}
	return &Set{Images: tensor.FromSlice(pix, n, 1, 1, 2), Labels: labels, Classes: []string{"a", "b", "c"}}
}

// samples returns the sample indices a batch of indexSet holds, checking
// that every image matches its label.
func samples(t *testing.T, b Batch) []int {
	t.Helper()
	d := b.Images.Data()
	if sh := b.Images.Shape(); len(sh) != 4 || sh[0] != len(b.Labels) || sh[1] != 1 || sh[2] != 1 || sh[3] != 2 {
		t.Fatalf("batch shape %v with %d labels", sh, len(b.Labels))
	}
	idx := make([]int, len(b.Labels))
	for j := range idx {
		i := int(d[2*j])
		if d[2*j+1] != -d[2*j] || b.Labels[j] != i%3 {
			t.Fatalf("batch %d/%d sample %d: pixels (%g, %g) label %d", b.Epoch, b.Index, j, d[2*j], d[2*j+1], b.Labels[j])
		}
		idx[j] = i
	}
	return idx
}

func newLoader(t *testing.T, ds Dataset, cfg LoaderConfig) *Loader {
	t.Helper()
	l, err := NewLoader(ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// take returns the sample indices of the next k batches.
func take(t *testing.T, l *Loader, k int) [][]int {
	t.Helper()
	out := make([][]int, k)
	for i := range out {
		out[i] = samples(t, l.Next())
	}
	return out
}

func TestLoaderEpochs(t *testing.T) {
	cases := []struct {
		n, bs      int
		dropLast   bool
		sequential bool
		prefetch   int
		batches    int // per epoch
		last       int // size of the last batch
	}{
		{103, 10, false, false, 0, 11, 3},
		{103, 10, true, false, 0, 10, 10},
		{100, 10, false, false, 0, 10, 10},
		{100, 10, true, false, -1, 10, 10},
		{7, 3, false, true, 1, 3, 1},
		{7, 3, true, true, -1, 2, 3},
		{5, 5, false, false, 4, 1, 5},
		{5, 8, false, false, 0, 1, 5},
	}
	for _, c := range cases {
		name := fmt.Sprintf("n=%d/bs=%d/droplast=%v/seq=%v/prefetch=%d", c.n, c.bs, c.dropLast, c.sequential, c.prefetch)
		l := newLoader(t, indexSet(c.n), LoaderConfig{BatchSize: c.bs, Seed: 7, DropLast: c.dropLast, Sequential: c.sequential, Prefetch: c.prefetch})
		if l.BatchesPerEpoch() != c.batches {
			t.Fatalf("%s: %d batches per epoch, want %d", name, l.BatchesPerEpoch(), c.batches)
		}
		var orders [][]int
		for e := range 3 {
			var order []int
			for k := range c.batches {
				b := l.Next()
				if b.Epoch != e || b.Index != k {
					t.Fatalf("%s: batch %d of epoch %d says epoch %d index %d", name, k, e, b.Epoch, b.Index)
				}
				want := c.bs
				if k == c.batches-1 {
					want = c.last
				}
				if len(b.Labels) != want {
					t.Fatalf("%s: batch %d of epoch %d has %d samples, want %d", name, k, e, len(b.Labels), want)
				}
				order = append(order, samples(t, b)...)
			}
			seen := make([]int, c.n)
			for _, i := range order {
				seen[i]++
			}
			for i, s := range seen {
				if s > 1 || (s == 0 && !c.dropLast) {
					t.Fatalf("%s: epoch %d returned sample %d %d times", name, e, i, s)
				}
			}
			inFileOrder := true
			for j, i := range order {
				inFileOrder = inFileOrder && i == j
			}
			if c.sequential && !inFileOrder {
				t.Fatalf("%s: sequential epoch %d order %v", name, e, order)
			}
			// A shuffle of more than 5 samples lands on file order with
			// probability at most 1/720; the seed is fixed, so this
			// catches an epoch served unshuffled, not bad luck.
			if !c.sequential && c.n > 5 && inFileOrder {
				t.Fatalf("%s: epoch %d is in file order: not shuffled", name, e)
			}
			orders = append(orders, order)
		}
		if !c.sequential && c.n > 5 && (slices.Equal(orders[0], orders[1]) || slices.Equal(orders[1], orders[2]) || slices.Equal(orders[0], orders[2])) {
			t.Fatalf("%s: epochs were not reshuffled: %v", name, orders)
		}
	}
}

func TestLoaderDeterminism(t *testing.T) {
	ds := indexSet(50)
	run := func(seed uint64, prefetch int) [][]int {
		return take(t, newLoader(t, ds, LoaderConfig{BatchSize: 8, Seed: seed, Prefetch: prefetch}), 20)
	}
	a := run(3, 0)
	for _, p := range []int{0, -1, 1, 5} {
		b := run(3, p)
		for i := range a {
			if !slices.Equal(a[i], b[i]) {
				t.Fatalf("seed 3 prefetch %d: batch %d is %v, first run gave %v", p, i, b[i], a[i])
			}
		}
	}
	c := run(4, 0)
	if slices.Equal(a[0], c[0]) && slices.Equal(a[1], c[1]) {
		t.Fatal("seeds 3 and 4 gave the same order")
	}
}

func TestLoaderResume(t *testing.T) {
	ds := indexSet(23) // batches of 5: 4 full and one of 3 per epoch
	for _, prefetch := range []int{0, -1, 3} {
		for _, k := range []int{0, 1, 3, 4, 5, 7, 12, 15} { // before, inside and at the end of epochs
			cfg := LoaderConfig{BatchSize: 5, Seed: 11, Prefetch: prefetch}
			a := newLoader(t, ds, cfg)
			take(t, a, k)
			st := a.State()
			js, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			want := take(t, a, 12)

			// A fresh loader with another seed, given the saved state.
			var back LoaderState
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			cfg.Seed = 999
			b := newLoader(t, ds, cfg)
			take(t, b, 2)
			if err := b.SetState(back); err != nil {
				t.Fatal(err)
			}
			got := take(t, b, 12)
			// And the first loader rewound to the saved state.
			if err := a.SetState(st); err != nil {
				t.Fatal(err)
			}
			again := take(t, a, 12)
			for i := range want {
				if !slices.Equal(got[i], want[i]) || !slices.Equal(again[i], want[i]) {
					t.Fatalf("prefetch %d, resumed after %d batches: batch %d is %v (rewound %v), want %v", prefetch, k, i, got[i], again[i], want[i])
				}
			}
			// After the last batch of epoch e the state is (e, 5), not (e+1, 0).
			we, wb := 0, 0
			if k > 0 {
				we, wb = (k-1)/5, (k-1)%5+1
			}
			if st.Epoch != we || st.Batch != wb {
				t.Fatalf("after %d batches the state is epoch %d batch %d", k, st.Epoch, st.Batch)
			}
		}
	}
}

func TestLoaderSetStateErrors(t *testing.T) {
	l := newLoader(t, indexSet(10), LoaderConfig{BatchSize: 4})
	good := l.State()
	bad := []LoaderState{
		{Epoch: -1, RNG: good.RNG},
		{Batch: 4, RNG: good.RNG},
		{Batch: -1, RNG: good.RNG},
		{RNG: []byte("nonsense")},
		{},
	}
	for _, st := range bad {
		if err := l.SetState(st); err == nil {
			t.Errorf("SetState(%+v) accepted", st)
		}
	}
	take(t, l, 3) // still works
	l.Close()
	if err := l.SetState(good); err == nil {
		t.Error("SetState after Close accepted")
	}
}

func TestLoaderConfigErrors(t *testing.T) {
	cases := []struct {
		ds  Dataset
		cfg LoaderConfig
		msg string
	}{
		{indexSet(10), LoaderConfig{}, "batch size 0"},
		{indexSet(10), LoaderConfig{BatchSize: 2, Hold: -1}, "hold -1"},
		{indexSet(3), LoaderConfig{BatchSize: 4, DropLast: true}, "3 samples make no batch of 4"},
		{&Set{Images: tensor.New(0, 1, 2, 2)}, LoaderConfig{BatchSize: 4}, "0 samples make no batch"},
		{&Set{Images: tensor.New(4, 4)}, LoaderConfig{BatchSize: 4}, "want [C, H, W]"},
	}
	for _, c := range cases {
		if _, err := NewLoader(c.ds, c.cfg); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.msg)
		}
	}
}

// TestLoaderBatchLifetime checks that a batch stays intact for Hold
// further calls to Next while the producer runs ahead.
func TestLoaderBatchLifetime(t *testing.T) {
	for _, hold := range []int{1, 2, 4} {
		for _, prefetch := range []int{-1, 1, 3} {
			l := newLoader(t, indexSet(37), LoaderConfig{BatchSize: 4, Prefetch: prefetch, Hold: hold, Seed: 5})
			var kept []Batch
			var copies [][]float32
			for range 60 {
				b := l.Next()
				kept = append(kept, b)
				copies = append(copies, slices.Clone(b.Images.Data()))
				// Every batch returned in the last hold calls is unchanged.
				for j := max(0, len(kept)-hold); j < len(kept); j++ {
					if !slices.Equal(kept[j].Images.Data(), copies[j]) {
						t.Fatalf("hold %d prefetch %d: batch %d changed within its lifetime", hold, prefetch, j)
					}
				}
				runtime.Gosched() // let the producer run ahead
			}
		}
	}
}

// TestLoaderArena checks that batches survive the step arenas a trainer
// opens around each step: the loader's buffers are never the pool's.
func TestLoaderArena(t *testing.T) {
	tensor.SetPoison(true)
	defer tensor.SetPoison(false)
	l := newLoader(t, indexSet(41), LoaderConfig{BatchSize: 6, Prefetch: 3, Seed: 2})
	ref := newLoader(t, indexSet(41), LoaderConfig{BatchSize: 6, Prefetch: -1, Seed: 2})
	for step := range 40 {
		a := tensor.OpenArena()
		b := l.Next()
		got := samples(t, b)            // fails on NaN pixels
		x := tensor.Full(3, 6, 1, 1, 2) // step work that the arena reclaims
		_ = x
		time.Sleep(50 * time.Microsecond) // the producer fills batches while the arena is open
		a.Close()
		for _, v := range b.Images.Data() {
			if math.IsNaN(float64(v)) {
				t.Fatalf("step %d: the batch was released with the step's arena", step)
			}
		}
		if want := samples(t, ref.Next()); !slices.Equal(got, want) || !slices.Equal(samples(t, b), want) {
			t.Fatalf("step %d: batch %v, want %v", step, got, want)
		}
	}
}

func TestLoaderCloseStopsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	var ls []*Loader
	for i := range 20 {
		l, err := NewLoader(indexSet(30), LoaderConfig{BatchSize: 4, Prefetch: 1 + i%4})
		if err != nil {
			t.Fatal(err)
		}
		for range i % 5 {
			l.Next()
		}
		if i%3 == 0 {
			if err := l.SetState(l.State()); err != nil {
				t.Fatal(err)
			}
		}
		ls = append(ls, l)
	}
	if g := runtime.NumGoroutine(); g < before+20 {
		t.Fatalf("%d goroutines with 20 prefetching loaders, %d before", g, before)
	}
	for _, l := range ls {
		done := l.done
		l.Close()
		l.Close()
		// Close returns once the producer has closed done, its last act
		// (deferred): a synchronisation, not a timing.
		select {
		case <-done:
		default:
			t.Fatal("Close returned before the producer goroutine ended")
		}
	}
	// Each producer is past its last statement; wait for the runtime to
	// retire them. A leak never gets there and fails by the test timeout,
	// however slow or loaded the machine is.
	for runtime.NumGoroutine() > before {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "loader is closed") {
			t.Fatalf("Next after Close: %v", r)
		}
	}()
	ls[0].Next()
}

// slowSet is a Dataset whose Get takes delay per sample, sleeping (as
// reading a file does) or, with busy, computing (as decoding does).
type slowSet struct {
	*Set
	delay time.Duration
	busy  bool
}

func (s slowSet) Get(i int) ([]float32, int) {
	if s.busy {
		spin(s.delay)
	} else {
		time.Sleep(s.delay)
	}
	return s.Set.Get(i)
}

// spin busy-waits for d, as a training step's computation would.
func spin(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}

// BenchmarkLoaderWait measures how long Next makes a trainer whose step
// computes for 4 ms wait for a batch that takes about 2 ms to load: I/O-like
// (2 Gets sleeping 1 ms; shorter sleeps are not honoured on every kernel)
// or CPU-bound (16 Gets computing 125 µs). Without prefetching every load
// is waited for; with it the load overlaps the step, given a free core.
// The metric is wait-µs/batch; ns/op is the whole step.
func BenchmarkLoaderWait(b *testing.B) {
	cases := []struct {
		name  string
		batch int
		delay time.Duration
		busy  bool
	}{
		{"io", 2, time.Millisecond, false},
		{"cpu", 16, 125 * time.Microsecond, true},
	}
	for _, c := range cases {
		ds := slowSet{indexSet(4096), c.delay, c.busy}
		for _, prefetch := range []int{-1, 1, 2} {
			b.Run(fmt.Sprintf("%s/prefetch=%d", c.name, prefetch), func(b *testing.B) {
				l, err := NewLoader(ds, LoaderConfig{BatchSize: c.batch, Prefetch: prefetch})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				l.Next()
				time.Sleep(20 * time.Millisecond)
				w0 := l.Wait()
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					l.Next()
					spin(4 * time.Millisecond)
				}
				b.ReportMetric(float64((l.Wait()-w0).Microseconds())/float64(b.N), "wait-µs/batch")
			})
		}
	}
}

// TestSetSlice takes images 3..6 of a set: their pixels and labels, copied
// (the original is untouched by a change to the slice), and the classes.
func TestSetSlice(t *testing.T) {
	s := indexSet(10)
	sub := s.Slice(3, 7)
	if sub.Len() != 4 || !slices.Equal(sub.Shape(), s.Shape()) || !slices.Equal(sub.Classes, s.Classes) {
		t.Fatalf("slice [3:7]: %d images of shape %v, classes %v", sub.Len(), sub.Shape(), sub.Classes)
	}
	for i := range 4 {
		got, gl := sub.Get(i)
		want, wl := s.Get(3 + i)
		if !slices.Equal(got, want) || gl != wl {
			t.Fatalf("image %d: %v label %d, want image %d's %v label %d", i, got, gl, 3+i, want, wl)
		}
	}
	sub.Images.Data()[0], sub.Labels[0] = -5, 2
	if x, l := s.Get(3); x[0] != 3 || l != 0 {
		t.Fatal("changing the slice changed the set")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("slice [8:11] of 10 images did not panic")
		}
	}()
	s.Slice(8, 11)
}

// TestSetSelect takes images 7, 2, 2 and 0 of a set: their pixels and
// labels in that order, copied, with the classes; an index out of range
// panics.
func TestSetSelect(t *testing.T) {
	s := indexSet(10)
	idx := []int{7, 2, 2, 0}
	sub := s.Select(idx)
	if sub.Len() != 4 || !slices.Equal(sub.Shape(), s.Shape()) || !slices.Equal(sub.Classes, s.Classes) {
		t.Fatalf("select %v: %d images of shape %v, classes %v", idx, sub.Len(), sub.Shape(), sub.Classes)
	}
	for i, j := range idx {
		got, gl := sub.Get(i)
		want, wl := s.Get(j)
		if !slices.Equal(got, want) || gl != wl {
			t.Fatalf("image %d: %v label %d, want image %d's %v label %d", i, got, gl, j, want, wl)
		}
	}
	sub.Images.Data()[2], sub.Labels[1] = -5, 0
	if x, l := s.Get(2); x[0] != 2 || l != 2 {
		t.Fatal("changing the selection changed the set")
	}
	if empty := s.Select(nil); empty.Len() != 0 || !slices.Equal(empty.Shape(), s.Shape()) {
		t.Fatalf("empty selection: %d images of shape %v", empty.Len(), empty.Shape())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("index 10 of 10 images did not panic")
		}
	}()
	s.Select([]int{1, 10})
}
