package optim

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/internal/parallel"
	"github.com/kallima-gan/kallima/tensor"
)

// AdamConfig holds Adam's hyperparameters. DefaultAdamConfig gives
// torch.optim.Adam's defaults and DefaultAdamWConfig torch.optim.AdamW's;
// GANs often use Beta1 = 0 or 0.5 (DCGAN: LR 2e-4, betas 0.5, 0.999).
type AdamConfig struct {
	LR          float32 // learning rate, >= 0
	Beta1       float32 // decay of the first moment, in [0, 1)
	Beta2       float32 // decay of the second moment, in [0, 1)
	Eps         float32 // added to the denominator, >= 0
	WeightDecay float32 // λ >= 0: an L2 term added to the gradient, or decoupled decay
	Decoupled   bool    // AdamW: decay the weights by lr·λ instead of adding λθ to the gradient
}

// DefaultAdamConfig returns torch.optim.Adam's defaults: LR 1e-3, betas
// (0.9, 0.999), Eps 1e-8, no weight decay.
func DefaultAdamConfig() AdamConfig {
	return AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// DefaultAdamWConfig returns torch.optim.AdamW's defaults: Adam's with
// decoupled weight decay 1e-2.
func DefaultAdamWConfig() AdamConfig {
	c := DefaultAdamConfig()
	c.WeightDecay, c.Decoupled = 1e-2, true
	return c
}

func (c AdamConfig) validate() error {
	switch {
	case !(c.LR >= 0):
		return fmt.Errorf("invalid learning rate %v", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("invalid beta1 %v, want [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("invalid beta2 %v, want [0, 1)", c.Beta2)
	case !(c.Eps >= 0):
		return fmt.Errorf("invalid eps %v", c.Eps)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("invalid weight decay %v", c.WeightDecay)
	}
	return nil
}

// Adam is the Adam optimizer of Kingma and Ba, "Adam: A Method for
// Stochastic Optimization" (arXiv:1412.6980), as torch.optim.Adam, or with
// Decoupled set, AdamW of Loshchilov and Hutter, "Decoupled Weight Decay
// Regularization" (arXiv:1711.05101), as torch.optim.AdamW. For each
// parameter θ with gradient g, at its t-th step:
//
//	θ ← θ(1 − lr·λ)                       (AdamW)
//	g ← g + λθ                            (Adam)
//	m ← β₁m + (1−β₁)g
//	v ← β₂v + (1−β₂)g²
//	θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)
type Adam struct {
	params []*autograd.Value
	cfg    AdamConfig
	steps  []int            // per-parameter step counts t
	m, v   []*tensor.Tensor // first and second moments
}

// NewAdam returns an Adam (or AdamW) optimizer for params, its moments
// allocated now. It returns an error if the configuration is invalid or
// params is empty or repeats a Value.
func NewAdam(params []*autograd.Value, cfg AdamConfig) (*Adam, error) {
	if err := checkParams("NewAdam", params); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("optim.NewAdam: %w", err)
	}
	return &Adam{
		params: params,
		cfg:    cfg,
		steps:  make([]int, len(params)),
		m:      zerosLike(params),
		v:      zerosLike(params),
	}, nil
}

// Config returns the current hyperparameters.
func (o *Adam) Config() AdamConfig { return o.cfg }

// LR returns the learning rate.
func (o *Adam) LR() float32 { return o.cfg.LR }

// SetLR sets the learning rate; it panics if lr is negative or NaN.
func (o *Adam) SetLR(lr float32) { checkLR("Adam", lr); o.cfg.LR = lr }

// ZeroGrad sets the parameters' gradients to nil.
func (o *Adam) ZeroGrad() { ZeroGrad(o.params) }

// Step updates every parameter that has a gradient. It panics if a
// gradient's size differs from its parameter's.
func (o *Adam) Step() {
	c := o.cfg
	b1, b2, eps, wd := c.Beta1, c.Beta2, c.Eps, c.WeightDecay
	c1 := float32(1 - float64(b1))
	c2 := float32(1 - float64(b2))
	decay := float32(1 - float64(c.LR)*float64(wd))
	for i, p := range o.params {
		theta, g := gradOf("Adam", p)
		if g == nil {
			continue
		}
		g = g[:len(theta)]
		o.steps[i]++
		step := o.steps[i]
		stepSize := -float32(float64(c.LR) / bias(b1, step))
		bc2 := float32(math.Sqrt(bias(b2, step)))
		m := o.m[i].Data()[:len(theta)]
		v := o.v[i].Data()[:len(theta)]
		k := adamStep{b1: b1, b2: b2, c1: c1, c2: c2, eps: eps, wd: wd, decay: decay, stepSize: stepSize, bc2: bc2,
			decoupled: c.Decoupled, l2: !c.Decoupled && wd != 0}
		if len(theta)*adamCost < 2*parallel.Grain {
			k.update(theta, g, m, v)
			continue
		}
		k.updateParallel(theta, g, m, v)
	}
}

// updateParallel is update in blocks on several goroutines, for a large
// parameter: elements are independent, and each is updated as on one. (A
// function of its own so that only here do the closure's captures move to
// the heap: small parameters' steps allocate nothing.)
func (k adamStep) updateParallel(theta, g, m, v []float32) {
	parallel.For(len(theta), adamCost, func(lo, hi int) {
		k.update(theta[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi])
	})
}

// adamCost is an Adam update's work per element, counted in the simple
// elementwise operations internal/parallel's grain is measured in (two
// moments, a square root and a division).
const adamCost = 8

// adamStep holds one parameter's coefficients for one step.
type adamStep struct {
	b1, b2, c1, c2, eps, wd, decay, stepSize, bc2 float32
	decoupled, l2                                 bool
}

// updateGo applies the step to theta with gradient g and moments m, v (all
// of theta's length): the reference loop, which update runs as it is
// without cgo and as a vectorised C loop with it (adam_cgo.go), to the bit.
func (k *adamStep) updateGo(theta, g, m, v []float32) {
	g, m, v = g[:len(theta)], m[:len(theta)], v[:len(theta)]
	// Locals, so the loop keeps them in registers.
	b1, b2, c1, c2, eps, wd, bc2, stepSize, l2 := k.b1, k.b2, k.c1, k.c2, k.eps, k.wd, k.bc2, k.stepSize, k.l2
	if k.decoupled {
		for j := range theta {
			theta[j] *= k.decay
		}
	}
	// The conversions round each product before its sum, which keeps the
	// compiler from fusing them (it may with GOAMD64=v3): one rounding per
	// operation, as torch.optim.Adam and the C loop of adam_cgo.go.
	for j, d := range g {
		if l2 {
			d += float32(wd * theta[j])
		}
		m[j] = float32(m[j]*b1) + float32(c1*d)
		v[j] = float32(v[j]*b2) + float32(c2*d*d)
		denom := sqrt32(v[j])/bc2 + eps
		theta[j] += float32(stepSize * (m[j] / denom))
	}
}

// sqrt32 is a float32 square root, correctly rounded (as the float64 root
// of a float32 rounded once to float32 is).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// State returns "adam.step" (per-parameter step counts, [n]), "adam.m.i" and
// "adam.v.i" (the moments) and the hyperparameters "adam.lr", "adam.beta1",
// "adam.beta2", "adam.eps", "adam.weight_decay" and "adam.decoupled" (0 or
// 1), all as copies.
func (o *Adam) State() map[string]*tensor.Tensor {
	w := newStateWriter("adam.")
	w.steps("step", o.steps)
	w.tensors("m", o.m)
	w.tensors("v", o.v)
	w.scalar("lr", o.cfg.LR)
	w.scalar("beta1", o.cfg.Beta1)
	w.scalar("beta2", o.cfg.Beta2)
	w.scalar("eps", o.cfg.Eps)
	w.scalar("weight_decay", o.cfg.WeightDecay)
	w.flag("decoupled", o.cfg.Decoupled)
	return w.m
}

// LoadState restores a state saved by State, hyperparameters included. On
// error the optimizer is unchanged.
func (o *Adam) LoadState(state map[string]*tensor.Tensor) error {
	r := newStateReader("Adam", "adam.", state)
	cfg := AdamConfig{
		LR:          r.scalar("lr"),
		Beta1:       r.scalar("beta1"),
		Beta2:       r.scalar("beta2"),
		Eps:         r.scalar("eps"),
		WeightDecay: r.scalar("weight_decay"),
		Decoupled:   r.flag("decoupled"),
	}
	steps := r.steps("step", len(o.params))
	m := r.tensors("m", shapesOf(o.params))
	v := r.tensors("v", shapesOf(o.params))
	if r.err != nil {
		return r.err
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("optim.Adam.LoadState: %w", err)
	}
	o.cfg = cfg
	copy(o.steps, steps)
	copyAll(&o.m, m)
	copyAll(&o.v, v)
	return nil
}
