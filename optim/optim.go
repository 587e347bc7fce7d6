// Package optim holds Kallima's optimizers (SGD, Adam/AdamW, RMSProp),
// gradient clipping, learning-rate schedules and an exponential moving
// average of parameters.
//
// Optimizers follow torch.optim 1.13's single-tensor update formulas op for
// op in float32, with scalar coefficients (bias corrections, 1-beta)
// computed in float64 and rounded once, as PyTorch does in Python. They read
// the gradients that autograd.Backward accumulated on the parameters (a
// parameter whose Grad is nil is skipped, as in PyTorch) and update the
// parameters' data in place. Step allocates nothing: optimizer state is
// allocated when the optimizer is made.
//
// Hyperparameters are float32, like everything else in Kallima, so that an
// optimizer's State (step counters, moments and hyperparameters as named
// float32 tensors, ready for safetensors) round-trips exactly through
// LoadState: an optimizer restored from a checkpoint takes the same next
// step, bit for bit, as one that never stopped. Schedules are stateless
// values, so resuming them needs only the step number.
package optim

import (
	"fmt"
	"math"
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Optimizer updates parameters from their accumulated gradients.
//
// State returns copies of the optimizer's step counters, moment tensors and
// hyperparameters under deterministic keys that start with the optimizer's
// name ("adam.step", "adam.m.3", "adam.lr"); a checkpoint holding several
// optimizers should prefix the keys of each (for example "opt_d/adam.m.3").
// LoadState restores all of them, hyperparameters included (like PyTorch's
// load_state_dict), and returns an error, leaving the optimizer unchanged,
// if a key is missing or a tensor has the wrong shape or an invalid value.
// Keys it does not know are ignored, so one map can hold a whole checkpoint.
// Step counters are per parameter (a parameter without a gradient is not
// stepped) and stored as float32, exact up to 2^24 steps; LoadState rejects
// larger ones.
type Optimizer interface {
	// Step updates every parameter that has a gradient.
	Step()
	// ZeroGrad forgets the parameters' gradients (sets them to nil).
	ZeroGrad()
	// LR returns the current learning rate.
	LR() float32
	// SetLR sets the learning rate for the following steps.
	SetLR(lr float32)
	// State returns the optimizer's state as named tensors (copies).
	State() map[string]*tensor.Tensor
	// LoadState restores the state saved by State.
	LoadState(state map[string]*tensor.Tensor) error
}

// ZeroGrad sets the gradient of every parameter to nil, so that the next
// autograd.Backward starts afresh and a parameter that receives no gradient
// is skipped by the next Step (PyTorch's zero_grad(set_to_none=True)).
func ZeroGrad(params []*autograd.Value) {
	for _, p := range params {
		p.ZeroGrad()
	}
}

// checkParams returns an error if params is empty, holds nil or holds the
// same Value twice (it would be stepped twice).
func checkParams(op string, params []*autograd.Value) error {
	if len(params) == 0 {
		return fmt.Errorf("optim.%s: empty parameter list", op)
	}
	seen := make(map[*autograd.Value]int, len(params))
	for i, p := range params {
		if p == nil {
			return fmt.Errorf("optim.%s: parameter %d is nil", op, i)
		}
		if j, ok := seen[p]; ok {
			return fmt.Errorf("optim.%s: parameters %d and %d are the same Value", op, j, i)
		}
		seen[p] = i
	}
	return nil
}

// checkLR panics on a learning rate that is negative or NaN: SetLR is
// called by code (schedules), so a bad value is a programmer error.
func checkLR(op string, lr float32) {
	if !(lr >= 0) {
		panic(fmt.Sprintf("optim.%s.SetLR: invalid learning rate %v", op, lr))
	}
}

// gradOf returns p's gradient data, or nil when p has none. It panics if the
// gradient's size differs from the parameter's.
func gradOf(op string, p *autograd.Value) (data, grad []float32) {
	g := p.Grad()
	if g == nil {
		return nil, nil
	}
	d := p.Data()
	if g.Len() != d.Len() {
		panic(fmt.Sprintf("optim.%s.Step: gradient of shape %v for a parameter of shape %v", op, g.Shape(), d.Shape()))
	}
	return d.Data(), g.Data()
}

// zerosLike allocates zero-filled state tensors shaped like each parameter,
// outside any open tensor.Arena so they outlive the step.
func zerosLike(params []*autograd.Value) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(params))
	tensor.Persistent(func() {
		for i, p := range params {
			ts[i] = tensor.New(p.Shape()...)
		}
	})
	return ts
}

// bias returns 1 - beta^step in float64, as PyTorch computes it in Python.
func bias(beta float32, step int) float64 {
	return 1 - math.Pow(float64(beta), float64(step))
}

// maxExactStep is the largest step counter a float32 holds exactly.
const maxExactStep = 1 << 24

