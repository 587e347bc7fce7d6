package onnx

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// layer appends the nodes of module m in evaluation mode to g, reading the
// value named x, and returns the name of its output. Initializers are named
// after m's state under prefix (the names a checkpoint uses), so a reader
// of the ONNX file can match them to Kallima's weights. Each layer type has
// its exporter here; a type without one is an error naming it.
func layer(g *graph, m nn.Module, prefix, x string) (string, error) {
	switch l := m.(type) {
	case *nn.Sequential:
		for i, c := range l.Layers {
			var err error
			if x, err = layer(g, c, nn.Join(prefix, fmt.Sprint(i)), x); err != nil {
				return "", err
			}
		}
		return x, nil
	case *models.ConvBlock:
		return convBlock(g, l, prefix, x)
	case *models.NormBlock:
		return normBlock(g, l, prefix, x)
	case *models.ResNetBlock:
		y, err := layer(g, l.ConvBlock, nn.Join(prefix, "conv_block"), x)
		if err != nil {
			return "", err
		}
		return g.node("Add", []string{x, y}), nil
	case *models.StarResBlock:
		y, err := layer(g, l.A, nn.Join(prefix, "a"), x)
		if err != nil {
			return "", err
		}
		if y, err = layer(g, l.B, nn.Join(prefix, "b"), y); err != nil {
			return "", err
		}
		return g.node("Add", []string{x, y}), nil
	case *nn.InstanceNorm2d:
		return instanceNorm(g, l, prefix, x), nil
	case nn.ReflectionPad2d:
		p := int64(l.Pad)
		pads := g.int64s(nn.Join(prefix, "pads"), 0, 0, p, p, 0, 0, p, p)
		return g.node("Pad", []string{x, pads}, stringAttr("mode", "reflect")), nil
	case *nn.Linear:
		return linear(g, l, prefix, x)
	case *nn.BatchNorm:
		return batchNorm(g, l, prefix, x), nil
	case *nn.ConvTranspose2d:
		return convTranspose(g, l, prefix, x)
	case *nn.Conv2d:
		return conv(g, l, prefix, x)
	case *nn.SelfAttention:
		return selfAttention(g, l, prefix, x)
	case nn.ReLU:
		return g.node("Relu", []string{x}), nil
	case nn.LeakyReLU:
		return g.node("LeakyRelu", []string{x}, floatAttr("alpha", l.Slope)), nil
	case nn.Tanh:
		return g.node("Tanh", []string{x}), nil
	case nn.Sigmoid:
		return g.node("Sigmoid", []string{x}), nil
	case nn.ELU:
		return g.node("Elu", []string{x}, floatAttr("alpha", l.Alpha)), nil
	case nn.Softplus:
		return g.node("Softplus", []string{x}), nil
	case nn.Flatten:
		return g.node("Flatten", []string{x}, intAttr("axis", 1)), nil
	case nn.Reshape:
		// 0 copies the batch dimension (ONNX Reshape without allowzero);
		// Shape may hold one -1.
		return g.node("Reshape", []string{x, g.int64s(nn.Join(prefix, "shape"), append([]int64{0}, int64s(l.Shape)...)...)}), nil
	}
	return "", fmt.Errorf("layer %s: type %T does not export yet (layers that do: Sequential, Linear, BatchNorm, InstanceNorm2d, ConvTranspose2d, Conv2d, ReflectionPad2d, SelfAttention, ReLU, LeakyReLU, Tanh, Sigmoid, ELU, Softplus, Flatten, Reshape, models.ConvBlock, models.NormBlock, models.ResNetBlock, models.StarResBlock)", prefix, m)
}

// normBlock is a translator's level: its convolution, norm (batch,
// instance or none) and activation (or none), the first two named "conv"
// and "norm" under prefix.
func normBlock(g *graph, b *models.NormBlock, prefix, x string) (string, error) {
	x, err := layer(g, b.Conv, nn.Join(prefix, "conv"), x)
	if err != nil {
		return "", err
	}
	if b.Norm != nil {
		if x, err = layer(g, b.Norm, nn.Join(prefix, "norm"), x); err != nil {
			return "", err
		}
	}
	if b.Act != nil {
		return layer(g, b.Act, prefix, x)
	}
	return x, nil
}

