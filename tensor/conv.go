package tensor

import (
	"fmt"

	"github.com/kallima-gan/kallima/internal/blas"
)

// ConvParams are the geometry of a 2-D convolution. Zero Stride or Dilation
// entries mean 1. Index 0 is height, 1 is width.
type ConvParams struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
}

// norm fills in the defaults.
func (p ConvParams) norm() ConvParams {
	for i := 0; i < 2; i++ {
		if p.Stride[i] == 0 {
			p.Stride[i] = 1
		}
		if p.Dilation[i] == 0 {
			p.Dilation[i] = 1
		}
	}
	return p
}

// ConvOutSize returns the output size of a convolution along one dimension:
// floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1.
func ConvOutSize(in, k, stride, pad, dil int) int {
	if stride == 0 {
		stride = 1
	}
	if dil == 0 {
		dil = 1
	}
	return (in+2*pad-dil*(k-1)-1)/stride + 1
}

// Conv2d is the 2-D cross-correlation of x [N, C, H, W] with weights
// w [O, C, kh, kw], giving [N, O, Ho, Wo] with Ho = ConvOutSize(H, kh, ...):
// out[n, o, y, x] = sum over c, i, j of
// w[o, c, i, j] * x[n, c, y*sh - ph + i*dh, x*sw - pw + j*dw] (zero outside).
// It panics naming the shapes if the channels disagree or the output is empty.
func Conv2d(x, w *Tensor, p ConvParams) *Tensor {
	if x.Dim() != 4 || w.Dim() != 4 || x.shape[1] != w.shape[1] {
		panic(fmt.Sprintf("tensor.Conv2d: input %v and weight %v (want [N,C,H,W] and [O,C,kh,kw])", x.shape, w.shape))
	}
	c := newCols("Conv2d", x, w.shape[2], w.shape[3], p, false)
	return c.conv2d("Conv2d", w)
}

// Cols is the im2col unrolling of a batch x [N, C, H, W] for one
// convolution geometry (kernel size and ConvParams), made once and used by
// Conv2d and Conv2dWeightGrad of that x: a forward pass that keeps it
// serves the weight gradient without unrolling x again (the unrolled matrix
// of a 64x64x14x14 batch for a 4x4 kernel is 12.8 MB and takes about as
// long to build as a third of the GEMM). It holds x, which must not change
// while the Cols is in use. Geometries that run one sample at a time (few
// channels times taps) and batches too large for one unrolled chunk keep
// only x and unroll as they go.
type Cols struct {
	x    *Tensor
	g    geom
	data []float32 // [C*kh*kw, N*Ho*Wo], or nil (see above)
}

// Im2col returns the Cols of x [N, C, H, W] for a kh x kw kernel under p.
// Its buffer comes from the pool (and the innermost open Arena, which
// frees it); Release returns it earlier. It panics naming the shapes if x
// is not 4-D or the output would be empty.
func Im2col(x *Tensor, kh, kw int, p ConvParams) *Cols {
	return newCols("Im2col", x, kh, kw, p, true)
}

// newCols checks the geometry (panicking with op's name) and, if unroll,
// unrolls x when the geometry is batched and fits one chunk.
func newCols(op string, x *Tensor, kh, kw int, p ConvParams, unroll bool) *Cols {
	p = p.norm()
	if x.Dim() != 4 || kh <= 0 || kw <= 0 {
		panic(fmt.Sprintf("tensor.%s: input %v with a %dx%d kernel (want [N,C,H,W] and a positive kernel)", op, x.shape, kh, kw))
	}
	g := geom{p: p, c: x.shape[1], h: x.shape[2], w: x.shape[3], kh: kh, kw: kw}
	g.ho = ConvOutSize(g.h, kh, p.Stride[0], p.Padding[0], p.Dilation[0])
	g.wo = ConvOutSize(g.w, kw, p.Stride[1], p.Padding[1], p.Dilation[1])
	if g.ho <= 0 || g.wo <= 0 {
		panic(fmt.Sprintf("tensor.%s: input %v and a %dx%d kernel with %+v give an empty output", op, x.shape, kh, kw, p))
	}
	c := &Cols{x: x, g: g}
	n, hw := x.shape[0], g.ho*g.wo
	if unroll && n > 0 && !g.perSample() && g.chunk(n) >= n {
		c.data = scratch(g.ckk() * n * hw)
		im2col(x.data, g, 0, n, c.data, n*hw)
	}
	return c
}

