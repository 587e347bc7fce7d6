package autograd

import "github.com/kallima-gan/kallima/tensor"

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
