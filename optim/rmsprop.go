package optim

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// RMSPropConfig holds RMSProp's hyperparameters. DefaultRMSPropConfig gives
// torch.optim.RMSprop's defaults; WGAN (arXiv:1701.07875) used LR 5e-5.
type RMSPropConfig struct {
	LR          float32 // learning rate, >= 0
	Alpha       float32 // smoothing constant α of the squared-gradient average, >= 0
	Eps         float32 // added to the denominator, >= 0
	Momentum    float32 // momentum factor μ, >= 0 (0: none)
	Centered    bool    // normalize by the estimated variance instead of the second moment
	WeightDecay float32 // L2 penalty λ added to the gradient, >= 0
}

// DefaultRMSPropConfig returns torch.optim.RMSprop's defaults: LR 1e-2,
// Alpha 0.99, Eps 1e-8, no momentum, not centered, no weight decay.
func DefaultRMSPropConfig() RMSPropConfig {
	return RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}
}

func (c RMSPropConfig) validate() error {
	switch {
	case !(c.LR >= 0):
		return fmt.Errorf("invalid learning rate %v", c.LR)
	case !(c.Alpha >= 0):
		return fmt.Errorf("invalid alpha %v", c.Alpha)
	case !(c.Eps >= 0):
		return fmt.Errorf("invalid eps %v", c.Eps)
	case !(c.Momentum >= 0):
		return fmt.Errorf("invalid momentum %v", c.Momentum)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("invalid weight decay %v", c.WeightDecay)
	}
	return nil
}

// RMSProp is Hinton's RMSProp (Lecture 6e of "Neural Networks for Machine
// Learning"; centered version from Graves, "Generating Sequences With
// Recurrent Neural Networks", arXiv:1308.0850), as torch.optim.RMSprop: for
// each parameter θ with gradient g,
//
//	g ← g + λθ
//	s ← αs + (1−α)g²
//	a ← αa + (1−α)g,  d ← √(s − a²) + ε   (centered)
//	d ← √s + ε                           (otherwise)
//	b ← μb + g/d,  θ ← θ − lr·b          (momentum > 0)
//	θ ← θ − lr·g/d                       (otherwise)
type RMSProp struct {
	params []*autograd.Value
	cfg    RMSPropConfig
	steps  []int            // per-parameter step counts
	sq     []*tensor.Tensor // s: average of squared gradients
	buf    []*tensor.Tensor // b: momentum buffers (nil when Momentum == 0)
	avg    []*tensor.Tensor // a: average gradients (nil unless Centered)
}

// NewRMSProp returns an RMSProp optimizer for params, its state allocated
// now. It returns an error if the configuration is invalid or params is
// empty or repeats a Value.
func NewRMSProp(params []*autograd.Value, cfg RMSPropConfig) (*RMSProp, error) {
	if err := checkParams("NewRMSProp", params); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("optim.NewRMSProp: %w", err)
	}
	o := &RMSProp{params: params, cfg: cfg, steps: make([]int, len(params)), sq: zerosLike(params)}
	if cfg.Momentum > 0 {
		o.buf = zerosLike(params)
	}
	if cfg.Centered {
		o.avg = zerosLike(params)
	}
	return o, nil
}

// Config returns the current hyperparameters.
func (o *RMSProp) Config() RMSPropConfig { return o.cfg }

// LR returns the learning rate.
func (o *RMSProp) LR() float32 { return o.cfg.LR }

// SetLR sets the learning rate; it panics if lr is negative or NaN.
func (o *RMSProp) SetLR(lr float32) { checkLR("RMSProp", lr); o.cfg.LR = lr }

// ZeroGrad sets the parameters' gradients to nil.
func (o *RMSProp) ZeroGrad() { ZeroGrad(o.params) }

// Step updates every parameter that has a gradient. It panics if a
// gradient's size differs from its parameter's.
func (o *RMSProp) Step() {
	c := o.cfg
	alpha, eps, mu, wd, lr := c.Alpha, c.Eps, c.Momentum, c.WeightDecay, c.LR
	ca := float32(1 - float64(alpha))
	for i, p := range o.params {
		theta, g := gradOf("RMSProp", p)
		if g == nil {
			continue
		}
		g = g[:len(theta)]
		o.steps[i]++
		sq := o.sq[i].Data()[:len(theta)]
		var a, b []float32
		if c.Centered {
			a = o.avg[i].Data()[:len(theta)]
		}
		if mu > 0 {
			b = o.buf[i].Data()[:len(theta)]
		}
		for j, d := range g {
			if wd != 0 {
				d += wd * theta[j]
			}
			sq[j] = sq[j]*alpha + ca*d*d
			var den float32
			if c.Centered {
				a[j] = a[j]*alpha + ca*d
				den = sqrt32(sq[j] + -1*a[j]*a[j])
			} else {
				den = sqrt32(sq[j])
			}
			den += eps
			if mu > 0 {
				b[j] = b[j]*mu + d/den
				theta[j] += -lr * b[j]
			} else {
				theta[j] += -lr * (d / den)
			}
		}
	}
}

// State returns "rmsprop.step" (per-parameter step counts, [n]),
// "rmsprop.square_avg.i", "rmsprop.momentum_buffer.i" (when Momentum > 0),
// "rmsprop.grad_avg.i" (when Centered) and the hyperparameters
// "rmsprop.lr", "rmsprop.alpha", "rmsprop.eps", "rmsprop.momentum",
// "rmsprop.centered" (0 or 1) and "rmsprop.weight_decay", all as copies.
func (o *RMSProp) State() map[string]*tensor.Tensor {
	w := newStateWriter("rmsprop.")
	w.steps("step", o.steps)
	w.tensors("square_avg", o.sq)
	if o.cfg.Momentum > 0 {
		w.tensors("momentum_buffer", o.buf)
	}
	if o.cfg.Centered {
		w.tensors("grad_avg", o.avg)
	}
	w.scalar("lr", o.cfg.LR)
	w.scalar("alpha", o.cfg.Alpha)
	w.scalar("eps", o.cfg.Eps)
	w.scalar("momentum", o.cfg.Momentum)
	w.flag("centered", o.cfg.Centered)
	w.scalar("weight_decay", o.cfg.WeightDecay)
	return w.m
}

// LoadState restores a state saved by State, hyperparameters included. On
// error the optimizer is unchanged.
func (o *RMSProp) LoadState(state map[string]*tensor.Tensor) error {
	r := newStateReader("RMSProp", "rmsprop.", state)
	cfg := RMSPropConfig{
		LR:          r.scalar("lr"),
		Alpha:       r.scalar("alpha"),
		Eps:         r.scalar("eps"),
		Momentum:    r.scalar("momentum"),
		Centered:    r.flag("centered"),
		WeightDecay: r.scalar("weight_decay"),
	}
	steps := r.steps("step", len(o.params))
	shapes := shapesOf(o.params)
	sq := r.tensors("square_avg", shapes)
	var buf, avg []*tensor.Tensor
	if r.err == nil && cfg.Momentum > 0 {
		buf = r.tensors("momentum_buffer", shapes)
	}
	if r.err == nil && cfg.Centered {
		avg = r.tensors("grad_avg", shapes)
	}
	if r.err != nil {
		return r.err
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("optim.RMSProp.LoadState: %w", err)
	}
	o.cfg = cfg
	copy(o.steps, steps)
	copyAll(&o.sq, sq)
	if cfg.Momentum > 0 {
		copyAll(&o.buf, buf)
	} else {
		o.buf = nil
	}
	if cfg.Centered {
		copyAll(&o.avg, avg)
	} else {
		o.avg = nil
	}
	return nil
}