// Release gives the unrolled matrix back to the pool; c must not be used
// afterwards.
func (c *Cols) Release() {
	if c.data != nil {
		release(c.data)
		c.data = nil
	}
	c.x = nil
}

// Conv2d returns Conv2d(x, w, p) for c's x and p. It panics naming the
// shapes if w is not [O, C, kh, kw] for c's geometry.
func (c *Cols) Conv2d(w *Tensor) *Tensor { return c.conv2d("Cols.Conv2d", w) }

func (c *Cols) conv2d(op string, w *Tensor) *Tensor {
	g, x := c.g, c.x
	if w.Dim() != 4 || w.shape[1] != g.c || w.shape[2] != g.kh || w.shape[3] != g.kw {
		panic(fmt.Sprintf("tensor.%s: weight %v for input %v and a %dx%d kernel", op, w.shape, x.shape, g.kh, g.kw))
	}
	n, o := x.shape[0], w.shape[0]
	out := empty(n, o, g.ho, g.wo)
	hw, ckk, sn := g.ho*g.wo, g.ckk(), g.chunk(n)
	switch {
	case n == 0:
	case g.perSample():
		parallelFor(n, o*hw*ckk, func(lo, hi int) {
			cols := scratch(ckk * hw)
			for s := lo; s < hi; s++ {
				im2col(x.data, g, s, s+1, cols, hw)
				blas.Sgemm(false, false, o, hw, ckk, 1, w.data, ckk, cols, hw, 0, out.data[s*o*hw:(s+1)*o*hw], hw)
			}
			release(cols)
		})
	default:
		cols := c.data
		if cols == nil {
			cols = scratch(ckk * sn * hw)
		}
		yt := scratch(o * sn * hw)
		for s0 := 0; s0 < n; s0 += sn {
			s1 := min(s0+sn, n)
			ld := (s1 - s0) * hw
			if c.data == nil {
				im2col(x.data, g, s0, s1, cols, ld)
			}
			blas.Sgemm(false, false, o, ld, ckk, 1, w.data, ckk, cols, ld, 0, yt, ld)
			fromGEMM(yt, o, hw, s0, s1, out.data)
		}
		if c.data == nil {
			release(cols)
		}
		release(yt)
	}
	return out
}

// ConvTranspose2d is the transpose (adjoint) of Conv2d with respect to its
// input: for y [N, O, Ho, Wo] and w [O, C, kh, kw] it returns [N, C, H, W]
// with the given H and W. It is both the gradient of Conv2d's input and the
// transposed convolution layer (whose PyTorch weight is [in, out, kh, kw],
// this w). It panics naming the shapes if H and W are not consistent with
// Ho and Wo under p.
func ConvTranspose2d(y, w *Tensor, p ConvParams, h, wd int) *Tensor {
	p = p.norm()
	if y.Dim() != 4 || w.Dim() != 4 || y.shape[1] != w.shape[0] {
		panic(fmt.Sprintf("tensor.ConvTranspose2d: input %v and weight %v (want [N,O,Ho,Wo] and [O,C,kh,kw])", y.shape, w.shape))
	}
	n, o := y.shape[0], w.shape[0]
	g := geom{p: p, c: w.shape[1], h: h, w: wd, kh: w.shape[2], kw: w.shape[3], ho: y.shape[2], wo: y.shape[3]}
	if ConvOutSize(h, g.kh, p.Stride[0], p.Padding[0], p.Dilation[0]) != g.ho || ConvOutSize(wd, g.kw, p.Stride[1], p.Padding[1], p.Dilation[1]) != g.wo {
		panic(fmt.Sprintf("tensor.ConvTranspose2d: output %dx%d does not match input %v with weight %v and %+v", h, wd, y.shape, w.shape, p))
	}
	out := empty(n, g.c, h, wd)
	hw, ckk, sn := g.ho*g.wo, g.ckk(), g.chunk(n)
	if g.perSample() {
		parallelFor(n, o*hw*ckk, func(lo, hi int) {
			cols := scratch(ckk * (hw + 1))
			for s := lo; s < hi; s++ {
				blas.Sgemm(true, false, ckk, hw, o, 1, w.data, ckk, y.data[s*o*hw:(s+1)*o*hw], hw, 0, cols, hw+1)
				col2im(cols, hw+1, g, s, s+1, out.data)
			}
			release(cols)
		})
		return out
	}
	cols := scratch(ckk * (sn*hw + 1)) // col2im wants a spare float per row
	yt := scratch(o * sn * hw)
	for s0 := 0; s0 < n; s0 += sn {
		s1 := min(s0+sn, n)
		m := (s1 - s0) * hw
		toGEMM(y.data, o, hw, s0, s1, yt)
		blas.Sgemm(true, false, ckk, m, o, 1, w.data, ckk, yt, m, 0, cols, m+1)
		col2im(cols, m+1, g, s0, s1, out.data)
	}
	release(cols)
	release(yt)
	return out
}

