package tensor

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestReshape(t *testing.T) {
	r := newTestRand(9)
	x := seededTensor(r, 2, 3, 4)
	for _, c := range []struct {
		shape, want []int
	}{
		{[]int{24}, []int{24}},
		{[]int{-1}, []int{24}},
		{[]int{4, -1}, []int{4, 6}},
		{[]int{-1, 2, 3}, []int{4, 2, 3}},
		{[]int{2, 1, -1, 1}, []int{2, 1, 12, 1}},
		{[]int{3, 2, 4}, []int{3, 2, 4}},
	} {
		arg := append([]int(nil), c.shape...)
		y := Reshape(x, arg...)
		arg[0] = 99 // the result must hold its own shape
		checkExact(t, fmt.Sprintf("Reshape(%v)", c.shape), y, c.want, x.Data())
		if &y.Data()[0] != &x.Data()[0] {
			t.Fatalf("Reshape(%v) copied; it must share data", c.shape)
		}
	}
	checkExact(t, "Reshape to scalar", Reshape(Full(5, 1, 1)), []int{}, []float32{5})
	checkExact(t, "Reshape scalar", Reshape(Scalar(5), 1, -1, 1), []int{1, 1, 1}, []float32{5})
	checkExact(t, "Reshape empty", Reshape(New(0, 3), 3, 0, 2), []int{3, 0, 2}, nil)
	checkExact(t, "Reshape empty with -1", Reshape(New(0, 3), -1, 3), []int{0, 3}, nil)
}

func TestReshapePanics(t *testing.T) {
	x := New(2, 3, 4)
	for _, c := range []struct {
		shape []int
		subs  []string
	}{
		{[]int{5, 5}, []string{"[2 3 4]", "[5 5]"}},
		{[]int{-1, -1}, []string{"two -1"}},
		{[]int{5, -1}, []string{"[2 3 4]", "[5 4]"}}, // 24 is not a multiple of 5
		{[]int{-2, -12}, []string{"negative", "[-2 -12]"}},
		{[]int{4, -3, -2}, []string{"negative"}},
		{[]int{}, []string{"[2 3 4]", "[]"}},
	} {
		wantPanic(t, func() { Reshape(x, c.shape...) }, append([]string{"tensor.Reshape"}, c.subs...)...)
	}
	// With a zero elsewhere, -1 could be anything.
	wantPanic(t, func() { Reshape(New(0, 3), 0, -1) }, "tensor.Reshape", "-1", "[0 3]")
}

// naivePermute computes out[i0..] = x[j] where j[perm[k]] = i[k].
func naivePermute(x *Tensor, perm []int) ([]int, []float32) {
	shape := make([]int, len(perm))
	for k, p := range perm {
		shape[k] = x.Shape()[p]
	}
	out := make([]float32, numel(shape))
	src := make([]int, len(perm))
	for i := range out {
		idx := unravel(i, shape)
		for k, p := range perm {
			src[p] = idx[k]
		}
		out[i] = x.Data()[ravel(src, x.Shape())]
	}
	return shape, out
}

// permutations returns every permutation of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int(nil), p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestPermute(t *testing.T) {
	r := newTestRand(10)
	x := seededTensor(r, 2, 3, 4, 5)
	if n := len(permutations(4)); n != 24 {
		t.Fatalf("test bug: %d permutations of 4", n)
	}
	for _, p := range permutations(4) {
		shape, want := naivePermute(x, p)
		checkExact(t, fmt.Sprintf("Permute(%v)", p), Permute(x, p...), shape, want)
	}
	for range 100 {
		shape := make([]int, r.IntN(6))
		for i := range shape {
			shape[i] = r.IntN(4) // 0 and 1 included
		}
		x := seededTensor(r, shape...)
		p := r.Perm(len(shape))
		want, wantData := naivePermute(x, p)
		checkExact(t, fmt.Sprintf("Permute(%v, %v)", shape, p), Permute(x, p...), want, wantData)
	}
}

func TestPermutePanics(t *testing.T) {
	x := New(2, 3, 4)
	for _, p := range [][]int{{0, 1}, {0, 1, 1}, {0, 1, 3}, {-1, 0, 1}, {0, 1, 2, 3}} {
		wantPanic(t, func() { Permute(x, p...) }, "tensor.Permute", fmt.Sprint(p), "[2 3 4]")
	}
}