// instanceNorm is nn.InstanceNorm2d written as its formula's steps (its
// own forward fuses them, to the same values within float32 rounding):
// d = x - mean over H and W, y = d / sqrt(mean of d*d + eps), then times
// weight and plus bias when affine (constants of shape [C, 1, 1]). ONNX's InstanceNormalization would need a scale and
// bias of the channel count even without an affine map, which a layer
// without one does not know.
func instanceNorm(g *graph, n *nn.InstanceNorm2d, prefix, x string) string {
	hw := intsAttr("axes", 2, 3)
	d := g.node("Sub", []string{x, g.node("ReduceMean", []string{x}, hw)})
	v := g.node("ReduceMean", []string{g.node("Mul", []string{d, d})}, hw)
	v = g.node("Add", []string{v, g.float(nn.Join(prefix, "eps"), []float32{float32(n.Eps)}, 1)})
	y := g.node("Div", []string{d, g.node("Sqrt", []string{v})})
	if n.Weight != nil {
		c := n.Weight.Shape()[0]
		y = g.node("Mul", []string{y, g.float(nn.Join(prefix, "weight"), n.Weight.Data().Data(), c, 1, 1)})
	}
	if n.Bias != nil {
		c := n.Bias.Shape()[0]
		y = g.node("Add", []string{y, g.float(nn.Join(prefix, "bias"), n.Bias.Data().Data(), c, 1, 1)})
	}
	return y
}

// convBlock is a DCGAN level: its convolution (or linear map), batch norm
// and activation, named "conv" and "bn" under prefix.
func convBlock(g *graph, b *models.ConvBlock, prefix, x string) (string, error) {
	x, err := layer(g, b.Conv, nn.Join(prefix, "conv"), x)
	if err != nil {
		return "", err
	}
	if b.BN != nil {
		x = batchNorm(g, b.BN, nn.Join(prefix, "bn"), x)
	}
	return layer(g, b.Act, prefix, x)
}

// weight adds a layer's weight w as the initializer prefix.weight: w
// itself, or under spectral norm sn the weight the evaluation-mode forward
// uses, W / sigma with sigma = u^T W v from the stored vectors (no power
// iteration), computed by nn.SpectralNorm.Apply itself on a copy of sn in
// evaluation mode, so the values are Kallima's to the bit and sn's vectors
// are left as they are.
func weight(g *graph, prefix string, w *autograd.Value, sn *nn.SpectralNorm) string {
	return g.tensor(nn.Join(prefix, "weight"), normalised(w, sn))
}

// normalised is w's value, or W / sigma under spectral norm sn (see
// weight).
func normalised(w *autograd.Value, sn *nn.SpectralNorm) *tensor.Tensor {
	t := w.Data()
	if sn != nil {
		eval := &nn.SpectralNorm{U: sn.U.Clone(), V: sn.V.Clone(), Iters: sn.Iters, Eps: sn.Eps, Dim: sn.Dim}
		eval.SetTraining(false)
		autograd.NoGrad(func() { t = eval.Apply(autograd.Const(w.Data())).Data() })
	}
	return t
}

// linear is Gemm(x, W, b) with transB = 1: x [N, in] W^T + b, as
// nn.Linear computes it (on 2-D inputs, which the generators give it).
func linear(g *graph, l *nn.Linear, prefix, x string) (string, error) {
	in := []string{x, weight(g, prefix, l.Weight, l.SN)}
	if l.Bias != nil {
		in = append(in, g.tensor(nn.Join(prefix, "bias"), l.Bias.Data()))
	}
	return g.node("Gemm", in, intAttr("transB", 1)), nil
}

