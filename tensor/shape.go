package tensor

import (
	"fmt"
	"slices"
	"sync"
)

// Reshape returns a tensor sharing t's data with a new shape of the same
// size; one dimension may be -1 and is then inferred. It panics if the sizes
// differ, a dimension is below -1, or -1 is ambiguous (other dimensions
// multiply to 0).
func Reshape(t *Tensor, shape ...int) *Tensor {
	shape = slices.Clone(shape)
	infer, n := -1, 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic(fmt.Sprintf("tensor.Reshape: two -1 in %v", shape))
			}
			infer = i
			continue
		}
		if d < 0 {
			panic(fmt.Sprintf("tensor.Reshape: negative dimension in %v", shape))
		}
		n *= d
	}
	if infer >= 0 {
		if n == 0 {
			panic(fmt.Sprintf("tensor.Reshape: cannot infer -1 in %v for shape %v", shape, t.shape))
		}
		shape[infer] = len(t.data) / n
		n *= shape[infer]
	}
	if n != len(t.data) {
		panic(fmt.Sprintf("tensor.Reshape: %v to %v", t.shape, shape))
	}
	return &Tensor{shape: shape, data: t.data}
}

// Permute reorders t's dimensions: output dimension i is input dimension
// perm[i]. The result is a contiguous copy.
func Permute(t *Tensor, perm ...int) *Tensor {
	if len(perm) != len(t.shape) {
		panic(fmt.Sprintf("tensor.Permute: perm %v for shape %v", perm, t.shape))
	}
	seen := make([]bool, len(perm))
	shape := make([]int, len(perm))
	st := stridesOf(t.shape)
	src := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			panic(fmt.Sprintf("tensor.Permute: perm %v for shape %v", perm, t.shape))
		}
		seen[p] = true
		shape[i] = t.shape[p]
		src[i] = st[p]
	}
	out := empty(shape...)
	walk2Par(shape, src, src, func(o, ia, _, n, ja, _ int) {
		od := out.data[o : o+n]
		if ja == 1 {
			copy(od, t.data[ia:ia+n])
			return
		}
		for i := range od {
			od[i] = t.data[ia+i*ja]
		}
	})
	return out
}

// Transpose swaps the last two dimensions.
func Transpose(t *Tensor) *Tensor {
	n := len(t.shape)
	if n < 2 {
		panic(fmt.Sprintf("tensor.Transpose: shape %v has fewer than 2 dimensions", t.shape))
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	perm[n-1], perm[n-2] = n-2, n-1
	return Permute(t, perm...)
}

// outerInner splits shape around axis: the product of dimensions before it
// and after it.
func outerInner(shape []int, axis int) (int, int) {
	return numel(shape[:axis]), numel(shape[axis+1:])
}

// Slice returns t[..., start:end, ...] along axis, a contiguous copy.
func Slice(t *Tensor, axis, start, end int) *Tensor {
	axis = t.axis("Slice", axis)
	if start < 0 || end > t.shape[axis] || start > end {
		panic(fmt.Sprintf("tensor.Slice: [%d:%d] on axis %d of shape %v", start, end, axis, t.shape))
	}
	shape := slices.Clone(t.shape)
	shape[axis] = end - start
	out := empty(shape...)
	outer, inner := outerInner(t.shape, axis)
	w, d := (end-start)*inner, t.shape[axis]*inner
	for o := 0; o < outer; o++ {
		copy(out.data[o*w:(o+1)*w], t.data[o*d+start*inner:o*d+end*inner])
	}
	return out
}

// Concat joins tensors along axis; all other dimensions must agree.
func Concat(ts []*Tensor, axis int) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Concat: no tensors")
	}
	axis = ts[0].axis("Concat", axis)
	shape := slices.Clone(ts[0].shape)
	shape[axis] = 0
	for _, t := range ts {
		bad := len(t.shape) != len(shape)
		for i := 0; !bad && i < len(shape); i++ {
			bad = i != axis && t.shape[i] != shape[i]
		}
		if bad {
			panic(fmt.Sprintf("tensor.Concat: shape %v against %v on axis %d", t.shape, ts[0].shape, axis))
		}
		shape[axis] += t.shape[axis]
	}
	out := empty(shape...)
	outer, inner := outerInner(shape, axis)
	row := shape[axis] * inner
	off := 0
	for _, t := range ts {
		w := t.shape[axis] * inner
		for o := 0; o < outer; o++ {
			copy(out.data[o*row+off:o*row+off+w], t.data[o*w:(o+1)*w])
		}
		off += w
	}
	return out
}

