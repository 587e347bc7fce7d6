package autograd

import (
	"slices"

	"github.com/kallima-gan/kallima/tensor"
)

var (
	opSum         = register("sum")
	opMax         = register("max")
	opBroadcastTo = register("broadcast_to")
	opSumTo       = register("sum_to")
)

// Sum sums a over axes (nil: all), keeping reduced dimensions as 1 when
// keep. The gradient broadcasts back over the reduced axes.
func Sum(a *Value, axes []int, keep bool) *Value {
	in := shapeOf(a)
	kshape := tensor.ReducedShape(a.data, axes, true)
	return record(opSum, tensor.Sum(a.data, axes, keep), []*Value{a}, func(g *Value) []*Value {
		return []*Value{BroadcastTo(Reshape(g, kshape...), in)}
	})
}

// Max takes the maximum over axes (nil: all). The gradient is shared
// equally among tied maxima, like torch.amax.
func Max(a *Value, axes []int, keep bool) *Value {
	in := shapeOf(a)
	kshape := tensor.ReducedShape(a.data, axes, true)
	out := tensor.Max(a.data, axes, keep)
	return record(opMax, out, []*Value{a}, func(g *Value) []*Value {
		mask := tensor.Equal(a.data, tensor.BroadcastTo(tensor.Reshape(out, kshape...), in))
		cnt := tensor.Sum(mask, axes, true)
		w := tensor.Div(mask, cnt)
		return []*Value{Mul(BroadcastTo(Reshape(g, kshape...), in), Const(w))}
	})
}

// BroadcastTo expands a to shape by NumPy rules; the gradient sums back.
func BroadcastTo(a *Value, shape []int) *Value {
	shape = slices.Clone(shape)
	in := shapeOf(a)
	return record(opBroadcastTo, tensor.BroadcastTo(a.data, shape), []*Value{a}, func(g *Value) []*Value {
		return []*Value{SumTo(g, in)}
	})
}

// SumTo sums a down to shape (which must broadcast to a's shape): the
// gradient of broadcasting. Its own gradient broadcasts back.
func SumTo(a *Value, shape []int) *Value {
	shape = slices.Clone(shape)
	in := shapeOf(a)
	return record(opSumTo, tensor.SumTo(a.data, shape), []*Value{a}, func(g *Value) []*Value {
		return []*Value{BroadcastTo(g, in)}
	})
}
