package autograd

import "github.com/kallima-gan/kallima/tensor"

var (
	opUpsampleNearest           = register("upsample_nearest")
	opUpsampleNearestTranspose  = register("upsample_nearest_transpose")
	opUpsampleBilinear          = register("upsample_bilinear")
	opUpsampleBilinearTranspose = register("upsample_bilinear_transpose")
)

// Both resizes are linear maps. Each is paired with its transpose, and the
// backward of either is the other, so gradients of every order exist.

// UpsampleNearest repeats every pixel of x [N, C, H, W] into a scale x scale
// block, giving [N, C, H*scale, W*scale], like
// torch.nn.functional.interpolate(x, scale_factor=scale, mode="nearest").
// Its gradient sums g over each block. It panics naming the shape if x is
// not 4-D or scale < 1.
func UpsampleNearest(x *Value, scale int) *Value {
	return record(opUpsampleNearest, tensor.UpsampleNearest(x.data, scale), []*Value{x}, func(g *Value) []*Value {
		return []*Value{upsampleNearestTranspose(g, scale)}
	})
}

// upsampleNearestTranspose sums scale x scale blocks of y; its gradient is
// UpsampleNearest.
func upsampleNearestTranspose(y *Value, scale int) *Value {
	return record(opUpsampleNearestTranspose, tensor.UpsampleNearestTranspose(y.data, scale), []*Value{y}, func(g *Value) []*Value {
		return []*Value{UpsampleNearest(g, scale)}
	})
}

// UpsampleBilinear resizes x [N, C, H, W] to [N, C, ho, wo] by bilinear
// interpolation, like torch.nn.functional.interpolate(x, size=(ho, wo),
// mode="bilinear", align_corners=False). Its gradient spreads g back onto
// the four source pixels of each output with the same weights. It panics
// naming the shape if x is not 4-D or a size is not positive.
func UpsampleBilinear(x *Value, ho, wo int) *Value {
	out := tensor.UpsampleBilinear(x.data, ho, wo) // checks the shapes
	h, w := x.Shape()[2], x.Shape()[3]
	return record(opUpsampleBilinear, out, []*Value{x}, func(g *Value) []*Value {
		return []*Value{upsampleBilinearTranspose(g, h, w)}
	})
}

// upsampleBilinearTranspose is UpsampleBilinear's adjoint, from
// [N, C, ho, wo] back to [N, C, h, w]; its gradient is UpsampleBilinear.
func upsampleBilinearTranspose(y *Value, h, w int) *Value {
	out := tensor.UpsampleBilinearTranspose(y.data, h, w) // checks the shapes
	ho, wo := y.Shape()[2], y.Shape()[3]
	return record(opUpsampleBilinearTranspose, out, []*Value{y}, func(g *Value) []*Value {
		return []*Value{UpsampleBilinear(g, ho, wo)}
	})
}
