package tensor

import (
	"fmt"
	"math"
)

// PoolParams are the geometry of a 2-D pooling window, like the arguments of
// torch.nn.functional.avg_pool2d and max_pool2d (ceil_mode=False). Index 0
// is height, 1 is width. Zero Stride entries mean the kernel size, as in
// PyTorch. Each padding must be at most half its kernel size.
type PoolParams struct {
	Kernel  [2]int
	Stride  [2]int
	Padding [2]int
}

// norm fills in the default stride.
func (p PoolParams) norm() PoolParams {
	for i := range 2 {
		if p.Stride[i] == 0 {
			p.Stride[i] = p.Kernel[i]
		}
	}
	return p
}

// PoolOutSize returns the pooled size along one dimension:
// floor((in + 2*pad - k) / stride) + 1. A zero stride means k.
func PoolOutSize(in, k, stride, pad int) int {
	if stride == 0 {
		stride = k
	}
	if stride <= 0 {
		return 0
	}
	return (in+2*pad-k)/stride + 1
}

// poolGeom holds one pooling's sizes: planes (N*C), input H x W, output
// Ho x Wo.
type poolGeom struct {
	p            PoolParams
	planes, h, w int
	ho, wo       int
}

// poolGeometry checks x [N, C, H, W] against p and returns the sizes,
// panicking with op's name on misuse.
func poolGeometry(op string, shape []int, p PoolParams) poolGeom {
	p = p.norm()
	bad := len(shape) != 4
	for i := range 2 {
		bad = bad || p.Kernel[i] <= 0 || p.Stride[i] <= 0 || p.Padding[i] < 0 || 2*p.Padding[i] > p.Kernel[i]
	}
	if bad {
		panic(fmt.Sprintf("tensor.%s: input %v with %+v (want [N,C,H,W], kernel > 0, stride > 0, 0 <= pad <= kernel/2)", op, shape, p))
	}
	g := poolGeom{p: p, planes: shape[0] * shape[1], h: shape[2], w: shape[3]}
	g.ho = PoolOutSize(g.h, p.Kernel[0], p.Stride[0], p.Padding[0])
	g.wo = PoolOutSize(g.w, p.Kernel[1], p.Stride[1], p.Padding[1])
	if g.h+2*p.Padding[0] < p.Kernel[0] || g.w+2*p.Padding[1] < p.Kernel[1] || g.ho <= 0 || g.wo <= 0 {
		panic(fmt.Sprintf("tensor.%s: input %v with %+v gives an empty output", op, shape, p))
	}
	return g
}

// window returns the in-bounds input range [lo, hi) that output position o
// covers along one dimension.
func window(o, k, stride, pad, in int) (int, int) {
	lo := o*stride - pad
	return max(lo, 0), min(lo+k, in)
}

// AvgPool2d averages each kh x kw window of x [N, C, H, W], giving
// [N, C, Ho, Wo] with Ho = PoolOutSize(H, kh, stride, pad). Padding counts as
// zeros in the average (torch's count_include_pad=True), so every output is
// the window's sum divided by kh*kw and the map is linear. It panics naming
// the shapes on a non-4-D input, a bad window or an empty output.
func AvgPool2d(x *Tensor, p PoolParams) *Tensor {
	g := poolGeometry("AvgPool2d", x.shape, p)
	p = g.p
	out := empty(x.shape[0], x.shape[1], g.ho, g.wo)
	inv := 1 / float32(p.Kernel[0]*p.Kernel[1])
	for c := 0; c < g.planes; c++ {
		src := x.data[c*g.h*g.w : (c+1)*g.h*g.w]
		dst := out.data[c*g.ho*g.wo : (c+1)*g.ho*g.wo]
		for oy := 0; oy < g.ho; oy++ {
			y0, y1 := window(oy, p.Kernel[0], p.Stride[0], p.Padding[0], g.h)
			for ox := 0; ox < g.wo; ox++ {
				x0, x1 := window(ox, p.Kernel[1], p.Stride[1], p.Padding[1], g.w)
				var s float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range src[iy*g.w+x0 : iy*g.w+x1] {
						s += v
					}
				}
				dst[oy*g.wo+ox] = s * inv
			}
		}
	}
	return out
}

