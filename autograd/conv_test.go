package autograd

import (
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func init() {
	p := tensor.ConvParams{Stride: [2]int{2, 1}, Padding: [2]int{1, 0}, Dilation: [2]int{1, 2}}
	q := tensor.ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}
	addCases(
		gradCase{op: "conv2d", shapes: [][]int{{2, 3, 5, 6}, {4, 3, 3, 2}}, f: func(x []*Value) *Value { return Square(Conv2d(x[0], x[1], p)) }},
		gradCase{op: "conv2d", shapes: [][]int{{1, 2, 4, 4}, {3, 2, 1, 1}}, f: func(x []*Value) *Value { return Square(Conv2d(x[0], x[1], tensor.ConvParams{})) }},
		gradCase{op: "conv_transpose2d", shapes: [][]int{{2, 3, 3, 3}, {3, 2, 4, 4}}, f: func(x []*Value) *Value {
			return Square(ConvTranspose2d(x[0], x[1], q, [2]int{0, 0}))
		}},
		gradCase{op: "conv_transpose2d", shapes: [][]int{{1, 2, 3, 2}, {2, 3, 3, 3}}, f: func(x []*Value) *Value {
			return Square(ConvTranspose2d(x[0], x[1], q, [2]int{1, 0}))
		}},
		// C*kh*kw = 72 >= 64 takes the batched (one GEMM) path; a batch
		// of 10 there, and on the per-sample path (C*kh*kw = 18), where
		// the weight gradient sums 8 blocks of uneven size.
		gradCase{op: "conv2d", shapes: [][]int{{10, 8, 4, 4}, {3, 8, 3, 3}}, f: func(x []*Value) *Value {
			return Square(Conv2d(x[0], x[1], tensor.ConvParams{Padding: [2]int{1, 1}}))
		}},
		gradCase{op: "conv2d", shapes: [][]int{{10, 2, 4, 4}, {3, 2, 3, 3}}, f: func(x []*Value) *Value {
			return Square(Conv2d(x[0], x[1], tensor.ConvParams{Padding: [2]int{1, 1}}))
		}},
		gradCase{op: "conv2d_weight_grad", shapes: [][]int{{2, 3, 5, 6}, {2, 4, 3, 4}}, f: func(x []*Value) *Value {
			return Square(conv2dWeightGrad(x[0], x[1], p, 3, 2))
		}},
	)
}

// TestConv2dKeptColsWeightGrad: the weight gradient Conv2d's backward
// computes from the forward pass's kept im2col matrix is, bit for bit,
// tensor.Conv2dWeightGrad's, on the batched path (C*kh*kw = 72) and the
// per-sample one (18, which keeps no matrix).
func TestConv2dKeptColsWeightGrad(t *testing.T) {
	rng := tensor.NewRNG(5)
	p := tensor.ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}
	for _, c := range []int{8, 2} {
		x, w := rng.Normal(0, 1, 6, c, 7, 7), rng.Normal(0, 1, 5, c, 3, 3)
		gy := rng.Normal(0, 1, 6, 5, 4, 4)
		wv := Param(w)
		out := Conv2d(Const(x), wv, p)
		// Another convolution of the same geometry in between would take
		// the kept matrix's buffer if it had gone back to the pool.
		Conv2d(Const(rng.Normal(0, 1, 6, c, 7, 7)), Param(w), p)
		gs := Grad([]*Value{Sum(Mul(out, Const(gy)), nil, false)}, []*Value{wv}, nil, false)
		want := tensor.Conv2dWeightGrad(x, gy, p, 3, 3)
		if !slices.Equal(gs[0].Data().Data(), want.Data()) {
			t.Errorf("C=%d: the backward's weight gradient differs from tensor.Conv2dWeightGrad", c)
		}
	}
}
