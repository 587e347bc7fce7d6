package family

import (
	"fmt"
	"slices"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Critic is a 2-D model's discriminator asked about points of the plane:
// what the live 2-D view draws as a heat map (D's value) and as arrows on
// the generator's samples (D's gradient, the direction in which G's loss
// pushes them, for every loss whose generator side decreases in D).
type Critic interface {
	// Score returns D's raw output (a logit, or a critic's value) at each
	// point of x [N, 2] in data coordinates, with the current weights in
	// evaluation mode, and with grad also d D / d x [N, 2] in data
	// coordinates (nil without). It records no gradient on any weight and
	// leaves every weight and statistic as it was.
	Score(x *tensor.Tensor, grad bool) (d []float32, dx *tensor.Tensor, err error)
}

// StandardCritic is the Critic of a discriminator that sees points
// standardised as (x - Mean) / Std, as the 2-D families train on them:
// it standardises the points, runs D in evaluation mode, and maps the
// gradient back to data coordinates (d/dx = d/dx' / Std).
type StandardCritic struct {
	Kind string // model.kind, for messages
	// D is the discriminator's output [N, 1] at standardised points.
	D func(x *ag.Value) *ag.Value
	// SetTraining sets the networks D runs through to training (true) or
	// evaluation mode.
	SetTraining func(on bool)
	Mean        []float64
	Std         float64
}

// Score implements Critic.
func (c *StandardCritic) Score(x *tensor.Tensor, grad bool) ([]float32, *tensor.Tensor, error) {
	if s := x.Shape(); len(s) != 2 || s[1] != len(c.Mean) {
		return nil, nil, fmt.Errorf("%s: critic of %d-d points given shape %v", c.Kind, len(c.Mean), s)
	}
	c.SetTraining(false)
	defer c.SetTraining(true)
	var d []float32
	var dx *tensor.Tensor
	tensor.Persistent(func() {
		xs := Standardise(x.Clone(), c.Mean, c.Std)
		if !grad {
			ag.NoGrad(func() { d = slices.Clone(c.D(ag.Const(xs)).Data().Data()) })
			return
		}
		in := ag.Param(xs)
		out := c.D(in)
		d = slices.Clone(out.Data().Data())
		g := ag.Grad([]*ag.Value{ag.Sum(out, nil, false)}, []*ag.Value{in}, nil, false)[0]
		dx = g.Data().Clone()
		for i := range dx.Data() {
			dx.Data()[i] /= float32(c.Std)
		}
	})
	return d, dx, nil
}
