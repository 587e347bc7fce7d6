package autograd

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// CheckOptions tunes GradCheck. Zero fields take the defaults below, chosen
// for float32 data: the loss is accumulated in float64 from float32 outputs,
// so a central difference with step 1e-2 carries a truncation error of about
// Eps^2 times the third derivative and a rounding error near 1e-5; 2e-2
// relative plus 2e-3 absolute separates those from real bugs, which show up
// as errors of order one.
type CheckOptions struct {
	Eps         float64 // finite-difference step; default 1e-2
	Atol, Rtol  float64 // pass if |analytic - numeric| <= Atol + Rtol*|numeric|; defaults 2e-3, 2e-2
	SecondOrder bool    // also check Hessian-vector products
	Seed        uint64  // seeds the random projection and directions
}

func (o *CheckOptions) defaults() {
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.Atol == 0 {
		o.Atol = 2e-3
	}
	if o.Rtol == 0 {
		o.Rtol = 2e-2
	}
}

// GradCheck compares f's analytic gradients with central finite differences.
// f maps inputs to any-shaped output; the checked scalar is
// L = sum(f(x) * r) for a fixed random r, so every output element counts.
// With SecondOrder it also checks the Hessian-vector product of L along a
// random direction, computed by differentiating the gradient (createGraph),
// against the finite difference of the gradient. The inputs are not
// modified. It returns an error naming the input and element that disagree.
func GradCheck(f func(xs []*Value) *Value, inputs []*tensor.Tensor, opts CheckOptions) error {
	opts.defaults()
	rng := tensor.NewRNG(opts.Seed + 1)
	var r *tensor.Tensor
	// loss evaluates L at the given inputs in float64, with no recording.
	loss := func(xs []*tensor.Tensor) float64 {
		var out *Value
		NoGrad(func() { out = f(consts(xs)) })
		if r == nil {
			r = rng.Normal(0, 1, out.Shape()...)
		}
		s := 0.0
		for i, v := range out.data.Data() {
			s += float64(v) * float64(r.Data()[i])
		}
		return s
	}
	loss(inputs) // fixes r's shape
	// grads returns dL/dx at the given inputs, and with create the graph.
	grads := func(xs []*tensor.Tensor, create bool) ([]*Value, []*Value) {
		ps := make([]*Value, len(xs))
		for i, x := range xs {
			ps[i] = Param(x.Clone())
		}
		out := f(ps)
		if !tensor.SameShape(out.Shape(), r.Shape()) {
			panic(fmt.Sprintf("autograd.GradCheck: output shape %v changed from %v", out.Shape(), r.Shape()))
		}
		l := Sum(Mul(out, Const(r)), nil, false)
		return Grad([]*Value{l}, ps, nil, create), ps
	}
	analytic, _ := grads(inputs, false)
	for k, x := range inputs {
		for i := range x.Data() {
			xs := clones(inputs)
			xs[k].Data()[i] += float32(opts.Eps)
			lp := loss(xs)
			xs[k].Data()[i] -= float32(2 * opts.Eps)
			lm := loss(xs)
			num := (lp - lm) / (2 * opts.Eps)
			if err := compare("gradient", k, i, valueAt(analytic[k], i), num, opts); err != nil {
				return err
			}
		}
	}
	if !opts.SecondOrder {
		return nil
	}
	// Hessian-vector product: d/dx <dL/dx, v>.
	vs := make([]*tensor.Tensor, len(inputs))
	for k, x := range inputs {
		vs[k] = rng.Normal(0, 1, x.Shape()...)
	}
	g, ps := grads(inputs, true)
	var dot *Value
	for k, gk := range g {
		if gk == nil || !gk.requiresGrad {
			continue
		}
		t := Sum(Mul(gk, Const(vs[k])), nil, false)
		if dot == nil {
			dot = t
		} else {
			dot = Add(dot, t)
		}
	}
	var hv []*Value
	if dot != nil {
		hv = Grad([]*Value{dot}, ps, nil, false)
	} else {
		hv = make([]*Value, len(inputs)) // L is linear: the Hessian is 0
	}
	step := func(sign float64) []*tensor.Tensor {
		xs := clones(inputs)
		for k, x := range xs {
			tensor.Axpy(float32(sign*opts.Eps), vs[k], x)
		}
		return xs
	}
	gp, _ := grads(step(1), false)
	gm, _ := grads(step(-1), false)
	for k, x := range inputs {
		for i := range x.Data() {
			num := (valueAt(gp[k], i) - valueAt(gm[k], i)) / (2 * opts.Eps)
			if err := compare("Hessian-vector product", k, i, valueAt(hv[k], i), num, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

func compare(what string, k, i int, a, n float64, o CheckOptions) error {
	if math.IsNaN(a) || math.Abs(a-n) > o.Atol+o.Rtol*math.Abs(n) {
		return fmt.Errorf("%s of input %d at element %d: analytic %.6g, numeric %.6g", what, k, i, a, n)
	}
	return nil
}

func valueAt(v *Value, i int) float64 {
	if v == nil {
		return 0
	}
	return float64(v.data.Data()[i])
}

func consts(xs []*tensor.Tensor) []*Value {
	r := make([]*Value, len(xs))
	for i, x := range xs {
		r[i] = Const(x)
	}
	return r
}

func clones(xs []*tensor.Tensor) []*tensor.Tensor {
	r := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		r[i] = x.Clone()
	}
	return r
}