func TestTranspose(t *testing.T) {
	r := newTestRand(11)
	for _, shape := range [][]int{{3, 5}, {2, 3, 4}, {2, 1, 3, 1}} {
		x := seededTensor(r, shape...)
		n := len(shape)
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		perm[n-2], perm[n-1] = n-1, n-2
		want, wantData := naivePermute(x, perm)
		checkExact(t, fmt.Sprintf("Transpose(%v)", shape), Transpose(x), want, wantData)
		checkExact(t, "Transpose twice", Transpose(Transpose(x)), shape, x.Data())
	}
	wantPanic(t, func() { Transpose(New(3)) }, "tensor.Transpose", "[3]")
}

// naiveSlice keeps the elements whose index on axis is in [start, end).
func naiveSlice(x *Tensor, axis, start, end int) []float32 {
	var out []float32
	for i, v := range x.Data() {
		if j := unravel(i, x.Shape())[axis]; j >= start && j < end {
			out = append(out, v)
		}
	}
	return out
}

// TestSliceConcat cuts random tensors into random pieces (some empty) along
// every axis, checks each piece against a naive slice, and checks that
// Concat puts them back together exactly.
func TestSliceConcat(t *testing.T) {
	r := newTestRand(12)
	for range 60 {
		shape := make([]int, 1+r.IntN(4))
		for i := range shape {
			shape[i] = r.IntN(5)
		}
		x := seededTensor(r, shape...)
		for axis := range shape {
			// Cut points 0 = c0 <= c1 <= ... <= d, with repeats (empty pieces).
			cuts := []int{0}
			for range r.IntN(4) {
				cuts = append(cuts, r.IntN(shape[axis]+1))
			}
			cuts = append(cuts, shape[axis])
			slices.Sort(cuts)
			ax := axis
			if r.IntN(2) == 0 {
				ax -= len(shape)
			}
			var pieces []*Tensor
			for k := 0; k+1 < len(cuts); k++ {
				p := Slice(x, ax, cuts[k], cuts[k+1])
				want := append([]int(nil), shape...)
				want[axis] = cuts[k+1] - cuts[k]
				checkExact(t, fmt.Sprintf("Slice(%v, %d, %d, %d)", shape, ax, cuts[k], cuts[k+1]), p, want, naiveSlice(x, axis, cuts[k], cuts[k+1]))
				pieces = append(pieces, p)
			}
			checkExact(t, fmt.Sprintf("Concat of %v cut at %v on axis %d", shape, cuts, ax), Concat(pieces, ax), shape, x.Data())
		}
	}
}

