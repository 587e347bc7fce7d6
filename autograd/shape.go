package autograd

import (
	"slices"

	"github.com/kallima-gan/kallima/tensor"
)

var (
	opReshape     = register("reshape")
	opPermute     = register("permute")
	opSlice       = register("slice")
	opConcat      = register("concat")
	opPadZero     = register("pad_zero")
	opIndexSelect = register("index_select")
	opIndexAdd    = register("index_add")
	opGather      = register("gather")
	opScatterAdd  = register("scatter_add")
)

// Reshape gives a a new shape of the same size (one -1 is inferred). It
// shares a's data; the gradient is reshaped back.
func Reshape(a *Value, shape ...int) *Value {
	in := shapeOf(a)
	return record(opReshape, tensor.Reshape(a.data, shape...), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Reshape(g, in...)}
	})
}

// Permute reorders dimensions: output dimension i is input dimension
// perm[i]. The gradient is permuted by the inverse.
func Permute(a *Value, perm ...int) *Value {
	inv := make([]int, len(perm))
	for i, p := range perm {
		if p >= 0 && p < len(perm) {
			inv[p] = i
		}
	}
	return record(opPermute, tensor.Permute(a.data, perm...), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Permute(g, inv...)}
	})
}

// Slice returns a[..., start:end, ...] along axis. The gradient is padded
// back with zeros.
func Slice(a *Value, axis, start, end int) *Value {
	out := tensor.Slice(a.data, axis, start, end)
	if axis < 0 {
		axis += a.data.Dim()
	}
	pads := make([][2]int, a.data.Dim())
	pads[axis] = [2]int{start, a.data.Size(axis) - end}
	return record(opSlice, out, []*Value{a}, func(g *Value) []*Value {
		return []*Value{PadZero(g, pads)}
	})
}

// Concat joins values along axis; each gradient is its slice of g.
func Concat(vs []*Value, axis int) *Value {
	ts := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		ts[i] = v.data
	}
	out := tensor.Concat(ts, axis)
	if axis < 0 {
		axis += out.Dim()
	}
	return record(opConcat, out, slices.Clone(vs), func(g *Value) []*Value {
		r := make([]*Value, len(vs))
		off := 0
		for i, v := range vs {
			n := v.data.Size(axis)
			if v.requiresGrad {
				r[i] = Slice(g, axis, off, off+n)
			}
			off += n
		}
		return r
	})
}

// PadZero pads with zeros, pads[i] = {before, after} for dimension i;
// negative pads crop. The gradient is the same pad negated (a crop).
func PadZero(a *Value, pads [][2]int) *Value {
	pads = slices.Clone(pads)
	neg := make([][2]int, len(pads))
	for i, p := range pads {
		neg[i] = [2]int{-p[0], -p[1]}
	}
	return record(opPadZero, tensor.PadZero(a.data, pads), []*Value{a}, func(g *Value) []*Value {
		return []*Value{PadZero(g, neg)}
	})
}

// IndexSelect picks entries idx along axis (an embedding lookup on axis 0).
// The gradient adds g back at idx.
func IndexSelect(a *Value, axis int, idx []int) *Value {
	idx = slices.Clone(idx)
	n := a.data.Size(axis)
	return record(opIndexSelect, tensor.IndexSelect(a.data, axis, idx), []*Value{a}, func(g *Value) []*Value {
		return []*Value{IndexAdd(g, axis, idx, n)}
	})
}

// IndexAdd is IndexSelect's transpose: zeros of size n on axis, with a's
// entries added at idx. Its gradient selects g at idx.
func IndexAdd(a *Value, axis int, idx []int, n int) *Value {
	idx = slices.Clone(idx)
	return record(opIndexAdd, tensor.IndexAdd(a.data, axis, idx, n), []*Value{a}, func(g *Value) []*Value {
		return []*Value{IndexSelect(g, axis, idx)}
	})
}

// Gather reads flat positions of a: out.flat[i] = a.flat[idx[i]], out of
// the given shape. Its gradient scatters back (adding repeats).
func Gather(a *Value, idx []int32, shape ...int) *Value {
	in := shapeOf(a)
	return record(opGather, tensor.Gather(a.data, idx, shape...), []*Value{a}, func(g *Value) []*Value {
		return []*Value{ScatterAdd(g, idx, in...)}
	})
}

// ScatterAdd is Gather's transpose: zeros of shape with a.flat[i] added at
// flat position idx[i]. Its gradient gathers.
func ScatterAdd(a *Value, idx []int32, shape ...int) *Value {
	in := shapeOf(a)
	return record(opScatterAdd, tensor.ScatterAdd(a.data, idx, shape...), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Gather(g, idx, in...)}
	})
}