// stateWriter builds a State map under a prefix.
type stateWriter struct {
	prefix string
	m      map[string]*tensor.Tensor
}

func newStateWriter(prefix string) *stateWriter {
	return &stateWriter{prefix: prefix, m: map[string]*tensor.Tensor{}}
}

func (w *stateWriter) scalar(name string, v float32) {
	tensor.Persistent(func() { w.m[w.prefix+name] = tensor.Scalar(v) })
}

func (w *stateWriter) flag(name string, b bool) {
	v := float32(0)
	if b {
		v = 1
	}
	w.scalar(name, v)
}

// steps stores per-parameter step counters as a float32 vector (exact up to
// 2^24 steps, like PyTorch's float32 step tensors).
func (w *stateWriter) steps(name string, steps []int) {
	tensor.Persistent(func() {
		t := tensor.New(len(steps))
		for i, s := range steps {
			t.Data()[i] = float32(s)
		}
		w.m[w.prefix+name] = t
	})
}

// tensors stores copies of ts as name.0, name.1, ...
func (w *stateWriter) tensors(name string, ts []*tensor.Tensor) {
	tensor.Persistent(func() {
		for i, t := range ts {
			w.m[w.prefix+name+"."+strconv.Itoa(i)] = t.Clone()
		}
	})
}

// stateReader reads a State map under a prefix, remembering the first error
// so that a whole state can be read before checking once.
type stateReader struct {
	op     string
	prefix string
	m      map[string]*tensor.Tensor
	err    error
}

func newStateReader(op, prefix string, m map[string]*tensor.Tensor) *stateReader {
	return &stateReader{op: op, prefix: prefix, m: m}
}

func (r *stateReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("optim.%s.LoadState: %s", r.op, fmt.Sprintf(format, args...))
	}
}

func (r *stateReader) get(name string) *tensor.Tensor {
	key := r.prefix + name
	t, ok := r.m[key]
	if !ok || t == nil {
		r.fail("missing key %q", key)
		return nil
	}
	return t
}

// scalar reads a one-element tensor (shape [] or [1]) holding a finite value.
func (r *stateReader) scalar(name string) float32 {
	t := r.get(name)
	if t == nil {
		return 0
	}
	if t.Len() != 1 || t.Dim() > 1 {
		r.fail("%q has shape %v, want a scalar", r.prefix+name, t.Shape())
		return 0
	}
	v := t.Data()[0]
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		r.fail("%q is %v", r.prefix+name, v)
		return 0
	}
	return v
}

// flag reads a scalar that must be 0 or 1.
func (r *stateReader) flag(name string) bool {
	v := r.scalar(name)
	if v != 0 && v != 1 {
		r.fail("%q is %v, want 0 or 1", r.prefix+name, v)
	}
	return v == 1
}

// steps reads a vector of n non-negative integer step counters.
func (r *stateReader) steps(name string, n int) []int {
	t := r.get(name)
	if t == nil {
		return nil
	}
	if t.Dim() != 1 || t.Len() != n {
		r.fail("%q has shape %v, want [%d] (one counter per parameter)", r.prefix+name, t.Shape(), n)
		return nil
	}
	s := make([]int, n)
	for i, v := range t.Data() {
		if !(v >= 0) || v > maxExactStep || v != float32(math.Trunc(float64(v))) {
			r.fail("%q[%d] is %v, want a non-negative integer", r.prefix+name, i, v)
			return nil
		}
		s[i] = int(v)
	}
	return s
}

// tensors reads name.0 ... name.(n-1), the i-th of shape shapes[i]. It
// returns the tensors themselves (the caller copies them).
func (r *stateReader) tensors(name string, shapes [][]int) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(shapes))
	for i, shape := range shapes {
		key := name + "." + strconv.Itoa(i)
		t := r.get(key)
		if t == nil {
			return nil
		}
		if !tensor.SameShape(t.Shape(), shape) {
			r.fail("%q has shape %v, want %v", r.prefix+key, t.Shape(), shape)
			return nil
		}
		out[i] = t
	}
	return out
}

// shapesOf returns the shapes of params.
func shapesOf(params []*autograd.Value) [][]int {
	s := make([][]int, len(params))
	for i, p := range params {
		s[i] = p.Shape()
	}
	return s
}

// copyAll copies src[i] into dst[i] (allocating dst[i] if nil).
func copyAll(dst *[]*tensor.Tensor, src []*tensor.Tensor) {
	if *dst == nil {
		*dst = make([]*tensor.Tensor, len(src))
	}
	tensor.Persistent(func() {
		for i, s := range src {
			if (*dst)[i] == nil {
				(*dst)[i] = s.Clone()
				continue
			}
			(*dst)[i].CopyFrom(s)
		}
	})
}