// Conv2dWeightGrad returns the gradient of Conv2d with respect to its
// weight: for input x [N, C, H, W] and output gradient gy [N, O, Ho, Wo],
// dw [O, C, kh, kw] = sum over n of gy_n @ im2col(x_n)^T. It panics naming
// the shapes if they disagree under p.
func Conv2dWeightGrad(x, gy *Tensor, p ConvParams, kh, kw int) *Tensor {
	if x.Dim() != 4 || gy.Dim() != 4 || x.shape[0] != gy.shape[0] {
		panic(fmt.Sprintf("tensor.Conv2dWeightGrad: input %v and output gradient %v", x.shape, gy.shape))
	}
	c := newCols("Conv2dWeightGrad", x, kh, kw, p, false)
	return c.weightGrad("Conv2dWeightGrad", gy)
}

// WeightGrad returns Conv2dWeightGrad(x, gy, p, kh, kw) for c's x and
// geometry. It panics naming the shapes if gy is not [N, O, Ho, Wo] for
// c's geometry.
func (c *Cols) WeightGrad(gy *Tensor) *Tensor { return c.weightGrad("Cols.WeightGrad", gy) }

func (c *Cols) weightGrad(op string, gy *Tensor) *Tensor {
	g, x := c.g, c.x
	if gy.Dim() != 4 || gy.shape[0] != x.shape[0] || gy.shape[2] != g.ho || gy.shape[3] != g.wo {
		panic(fmt.Sprintf("tensor.%s: input %v, output gradient %v and kernel %dx%d disagree under %+v", op, x.shape, gy.shape, g.kh, g.kw, g.p))
	}
	n, o := x.shape[0], gy.shape[1]
	hw, ckk, sn := g.ho*g.wo, g.ckk(), g.chunk(n)
	if g.perSample() && n > 0 {
		// Partial sums over fixed blocks of samples, added in block order.
		blocks := min(n, weightGradBlocks)
		parts := make([]*Tensor, blocks)
		parallelFor(blocks, n/blocks*o*hw*ckk, func(lo, hi int) {
			cols := scratch(ckk * hw)
			for b := lo; b < hi; b++ {
				part := New(o, g.c, g.kh, g.kw)
				for s := b * n / blocks; s < (b+1)*n/blocks; s++ {
					im2col(x.data, g, s, s+1, cols, hw)
					blas.Sgemm(false, true, o, ckk, hw, 1, gy.data[s*o*hw:(s+1)*o*hw], hw, cols, hw, 1, part.data, ckk)
				}
				parts[b] = part
			}
			release(cols)
		})
		out := parts[0]
		for _, part := range parts[1:] {
			AddInPlace(out, part)
			Release(part)
		}
		return out
	}
	out := New(o, g.c, g.kh, g.kw)
	if n == 0 {
		return out
	}
	cols := c.data
	if cols == nil {
		cols = scratch(ckk * sn * hw)
	}
	yt := scratch(o * sn * hw)
	for s0 := 0; s0 < n; s0 += sn {
		s1 := min(s0+sn, n)
		ld := (s1 - s0) * hw
		if c.data == nil {
			im2col(x.data, g, s0, s1, cols, ld)
		}
		toGEMM(gy.data, o, hw, s0, s1, yt)
		blas.Sgemm(false, true, o, ckk, ld, 1, yt, ld, cols, ld, 1, out.data, ckk)
	}
	if c.data == nil {
		release(cols)
	}
	release(yt)
	return out
}
