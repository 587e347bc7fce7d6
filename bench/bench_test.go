package bench

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestIterationFLOPs pins the nominal counts to the ones
// bench/pytorch_bench.py prints (iteration_flops), so both sides divide by
// the same number.
func TestIterationFLOPs(t *testing.T) {
	for _, c := range []struct {
		name string
		want int64
		ok   bool
	}{
		{"dcgan", 9441116160, true},
		{"wgangp", 12834619392, true},
		{"stylegan", 0, false},
	} {
		got, ok := IterationFLOPs(c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("IterationFLOPs(%q) = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestModelShapes checks the networks against the PyTorch reference
// (pytorch_bench.py): output shapes, and parameter shapes in order.
func TestModelShapes(t *testing.T) {
	rng := tensor.NewRNG(1)
	g := NewGenerator(rng)
	cases := []struct {
		name   string
		m      *nn.Sequential
		in     []int
		out    []int
		params [][]int
		count  int
	}{
		{"G", g, []int{3, NZ}, []int{3, 1, 28, 28},
			[][]int{{6272, 100}, {6272}, {6272}, {6272}, {128, 64, 4, 4}, {64}, {64}, {64}, {64, 1, 4, 4}, {1}}, 778305},
		{"D dcgan", NewDiscriminator(true, rng), []int{3, 1, 28, 28}, []int{3, 1},
			[][]int{{64, 1, 4, 4}, {64}, {128, 64, 4, 4}, {128}, {128}, {128}, {1, 6272}, {1}}, 138817},
		{"D wgangp", NewDiscriminator(false, rng), []int{3, 1, 28, 28}, []int{3, 1},
			[][]int{{64, 1, 4, 4}, {64}, {128, 64, 4, 4}, {128}, {1, 6272}, {1}}, 138561},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.m.Forward(autograd.Const(rng.Normal(0, 1, c.in...)))
			if !slices.Equal(out.Shape(), c.out) {
				t.Errorf("output shape %v, want %v", out.Shape(), c.out)
			}
			ps := nn.Parameters(c.m)
			if len(ps) != len(c.params) {
				t.Fatalf("%d parameters, want %d", len(ps), len(c.params))
			}
			n := 0
			for i, p := range ps {
				if !slices.Equal(p.Shape(), c.params[i]) {
					t.Errorf("parameter %d has shape %v, want %v", i, p.Shape(), c.params[i])
				}
				n += p.Data().Len()
			}
			if n != c.count {
				t.Errorf("%d parameter values, want %d", n, c.count)
			}
		})
	}
}

func TestNewRejectsUnknownWorkload(t *testing.T) {
	if _, err := New("began", 1); err == nil {
		t.Fatal("New accepted an unknown workload")
	}
}

// snapshot copies the data of every parameter of m.
func snapshot(m nn.Module) [][]float32 {
	var r [][]float32
	for _, p := range nn.Parameters(m) {
		r = append(r, slices.Clone(p.Data().Data()))
	}
	return r
}

// TestStep runs two iterations of each workload twice from the same seed:
// losses are finite and identical between the runs (the step is
// deterministic), every parameter of both networks moves, and the
// discriminator's parameters want gradients again afterwards.
func TestStep(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			var first []Losses
			for run := 0; run < 2; run++ {
				w, err := New(name, 7)
				if err != nil {
					t.Fatal(err)
				}
				g0, d0 := snapshot(w.G), snapshot(w.D)
				var losses []Losses
				for range 2 {
					l := w.Step()
					if !finite(l.D) || !finite(l.G) {
						t.Fatalf("losses %+v are not finite", l)
					}
					losses = append(losses, l)
				}
				if run == 0 {
					first = losses
				} else if !slices.Equal(first, losses) {
					t.Fatalf("same seed, different losses: %+v then %+v", first, losses)
				}
				for which, m := range map[string]nn.Module{"G": w.G, "D": w.D} {
					before := g0
					if which == "D" {
						before = d0
					}
					ps := nn.Parameters(m)
					for i, p := range ps {
						// The critic's output bias gets no gradient in WGAN-GP:
						// it cancels in mean(D(fake)) - mean(D(real)) and the
						// penalty does not see it.
						exempt := name == "wgangp" && which == "D" && i == len(ps)-1
						if slices.Equal(p.Data().Data(), before[i]) != exempt {
							t.Errorf("%s parameter %d: changed %v, want %v", which, i, exempt, !exempt)
						}
						if !p.RequiresGrad() {
							t.Errorf("%s parameter %d no longer requires its gradient", which, i)
						}
					}
				}
			}
			if name == "dcgan" && (first[0].D < 0 || first[0].G < 0) {
				t.Errorf("BCE losses %+v are negative", first[0])
			}
		})
	}
}

