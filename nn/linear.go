package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Linear is the affine map y = x W^T + b, like torch.nn.Linear: x [..., in]
// gives y [..., out] with W [out, in] and b [out].
type Linear struct {
	Weight *autograd.Value // [out, in]
	Bias   *autograd.Value // [out]; nil for a layer without bias
	SN     *SpectralNorm   // when set, W / sigma(W) replaces W
}

// NewLinear returns a Linear with PyTorch's default initialisation:
// W ~ U[-1/sqrt(in), 1/sqrt(in)] (KaimingUniform with a = sqrt 5) and
// b ~ U[-1/sqrt(in), 1/sqrt(in)]. Set Bias to nil for a layer without bias.
func NewLinear(in, out int, rng *tensor.RNG) *Linear {
	w, b := tensor.New(out, in), tensor.New(out)
	defaultInit(w, b, rng)
	return &Linear{Weight: autograd.Param(w), Bias: autograd.Param(b)}
}

// WithSpectralNorm wraps the weight in spectral normalisation (dim 0) with
// u and v drawn from rng, and returns l.
func (l *Linear) WithSpectralNorm(rng *tensor.RNG) *Linear {
	l.SN = NewSpectralNorm(l.Weight.Shape(), 0, rng)
	return l
}

// Forward maps x [..., in] to [..., out]. It panics if x's last dimension
// is not in.
func (l *Linear) Forward(x *autograd.Value) *autograd.Value {
	ws := l.Weight.Shape()
	out, in := ws[0], ws[1]
	xs := x.Shape()
	if len(xs) == 0 || xs[len(xs)-1] != in {
		panic(fmt.Sprintf("nn.Linear: input shape %v for weight %v", xs, ws))
	}
	x2 := x
	if len(xs) != 2 {
		x2 = autograd.Reshape(x, -1, in)
	}
	y := autograd.MatMul(x2, snWeight(l.Weight, l.SN), false, true)
	if l.Bias != nil {
		y = autograd.Add(y, l.Bias)
	}
	if len(xs) != 2 {
		os := append(append([]int{}, xs[:len(xs)-1]...), out)
		y = autograd.Reshape(y, os...)
	}
	return y
}

// Params lists weight (weight_orig under spectral norm) and bias.
func (l *Linear) Params(prefix string) []Param {
	return weightParams(prefix, l.Weight, l.Bias, l.SN)
}

// Buffers lists spectral norm's weight_u and weight_v, if any.
func (l *Linear) Buffers(prefix string) []Buffer { return snBuffers(prefix, l.Weight, l.SN) }

// SetTraining sets spectral norm's mode, if any.
func (l *Linear) SetTraining(on bool) {
	if l.SN != nil {
		l.SN.SetTraining(on)
	}
}
