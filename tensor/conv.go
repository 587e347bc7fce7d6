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

// geom holds one convolution's sizes: input [C, H, W], kernel [kh, kw],
// output [Ho, Wo].
type geom struct {
	p              ConvParams
	c, h, w        int
	kh, kw, ho, wo int
}

func (g geom) ckk() int { return g.c * g.kh * g.kw }

// im2col unrolls one image x [C, H, W] into cols [C*kh*kw, Ho*Wo].
func im2col(x []float32, g geom, cols []float32) {
	sh, sw := g.p.Stride[0], g.p.Stride[1]
	ph, pw := g.p.Padding[0], g.p.Padding[1]
	dh, dw := g.p.Dilation[0], g.p.Dilation[1]
	hw := g.ho * g.wo
	for c := 0; c < g.c; c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := cols[((c*g.kh+i)*g.kw+j)*hw : ((c*g.kh+i)*g.kw+j+1)*hw]
				for oy := 0; oy < g.ho; oy++ {
					iy := oy*sh - ph + i*dh
					dst := row[oy*g.wo : (oy+1)*g.wo]
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := x[(c*g.h+iy)*g.w : (c*g.h+iy+1)*g.w]
					for ox := range dst {
						ix := ox*sw - pw + j*dw
						if ix < 0 || ix >= g.w {
							dst[ox] = 0
						} else {
							dst[ox] = src[ix]
						}
					}
				}
			}
		}
	}
}

// col2im adds cols [C*kh*kw, Ho*Wo] back into one image x [C, H, W]: the
// transpose of im2col.
func col2im(cols []float32, g geom, x []float32) {
	sh, sw := g.p.Stride[0], g.p.Stride[1]
	ph, pw := g.p.Padding[0], g.p.Padding[1]
	dh, dw := g.p.Dilation[0], g.p.Dilation[1]
	hw := g.ho * g.wo
	for c := 0; c < g.c; c++ {
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := cols[((c*g.kh+i)*g.kw+j)*hw : ((c*g.kh+i)*g.kw+j+1)*hw]
				for oy := 0; oy < g.ho; oy++ {
					iy := oy*sh - ph + i*dh
					if iy < 0 || iy >= g.h {
						continue
					}
					dst := x[(c*g.h+iy)*g.w : (c*g.h+iy+1)*g.w]
					src := row[oy*g.wo : (oy+1)*g.wo]
					for ox, v := range src {
						ix := ox*sw - pw + j*dw
						if ix >= 0 && ix < g.w {
							dst[ix] += v
						}
					}
				}
			}
		}
	}
}

// Conv2d is the 2-D cross-correlation of x [N, C, H, W] with weights
// w [O, C, kh, kw], giving [N, O, Ho, Wo] with Ho = ConvOutSize(H, kh, ...).
// It panics naming the shapes if the channels disagree or the output is empty.
func Conv2d(x, w *Tensor, p ConvParams) *Tensor {
	p = p.norm()
	if x.Dim() != 4 || w.Dim() != 4 || x.shape[1] != w.shape[1] {
		panic(fmt.Sprintf("tensor.Conv2d: input %v and weight %v (want [N,C,H,W] and [O,C,kh,kw])", x.shape, w.shape))
	}
	n, o := x.shape[0], w.shape[0]
	g := geom{p: p, c: x.shape[1], h: x.shape[2], w: x.shape[3], kh: w.shape[2], kw: w.shape[3]}
	g.ho = ConvOutSize(g.h, g.kh, p.Stride[0], p.Padding[0], p.Dilation[0])
	g.wo = ConvOutSize(g.w, g.kw, p.Stride[1], p.Padding[1], p.Dilation[1])
	if g.ho <= 0 || g.wo <= 0 {
		panic(fmt.Sprintf("tensor.Conv2d: input %v and weight %v with %+v give an empty output", x.shape, w.shape, p))
	}
	out := empty(n, o, g.ho, g.wo)
	hw, ckk := g.ho*g.wo, g.ckk()
	cols := allocDirty(ckk * hw)
	defer Release(&Tensor{data: cols})
	for i := 0; i < n; i++ {
		im2col(x.data[i*g.c*g.h*g.w:(i+1)*g.c*g.h*g.w], g, cols)
		blas.Sgemm(false, false, o, hw, ckk, 1, w.data, ckk, cols, hw, 0, out.data[i*o*hw:(i+1)*o*hw], hw)
	}
	return out
}

// ConvTranspose2d is the transpose (adjoint) of Conv2d with respect to its
// input: for y [N, O, Ho, Wo] and w [O, C, kh, kw] it returns [N, C, H, W]
// with the given H and W. It is both the gradient of Conv2d's input and the
// transposed convolution layer (whose PyTorch weight is [in, out, kh, kw],
// this w). H and W must be consistent with Ho, Wo under p.
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
	out := New(n, g.c, h, wd)
	hw, ckk := g.ho*g.wo, g.ckk()
	cols := allocDirty(ckk * hw)
	defer Release(&Tensor{data: cols})
	for i := 0; i < n; i++ {
		blas.Sgemm(true, false, ckk, hw, o, 1, w.data, ckk, y.data[i*o*hw:(i+1)*o*hw], hw, 0, cols, hw)
		col2im(cols, g, out.data[i*g.c*h*wd:(i+1)*g.c*h*wd])
	}
	return out
}

// Conv2dWeightGrad returns the gradient of Conv2d with respect to its
// weight: for input x [N, C, H, W] and output gradient g [N, O, Ho, Wo],
// dw [O, C, kh, kw] = sum over n of g_n @ im2col(x_n)^T.
func Conv2dWeightGrad(x, gy *Tensor, p ConvParams, kh, kw int) *Tensor {
	p = p.norm()
	if x.Dim() != 4 || gy.Dim() != 4 || x.shape[0] != gy.shape[0] {
		panic(fmt.Sprintf("tensor.Conv2dWeightGrad: input %v and output gradient %v", x.shape, gy.shape))
	}
	n, o := x.shape[0], gy.shape[1]
	g := geom{p: p, c: x.shape[1], h: x.shape[2], w: x.shape[3], kh: kh, kw: kw, ho: gy.shape[2], wo: gy.shape[3]}
	if ConvOutSize(g.h, kh, p.Stride[0], p.Padding[0], p.Dilation[0]) != g.ho || ConvOutSize(g.w, kw, p.Stride[1], p.Padding[1], p.Dilation[1]) != g.wo {
		panic(fmt.Sprintf("tensor.Conv2dWeightGrad: input %v, output gradient %v and kernel %dx%d disagree under %+v", x.shape, gy.shape, kh, kw, p))
	}
	out := New(o, g.c, kh, kw)
	hw, ckk := g.ho*g.wo, g.ckk()
	cols := allocDirty(ckk * hw)
	defer Release(&Tensor{data: cols})
	for i := 0; i < n; i++ {
		im2col(x.data[i*g.c*g.h*g.w:(i+1)*g.c*g.h*g.w], g, cols)
		blas.Sgemm(false, true, o, ckk, hw, 1, gy.data[i*o*hw:(i+1)*o*hw], hw, cols, hw, 1, out.data, ckk)
	}
	return out
}