// batchNorm is batch norm with its running statistics, written as the
// same four steps, in the same order and precision, as nn.BatchNorm's
// evaluation mode: (x - mean) * inv * weight + bias with
// inv = float32(1 / sqrt(float64(var) + eps)). The constants have shape
// [C] for x [N, C] and [C, 1, 1] for x [N, C, H, W], so they broadcast
// along the channel dimension.
func batchNorm(g *graph, b *nn.BatchNorm, prefix, x string) string {
	c := b.RunningMean.Len()
	shape := []int{c}
	if b.TwoD() {
		shape = []int{c, 1, 1}
	}
	inv := make([]float32, c)
	for i, v := range b.RunningVar.Data() {
		inv[i] = float32(1 / math.Sqrt(float64(v)+b.Eps))
	}
	x = g.node("Sub", []string{x, g.float(nn.Join(prefix, "running_mean"), b.RunningMean.Data(), shape...)})
	x = g.node("Mul", []string{x, g.float(nn.Join(prefix, "inv_std"), inv, shape...)})
	if b.Weight != nil {
		x = g.node("Mul", []string{x, g.float(nn.Join(prefix, "weight"), b.Weight.Data().Data(), shape...)})
	}
	if b.Bias != nil {
		x = g.node("Add", []string{x, g.float(nn.Join(prefix, "bias"), b.Bias.Data().Data(), shape...)})
	}
	return x
}

// convAttrs are the ONNX attributes of a square convolution's geometry.
func convAttrs(w *tensor.Tensor, p tensor.ConvParams) []attribute {
	s := w.Shape()
	return []attribute{
		intsAttr("kernel_shape", int64(s[2]), int64(s[3])),
		intsAttr("strides", int64(max(p.Stride[0], 1)), int64(max(p.Stride[1], 1))),
		intsAttr("pads", int64(p.Padding[0]), int64(p.Padding[1]), int64(p.Padding[0]), int64(p.Padding[1])),
		intsAttr("dilations", int64(max(p.Dilation[0], 1)), int64(max(p.Dilation[1], 1))),
	}
}

// conv is Conv; nn.Conv2d's weight layout [out, in, kh, kw] is ONNX's.
func conv(g *graph, c *nn.Conv2d, prefix, x string) (string, error) {
	w := c.Weight.Data()
	in := []string{x, weight(g, prefix, c.Weight, c.SN)}
	if c.Bias != nil {
		in = append(in, g.tensor(nn.Join(prefix, "bias"), c.Bias.Data()))
	}
	return g.node("Conv", in, convAttrs(w, c.Geom)...), nil
}

// upsample is nearest-neighbour upsampling by an integer scale, as
// tensor.UpsampleNearest computes it (output pixel (i, j) is input pixel
// (i / scale, j / scale), rounded down): Resize with scales [1, 1, s, s],
// mode nearest, the asymmetric coordinate transformation and rounding
// down, which make that map exact.
func upsample(g *graph, x string, scale int) string {
	s := float32(scale)
	scales := g.float("upsample_scales", []float32{1, 1, s, s}, 4)
	return g.node("Resize", []string{x, "", scales}, stringAttr("mode", "nearest"),
		stringAttr("coordinate_transformation_mode", "asymmetric"), stringAttr("nearest_mode", "floor"))
}

// condBatchNorm is nn.CondBatchNorm2d in evaluation mode: batch norm
// without affine map (batchNorm), then times the label's row of the gain
// embedding and plus its row of the bias embedding, each gathered to
// [N, C] and reshaped to [N, C, 1, 1], in the order nn's modulate uses.
func condBatchNorm(g *graph, b *nn.CondBatchNorm2d, prefix, x, label string) string {
	c := int64(b.Norm.RunningMean.Len())
	x = batchNorm(g, b.Norm, prefix, x)
	shape := g.int64s(nn.Join(prefix, "modulation_shape"), -1, c, 1, 1)
	gain := g.node("Gather", []string{g.tensor(nn.Join(prefix, "gain.weight"), b.Gain.Weight.Data()), label}, intAttr("axis", 0))
	x = g.node("Mul", []string{x, g.node("Reshape", []string{gain, shape})})
	bias := g.node("Gather", []string{g.tensor(nn.Join(prefix, "bias.weight"), b.Bias.Weight.Data()), label}, intAttr("axis", 0))
	return g.node("Add", []string{x, g.node("Reshape", []string{bias, shape})})
}

