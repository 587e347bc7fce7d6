package tensor

import (
	"fmt"
	"math"
	"slices"
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
	ax := normAxes("ReducedShape", t, axes)
	out := []int{}
	for i, d := range t.shape {
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

// reduce folds t over axes with f, starting each output from init, and
// accumulates in float64 so large sums stay accurate.
func reduce(op string, t *Tensor, axes []int, keep bool, init float64, f func(acc float64, x float32) float64) *Tensor {
	kshape := ReducedShape(t, axes, true)
	acc := make([]float64, numel(kshape))
	for i := range acc {
		acc[i] = init
	}
	walk2(t.shape, stridesOf(t.shape), bstrides(kshape, t.shape), func(o, ia, ib, n, ja, jb int) {
		src := t.data[ia : ia+n]
		if jb == 0 {
			a := acc[ib]
			for _, x := range src {
				a = f(a, x)
			}
			acc[ib] = a
			return
		}
		for i, x := range src {
			acc[ib+i*jb] = f(acc[ib+i*jb], x)
		}
	})
	out := empty(ReducedShape(t, axes, keep)...)
	for i, a := range acc {
		out.data[i] = float32(a)
	}
	return out
}

// Sum sums t over axes (nil: all), keeping reduced dimensions as 1 if keep.
func Sum(t *Tensor, axes []int, keep bool) *Tensor {
	return reduce("Sum", t, axes, keep, 0, func(a float64, x float32) float64 { return a + float64(x) })
}

// Max takes the maximum of t over axes (nil: all). NaN propagates.
func Max(t *Tensor, axes []int, keep bool) *Tensor {
	if t.Len() == 0 {
		panic(fmt.Sprintf("tensor.Max: empty tensor of shape %v", t.shape))
	}
	return reduce("Max", t, axes, keep, math.Inf(-1), func(a float64, x float32) float64 {
		if x != x || a != a {
			return math.NaN()
		}
		return math.Max(a, float64(x))
	})
}

// Min takes the minimum of t over axes (nil: all). NaN propagates.
func Min(t *Tensor, axes []int, keep bool) *Tensor {
	if t.Len() == 0 {
		panic(fmt.Sprintf("tensor.Min: empty tensor of shape %v", t.shape))
	}
	return reduce("Min", t, axes, keep, math.Inf(1), func(a float64, x float32) float64 {
		if x != x || a != a {
			return math.NaN()
		}
		return math.Min(a, float64(x))
	})
}

// BroadcastTo expands t to shape by NumPy broadcasting rules.
func BroadcastTo(t *Tensor, shape []int) *Tensor {
	if got := BroadcastShapes("BroadcastTo", t.shape, shape); !SameShape(got, shape) {
		panic(fmt.Sprintf("tensor.BroadcastTo: %v does not broadcast to %v", t.shape, shape))
	}
	if SameShape(t.shape, shape) {
		return t.Clone()
	}
	out := empty(shape...)
	walk2(shape, bstrides(t.shape, shape), bstrides(t.shape, shape), func(o, ia, _, n, ja, _ int) {
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
