package optim

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// SGDConfig holds SGD's hyperparameters. The zero value with LR set is
// torch.optim.SGD's default: plain gradient descent.
type SGDConfig struct {
	LR          float32 // learning rate, >= 0
	Momentum    float32 // momentum factor μ, >= 0 (0: none)
	Dampening   float32 // dampening τ of the momentum's gradient term
	Nesterov    bool    // Nesterov momentum; needs Momentum > 0 and Dampening == 0
	WeightDecay float32 // L2 penalty λ added to the gradient, >= 0
}

func (c SGDConfig) validate() error {
	switch {
	case !(c.LR >= 0):
		return fmt.Errorf("invalid learning rate %v", c.LR)
	case !(c.Momentum >= 0):
		return fmt.Errorf("invalid momentum %v", c.Momentum)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("invalid weight decay %v", c.WeightDecay)
	case c.Dampening != c.Dampening:
		return fmt.Errorf("invalid dampening %v", c.Dampening)
	case c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0):
		return fmt.Errorf("Nesterov momentum needs momentum > 0 and dampening 0 (have %v, %v)", c.Momentum, c.Dampening)
	}
	return nil
}

// SGD is stochastic gradient descent with optional momentum, Nesterov
// momentum and weight decay, as torch.optim.SGD: for each parameter θ with
// gradient g,
//
//	g ← g + λθ
//	b ← g on the parameter's first step, else b ← μb + (1−τ)g
//	g ← g + μb (Nesterov) or g ← b (momentum > 0)
//	θ ← θ − lr·g
//
// Nesterov momentum follows Sutskever et al., "On the importance of
// initialization and momentum in deep learning" (ICML 2013), in PyTorch's
// formulation.
type SGD struct {
	params []*autograd.Value
	cfg    SGDConfig
	steps  []int            // per-parameter update counts
	buf    []*tensor.Tensor // momentum buffers, nil when Momentum == 0
}

// NewSGD returns an SGD optimizer for params. It returns an error if the
// configuration is invalid or params is empty or repeats a Value.
func NewSGD(params []*autograd.Value, cfg SGDConfig) (*SGD, error) {
	if err := checkParams("NewSGD", params); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("optim.NewSGD: %w", err)
	}
	o := &SGD{params: params, cfg: cfg, steps: make([]int, len(params))}
	if cfg.Momentum != 0 {
		o.buf = zerosLike(params)
	}
	return o, nil
}

// Config returns the current hyperparameters.
func (o *SGD) Config() SGDConfig { return o.cfg }

// LR returns the learning rate.
func (o *SGD) LR() float32 { return o.cfg.LR }

// SetLR sets the learning rate; it panics if lr is negative or NaN.
func (o *SGD) SetLR(lr float32) { checkLR("SGD", lr); o.cfg.LR = lr }

// ZeroGrad sets the parameters' gradients to nil.
func (o *SGD) ZeroGrad() { ZeroGrad(o.params) }

// Step updates every parameter that has a gradient. It panics if a
// gradient's size differs from its parameter's.
func (o *SGD) Step() {
	lr, mu, wd := o.cfg.LR, o.cfg.Momentum, o.cfg.WeightDecay
	damp := float32(1 - float64(o.cfg.Dampening))
	nesterov := o.cfg.Nesterov
	for i, p := range o.params {
		theta, g := gradOf("SGD", p)
		if g == nil {
			continue
		}
		g = g[:len(theta)]
		first := o.steps[i] == 0
		o.steps[i]++
		if mu == 0 {
			for j, d := range g {
				if wd != 0 {
					d += wd * theta[j]
				}
				theta[j] += -lr * d
			}
			continue
		}
		b := o.buf[i].Data()[:len(theta)]
		for j, d := range g {
			if wd != 0 {
				d += wd * theta[j]
			}
			if first {
				b[j] = d
			} else {
				b[j] = b[j]*mu + damp*d
			}
			if nesterov {
				d += mu * b[j]
			} else {
				d = b[j]
			}
			theta[j] += -lr * d
		}
	}
}

// State returns "sgd.step" (per-parameter update counts, [n]),
// "sgd.momentum_buffer.i" (when Momentum > 0) and the hyperparameters
// "sgd.lr", "sgd.momentum", "sgd.dampening", "sgd.nesterov" (0 or 1) and
// "sgd.weight_decay", all as copies.
func (o *SGD) State() map[string]*tensor.Tensor {
	w := newStateWriter("sgd.")
	w.steps("step", o.steps)
	if o.cfg.Momentum != 0 {
		w.tensors("momentum_buffer", o.buf)
	}
	w.scalar("lr", o.cfg.LR)
	w.scalar("momentum", o.cfg.Momentum)
	w.scalar("dampening", o.cfg.Dampening)
	w.flag("nesterov", o.cfg.Nesterov)
	w.scalar("weight_decay", o.cfg.WeightDecay)
	return w.m
}

// LoadState restores a state saved by State, hyperparameters included. On
// error the optimizer is unchanged.
func (o *SGD) LoadState(state map[string]*tensor.Tensor) error {
	r := newStateReader("SGD", "sgd.", state)
	cfg := SGDConfig{
		LR:          r.scalar("lr"),
		Momentum:    r.scalar("momentum"),
		Dampening:   r.scalar("dampening"),
		Nesterov:    r.flag("nesterov"),
		WeightDecay: r.scalar("weight_decay"),
	}
	steps := r.steps("step", len(o.params))
	var buf []*tensor.Tensor
	if r.err == nil && cfg.Momentum != 0 {
		buf = r.tensors("momentum_buffer", shapesOf(o.params))
	}
	if r.err != nil {
		return r.err
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("optim.SGD.LoadState: %w", err)
	}
	o.cfg = cfg
	copy(o.steps, steps)
	if cfg.Momentum != 0 {
		copyAll(&o.buf, buf)
	} else {
		o.buf = nil
	}
	return nil
}
