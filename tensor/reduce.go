package tensor

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/kallima-gan/kallima/internal/parallel"
)

// normAxes returns sorted, deduplicated, non-negative axes; nil means all.
func normAxes(op string, t *Tensor, axes []int) []int {
	if axes == nil {
		r := make([]int, len(t.shape))
		for i := range r {
			r[i] = i
		}
		return r
	}
	r := make([]int, 0, len(axes))
	for _, a := range axes {
		r = append(r, t.axis(op, a))
	}
	slices.Sort(r)
	return slices.Compact(r)
}

// ReducedShape returns the shape of t reduced over axes: reduced dimensions
// become 1 when keep is true and are dropped otherwise. nil axes means all.
func ReducedShape(t *Tensor, axes []int, keep bool) []int {
	return reducedShape(t.shape, normAxes("ReducedShape", t, axes), keep)
}

// reducedShape is ReducedShape for normalised axes.
func reducedShape(shape, ax []int, keep bool) []int {
	out := []int{}
	for i, d := range shape {
		if slices.Contains(ax, i) {
			if keep {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

// reducer is one reduction: its start value, whether that is an identity
// (so that empty axes may be reduced), and its fold of a run of values into
// one accumulator, in float64 so that large sums stay accurate.
type reducer struct {
	op       string
	init     float64
	identity bool
	fold     func(acc float64, xs []float32) float64
}

var (
	sumReducer = reducer{"Sum", 0, true, func(a float64, xs []float32) float64 {
		for _, x := range xs {
			a += float64(x)
		}
		return a
	}}
	// Max and Min propagate NaN, even next to an infinity (where math.Max
	// and math.Min would not).
	maxReducer = reducer{"Max", math.Inf(-1), false, func(a float64, xs []float32) float64 {
		if a != a {
			return a
		}
		for _, x := range xs {
			switch v := float64(x); {
			case v != v:
				return v
			case v > a:
				a = v
			}
		}
		return a
	}}
	minReducer = reducer{"Min", math.Inf(1), false, func(a float64, xs []float32) float64 {
		if a != a {
			return a
		}
		for _, x := range xs {
			switch v := float64(x); {
			case v != v:
				return v
			case v < a:
				a = v
			}
		}
		return a
	}}
)

// reduce folds t over axes with r. Without an identity (Max, Min) a
// reduction over an axis of length 0 panics, like torch.
func reduce(r reducer, t *Tensor, axes []int, keep bool) *Tensor {
	ax := normAxes(r.op, t, axes)
	if !r.identity {
		for _, a := range ax {
			if t.shape[a] == 0 {
				panic(fmt.Sprintf("tensor.%s: reduction over axis %d of length 0 in shape %v", r.op, a, t.shape))
			}
		}
	}
	kshape := reducedShape(t.shape, ax, true)
	acc := make([]float64, numel(kshape))
	for i := range acc {
		acc[i] = r.init
	}
	walk2(t.shape, stridesOf(t.shape), bstrides(kshape, t.shape), func(o, ia, ib, n, ja, jb int) {
		src := t.data[ia : ia+n]
		if jb == 0 { // the run is reduced into one output
			acc[ib] = r.fold(acc[ib], src)
			return
		}
		if r.op == "Sum" && jb == 1 { // a kept contiguous run, such as a bias gradient's rows
			a := acc[ib : ib+n]
			for i, v := range src {
				a[i] += float64(v)
			}
			return
		}
		for i := range src { // the run is kept: one output per element
			acc[ib+i*jb] = r.fold(acc[ib+i*jb], src[i:i+1])
		}
	})
	out := empty(reducedShape(t.shape, ax, keep)...)
	for i, a := range acc {
		out.data[i] = float32(a)
	}
	return out
}

// Sum sums t over axes (nil: all), keeping reduced dimensions as 1 if keep.
func Sum(t *Tensor, axes []int, keep bool) *Tensor { return reduce(sumReducer, t, axes, keep) }

// Max takes the maximum of t over axes (nil: all). NaN propagates.
// It panics if a reduced axis has length 0 (there is no identity).
func Max(t *Tensor, axes []int, keep bool) *Tensor { return reduce(maxReducer, t, axes, keep) }

// Min takes the minimum of t over axes (nil: all). NaN propagates.
// It panics if a reduced axis has length 0 (there is no identity).
func Min(t *Tensor, axes []int, keep bool) *Tensor { return reduce(minReducer, t, axes, keep) }

// BroadcastTo expands t to shape by NumPy broadcasting rules.
func BroadcastTo(t *Tensor, shape []int) *Tensor {
	if got := BroadcastShapes("BroadcastTo", t.shape, shape); !SameShape(got, shape) {
		panic(fmt.Sprintf("tensor.BroadcastTo: %v does not broadcast to %v", t.shape, shape))
	}
	if SameShape(t.shape, shape) {
		return t.Clone()
	}
	out := empty(shape...)
	walk2Par(shape, bstrides(t.shape, shape), bstrides(t.shape, shape), func(o, ia, _, n, ja, _ int) {
		od := out.data[o : o+n]
		if ja == 0 {
			v := t.data[ia]
			for i := range od {
				od[i] = v
			}
			return
		}
		copy(od, t.data[ia:ia+n])
	})
	return out
}

// SumTo sums t down to shape, the inverse of broadcasting shape up to
// t's shape: the gradient of BroadcastTo.
func SumTo(t *Tensor, shape []int) *Tensor {
	if SameShape(t.shape, shape) {
		return t.Clone()
	}
	if got := BroadcastShapes("SumTo", shape, t.shape); !SameShape(got, t.shape) {
		panic(fmt.Sprintf("tensor.SumTo: %v does not broadcast to %v", shape, t.shape))
	}
	lead := len(t.shape) - len(shape)
	var axes []int
	for i := range t.shape {
		if i < lead || shape[i-lead] == 1 && t.shape[i] != 1 {
			axes = append(axes, i)
		}
	}
	s := Sum(t, axes, true)
	return Reshape(s, shape...)
}

// AllFinite reports whether every element of t is finite: neither NaN nor
// ±Inf. Large tensors are scanned on several goroutines.
func AllFinite(t *Tensor) bool {
	if len(t.data) < 2*parallel.Grain { // one goroutine would scan it anyway
		return allFinite(t.data)
	}
	return allFiniteParallel(t.data)
}

// allFiniteParallel is allFinite in blocks (a function of its own so that
// small tensors' checks allocate no closure).
func allFiniteParallel(d []float32) bool {
	var bad atomic.Bool
	parallelFor(len(d), 1, func(lo, hi int) {
		if !allFinite(d[lo:hi]) {
			bad.Store(true)
		}
	})
	return !bad.Load()
}

// allFinite checks the exponent bits without a branch per element: they are
// all ones only for NaN and ±Inf.
func allFinite(d []float32) bool {
	var bad uint32
	for _, v := range d {
		e := math.Float32bits(v) >> 23 & 0xff
		bad |= (e + 1) >> 8
	}
	return bad == 0
}