// PadZero pads t with zeros: pads[i] = {before, after} for dimension i
// (len(pads) == t.Dim()). Negative pads crop.
func PadZero(t *Tensor, pads [][2]int) *Tensor {
	if len(pads) != len(t.shape) {
		panic(fmt.Sprintf("tensor.PadZero: %d pads for shape %v", len(pads), t.shape))
	}
	shape := make([]int, len(t.shape))
	for i, p := range pads {
		shape[i] = t.shape[i] + p[0] + p[1]
		if shape[i] < 0 {
			panic(fmt.Sprintf("tensor.PadZero: pads %v for shape %v", pads, t.shape))
		}
	}
	out := New(shape...)
	if len(shape) == 0 {
		out.data[0] = t.data[0]
		return out
	}
	// Walk the overlap region of input and output.
	ov := make([]int, len(shape))
	inOff, outOff := 0, 0
	ist, ost := stridesOf(t.shape), stridesOf(shape)
	for i, p := range pads {
		lo, hi := max(0, -p[0]), min(t.shape[i], shape[i]-p[0])
		ov[i] = max(hi-lo, 0)
		inOff += lo * ist[i]
		outOff += (lo + p[0]) * ost[i]
	}
	if numel(ov) == 0 {
		return out
	}
	walk2(ov, ist, ost, func(_, ia, ib, n, ja, jb int) {
		if ja == 1 && jb == 1 {
			copy(out.data[outOff+ib:outOff+ib+n], t.data[inOff+ia:inOff+ia+n])
			return
		}
		for i := range n {
			out.data[outOff+ib+i*jb] = t.data[inOff+ia+i*ja]
		}
	})
	return out
}

// IndexSelect picks entries idx along axis: out[..., i, ...] = t[..., idx[i], ...].
func IndexSelect(t *Tensor, axis int, idx []int) *Tensor {
	axis = t.axis("IndexSelect", axis)
	shape := slices.Clone(t.shape)
	shape[axis] = len(idx)
	out := empty(shape...)
	outer, inner := outerInner(t.shape, axis)
	d := t.shape[axis]
	for _, j := range idx {
		if j < 0 || j >= d {
			panic(fmt.Sprintf("tensor.IndexSelect: index %d out of range for axis %d of shape %v", j, axis, t.shape))
		}
	}
	for o := 0; o < outer; o++ {
		for i, j := range idx {
			copy(out.data[(o*len(idx)+i)*inner:(o*len(idx)+i+1)*inner], t.data[(o*d+j)*inner:(o*d+j+1)*inner])
		}
	}
	return out
}

// IndexAdd is the transpose of IndexSelect: a zero tensor with size n on axis
// into which g's entries are added at idx along axis.
func IndexAdd(g *Tensor, axis int, idx []int, n int) *Tensor {
	axis = g.axis("IndexAdd", axis)
	if g.shape[axis] != len(idx) {
		panic(fmt.Sprintf("tensor.IndexAdd: %d indices for axis %d of shape %v", len(idx), axis, g.shape))
	}
	shape := slices.Clone(g.shape)
	shape[axis] = n
	for _, j := range idx {
		if j < 0 || j >= n {
			panic(fmt.Sprintf("tensor.IndexAdd: index %d out of range for size %d on axis %d of shape %v", j, n, axis, g.shape))
		}
	}
	out := New(shape...)
	outer, inner := outerInner(g.shape, axis)
	for o := 0; o < outer; o++ {
		for i, j := range idx {
			dst := out.data[(o*n+j)*inner : (o*n+j+1)*inner]
			src := g.data[(o*len(idx)+i)*inner : (o*len(idx)+i+1)*inner]
			for k, v := range src {
				dst[k] += v
			}
		}
	}
	return out
}

