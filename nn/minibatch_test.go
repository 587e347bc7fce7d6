package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// mbdLoops is minibatch discrimination's o(x) [N, B] in float64 loops,
// straight from Salimans et al. sec. 3.2.
func mbdLoops(x, t *tensor.Tensor, b, c int, excludeSelf bool) [][]float64 {
	n, a := x.Size(0), x.Size(1)
	m := make([][]float64, n) // [N][B*C]
	for i := range n {
		m[i] = make([]float64, b*c)
		for k := range b * c {
			for f := range a {
				m[i][k] += float64(x.At(i, f)) * float64(t.At(f, k))
			}
		}
	}
	o := make([][]float64, n)
	for i := range n {
		o[i] = make([]float64, b)
		for j := range n {
			if excludeSelf && i == j {
				continue
			}
			for kb := range b {
				l1 := 0.0
				for kc := range c {
					l1 += math.Abs(m[i][kb*c+kc] - m[j][kb*c+kc])
				}
				o[i][kb] += math.Exp(-l1)
			}
		}
	}
	return o
}

// TestMinibatchDiscrimination checks o(x) against the paper's formula and
// that it separates a collapsed batch from a diverse one: N identical rows
// give o = N (N-1 without the self term), rows far apart give o near 1
// (near 0).
func TestMinibatchDiscrimination(t *testing.T) {
	rng := tensor.NewRNG(11)
	const n, a, b, c = 8, 6, 4, 3
	collapsed := tensor.New(n, a)
	row := rng.Normal(0, 1, a)
	for i := range n {
		copy(collapsed.Data()[i*a:(i+1)*a], row.Data())
	}
	cases := []struct {
		name        string
		x           *tensor.Tensor
		tStd        float32
		excludeSelf bool
		lo, hi      float64 // bounds on every o(x_i)_b
	}{
		{"collapsed", collapsed, 1, false, n, n},
		{"collapsed/exclude self", collapsed, 1, true, n - 1, n - 1},
		{"diverse", rng.Normal(0, 10, n, a), 1, false, 1, 1.01},
		{"diverse/exclude self", rng.Normal(0, 10, n, a), 1, true, 0, 0.01},
		{"moderate", rng.Normal(0, 1, n, a), 0.3, false, 1, n},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewMinibatchDiscrimination(a, b, c, rng)
			l.T.Data().CopyFrom(rng.Normal(0, tc.tStd, a, b*c))
			l.ExcludeSelf = tc.excludeSelf
			y := l.Forward(autograd.Const(tc.x)).Data()
			if y.Size(0) != n || y.Size(1) != a+b {
				t.Fatalf("output shape %v, want [%d %d]", y.Shape(), n, a+b)
			}
			want := mbdLoops(tc.x, l.T.Data(), b, c, tc.excludeSelf)
			for i := range n {
				for f := range a {
					if y.At(i, f) != tc.x.At(i, f) {
						t.Fatalf("y[%d, %d] = %g, want x's %g", i, f, y.At(i, f), tc.x.At(i, f))
					}
				}
				for k := range b {
					o := float64(y.At(i, a+k))
					if math.Abs(o-want[i][k]) > 1e-5*math.Max(1, want[i][k]) {
						t.Fatalf("o(x_%d)_%d = %g, loops give %g", i, k, o, want[i][k])
					}
					if o < tc.lo-1e-6 || o > tc.hi+1e-6 {
						t.Fatalf("o(x_%d)_%d = %g outside [%g, %g]", i, k, o, tc.lo, tc.hi)
					}
				}
			}
		})
	}
}

// stdLoops is MinibatchStdDev's statistic in float64 loops: per group (sample
// n in group n mod M), the biased std of each feature over the group,
// averaged over features.
func stdLoops(x *tensor.Tensor, group int, eps float64) []float64 {
	n := x.Size(0)
	f := x.Len() / n
	groups := n / group
	s := make([]float64, groups)
	for m := range groups {
		for k := range f {
			mean := 0.0
			for g := range group {
				mean += float64(x.Data()[(g*groups+m)*f+k])
			}
			mean /= float64(group)
			v := 0.0
			for g := range group {
				d := float64(x.Data()[(g*groups+m)*f+k]) - mean
				v += d * d
			}
			s[m] += math.Sqrt(v/float64(group)+eps) / float64(f)
		}
	}
	return s
}