func TestConcat(t *testing.T) {
	a := FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	b := FromSlice([]float32{5, 6}, 2, 1)
	checkExact(t, "Concat axis 1", Concat([]*Tensor{a, b, a}, -1), []int{2, 5}, []float32{1, 2, 5, 1, 2, 3, 4, 6, 3, 4})
	checkExact(t, "Concat axis 0", Concat([]*Tensor{a, Transpose(b)}, 0), []int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	checkExact(t, "Concat one", Concat([]*Tensor{a}, 0), []int{2, 2}, a.Data())
	wantPanic(t, func() { Concat(nil, 0) }, "tensor.Concat")
	wantPanic(t, func() { Concat([]*Tensor{a, b}, 0) }, "tensor.Concat", "[2 1]", "[2 2]")
	wantPanic(t, func() { Concat([]*Tensor{a, New(2, 2, 1)}, 1) }, "tensor.Concat", "[2 2 1]")
	wantPanic(t, func() { Concat([]*Tensor{a, a}, 2) }, "tensor.Concat", "axis 2")
}

func TestSlicePanics(t *testing.T) {
	x := New(2, 5)
	for _, c := range [][3]int{{1, -1, 2}, {1, 2, 6}, {1, 3, 2}, {2, 0, 1}, {-3, 0, 1}} {
		wantPanic(t, func() { Slice(x, c[0], c[1], c[2]) }, "tensor.Slice", "[2 5]")
	}
}

// naivePad places x[i] at out[i + before] for every in-range position.
func naivePad(x *Tensor, pads [][2]int) ([]int, []float32) {
	shape := make([]int, x.Dim())
	for i, p := range pads {
		shape[i] = x.Shape()[i] + p[0] + p[1]
	}
	out := make([]float32, numel(shape))
	for i := range out {
		idx := unravel(i, shape)
		inside := true
		for d := range idx {
			idx[d] -= pads[d][0]
			inside = inside && idx[d] >= 0 && idx[d] < x.Shape()[d]
		}
		if inside {
			out[i] = x.Data()[ravel(idx, x.Shape())]
		}
	}
	return shape, out
}

// TestPadZero pads and crops random tensors by random amounts per side and
// checks the adjoint property: cropping by p is the transpose of padding by
// p, so <PadZero(x, p), y> == <x, PadZero(y, -p)>.
func TestPadZero(t *testing.T) {
	r := newTestRand(13)
	for range 300 {
		shape := make([]int, r.IntN(5))
		pads := make([][2]int, len(shape))
		neg := make([][2]int, len(shape))
		for i := range shape {
			shape[i] = r.IntN(5)
			for {
				pads[i] = [2]int{r.IntN(6) - 2, r.IntN(6) - 2}
				if shape[i]+pads[i][0]+pads[i][1] >= 0 {
					break
				}
			}
			neg[i] = [2]int{-pads[i][0], -pads[i][1]}
		}
		x := seededTensor(r, shape...)
		want, wantData := naivePad(x, pads)
		px := PadZero(x, pads)
		checkExact(t, fmt.Sprintf("PadZero(%v, %v)", shape, pads), px, want, wantData)
		y := seededTensor(r, want...)
		cy := PadZero(y, neg)
		if !SameShape(cy.Shape(), shape) {
			t.Fatalf("PadZero(%v, %v) has shape %v, want %v", want, neg, cy.Shape(), shape)
		}
		checkAdjoint(t, fmt.Sprintf("PadZero %v on %v", pads, shape), x, px, y, cy)
	}
	x := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	checkExact(t, "PadZero", PadZero(x, [][2]int{{1, 0}, {-1, 1}}), []int{3, 3}, []float32{0, 0, 0, 2, 3, 0, 5, 6, 0})
	checkExact(t, "PadZero crop past the data", PadZero(x, [][2]int{{0, 0}, {-4, 2}}), []int{2, 1}, []float32{0, 0})
	checkExact(t, "PadZero of a scalar", PadZero(Scalar(3), nil), []int{}, []float32{3})
}

func TestPadZeroPanics(t *testing.T) {
	x := New(2, 3)
	wantPanic(t, func() { PadZero(x, [][2]int{{1, 1}}) }, "tensor.PadZero", "1 pads", "[2 3]")
	wantPanic(t, func() { PadZero(x, [][2]int{{0, 0}, {-2, -2}}) }, "tensor.PadZero", "[2 3]")
}

func TestIndexSelectIndexAdd(t *testing.T) {
	r := newTestRand(14)
	for range 100 {
		shape := make([]int, 1+r.IntN(4))
		for i := range shape {
			shape[i] = 1 + r.IntN(4)
		}
		axis := r.IntN(len(shape))
		d := shape[axis]
		idx := make([]int, r.IntN(6)) // repeats and omissions
		for i := range idx {
			idx[i] = r.IntN(d)
		}
		ax := axis
		if r.IntN(2) == 0 {
			ax -= len(shape)
		}
		x := seededTensor(r, shape...)
		sel := IndexSelect(x, ax, idx)

		outShape := append([]int(nil), shape...)
		outShape[axis] = len(idx)
		want := make([]float32, numel(outShape))
		for i := range want {
			j := unravel(i, outShape)
			j[axis] = idx[j[axis]]
			want[i] = x.Data()[ravel(j, shape)]
		}
		checkExact(t, fmt.Sprintf("IndexSelect(%v, %d, %v)", shape, ax, idx), sel, outShape, want)

		g := seededTensor(r, outShape...)
		add := IndexAdd(g, ax, idx, d)
		wantAdd := make([]float64, x.Len())
		for i, v := range g.Data() {
			j := unravel(i, outShape)
			j[axis] = idx[j[axis]]
			wantAdd[ravel(j, shape)] += float64(v)
		}
		checkClose(t, fmt.Sprintf("IndexAdd(%v, %d, %v, %d)", outShape, ax, idx, d), add, shape, wantAdd, 1e-6, 1e-6)
		checkAdjoint(t, "IndexSelect/IndexAdd", x, sel, g, add)
	}
}

func TestIndexSelectIndexAddPanics(t *testing.T) {
	x := New(2, 3)
	wantPanic(t, func() { IndexSelect(x, 1, []int{0, 3}) }, "tensor.IndexSelect", "index 3", "[2 3]")
	wantPanic(t, func() { IndexSelect(x, 0, []int{-1}) }, "tensor.IndexSelect", "index -1")
	wantPanic(t, func() { IndexSelect(x, 2, nil) }, "tensor.IndexSelect", "axis 2")
	wantPanic(t, func() { IndexAdd(x, 1, []int{0, 1}, 5) }, "tensor.IndexAdd", "2 indices", "[2 3]")
	wantPanic(t, func() { IndexAdd(x, 1, []int{0, 1, 5}, 5) }, "tensor.IndexAdd", "index 5")
	// Bad indices are caught even when there is nothing to copy.
	wantPanic(t, func() { IndexAdd(New(0, 2), 1, []int{0, 7}, 3) }, "tensor.IndexAdd", "index 7", "[0 2]")
}

func randomFlat(r *rand.Rand, k, n int) []int32 {
	idx := make([]int32, k)
	for i := range idx {
		idx[i] = int32(r.IntN(n))
	}
	return idx
}

func TestGatherScatterAdd(t *testing.T) {
	r := newTestRand(15)
	for range 100 {
		in := []int{1 + r.IntN(4), 1 + r.IntN(5)}
		out := []int{r.IntN(4), 1 + r.IntN(4), 2}
		idx := randomFlat(r, numel(out), numel(in))
		x := seededTensor(r, in...)
		gx := Gather(x, idx, out...)
		want := make([]float32, len(idx))
		for i, j := range idx {
			want[i] = x.Data()[j]
		}
		checkExact(t, "Gather", gx, out, want)

		g := seededTensor(r, out...)
		sg := ScatterAdd(g, idx, in...)
		wantAdd := make([]float64, x.Len())
		for i, j := range idx {
			wantAdd[j] += float64(g.Data()[i])
		}
		checkClose(t, "ScatterAdd", sg, in, wantAdd, 1e-6, 1e-6)
		checkAdjoint(t, "Gather/ScatterAdd", x, gx, g, sg)
	}
}

func TestGatherScatterAddPanics(t *testing.T) {
	x := New(2, 3)
	wantPanic(t, func() { Gather(x, []int32{0, 1}, 3) }, "tensor.Gather", "2 indices", "[3]")
	wantPanic(t, func() { Gather(x, []int32{0, 6}, 2) }, "tensor.Gather", "index 6", "[2 3]")
	wantPanic(t, func() { Gather(x, []int32{-1}, 1) }, "tensor.Gather", "index -1")
	wantPanic(t, func() { ScatterAdd(New(3), []int32{0, 1}, 2, 3) }, "tensor.ScatterAdd", "2 indices", "[3]")
	wantPanic(t, func() { ScatterAdd(New(2), []int32{0, 6}, 2, 3) }, "tensor.ScatterAdd", "index 6", "[2 3]")
}

// TestReflectIndex reproduces the examples of torch.nn.ReflectionPad2d's
// documentation (torch 1.13), checked against torch: pads are given there
// as (left, right, top, bottom).
func TestReflectIndex(t *testing.T) {
	x := Reshape(Arange(0, 9, 1), 1, 1, 3, 3)
	for _, c := range []struct {
		top, bottom, left, right int
		shape                    []int
		want                     []float32
	}{
		{2, 2, 2, 2, []int{1, 1, 7, 7}, []float32{
			8, 7, 6, 7, 8, 7, 6,
			5, 4, 3, 4, 5, 4, 3,
			2, 1, 0, 1, 2, 1, 0,
			5, 4, 3, 4, 5, 4, 3,
			8, 7, 6, 7, 8, 7, 6,
			5, 4, 3, 4, 5, 4, 3,
			2, 1, 0, 1, 2, 1, 0,
		}},
		// nn.ReflectionPad2d((1, 1, 2, 0))
		{2, 0, 1, 1, []int{1, 1, 5, 5}, []float32{
			7, 6, 7, 8, 7,
			4, 3, 4, 5, 4,
			1, 0, 1, 2, 1,
			4, 3, 4, 5, 4,
			7, 6, 7, 8, 7,
		}},
		{0, 0, 0, 0, []int{1, 1, 3, 3}, x.Data()},
	} {
		idx, shape := ReflectIndex(x.Shape(), c.top, c.bottom, c.left, c.right)
		checkExact(t, fmt.Sprintf("reflection pad %d,%d,%d,%d", c.top, c.bottom, c.left, c.right), Gather(x, idx, shape...), c.shape, c.want)
	}
	// A rank-3 input with three channels and unequal pads: torch
	// nn.ReflectionPad2d((3, 0, 1, 2))(torch.arange(12.).reshape(1, 3, 4)).
	y := Reshape(Arange(0, 12, 1), 1, 3, 4)
	idx, shape := ReflectIndex(y.Shape(), 1, 2, 3, 0)
	checkExact(t, "reflection pad of [1 3 4]", Gather(y, idx, shape...), []int{1, 6, 7}, []float32{
		7, 6, 5, 4, 5, 6, 7,
		3, 2, 1, 0, 1, 2, 3,
		7, 6, 5, 4, 5, 6, 7,
		11, 10, 9, 8, 9, 10, 11,
		7, 6, 5, 4, 5, 6, 7,
		3, 2, 1, 0, 1, 2, 3,
	})
	// Two images in a batch are padded independently.
	z := Reshape(Arange(0, 8, 1), 2, 1, 2, 2)
	idx, shape = ReflectIndex(z.Shape(), 1, 0, 0, 1)
	checkExact(t, "reflection pad of a batch", Gather(z, idx, shape...), []int{2, 1, 3, 3}, []float32{
		2, 3, 2, 0, 1, 0, 2, 3, 2,
		6, 7, 6, 4, 5, 4, 6, 7, 6,
	})
}

func TestReflectIndexPanics(t *testing.T) {
	for _, c := range []struct {
		shape []int
		pads  [4]int
	}{
		{[]int{1, 3, 3}, [4]int{3, 0, 0, 0}},
		{[]int{1, 3, 3}, [4]int{0, 0, 0, 3}},
		{[]int{1, 3, 3}, [4]int{-1, 0, 0, 0}},
		{[]int{1, 0, 3}, [4]int{0, 0, 0, 0}},
	} {
		wantPanic(t, func() { ReflectIndex(c.shape, c.pads[0], c.pads[1], c.pads[2], c.pads[3]) }, "tensor.ReflectIndex", fmt.Sprint(c.shape))
	}
	wantPanic(t, func() { ReflectIndex([]int{3}, 0, 0, 0, 0) }, "tensor.ReflectIndex", "[3]")
}

// BenchmarkPermute measures NCHW to NHWC and the channel-batch swap of a
// batch of DCGAN 7x7 feature maps, releasing each result.
func BenchmarkPermute(b *testing.B) {
	shape := []int{64, 128, 7, 7}
	for _, perm := range [][]int{{0, 2, 3, 1}, {1, 0, 2, 3}, {0, 1, 3, 2}} {
		b.Run(fmt.Sprintf("%s/%d,%d,%d,%d", shapeName(shape), perm[0], perm[1], perm[2], perm[3]), func(b *testing.B) {
			x := seededTensor(newTestRand(1), shape...)
			Release(Permute(x, perm...))
			b.SetBytes(int64(8 * x.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				Release(Permute(x, perm...))
			}
		})
	}
}

// TestReflectIndexCached: the same shape and pads give the same (shared)
// indices, and another shape with the same plane its own.
func TestReflectIndexCached(t *testing.T) {
	a, _ := ReflectIndex([]int{2, 3, 5, 6}, 1, 2, 3, 0)
	b, _ := ReflectIndex([]int{2, 3, 5, 6}, 1, 2, 3, 0)
	if &a[0] != &b[0] {
		t.Error("the same shape and pads built the indices twice")
	}
	c, shape := ReflectIndex([]int{3, 3, 5, 6}, 1, 2, 3, 0)
	if len(c) != 3*3*8*9 || !slices.Equal(shape, []int{3, 3, 8, 9}) || !slices.Equal(c[:len(a)], a) {
		t.Errorf("3 samples: %d indices, shape %v; want %d, [3 3 8 9], the first two samples' the same", len(c), shape, 3*3*8*9)
	}
}
