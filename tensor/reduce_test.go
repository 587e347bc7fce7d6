package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveReduce is the reduction oracle: every input element is sent, by
// unravelling its index and zeroing the reduced coordinates, to its output
// element, where f folds it in (in float64). mask has bit i set when axis i
// is reduced.
func naiveReduce(x *Tensor, mask int, keep bool, init float64, f func(acc, v float64) float64) ([]int, []float64) {
	shape := x.Shape()
	var kshape, out []int
	for i, d := range shape {
		if mask>>i&1 == 1 {
			kshape = append(kshape, 1)
			if keep {
				out = append(out, 1)
			}
		} else {
			kshape = append(kshape, d)
			out = append(out, d)
		}
	}
	acc := make([]float64, numel(kshape))
	for i := range acc {
		acc[i] = init
	}
	for i, v := range x.Data() {
		idx := unravel(i, shape)
		for d := range idx {
			if mask>>d&1 == 1 {
				idx[d] = 0
			}
		}
		j := ravel(idx, kshape)
		acc[j] = f(acc[j], float64(v))
	}
	if out == nil {
		out = []int{}
	}
	return out, acc
}

// axesOf turns a mask into an axis list, writing each axis at random as
// itself or counted from the end, in random order, sometimes twice.
func axesOf(r *rand.Rand, mask, rank int) []int {
	axes := []int{}
	for i := range rank {
		if mask>>i&1 == 1 {
			a := i
			if r.IntN(2) == 0 {
				a -= rank
			}
			axes = append(axes, a)
			if r.IntN(4) == 0 {
				axes = append(axes, i) // duplicates are allowed
			}
		}
	}
	r.Shuffle(len(axes), func(i, j int) { axes[i], axes[j] = axes[j], axes[i] })
	return axes
}

var reductions = []struct {
	name string
	f    func(*Tensor, []int, bool) *Tensor
	init float64
	ref  func(acc, v float64) float64
}{
	{"Sum", Sum, 0, func(a, v float64) float64 { return a + v }},
	{"Max", Max, math.Inf(-1), func(a, v float64) float64 {
		if a != a || v != v {
			return math.NaN()
		}
		return max(a, v)
	}},
	{"Min", Min, math.Inf(1), func(a, v float64) float64 {
		if a != a || v != v {
			return math.NaN()
		}
		return min(a, v)
	}},
}

// TestReduceEveryAxisSubset reduces rank-3 and rank-4 tensors (one with a
// size-1 dimension) over every subset of axes, keeping and dropping them.
func TestReduceEveryAxisSubset(t *testing.T) {
	r := newTestRand(6)
	for _, shape := range [][]int{{3, 4, 5}, {2, 3, 1, 4}, {4, 1, 3, 5}} {
		x := seededTensor(r, shape...)
		rank := len(shape)
		for mask := 0; mask < 1<<rank; mask++ {
			for _, keep := range []bool{false, true} {
				axes := axesOf(r, mask, rank)
				for _, op := range reductions {
					wantShape, want := naiveReduce(x, mask, keep, op.init, op.ref)
					got := op.f(x, axes, keep)
					checkClose(t, fmt.Sprintf("%s(%v, axes %v, keep %v)", op.name, shape, axes, keep), got, wantShape, want, 1e-6, 1e-6)
				}
			}
		}
		// nil means every axis.
		for _, op := range reductions {
			_, want := naiveReduce(x, 1<<rank-1, false, op.init, op.ref)
			checkClose(t, op.name+" over nil axes", op.f(x, nil, false), []int{}, want, 1e-6, 1e-6)
			wantShape, _ := naiveReduce(x, 1<<rank-1, true, op.init, op.ref)
			checkClose(t, op.name+" over nil axes, keep", op.f(x, nil, true), wantShape, want, 1e-6, 1e-6)
		}
	}
}