// TestStepReusesMemory checks that after warm-up a step leaves the buffer
// pool as it found it and allocates little from the Go heap: its tensors
// come from the previous step's buffers.
func TestStepReusesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs full-size training steps of both workloads")
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			w, err := New(name, 3)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				w.Step()
			}
			_, before := tensor.PoolStats()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			w.Step()
			runtime.ReadMemStats(&m1)
			_, after := tensor.PoolStats()
			if after != before {
				t.Errorf("pool held %d floats before a step and %d after", before, after)
			}
			// A step touches about 100 MB of tensors; its own bookkeeping
			// (Values, closures, shapes) is well under 8 MB.
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 8<<20 {
				t.Errorf("a step allocated %d bytes from the heap", alloc)
			}
		})
	}
}

func TestRun(t *testing.T) {
	var calls []int
	opt := Options{Iters: 3, Warmup: 1, Seed: 2, Progress: func(i, total int, _ time.Duration) {
		if total != 4 {
			t.Errorf("progress total %d, want 4", total)
		}
		calls = append(calls, i)
	}}
	r, err := Run("dcgan", opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{1, 2, 3, 4}) {
		t.Errorf("progress calls %v", calls)
	}
	if len(r.Seconds) != 3 || r.Iters != 3 || r.Warmup != 1 || r.Workload != "dcgan" || r.Impl != "kallima" {
		t.Fatalf("result %+v", r)
	}
	if r.MedianSeconds != Median(r.Seconds) || math.Abs(r.ItersPerSecond*r.MedianSeconds-1) > 1e-12 {
		t.Errorf("median %v, it/s %v from %v", r.MedianSeconds, r.ItersPerSecond, r.Seconds)
	}
	if math.Abs(r.GFLOPS-r.GFLOPPerIteration/r.MedianSeconds) > 1e-9*r.GFLOPS || r.GFLOPPerIteration != 9.44111616 {
		t.Errorf("GFLOP/s %v, GFLOP/it %v", r.GFLOPS, r.GFLOPPerIteration)
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  Options
	}{
		{"dcgan", Options{Iters: 0, Warmup: 5}},
		{"dcgan", Options{Iters: 3, Warmup: -1}},
		{"nope", Options{Iters: 3}},
	} {
		if _, err := Run(c.name, c.opt); err == nil {
			t.Errorf("Run(%q, %+v) gave no error", c.name, c.opt)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{0.9, 0.7, 1.1}, 0.9},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(c.xs)
		if got := Median(c.xs); got != c.want || !slices.Equal(in, c.xs) {
			t.Errorf("Median(%v) = %v, want %v, the input unchanged", in, got, c.want)
		}
	}
}

// BenchmarkIteration times one iteration of each workload (what `kallima
// bench` reports as a median), with iterations/s and effective GFLOP/s.
func BenchmarkIteration(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			w, err := New(name, 1)
			if err != nil {
				b.Fatal(err)
			}
			for range 3 { // warm the buffer pool
				w.Step()
			}
			flops, _ := IterationFLOPs(name)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.Step()
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/s, "it/s")
			b.ReportMetric(float64(flops)*float64(b.N)/s/1e9, "GFLOP/s")
		})
	}
}