// TestMinibatchStdDev checks the appended feature: about 0 (sqrt(Eps)) for
// identical samples and the true biased standard deviation otherwise, per
// group, for [N, F] and [N, C, H, W] inputs.
func TestMinibatchStdDev(t *testing.T) {
	rng := tensor.NewRNG(12)
	same := func(shape ...int) *tensor.Tensor {
		x := tensor.New(shape...)
		f := x.Len() / shape[0]
		row := rng.Normal(0, 3, f)
		for i := range shape[0] {
			copy(x.Data()[i*f:(i+1)*f], row.Data())
		}
		return x
	}
	cases := []struct {
		name      string
		x         *tensor.Tensor
		group     int
		wantGroup int  // effective group size
		identical bool // all samples equal: s must be ~0
	}{
		{"2-D/identical", same(6, 5), 0, 6, true},
		{"2-D/whole batch", rng.Normal(1, 2, 6, 5), 0, 6, false},
		{"2-D/group 2", rng.Normal(0, 1, 6, 5), 2, 2, false},
		{"2-D/group above N", rng.Normal(0, 1, 3, 4), 8, 3, false},
		{"4-D/identical", same(4, 3, 2, 2), 2, 2, true},
		{"4-D/group 4", rng.Normal(0, 1, 8, 3, 2, 3), 4, 4, false},
		{"4-D/whole batch", rng.Normal(-1, 0.5, 4, 2, 3, 3), 0, 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewMinibatchStdDev(tc.group)
			y := l.Forward(autograd.Const(tc.x)).Data()
			xs := tc.x.Shape()
			want := append([]int{}, xs...)
			want[1]++
			if !tensor.SameShape(y.Shape(), want) {
				t.Fatalf("output shape %v, want %v", y.Shape(), want)
			}
			s := stdLoops(tc.x, tc.wantGroup, 1e-8)
			n := xs[0]
			groups := n / tc.wantGroup
			plane := 1 // elements per channel
			for _, d := range xs[2:] {
				plane *= d
			}
			for i := range n {
				// x is copied through, then the extra channel holds s.
				in := tc.x.Data()[i*tc.x.Len()/n : (i+1)*tc.x.Len()/n]
				out := y.Data()[i*y.Len()/n : (i+1)*y.Len()/n]
				for k, v := range in {
					if out[k] != v {
						t.Fatalf("sample %d element %d = %g, want x's %g", i, k, out[k], v)
					}
				}
				if len(out)-len(in) != plane {
					t.Fatalf("extra channel has %d elements, want %d", len(out)-len(in), plane)
				}
				for _, v := range out[len(in):] {
					if tc.identical && v > 1.01e-4 {
						t.Fatalf("sample %d: s = %g for identical samples, want sqrt(1e-8)", i, v)
					}
					if w := s[i%groups]; math.Abs(float64(v)-w) > 1e-5*math.Max(1, w) {
						t.Fatalf("sample %d: s = %g, loops give %g", i, v, w)
					}
					if !tc.identical && v < 0.1 {
						t.Fatalf("sample %d: s = %g for distinct samples", i, v)
					}
				}
			}
		})
	}
}

// TestMinibatchLayersGradCheck checks first and second derivatives of both
// layers with respect to their input and parameters (second order is what
// a gradient penalty on a critic holding them needs).
func TestMinibatchLayersGradCheck(t *testing.T) {
	cases, eps := minibatchCases(13)
	runLayerCasesEps(t, cases, 0, eps)
}

// minibatchCases draws the minibatch layers' gradient checks from seed,
// with the step each needs to stay clear of the kinks (see mbdStep).
// Minibatch standard deviation over a group of two is |a - b|/2 in effect,
// so its inputs are spaced 0.3 apart: a step moves two entries towards each
// other by at most 0.02 |v_a - v_b|, under 0.2 for any normal v.
func minibatchCases(seed uint64) ([]layerCase, map[string]float64) {
	rng := tensor.NewRNG(seed)
	mbX, mbT := randn(rng, 4, 3), rng.Normal(0, 0.5, 3, 2*3)
	step := mbdStep(mbX, mbT)
	eps := map[string]float64{"MinibatchDiscrimination": step, "MinibatchDiscrimination/exclude self": step}
	mbd := func(excl bool) func(x []*autograd.Value) *autograd.Value {
		return func(x []*autograd.Value) *autograd.Value {
			l := &MinibatchDiscrimination{T: x[1], Kernels: 2, KernelDim: 3, ExcludeSelf: excl}
			return autograd.Square(l.Forward(x[0]))
		}
	}
	std := func(group int) func(x []*autograd.Value) *autograd.Value {
		return func(x []*autograd.Value) *autograd.Value {
			return autograd.Square(NewMinibatchStdDev(group).Forward(x[0]))
		}
	}
	return []layerCase{
		{"MinibatchDiscrimination", []*tensor.Tensor{mbX, mbT}, mbd(false)},
		{"MinibatchDiscrimination/exclude self", []*tensor.Tensor{mbX, mbT}, mbd(true)},
		{"MinibatchStdDev/2-D", []*tensor.Tensor{spaced(rng, 0.3, 4, 3)}, std(0)},
		{"MinibatchStdDev/2-D group 2", []*tensor.Tensor{spaced(rng, 0.3, 6, 2)}, std(2)},
		{"MinibatchStdDev/4-D group 2", []*tensor.Tensor{spaced(rng, 0.3, 4, 2, 2, 2)}, std(2)},
	}, eps
}