// Gather reads flat positions: out.flat[i] = t.flat[idx[i]], with out's
// shape given. It is the kernel behind reflection padding and max pooling's
// gradient. It panics if len(idx) does not match shape or an index is out
// of range for t.
func Gather(t *Tensor, idx []int32, shape ...int) *Tensor {
	if checkShape("Gather", shape) != len(idx) {
		panic(fmt.Sprintf("tensor.Gather: %d indices for shape %v", len(idx), shape))
	}
	checkFlat("Gather", idx, t.shape)
	out := empty(shape...)
	for i, j := range idx {
		out.data[i] = t.data[j]
	}
	return out
}

// ScatterAdd is the transpose of Gather: a zero tensor of shape into whose
// flat position idx[i] g.flat[i] is added. It panics if len(idx) does not
// match g or an index is out of range for shape.
func ScatterAdd(g *Tensor, idx []int32, shape ...int) *Tensor {
	if len(idx) != len(g.data) {
		panic(fmt.Sprintf("tensor.ScatterAdd: %d indices for shape %v", len(idx), g.shape))
	}
	checkFlat("ScatterAdd", idx, shape)
	out := New(shape...)
	for i, j := range idx {
		out.data[j] += g.data[i]
	}
	return out
}

// checkFlat panics naming op unless every idx is a flat position in shape.
func checkFlat(op string, idx []int32, shape []int) {
	n := numel(shape)
	for _, j := range idx {
		if j < 0 || int(j) >= n {
			panic(fmt.Sprintf("tensor.%s: flat index %d out of range for shape %v", op, j, shape))
		}
	}
}

// reflectKey is what ReflectIndex's indices depend on.
type reflectKey struct{ outer, h, w, top, bottom, left, right int }

// reflectIndexes caches ReflectIndex's indices: a CycleGAN step pads the
// same few shapes dozens of times, and building them anew took 5% of it.
var reflectIndexes = struct {
	sync.Mutex
	m map[reflectKey][]int32
}{m: map[reflectKey][]int32{}}

// ReflectIndex returns the Gather indices that reflection-pad the last two
// dimensions of shape by (top, bottom, left, right), like torch's
// ReflectionPad2d; each pad must be smaller than its dimension. The
// indices are cached and shared between calls: callers must not modify
// them.
func ReflectIndex(shape []int, top, bottom, left, right int) ([]int32, []int) {
	n := len(shape)
	if n < 2 {
		panic(fmt.Sprintf("tensor.ReflectIndex: shape %v needs 2 dimensions", shape))
	}
	h, w := shape[n-2], shape[n-1]
	if top >= h || bottom >= h || left >= w || right >= w || min(top, bottom, left, right) < 0 {
		panic(fmt.Sprintf("tensor.ReflectIndex: pads %d,%d,%d,%d for shape %v", top, bottom, left, right, shape))
	}
	ho, wo := h+top+bottom, w+left+right
	out := slices.Clone(shape)
	out[n-2], out[n-1] = ho, wo
	refl := func(i, d int) int {
		if i < 0 {
			return -i
		}
		if i >= d {
			return 2*(d-1) - i
		}
		return i
	}
	outer := numel(shape[:n-2])
	key := reflectKey{outer, h, w, top, bottom, left, right}
	reflectIndexes.Lock()
	defer reflectIndexes.Unlock()
	if idx, ok := reflectIndexes.m[key]; ok {
		return idx, out
	}
	idx := make([]int32, 0, outer*ho*wo)
	for o := 0; o < outer; o++ {
		for y := 0; y < ho; y++ {
			sy := refl(y-top, h)
			for x := 0; x < wo; x++ {
				idx = append(idx, int32((o*h+sy)*w+refl(x-left, w)))
			}
		}
	}
	if len(reflectIndexes.m) >= maxTables { // bounded, like the convolution tables
		clear(reflectIndexes.m)
	}
	reflectIndexes.m[key] = idx
	return idx, out
}
