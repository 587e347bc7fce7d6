package autograd

import "github.com/kallima-gan/kallima/tensor"

var (
	opAvgPool2d          = register("avg_pool2d")
	opAvgPool2dTranspose = register("avg_pool2d_transpose")
	opMaxPool2d          = register("max_pool2d")
)

// AvgPool2d averages each window of x [N, C, H, W], giving [N, C, Ho, Wo]
// with Ho = tensor.PoolOutSize(H, kh, stride, pad), like
// torch.nn.functional.avg_pool2d (count_include_pad=True, ceil_mode=False).
// The map is linear: its gradient is avgPool2dTranspose of g, whose own
// gradient is AvgPool2d again, so every order of derivative is available.
// It panics naming the shapes on a non-4-D input or a bad window.
func AvgPool2d(x *Value, p tensor.PoolParams) *Value {
	out := tensor.AvgPool2d(x.data, p) // checks the shapes
	h, w := x.Shape()[2], x.Shape()[3]
	return record(opAvgPool2d, out, []*Value{x}, func(g *Value) []*Value {
		return []*Value{avgPool2dTranspose(g, p, h, w)}
	})
}

// avgPool2dTranspose is AvgPool2d's adjoint, from [N, C, Ho, Wo] back to
// [N, C, h, w]; its gradient is AvgPool2d.
func avgPool2dTranspose(y *Value, p tensor.PoolParams, h, w int) *Value {
	return record(opAvgPool2dTranspose, tensor.AvgPool2dTranspose(y.data, p, h, w), []*Value{y}, func(g *Value) []*Value {
		return []*Value{AvgPool2d(g, p)}
	})
}

// MaxPool2d takes the maximum of each window of x [N, C, H, W], giving
// [N, C, Ho, Wo], like torch.nn.functional.max_pool2d (padding acts as
// -Inf, ceil_mode=False). The gradient goes to each window's maximum only:
// ScatterAdd(g) at the saved flat argmax indices, whose own gradient is a
// Gather at the same indices. On ties the first maximum in row-major
// window order takes the whole gradient (PyTorch's subgradient). It panics
// naming the shapes on a non-4-D input or a bad window.
func MaxPool2d(x *Value, p tensor.PoolParams) *Value {
	out, idx := tensor.MaxPool2d(x.data, p)
	in := shapeOf(x)
	return record(opMaxPool2d, out, []*Value{x}, func(g *Value) []*Value {
		return []*Value{ScatterAdd(g, idx, in...)}
	})
}