// spaced returns a seeded shuffle of values 'spacing' apart, centred on 0.
func spaced(rng *tensor.RNG, spacing float32, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	n := t.Len()
	for i, p := range rng.Perm(n) {
		t.Data()[i] = (float32(p) - float32(n-1)/2) * spacing
	}
	return t
}

// mbdStep returns the largest finite-difference step that keeps minibatch
// discrimination's M = x T clear of |.|'s kinks (M_ic = M_jc): a step of s
// along a direction with entries at most 5 (GradCheck's normal directions
// and single elements) moves M_ic by at most 5 s sum_l (|T_lc| + |x_il|),
// and the pair i, j closes in by the sum of both rows' moves, which must
// stay under half the gap. Capped at GradCheck's default.
func mbdStep(x, t *tensor.Tensor) float64 {
	m := tensor.MatMul(x, t, false, false)
	n, k, d := m.Size(0), m.Size(1), x.Size(1)
	step := 2e-2
	for c := range k {
		var colT float64
		for l := range d {
			colT += math.Abs(float64(t.At(l, c)))
		}
		for i := range n {
			for j := range i {
				move := 2 * colT
				for l := range d {
					move += math.Abs(float64(x.At(i, l))) + math.Abs(float64(x.At(j, l)))
				}
				gap := math.Abs(float64(m.At(i, c) - m.At(j, c)))
				step = math.Min(step, gap/2/(5*move))
			}
		}
	}
	return step
}

func TestMinibatchLayersPanicOnShape(t *testing.T) {
	rng := tensor.NewRNG(14)
	mbd := NewMinibatchDiscrimination(3, 2, 2, rng)
	cases := []struct {
		name, want string
		f          func()
	}{
		{"discrimination/features", "nn.MinibatchDiscrimination", func() { mbd.Forward(autograd.Const(tensor.New(4, 5))) }},
		{"discrimination/rank", "nn.MinibatchDiscrimination", func() { mbd.Forward(autograd.Const(tensor.New(4, 3, 1))) }},
		{"discrimination/sizes", "nn.NewMinibatchDiscrimination", func() { NewMinibatchDiscrimination(3, 0, 2, rng) }},
		{"stddev/rank", "nn.MinibatchStdDev", func() { NewMinibatchStdDev(0).Forward(autograd.Const(tensor.New(4, 3, 2))) }},
		{"stddev/group", "nn.MinibatchStdDev", func() { NewMinibatchStdDev(4).Forward(autograd.Const(tensor.New(6, 3))) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, c.want) {
					t.Fatalf("panic %v, want one naming %s", r, c.want)
				}
			}()
			c.f()
		})
	}
}

func BenchmarkMinibatchDiscrimination(b *testing.B) {
	const n, a, k, c = 64, 128, 100, 5
	b.Run("64x128/100x5", func(b *testing.B) {
		rng := tensor.NewRNG(1)
		l := NewMinibatchDiscrimination(a, k, c, rng)
		x := autograd.Param(rng.Normal(0, 1, n, a))
		// Forward: 2 N A B C for x T plus about 4 N^2 B C for the pairwise
		// differences, |.|, the L1 sums and exp; backward about twice that.
		flops := 3 * (2*n*a*k*c + 4*n*n*k*c)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			arena := tensor.OpenArena()
			autograd.Backward(autograd.Sum(l.Forward(x), nil, false))
			arena.Close()
			x.ZeroGrad()
			l.T.ZeroGrad()
		}
		b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