// selfAttention is nn.SelfAttention: the 1x1 convolutions f, g, h
// reshaped to [N, k, P], [N, k, P], [N, C, P] (P = H*W), the scores
// s = g^T f [N, P, P] (MatMul of g transposed), beta = softmax over the
// last axis, o = h beta^T reshaped to x's shape, and gamma * o + x.
func selfAttention(g *graph, a *nn.SelfAttention, prefix, x string) (string, error) {
	flat := func(c *nn.Conv2d, name string) (string, error) {
		y, err := conv(g, c, nn.Join(prefix, name), x)
		if err != nil {
			return "", err
		}
		return g.node("Reshape", []string{y, g.int64s(nn.Join(prefix, name+"_shape"), 0, 0, -1)}), nil
	}
	f, err := flat(a.F, "f")
	if err != nil {
		return "", err
	}
	gx, err := flat(a.G, "g")
	if err != nil {
		return "", err
	}
	h, err := flat(a.H, "h")
	if err != nil {
		return "", err
	}
	swap := intsAttr("perm", 0, 2, 1)
	s := g.node("MatMul", []string{g.node("Transpose", []string{gx}, swap), f})
	beta := g.node("Softmax", []string{s}, intAttr("axis", 2))
	o := g.node("MatMul", []string{h, g.node("Transpose", []string{beta}, swap)})
	o = g.node("Reshape", []string{o, g.node("Shape", []string{x})})
	o = g.node("Mul", []string{g.tensor(nn.Join(prefix, "gamma"), a.Gamma.Data()), o})
	return g.node("Add", []string{o, x}), nil
}

// linearCondBatchNorm is nn.LinearCondBatchNorm2d in evaluation mode for
// the vectors v [N, D]: batch norm without affine map, times
// (v Gain^T + 1), plus v Bias^T, each reshaped to [N, C, 1, 1], in the
// order nn computes them.
func linearCondBatchNorm(g *graph, b *nn.LinearCondBatchNorm2d, prefix, x, v string) (string, error) {
	c := int64(b.Norm.RunningMean.Len())
	x = batchNorm(g, b.Norm, prefix, x)
	gain, err := linear(g, b.Gain, nn.Join(prefix, "gain"), v)
	if err != nil {
		return "", err
	}
	gain = g.node("Add", []string{gain, g.float(nn.Join(prefix, "one"), []float32{1}, 1)})
	bias, err := linear(g, b.Bias, nn.Join(prefix, "bias"), v)
	if err != nil {
		return "", err
	}
	shape := g.int64s(nn.Join(prefix, "modulation_shape"), -1, c, 1, 1)
	x = g.node("Mul", []string{x, g.node("Reshape", []string{gain, shape})})
	return g.node("Add", []string{x, g.node("Reshape", []string{bias, shape})}), nil
}

// convTranspose is ConvTranspose; nn.ConvTranspose2d's weight layout
// [in, out, kh, kw] is ONNX's.
func convTranspose(g *graph, c *nn.ConvTranspose2d, prefix, x string) (string, error) {
	w := c.Weight.Data()
	in := []string{x, weight(g, prefix, c.Weight, c.SN)}
	if c.Bias != nil {
		in = append(in, g.tensor(nn.Join(prefix, "bias"), c.Bias.Data()))
	}
	attrs := append(convAttrs(w, c.Geom), intsAttr("output_padding", int64(c.OutPad[0]), int64(c.OutPad[1])))
	return g.node("ConvTranspose", in, attrs...), nil
}
