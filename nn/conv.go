package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// ConvOptions are a square convolution's geometry. Zero Stride and
// Dilation mean 1; OutputPadding is used by ConvTranspose2d only.
type ConvOptions struct {
	Stride        int // default 1
	Padding       int // zero padding on each side; default 0
	Dilation      int // default 1
	OutputPadding int // extra rows/columns on one side of a transposed convolution's output; default 0
}

func (o ConvOptions) params() tensor.ConvParams {
	s, d := max(o.Stride, 1), max(o.Dilation, 1)
	return tensor.ConvParams{Stride: [2]int{s, s}, Padding: [2]int{o.Padding, o.Padding}, Dilation: [2]int{d, d}}
}

// Conv2d is a 2-D convolution (cross-correlation) plus bias, like
// torch.nn.Conv2d with groups 1: x [N, in, H, W] gives y [N, out, Ho, Wo]
// with Ho = floor((H + 2 pad - dil (kh - 1) - 1) / stride) + 1.
type Conv2d struct {
	Weight *autograd.Value // [out, in, kh, kw]
	Bias   *autograd.Value // [out]; nil for a layer without bias
	Geom   tensor.ConvParams
	SN     *SpectralNorm // when set, W / sigma(W) replaces W
}

// NewConv2d returns a Conv2d with a square kernel and PyTorch's default
// initialisation: W and b ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)] with
// fan_in = in * kernel^2. Set Bias to nil for a layer without bias.
func NewConv2d(in, out, kernel int, o ConvOptions, rng *tensor.RNG) *Conv2d {
	w, b := tensor.New(out, in, kernel, kernel), tensor.New(out)
	defaultInit(w, b, rng)
	return &Conv2d{Weight: autograd.Param(w), Bias: autograd.Param(b), Geom: o.params()}
}

// WithSpectralNorm wraps the weight in spectral normalisation (dim 0) with
// u and v drawn from rng, and returns c.
func (c *Conv2d) WithSpectralNorm(rng *tensor.RNG) *Conv2d {
	c.SN = NewSpectralNorm(c.Weight.Shape(), 0, rng)
	return c
}

// Forward convolves x [N, in, H, W]. It panics if x is not 4-D with in
// channels.
func (c *Conv2d) Forward(x *autograd.Value) *autograd.Value {
	ws := c.Weight.Shape()
	if xs := x.Shape(); len(xs) != 4 || xs[1] != ws[1] {
		panic(fmt.Sprintf("nn.Conv2d: input shape %v for weight %v", xs, ws))
	}
	return addChannelBias(autograd.Conv2d(x, snWeight(c.Weight, c.SN), c.Geom), c.Bias)
}

// Params lists weight (weight_orig under spectral norm) and bias.
func (c *Conv2d) Params(prefix string) []Param {
	return weightParams(prefix, c.Weight, c.Bias, c.SN)
}

// Buffers lists spectral norm's weight_u and weight_v, if any.
func (c *Conv2d) Buffers(prefix string) []Buffer { return snBuffers(prefix, c.Weight, c.SN) }

// SetTraining sets spectral norm's mode, if any.
func (c *Conv2d) SetTraining(on bool) {
	if c.SN != nil {
		c.SN.SetTraining(on)
	}
}

// ConvTranspose2d is a transposed convolution plus bias, like
// torch.nn.ConvTranspose2d with groups 1: x [N, in, H, W] gives
// y [N, out, Ho, Wo] with Ho = (H - 1) stride - 2 pad + dil (kh - 1) +
// outPad + 1. The weight has PyTorch's layout [in, out, kh, kw].
type ConvTranspose2d struct {
	Weight *autograd.Value // [in, out, kh, kw]
	Bias   *autograd.Value // [out]; nil for a layer without bias
	Geom   tensor.ConvParams
	OutPad [2]int        // output padding (height, width); each must be < stride or < dilation
	SN     *SpectralNorm // when set (dim 1), W / sigma(W) replaces W
}

// NewConvTranspose2d returns a ConvTranspose2d with a square kernel and
// PyTorch's default initialisation, whose fan_in is out * kernel^2 (the
// weight's second dimension): W and b ~ U[-1/sqrt(fan_in), 1/sqrt(fan_in)].
// Set Bias to nil for a layer without bias.
func NewConvTranspose2d(in, out, kernel int, o ConvOptions, rng *tensor.RNG) *ConvTranspose2d {
	w, b := tensor.New(in, out, kernel, kernel), tensor.New(out)
	defaultInit(w, b, rng)
	return &ConvTranspose2d{Weight: autograd.Param(w), Bias: autograd.Param(b), Geom: o.params(),
		OutPad: [2]int{o.OutputPadding, o.OutputPadding}}
}

// WithSpectralNorm wraps the weight in spectral normalisation with dim 1
// (the output channels, as PyTorch's spectral_norm picks for transposed
// convolutions) with u and v drawn from rng, and returns c.
func (c *ConvTranspose2d) WithSpectralNorm(rng *tensor.RNG) *ConvTranspose2d {
	c.SN = NewSpectralNorm(c.Weight.Shape(), 1, rng)
	return c
}

// Forward applies the transposed convolution to x [N, in, H, W]. It panics
// if x is not 4-D with in channels.
func (c *ConvTranspose2d) Forward(x *autograd.Value) *autograd.Value {
	ws := c.Weight.Shape()
	if xs := x.Shape(); len(xs) != 4 || xs[1] != ws[0] {
		panic(fmt.Sprintf("nn.ConvTranspose2d: input shape %v for weight %v", xs, ws))
	}
	return addChannelBias(autograd.ConvTranspose2d(x, snWeight(c.Weight, c.SN), c.Geom, c.OutPad), c.Bias)
}

// Params lists weight (weight_orig under spectral norm) and bias.
func (c *ConvTranspose2d) Params(prefix string) []Param {
	return weightParams(prefix, c.Weight, c.Bias, c.SN)
}

// Buffers lists spectral norm's weight_u and weight_v, if any.
func (c *ConvTranspose2d) Buffers(prefix string) []Buffer { return snBuffers(prefix, c.Weight, c.SN) }

// SetTraining sets spectral norm's mode, if any.
func (c *ConvTranspose2d) SetTraining(on bool) {
	if c.SN != nil {
		c.SN.SetTraining(on)
	}
}

// addChannelBias adds b [C] to y [N, C, ...] along dimension 1 (b nil:
// y unchanged).
func addChannelBias(y, b *autograd.Value) *autograd.Value {
	if b == nil {
		return y
	}
	return autograd.Add(y, autograd.Reshape(b, channelShape(len(y.Shape()), b.Shape()[0])...))
}

// channelShape is [1, c, 1, ...] of n dimensions, for broadcasting a
// per-channel vector over [N, C, ...].
func channelShape(n, c int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	s[1] = c
	return s
}
