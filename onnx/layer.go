package onnx

import (
	"fmt"
	"math"

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
	case *nn.Linear:
		return linear(g, l, prefix, x)
	case *nn.BatchNorm:
		return batchNorm(g, l, prefix, x), nil
	case *nn.ConvTranspose2d:
		return convTranspose(g, l, prefix, x)
	case *nn.Conv2d:
		return conv(g, l, prefix, x)
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
	return "", fmt.Errorf("layer %s: type %T does not export yet (layers that do: Sequential, Linear, BatchNorm, ConvTranspose2d, Conv2d, ReLU, LeakyReLU, Tanh, Sigmoid, ELU, Softplus, Flatten, Reshape, models.ConvBlock)", prefix, m)
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

// noSpectralNorm reports a layer whose weight is spectrally normalised:
// exporting it needs W / sigma(W) computed from its power-iteration
// vectors, which this package does not do yet.
func noSpectralNorm(prefix string, sn *nn.SpectralNorm) error {
	if sn != nil {
		return fmt.Errorf("layer %s: spectral norm does not export yet", prefix)
	}
	return nil
}

// linear is Gemm(x, W, b) with transB = 1: x [N, in] W^T + b, as
// nn.Linear computes it (on 2-D inputs, which the generators give it).
func linear(g *graph, l *nn.Linear, prefix, x string) (string, error) {
	if err := noSpectralNorm(prefix, l.SN); err != nil {
		return "", err
	}
	in := []string{x, g.tensor(nn.Join(prefix, "weight"), l.Weight.Data())}
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
	if err := noSpectralNorm(prefix, c.SN); err != nil {
		return "", err
	}
	w := c.Weight.Data()
	in := []string{x, g.tensor(nn.Join(prefix, "weight"), w)}
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

// convTranspose is ConvTranspose; nn.ConvTranspose2d's weight layout
// [in, out, kh, kw] is ONNX's.
func convTranspose(g *graph, c *nn.ConvTranspose2d, prefix, x string) (string, error) {
	if err := noSpectralNorm(prefix, c.SN); err != nil {
		return "", err
	}
	w := c.Weight.Data()
	in := []string{x, g.tensor(nn.Join(prefix, "weight"), w)}
	if c.Bias != nil {
		in = append(in, g.tensor(nn.Join(prefix, "bias"), c.Bias.Data()))
	}
	attrs := append(convAttrs(w, c.Geom), intsAttr("output_padding", int64(c.OutPad[0]), int64(c.OutPad[1])))
	return g.node("ConvTranspose", in, attrs...), nil
}
