package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// CondBatchNorm2d is class-conditional batch normalisation (de Vries et al.
// 2017, "Modulating early visual processing by language",
// arXiv:1707.00683; Dumoulin et al. 2017, arXiv:1610.07629), as the SN-GAN
// and SAGAN generators use it: x [N, C, H, W] is normalised per channel as
// BatchNorm2d without its own affine map, then sample i with label y_i is
// scaled and shifted by its class's rows:
//
//	out_i = BN(x)_i * Gain[y_i] + Bias[y_i]
//
// Gain and Bias are [Classes, C] embeddings, initialised to 1 and 0, so the
// layer starts as plain batch norm. Training and evaluation mode and the
// running statistics are the BatchNorm's.
//
// State names: gain.weight, bias.weight, running_mean, running_var.
type CondBatchNorm2d struct {
	Norm *BatchNorm // affine=False; its running statistics are listed as the layer's own
	Gain *Embedding // [Classes, C], init 1
	Bias *Embedding // [Classes, C], init 0
}

// NewCondBatchNorm2d returns conditional batch norm for c channels and the
// given number of classes, in training mode.
func NewCondBatchNorm2d(c, classes int) *CondBatchNorm2d {
	bn := NewBatchNorm2d(c)
	bn.Weight, bn.Bias = nil, nil
	return &CondBatchNorm2d{
		Norm: bn,
		Gain: &Embedding{Weight: autograd.Param(tensor.Ones(classes, c))},
		Bias: &Embedding{Weight: autograd.Param(tensor.New(classes, c))},
	}
}

// Forward normalises x [N, C, H, W] and applies each sample's class gain
// and bias. It panics if x is not 4-D with C channels, on a label count
// other than N, or on a label out of range.
func (b *CondBatchNorm2d) Forward(x *autograd.Value, labels []int) *autograd.Value {
	c := b.Gain.Weight.Shape()[1]
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != c || len(labels) != xs[0] {
		panic(fmt.Sprintf("nn.CondBatchNorm2d: input shape %v with %d labels for %d channels", xs, len(labels), c))
	}
	return modulate(b.Norm.Forward(x), b.Gain.Forward(labels), b.Bias.Forward(labels))
}

// modulate returns y * gain + bias for y [N, C, H, W] and per-sample gain
// and bias [N, C].
func modulate(y, gain, bias *autograd.Value) *autograd.Value {
	n, c := gain.Shape()[0], gain.Shape()[1]
	return autograd.Add(autograd.Mul(y, autograd.Reshape(gain, n, c, 1, 1)), autograd.Reshape(bias, n, c, 1, 1))
}

func (b *CondBatchNorm2d) children() Children {
	return Children{{Name: "gain", Module: b.Gain}, {Name: "bias", Module: b.Bias}}
}

// Params lists gain.weight and bias.weight.
func (b *CondBatchNorm2d) Params(prefix string) []Param { return b.children().Params(prefix) }

// Buffers lists running_mean and running_var.
func (b *CondBatchNorm2d) Buffers(prefix string) []Buffer { return b.Norm.Buffers(prefix) }

// SetTraining chooses batch statistics (true) or running statistics.
func (b *CondBatchNorm2d) SetTraining(on bool) { b.Norm.SetTraining(on) }

// LinearCondBatchNorm2d is conditional batch normalisation whose gain and
// bias are linear maps of a per-sample vector v [N, D] (BigGAN's shared
// class embedding concatenated with a chunk of z; Brock et al. 2019,
// "Large Scale GAN Training for High Fidelity Natural Image Synthesis",
// arXiv:1809.11096):
//
//	out = BN(x) * (1 + v Gain^T) + v Bias^T
//
// with Gain and Bias linear maps D -> C without bias terms (spectrally
// normalised in BigGAN: WithSpectralNorm), so a zero v gives plain batch
// norm. Training and evaluation mode are the BatchNorm's.
//
// State names: gain.weight, bias.weight (weight_orig, weight_u, weight_v
// under spectral norm), running_mean, running_var.
type LinearCondBatchNorm2d struct {
	Norm *BatchNorm // affine=False
	Gain *Linear    // D -> C, no bias
	Bias *Linear    // D -> C, no bias
}

// NewLinearCondBatchNorm2d returns the layer for c channels and vectors of
// size dim, its maps initialised as PyTorch's Linear from rng, in training
// mode.
func NewLinearCondBatchNorm2d(c, dim int, rng *tensor.RNG) *LinearCondBatchNorm2d {
	bn := NewBatchNorm2d(c)
	bn.Weight, bn.Bias = nil, nil
	g, b := NewLinear(dim, c, rng), NewLinear(dim, c, rng)
	g.Bias, b.Bias = nil, nil
	return &LinearCondBatchNorm2d{Norm: bn, Gain: g, Bias: b}
}

// WithSpectralNorm wraps both maps' weights in spectral norm, as BigGAN
// does, and returns b.
func (b *LinearCondBatchNorm2d) WithSpectralNorm(rng *tensor.RNG) *LinearCondBatchNorm2d {
	b.Gain.WithSpectralNorm(rng)
	b.Bias.WithSpectralNorm(rng)
	return b
}

// Forward normalises x [N, C, H, W] and modulates it with v [N, D]. It
// panics if x is not 4-D with C channels or v is not [N, D].
func (b *LinearCondBatchNorm2d) Forward(x, v *autograd.Value) *autograd.Value {
	ws := b.Gain.Weight.Shape()
	xs, vs := x.Shape(), v.Shape()
	if len(xs) != 4 || xs[1] != ws[0] || len(vs) != 2 || vs[0] != xs[0] || vs[1] != ws[1] {
		panic(fmt.Sprintf("nn.LinearCondBatchNorm2d: input shape %v and vector shape %v for %d channels from %d", xs, vs, ws[0], ws[1]))
	}
	gain := autograd.AddScalar(b.Gain.Forward(v), 1)
	return modulate(b.Norm.Forward(x), gain, b.Bias.Forward(v))
}

func (b *LinearCondBatchNorm2d) children() Children {
	return Children{{Name: "gain", Module: b.Gain}, {Name: "bias", Module: b.Bias}}
}

// Params lists the gain's, then the bias's weight.
func (b *LinearCondBatchNorm2d) Params(prefix string) []Param { return b.children().Params(prefix) }

// Buffers lists spectral norm's vectors, if any, then running_mean and
// running_var.
func (b *LinearCondBatchNorm2d) Buffers(prefix string) []Buffer {
	return append(b.children().Buffers(prefix), b.Norm.Buffers(prefix)...)
}

// SetTraining sets batch norm's and spectral norm's mode.
func (b *LinearCondBatchNorm2d) SetTraining(on bool) {
	b.Norm.SetTraining(on)
	b.children().SetTraining(on)
}
