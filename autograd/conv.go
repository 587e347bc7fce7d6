package autograd

import "github.com/kallima-gan/kallima/tensor"

var (
	opConv2d           = register("conv2d")
	opConvTranspose2d  = register("conv_transpose2d")
	opConv2dWeightGrad = register("conv2d_weight_grad")
)

// The three ops below are one bilinear map seen three ways. With
// y = Conv2d(x, w): the input gradient is ConvTranspose2d(g, w) and the
// weight gradient is Conv2dWeightGrad(x, g). Each op's backward is written
// with the other two, so every order of derivative is available.

// Conv2d convolves x [N, C, H, W] with w [O, C, kh, kw] (cross-correlation,
// like torch.nn.functional.conv2d without bias), giving [N, O, Ho, Wo].
//
// When w's gradient will be wanted, the forward pass keeps x's im2col
// unrolling (tensor.Cols) for the backward pass's weight gradient instead
// of unrolling x a second time; the buffer belongs to the innermost open
// tensor.Arena, like the step's other intermediates.
func Conv2d(x, w *Value, p tensor.ConvParams) *Value {
	h, wd := x.Shape()[2], x.Shape()[3]
	kh, kw := w.Shape()[2], w.Shape()[3]
	var out *tensor.Tensor
	var cols *tensor.Cols
	if gradEnabled && w.requiresGrad {
		cols = tensor.Im2col(x.data, kh, kw, p)
		out = cols.Conv2d(w.data)
	} else {
		out = tensor.Conv2d(x.data, w.data, p)
	}
	return record(opConv2d, out, []*Value{x, w}, func(g *Value) []*Value {
		var gx, gw *Value
		if x.requiresGrad {
			gx = convTranspose(g, w, p, h, wd)
		}
		if w.requiresGrad {
			var dw *tensor.Tensor
			if cols != nil {
				dw = cols.WeightGrad(g.data)
			}
			gw = conv2dWeightGradOf(x, g, p, kh, kw, dw)
		}
		return []*Value{gx, gw}
	})
}

// ConvTranspose2d is the transposed convolution of x [N, Cin, H, W] with
// w [Cin, Cout, kh, kw] (PyTorch's layout), giving [N, Cout, Ho, Wo] with
// Ho = (H-1)*stride - 2*pad + dil*(kh-1) + outPad[0] + 1, like
// torch.nn.functional.conv_transpose2d without bias.
func ConvTranspose2d(x, w *Value, p tensor.ConvParams, outPad [2]int) *Value {
	st, dl := p.Stride, p.Dilation
	for i := range 2 {
		st[i] = max(st[i], 1)
		dl[i] = max(dl[i], 1)
	}
	ho := (x.Shape()[2]-1)*st[0] - 2*p.Padding[0] + dl[0]*(w.Shape()[2]-1) + outPad[0] + 1
	wo := (x.Shape()[3]-1)*st[1] - 2*p.Padding[1] + dl[1]*(w.Shape()[3]-1) + outPad[1] + 1
	return convTranspose(x, w, p, ho, wo)
}

// convTranspose is the adjoint of Conv2d's input map, for output size h x wd.
func convTranspose(y, w *Value, p tensor.ConvParams, h, wd int) *Value {
	kh, kw := w.Shape()[2], w.Shape()[3]
	return record(opConvTranspose2d, tensor.ConvTranspose2d(y.data, w.data, p, h, wd), []*Value{y, w}, func(g *Value) []*Value {
		var gy, gw *Value
		if y.requiresGrad {
			gy = Conv2d(g, w, p)
		}
		if w.requiresGrad {
			gw = conv2dWeightGrad(g, y, p, kh, kw)
		}
		return []*Value{gy, gw}
	})
}

// conv2dWeightGrad is Conv2d's weight gradient as an op of its own, so it
// can be differentiated again (WGAN-GP's penalty needs it).
func conv2dWeightGrad(x, gy *Value, p tensor.ConvParams, kh, kw int) *Value {
	return conv2dWeightGradOf(x, gy, p, kh, kw, nil)
}

// conv2dWeightGradOf is conv2dWeightGrad with its value dw already
// computed (from a kept tensor.Cols), or computed here when dw is nil.
func conv2dWeightGradOf(x, gy *Value, p tensor.ConvParams, kh, kw int, dw *tensor.Tensor) *Value {
	h, wd := x.Shape()[2], x.Shape()[3]
	if dw == nil {
		dw = tensor.Conv2dWeightGrad(x.data, gy.data, p, kh, kw)
	}
	return record(opConv2dWeightGrad, dw, []*Value{x, gy}, func(g *Value) []*Value {
		var gx, ggy *Value
		if x.requiresGrad {
			gx = convTranspose(gy, g, p, h, wd)
		}
		if gy.requiresGrad {
			ggy = Conv2d(x, g, p)
		}
		return []*Value{gx, ggy}
	})
}