// TestReduceNaN puts NaN and infinities at random places: Max and Min must
// propagate NaN wherever it sits in a reduced run, and Sum too.
func TestReduceNaN(t *testing.T) {
	r := newTestRand(7)
	shape := []int{3, 4, 5, 2}
	for trial := range 20 {
		x := seededTensor(r, shape...)
		for range 1 + trial%4 {
			x.Data()[r.IntN(x.Len())] = float32(math.NaN())
		}
		x.Data()[r.IntN(x.Len())] = float32(math.Inf(1))
		x.Data()[r.IntN(x.Len())] = float32(math.Inf(-1))
		for mask := 1; mask < 1<<len(shape); mask++ {
			axes := axesOf(r, mask, len(shape))
			for _, op := range reductions {
				wantShape, want := naiveReduce(x, mask, false, op.init, op.ref)
				checkClose(t, fmt.Sprintf("%s(axes %v) with NaN", op.name, axes), op.f(x, axes, false), wantShape, want, 1e-6, 1e-6)
			}
		}
	}
	nan := float32(math.NaN())
	for _, d := range [][]float32{{nan, 1, 2}, {1, nan, 2}, {1, 2, nan}} {
		for _, op := range reductions[1:] {
			if v := op.f(FromSlice(d, 3), nil, false).Item(); v == v {
				t.Fatalf("%s(%v) = %g, want NaN", op.name, d, v)
			}
		}
	}
}

// TestReduceEmpty checks zero-length axes: Sum gives 0, Max and Min panic
// only when a reduced axis is empty (like torch's amax).
func TestReduceEmpty(t *testing.T) {
	x := New(2, 0, 3)
	checkExact(t, "Sum over empty axis", Sum(x, []int{1}, false), []int{2, 3}, make([]float32, 6))
	checkExact(t, "Sum over empty tensor", Sum(x, nil, false), []int{}, []float32{0})
	checkExact(t, "Sum keeping empty axis", Sum(x, []int{0, 2}, true), []int{1, 0, 1}, nil)
	for _, op := range reductions[1:] {
		checkExact(t, op.name+" of non-empty axes of an empty tensor", op.f(x, []int{0, 2}, false), []int{0}, nil)
		wantPanic(t, func() { op.f(x, []int{-2}, false) }, "tensor."+op.name, "axis 1", "[2 0 3]")
		wantPanic(t, func() { op.f(x, nil, false) }, "tensor."+op.name, "[2 0 3]")
	}
	// A rank-0 tensor reduces to itself.
	for _, op := range reductions {
		checkExact(t, op.name+" of a scalar", op.f(Scalar(-4), nil, false), []int{}, []float32{-4})
		checkExact(t, op.name+" of a scalar over no axes", op.f(Scalar(-4), []int{}, true), []int{}, []float32{-4})
	}
}

func TestReducePanicsOnAxis(t *testing.T) {
	x := New(2, 3, 4)
	for _, op := range reductions {
		wantPanic(t, func() { op.f(x, []int{3}, false) }, "tensor."+op.name, "axis 3", "[2 3 4]")
		wantPanic(t, func() { op.f(x, []int{0, -4}, true) }, "tensor."+op.name, "axis -4", "[2 3 4]")
	}
	wantPanic(t, func() { ReducedShape(x, []int{5}, true) }, "tensor.ReducedShape", "axis 5")
}

// TestSumAccumulatesInFloat64 adds ones to 2^24, where a float32
// accumulator would stop growing.
func TestSumAccumulatesInFloat64(t *testing.T) {
	x := Ones(1001)
	x.Data()[0] = 1 << 24
	if got, want := Sum(x, nil, false).Item(), float32(1<<24+1000); got != want {
		t.Fatalf("Sum = %.1f, want %.1f", got, want)
	}
}

func TestReducedShape(t *testing.T) {
	x := New(2, 3, 4, 5)
	for _, c := range []struct {
		axes []int
		keep bool
		want []int
	}{
		{nil, false, []int{}},
		{nil, true, []int{1, 1, 1, 1}},
		{[]int{}, false, []int{2, 3, 4, 5}},
		{[]int{-1, 1}, false, []int{2, 4}},
		{[]int{3, -1, 1}, true, []int{2, 1, 4, 1}},
	} {
		if got := ReducedShape(x, c.axes, c.keep); !SameShape(got, c.want) {
			t.Fatalf("ReducedShape(%v, %v, %v) = %v, want %v", x.Shape(), c.axes, c.keep, got, c.want)
		}
	}
}

