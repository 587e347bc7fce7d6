package mixgan

import (
	"fmt"
	"slices"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// critic is the family.Critic of a 2-D mixture (model.net mlp): the D
// mixture's expected output sum_j w_j D_j at standardised points, w the
// mixture weights, with its gradient mapped back to data coordinates
// (d/dx = d/dx' / std). G's payoff is the w-weighted sum of its loss on
// each D_j, so for a loss linear in D (WGAN) the arrows are exactly the
// direction G's loss pushes its samples; for the others they weigh each
// D_j's gradient by w_j alone, not also by the loss's slope at D_j.
type critic struct {
	d    *Mixture
	mean []float64
	std  float64
}

func (c *critic) Score(x *tensor.Tensor, grad bool) ([]float32, *tensor.Tensor, error) {
	if s := x.Shape(); len(s) != 2 || s[1] != len(c.mean) {
		return nil, nil, fmt.Errorf("mixgan: critic of %d-d points given shape %v", len(c.mean), s)
	}
	c.d.SetTraining(false)
	defer c.d.SetTraining(true)
	w := c.d.WeightValues()
	var d []float32
	var dx *tensor.Tensor
	tensor.Persistent(func() {
		xs := standardise(x.Clone(), c.mean, c.std)
		expected := func(in *ag.Value) *ag.Value {
			var sum *ag.Value
			for j, net := range c.d.Nets {
				term := ag.Scale(net.Forward(in), float32(w[j]))
				if sum == nil {
					sum = term
				} else {
					sum = ag.Add(sum, term)
				}
			}
			return sum
		}
		if !grad {
			ag.NoGrad(func() { d = slices.Clone(expected(ag.Const(xs)).Data().Data()) })
			return
		}
		in := ag.Param(xs)
		out := expected(in)
		d = slices.Clone(out.Data().Data())
		g := ag.Grad([]*ag.Value{ag.Sum(out, nil, false)}, []*ag.Value{in}, nil, false)[0]
		dx = g.Data().Clone()
		for i := range dx.Data() {
			dx.Data()[i] /= float32(c.std)
		}
	})
	return d, dx, nil
}
