package tensor

import "fmt"

// UpsampleNearest repeats every pixel of x [N, C, H, W] into a scale x scale
// block, giving [N, C, H*scale, W*scale]:
// out[n, c, y, x] = x[n, c, y/scale, x/scale], like
// torch.nn.functional.interpolate(mode="nearest", scale_factor=scale). It
// panics naming the shape if x is not 4-D or scale < 1.
func UpsampleNearest(x *Tensor, scale int) *Tensor {
	if x.Dim() != 4 || scale < 1 {
		panic(fmt.Sprintf("tensor.UpsampleNearest: input %v with scale %d (want [N,C,H,W] and scale >= 1)", x.shape, scale))
	}
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	ho, wo := h*scale, w*scale
	out := empty(n, c, ho, wo)
	for p := 0; p < n*c; p++ {
		src := x.data[p*h*w : (p+1)*h*w]
		dst := out.data[p*ho*wo : (p+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			row := src[(oy/scale)*w : (oy/scale+1)*w]
			d := dst[oy*wo : (oy+1)*wo]
			for ox := range d {
				d[ox] = row[ox/scale]
			}
		}
	}
	return out
}

// UpsampleNearestTranspose is the transpose (adjoint) of UpsampleNearest:
// for y [N, C, H*scale, W*scale] it sums each scale x scale block, giving
// [N, C, H, W]. It is UpsampleNearest's input gradient. It panics naming the
// shape if y is not 4-D or its size is not a multiple of scale.
func UpsampleNearestTranspose(y *Tensor, scale int) *Tensor {
	if y.Dim() != 4 || scale < 1 || y.shape[2]%scale != 0 || y.shape[3]%scale != 0 {
		panic(fmt.Sprintf("tensor.UpsampleNearestTranspose: input %v with scale %d (want [N,C,H*scale,W*scale])", y.shape, scale))
	}
	n, c, ho, wo := y.shape[0], y.shape[1], y.shape[2], y.shape[3]
	h, w := ho/scale, wo/scale
	out := New(n, c, h, w)
	for p := 0; p < n*c; p++ {
		src := y.data[p*ho*wo : (p+1)*ho*wo]
		dst := out.data[p*h*w : (p+1)*h*w]
		for oy := 0; oy < ho; oy++ {
			row := dst[(oy/scale)*w : (oy/scale+1)*w]
			for ox, v := range src[oy*wo : (oy+1)*wo] {
				row[ox/scale] += v
			}
		}
	}
	return out
}

// lerpTable holds, for each output position along one axis, the two input
// positions and their weights of a bilinear resize.
type lerpTable struct {
	i0, i1 []int
	l0, l1 []float32
}

// bilinearTable maps out output positions onto in input positions with
// PyTorch's align_corners=False rule: src = (dst + 0.5) * in/out - 0.5,
// clamped at 0; i0 = floor(src), i1 = min(i0+1, in-1), l1 = src - i0.
func bilinearTable(in, out int) lerpTable {
	t := lerpTable{i0: make([]int, out), i1: make([]int, out), l0: make([]float32, out), l1: make([]float32, out)}
	scale := float32(in) / float32(out)
	for d := 0; d < out; d++ {
		src := max((float32(d)+0.5)*scale-0.5, 0)
		i0 := min(int(src), in-1)
		t.i0[d] = i0
		t.i1[d] = min(i0+1, in-1)
		t.l1[d] = src - float32(i0)
		t.l0[d] = 1 - t.l1[d]
	}
	return t
}

// UpsampleBilinear resizes x [N, C, H, W] to [N, C, ho, wo] by bilinear
// interpolation with align_corners=False, like
// torch.nn.functional.interpolate(mode="bilinear", size=(ho, wo)): output
// pixel (y, x) samples input position ((y+0.5)*H/ho - 0.5, (x+0.5)*W/wo -
// 0.5), clamped at the border. It also shrinks (without antialiasing). It
// panics naming the shape if x is not 4-D or a size is not positive.
func UpsampleBilinear(x *Tensor, ho, wo int) *Tensor {
	if x.Dim() != 4 || ho < 1 || wo < 1 || x.shape[2] < 1 || x.shape[3] < 1 {
		panic(fmt.Sprintf("tensor.UpsampleBilinear: input %v to %dx%d (want [N,C,H,W] and positive sizes)", x.shape, ho, wo))
	}
	n, c, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	ty, tx := bilinearTable(h, ho), bilinearTable(w, wo)
	out := empty(n, c, ho, wo)
	for p := 0; p < n*c; p++ {
		src := x.data[p*h*w : (p+1)*h*w]
		dst := out.data[p*ho*wo : (p+1)*ho*wo]
		for oy := 0; oy < ho; oy++ {
			r0 := src[ty.i0[oy]*w : (ty.i0[oy]+1)*w]
			r1 := src[ty.i1[oy]*w : (ty.i1[oy]+1)*w]
			a, b := ty.l0[oy], ty.l1[oy]
			d := dst[oy*wo : (oy+1)*wo]
			for ox := range d {
				j0, j1 := tx.i0[ox], tx.i1[ox]
				d[ox] = a*(tx.l0[ox]*r0[j0]+tx.l1[ox]*r0[j1]) + b*(tx.l0[ox]*r1[j0]+tx.l1[ox]*r1[j1])
			}
		}
	}
	return out
}

// UpsampleBilinearTranspose is the transpose (adjoint) of UpsampleBilinear:
// for y [N, C, ho, wo] it returns [N, C, h, w] where each y value is spread
// onto the four input pixels it was interpolated from, with the same
// weights. It is UpsampleBilinear's input gradient. It panics naming the
// shape if y is not 4-D or a size is not positive.
func UpsampleBilinearTranspose(y *Tensor, h, w int) *Tensor {
	if y.Dim() != 4 || h < 1 || w < 1 || y.shape[2] < 1 || y.shape[3] < 1 {
		panic(fmt.Sprintf("tensor.UpsampleBilinearTranspose: input %v to %dx%d (want [N,C,ho,wo] and positive sizes)", y.shape, h, w))
	}
	n, c, ho, wo := y.shape[0], y.shape[1], y.shape[2], y.shape[3]
	ty, tx := bilinearTable(h, ho), bilinearTable(w, wo)
	out := New(n, c, h, w)
	for p := 0; p < n*c; p++ {
		src := y.data[p*ho*wo : (p+1)*ho*wo]
		dst := out.data[p*h*w : (p+1)*h*w]
		for oy := 0; oy < ho; oy++ {
			r0 := dst[ty.i0[oy]*w : (ty.i0[oy]+1)*w]
			r1 := dst[ty.i1[oy]*w : (ty.i1[oy]+1)*w]
			a, b := ty.l0[oy], ty.l1[oy]
			for ox, v := range src[oy*wo : (oy+1)*wo] {
				j0, j1 := tx.i0[ox], tx.i1[ox]
				va, vb := a*v, b*v
				r0[j0] += tx.l0[ox] * va
				r0[j1] += tx.l1[ox] * va
				r1[j0] += tx.l0[ox] * vb
				r1[j1] += tx.l1[ox] * vb
			}
		}
	}
	return out
}