// naiveSumTo sums x down to shape, sending each element to the index with
// x's leading extra dimensions dropped and size-1 dimensions zeroed.
func naiveSumTo(x *Tensor, shape []int) []float64 {
	out := make([]float64, numel(shape))
	lead := x.Dim() - len(shape)
	for i, v := range x.Data() {
		idx := unravel(i, x.Shape())[lead:]
		for d := range idx {
			if shape[d] == 1 {
				idx[d] = 0
			}
		}
		out[ravel(idx, shape)] += float64(v)
	}
	return out
}

// TestBroadcastToSumTo checks both against naive references on random shape
// pairs, and that they are adjoint: <BroadcastTo(a), b> == <a, SumTo(b)>.
func TestBroadcastToSumTo(t *testing.T) {
	r := newTestRand(8)
	for range 300 {
		sa, sb := randomBroadcastPair(r)
		out := BroadcastShapes("test", sa, sb)
		a, b := seededTensor(r, sa...), seededTensor(r, out...)
		what := fmt.Sprintf("%v to %v", sa, out)

		_, want, _ := naiveBroadcast(a, New(out...), func(x, _ float32) float32 { return x })
		ba := BroadcastTo(a, out)
		checkExact(t, "BroadcastTo "+what, ba, out, want)

		sb2 := SumTo(b, sa)
		checkClose(t, "SumTo "+what, sb2, sa, naiveSumTo(b, sa), 1e-6, 1e-6)

		checkAdjoint(t, "BroadcastTo/SumTo "+what, a, ba, b, sb2)

		if SameShape(sa, out) && a.Len() > 0 && (&ba.Data()[0] == &a.Data()[0] || &sb2.Data()[0] == &b.Data()[0]) {
			t.Fatalf("BroadcastTo or SumTo to the same shape %v returned its input's buffer", sa)
		}
	}
}

func TestBroadcastToSumToPanics(t *testing.T) {
	for _, c := range [][2][]int{{{3}, {4}}, {{2, 3}, {3}}, {{2, 3}, {2, 1}}, {{3}, {0}}, {{2, 1}, {3, 2}}} {
		wantPanic(t, func() { BroadcastTo(New(c[0]...), c[1]) }, "tensor.BroadcastTo", fmt.Sprint(c[0]), fmt.Sprint(c[1]))
		wantPanic(t, func() { SumTo(New(c[1]...), c[0]) }, "tensor.SumTo", fmt.Sprint(c[0]), fmt.Sprint(c[1]))
	}
}

// BenchmarkSum measures batch-norm's per-channel reduction of a batch of
// DCGAN 7x7 feature maps, releasing each result for a steady state.
func BenchmarkSum(b *testing.B) {
	for _, c := range []struct {
		shape, axes []int
	}{
		{[]int{64, 128, 7, 7}, []int{0, 2, 3}},
		{[]int{64, 128, 7, 7}, nil},
	} {
		axes := "all"
		if c.axes != nil {
			axes = fmt.Sprint(c.axes)
			axes = axes[1 : len(axes)-1]
		}
		name := shapeName(c.shape) + "/axes=" + strings.ReplaceAll(axes, " ", ",")
		b.Run(name, func(b *testing.B) {
			x := seededTensor(newTestRand(1), c.shape...)
			Release(Sum(x, c.axes, true))
			b.SetBytes(int64(4 * x.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				Release(Sum(x, c.axes, true))
			}
		})
	}
}

// TestAllFinite checks AllFinite against math.IsNaN and math.IsInf for
// each kind of special value at the start, the middle and the end of small
// tensors and of tensors large enough to be scanned in blocks.
func TestAllFinite(t *testing.T) {
	specials := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)),
		math.Float32frombits(0x7f800001), math.Float32frombits(0xffc00000)} // a signalling NaN, a negative NaN
	for _, n := range []int{1, 7, 3 << 16} {
		for _, v := range specials {
			for _, at := range []int{0, n / 2, n - 1} {
				x := NewRNG(uint64(n)).Normal(0, 1, n)
				x.data[at] = v
				want := !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
				if got := AllFinite(x); got != want {
					t.Fatalf("n %d, %v at %d: AllFinite %v, want %v", n, v, at, got, want)
				}
			}
		}
	}
}
