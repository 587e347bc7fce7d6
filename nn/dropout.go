package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Dropout zeroes each element with probability P in training mode and
// scales the rest by 1/(1-P) (inverted dropout; Srivastava et al. 2014), so
// evaluation mode is the identity, like torch.nn.Dropout. The masks are
// drawn from the layer's own RNG, so a seeded run repeats exactly.
type Dropout struct {
	P float64 // drop probability in [0, 1]

	rng      *tensor.RNG
	training bool
}

// NewDropout returns a Dropout with drop probability p drawing its masks
// from rng, in training mode. It panics if p is outside [0, 1].
func NewDropout(p float64, rng *tensor.RNG) *Dropout {
	if p < 0 || p > 1 {
		panic(fmt.Sprintf("nn.NewDropout: probability %g outside [0, 1]", p))
	}
	return &Dropout{P: p, rng: rng, training: true}
}

// Forward returns x * mask / (1 - P) in training mode, mask ~ Bernoulli(1 -
// P) per element (all zeros when P = 1), and x in evaluation mode.
func (d *Dropout) Forward(x *autograd.Value) *autograd.Value {
	if !d.training || d.P == 0 {
		return x
	}
	if d.P >= 1 {
		return autograd.Mul(x, autograd.Const(tensor.New(x.Shape()...)))
	}
	m := d.rng.Bernoulli(1-d.P, x.Shape()...)
	tensor.ScaleInPlace(m, float32(1/(1-d.P)))
	return autograd.Mul(x, autograd.Const(m))
}

// Params lists nothing.
func (d *Dropout) Params(string) []Param { return nil }

// Buffers lists nothing.
func (d *Dropout) Buffers(string) []Buffer { return nil }

// SetTraining turns dropping on (true) or off.
func (d *Dropout) SetTraining(on bool) { d.training = on }
