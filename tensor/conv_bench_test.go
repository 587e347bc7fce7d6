package tensor

import (
	"fmt"
	"testing"
)

// The convolution geometries of the dcgan and wgangp workloads
// (../shared/bench/WORKLOAD.md, batch 64): D's two convolutions. G's
// transposed convolutions are the same maps run backwards: G's first
// ConvTranspose2d (128x7x7 -> 64x14x14) is ConvTranspose2d at D's second
// geometry, and G's second (64x14x14 -> 1x28x28) is ConvTranspose2d at D's
// first.
var benchConvs = []convCase{
	{n: 64, c: 1, h: 28, w: 28, o: 64, kh: 4, kw: 4, p: ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{n: 64, c: 64, h: 14, w: 14, o: 128, kh: 4, kw: 4, p: ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
}

func (cc convCase) benchName() string {
	return fmt.Sprintf("%dx%dx%dx%d_w%dx%dx%dx%d_s%dp%d", cc.n, cc.c, cc.h, cc.w, cc.o, cc.c, cc.kh, cc.kw, cc.p.Stride[0], cc.p.Padding[0])
}

// flops is 2 * multiply-adds of one of the three convolution maps.
func (cc convCase) flops() float64 {
	p := cc.p.norm()
	ho := ConvOutSize(cc.h, cc.kh, p.Stride[0], p.Padding[0], p.Dilation[0])
	wo := ConvOutSize(cc.w, cc.kw, p.Stride[1], p.Padding[1], p.Dilation[1])
	return 2 * float64(cc.n*cc.o*ho*wo*cc.c*cc.kh*cc.kw)
}

// benchConv times f (which returns the tensors it made, released after each
// call so the pool serves the next) and reports GFLOP/s for k maps per call.
func benchConv(b *testing.B, k int, f func(x, w, y *Tensor, cc convCase) []*Tensor) {
	for _, cc := range benchConvs {
		b.Run(cc.benchName(), func(b *testing.B) {
			rng := NewRNG(1)
			x := rng.Normal(0, 1, cc.n, cc.c, cc.h, cc.w)
			w := rng.Normal(0, 0.1, cc.o, cc.c, cc.kh, cc.kw)
			y := Conv2d(x, w, cc.p)
			for _, t := range f(x, w, y, cc) { // warm the pool
				Release(t)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, t := range f(x, w, y, cc) {
					Release(t)
				}
			}
			b.ReportMetric(float64(k)*cc.flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkConv2d(b *testing.B) {
	benchConv(b, 1, func(x, w, _ *Tensor, cc convCase) []*Tensor { return []*Tensor{Conv2d(x, w, cc.p)} })
}

func BenchmarkConvTranspose2d(b *testing.B) {
	benchConv(b, 1, func(_, w, y *Tensor, cc convCase) []*Tensor {
		return []*Tensor{ConvTranspose2d(y, w, cc.p, cc.h, cc.w)}
	})
}

func BenchmarkConv2dWeightGrad(b *testing.B) {
	benchConv(b, 1, func(x, _, y *Tensor, cc convCase) []*Tensor {
		return []*Tensor{Conv2dWeightGrad(x, y, cc.p, cc.kh, cc.kw)}
	})
}

// BenchmarkConv2dBackward is Conv2d's backward: the input gradient
// (ConvTranspose2d of the output gradient) and the weight gradient.
func BenchmarkConv2dBackward(b *testing.B) {
	benchConv(b, 2, func(x, w, y *Tensor, cc convCase) []*Tensor {
		return []*Tensor{ConvTranspose2d(y, w, cc.p, cc.h, cc.w), Conv2dWeightGrad(x, y, cc.p, cc.kh, cc.kw)}
	})
}

// BenchmarkConvTranspose2dBackward is ConvTranspose2d's backward (for the
// layer y -> x of G): the input gradient Conv2d(gx, w) and the weight
// gradient Conv2dWeightGrad(gx, y).
func BenchmarkConvTranspose2dBackward(b *testing.B) {
	benchConv(b, 2, func(x, w, y *Tensor, cc convCase) []*Tensor {
		return []*Tensor{Conv2d(x, w, cc.p), Conv2dWeightGrad(x, y, cc.p, cc.kh, cc.kw)}
	})
}

// BenchmarkCol2im times col2im alone at the workloads' geometries: the
// sums that end ConvTranspose2d (G's layers) and Conv2d's input gradient.
func BenchmarkCol2im(b *testing.B) {
	for _, cc := range benchConvs {
		g := cc.geom()
		ld := cc.n * g.ho * g.wo
		cols := NewRNG(1).Normal(0, 1, g.ckk(), ld+1)
		x := New(cc.n, cc.c, cc.h, cc.w)
		b.Run(cc.benchName(), func(b *testing.B) {
			b.SetBytes(int64(4 * (len(cols.data) + len(x.data))))
			for i := 0; i < b.N; i++ {
				col2im(cols.data, ld+1, g, 0, cc.n, x.data)
			}
		})
	}
}