// AvgPool2dTranspose is the transpose (adjoint) of AvgPool2d: for
// y [N, C, Ho, Wo] it returns [N, C, H, W] where every input position gets
// y/(kh*kw) summed over the windows that cover it. It is AvgPool2d's input
// gradient. H and W must give Ho x Wo under p; it panics otherwise.
func AvgPool2dTranspose(y *Tensor, p PoolParams, h, w int) *Tensor {
	if y.Dim() != 4 {
		panic(fmt.Sprintf("tensor.AvgPool2dTranspose: input %v is not [N,C,Ho,Wo]", y.shape))
	}
	g := poolGeometry("AvgPool2dTranspose", []int{y.shape[0], y.shape[1], h, w}, p)
	p = g.p
	if g.ho != y.shape[2] || g.wo != y.shape[3] {
		panic(fmt.Sprintf("tensor.AvgPool2dTranspose: input %v does not pool from %dx%d under %+v", y.shape, h, w, p))
	}
	out := New(y.shape[0], y.shape[1], h, w)
	inv := 1 / float32(p.Kernel[0]*p.Kernel[1])
	for c := 0; c < g.planes; c++ {
		src := y.data[c*g.ho*g.wo : (c+1)*g.ho*g.wo]
		dst := out.data[c*h*w : (c+1)*h*w]
		for oy := 0; oy < g.ho; oy++ {
			y0, y1 := window(oy, p.Kernel[0], p.Stride[0], p.Padding[0], h)
			for ox := 0; ox < g.wo; ox++ {
				x0, x1 := window(ox, p.Kernel[1], p.Stride[1], p.Padding[1], w)
				v := src[oy*g.wo+ox] * inv
				for iy := y0; iy < y1; iy++ {
					row := dst[iy*w+x0 : iy*w+x1]
					for i := range row {
						row[i] += v
					}
				}
			}
		}
	}
	return out
}

// MaxPool2d takes the maximum of each kh x kw window of x [N, C, H, W],
// giving [N, C, Ho, Wo] with Ho = PoolOutSize(H, kh, stride, pad), and the
// flat index into x of each output's maximum (for Gather/ScatterAdd).
// Padding acts as -Inf, like torch.nn.functional.max_pool2d. Ties go to the
// first maximum in row-major window order and a NaN propagates, as in
// PyTorch. It
// panics naming the shapes on a non-4-D input, a bad window or an empty
// output.
func MaxPool2d(x *Tensor, p PoolParams) (*Tensor, []int32) {
	g := poolGeometry("MaxPool2d", x.shape, p)
	p = g.p
	if x.Len() > math.MaxInt32 {
		panic(fmt.Sprintf("tensor.MaxPool2d: input %v too large for int32 indices", x.shape))
	}
	out := empty(x.shape[0], x.shape[1], g.ho, g.wo)
	idx := make([]int32, out.Len())
	for c := 0; c < g.planes; c++ {
		base := c * g.h * g.w
		src := x.data[base : base+g.h*g.w]
		dst := out.data[c*g.ho*g.wo : (c+1)*g.ho*g.wo]
		di := idx[c*g.ho*g.wo : (c+1)*g.ho*g.wo]
		for oy := 0; oy < g.ho; oy++ {
			y0, y1 := window(oy, p.Kernel[0], p.Stride[0], p.Padding[0], g.h)
			for ox := 0; ox < g.wo; ox++ {
				x0, x1 := window(ox, p.Kernel[1], p.Stride[1], p.Padding[1], g.w)
				best, at := float32(math.Inf(-1)), y0*g.w+x0
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						v := src[iy*g.w+ix]
						if v > best || v != v {
							best, at = v, iy*g.w+ix
						}
					}
				}
				dst[oy*g.wo+ox] = best
				di[oy*g.wo+ox] = int32(base + at)
			}
		}
	}
	return out, idx
}
