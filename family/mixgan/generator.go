package mixgan

import (
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/tensor"
)

// Generator is the family's family.Generator: the mixture of the K
// generators, a sample being a deterministic function of its noise.
//
// Its noise has Noise.Dim + 1 coordinates. The first Noise.Dim are the
// chosen component's input; the last, v, chooses the component: it is
// drawn from the same prior and mapped to u in [0, 1] through that prior's
// CDF (ChoiceUniform: Phi(v) for the normal prior, (v + 1) / 2 for the
// uniform one on [-1, 1]), so u is uniform, and the component is the first
// i whose cumulative weight w_0 + ... + w_i exceeds u (Choose): inverse-CDF
// sampling of the generator weights softmax(logits). Samples drawn from
// Prior() thus follow the mixture sum_i w_i G_i, and interpolating the noise
// moves the last coordinate too, switching component where u crosses a
// cumulative weight.
//
// Truncation (sample -truncation) truncates the choice coordinate like the
// others, which confines u to the middle of [0, 1] and favours the
// components whose weights cover it: with truncation the component
// frequencies are not the weights.
type Generator struct {
	G *Mixture
	// Noise is the components' prior (without the choice coordinate).
	Noise gan.Prior
	// Post maps the networks' outputs to samples (the 2-D nets'
	// standardised points back to the data's coordinates), in place.
	Post func(*tensor.Tensor) *tensor.Tensor
	// Mean and Std are the 2-D nets' standardisation, which Post undoes
	// (x * Std + Mean), for exporters; Std is 0 for image nets, whose Post
	// is the identity.
	Mean []float64
	Std  float64
}

// Prior is the components' prior with one more coordinate, the choice.
func (g *Generator) Prior() gan.Prior {
	p := g.Noise
	p.Dim++
	return p
}

// ChoiceUniform maps a choice coordinate v drawn from a prior of the given
// kind to u = F(v) in [0, 1], F that prior's CDF: uniform when v follows the
// prior.
func ChoiceUniform(v float64, kind string) float64 {
	if kind == "uniform" {
		return math.Min(1, math.Max(0, (v+1)/2))
	}
	return 0.5 * math.Erfc(-v/math.Sqrt2)
}

// Choose returns the component of u in [0, 1] under weights w: the first i
// with u < w_0 + ... + w_i, or the last component with a positive weight
// when rounding leaves the total short of u.
func Choose(u float64, w []float64) int {
	var cum float64
	last := len(w) - 1
	for i, wi := range w {
		cum += wi
		if wi > 0 {
			last = i
		}
		if u < cum {
			return i
		}
	}
	return last
}

// Components returns the component each noise row of z [N, Dim+1] chooses
// under the current weights.
func (g *Generator) Components(z *tensor.Tensor) []int {
	n, dim := z.Size(0), z.Size(1)
	w := g.G.WeightValues()
	r := make([]int, n)
	for i := range r {
		r[i] = Choose(ChoiceUniform(float64(z.Data()[i*dim+dim-1]), g.Noise.Kind), w)
	}
	return r
}

// Generate maps noise z [N, Dim+1] to samples: row r goes through the
// generator its last coordinate chooses, without recording gradients.
func (g *Generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("mixgan: labels given to an unconditional generator")
	}
	if err := family.NoCodes(req, "mixgan"); err != nil {
		return nil, err
	}
	dim := g.Noise.Dim + 1
	if len(z.Shape()) != 2 || z.Size(1) != dim {
		return nil, fmt.Errorf("mixgan: noise of shape %v (want [N, %d]: %d noise coordinates and the component's choice)", z.Shape(), dim, g.Noise.Dim)
	}
	n := z.Size(0)
	rows := make([][]int, len(g.G.Nets))
	for r, k := range g.Components(z) {
		rows[k] = append(rows[k], r)
	}
	var out *tensor.Tensor
	var per int
	for k, rs := range rows {
		if len(rs) == 0 {
			continue
		}
		in := tensor.New(len(rs), g.Noise.Dim)
		for a, r := range rs {
			copy(in.Data()[a*g.Noise.Dim:(a+1)*g.Noise.Dim], z.Data()[r*dim:r*dim+g.Noise.Dim])
		}
		var y *tensor.Tensor
		ag.NoGrad(func() { y = g.G.Nets[k].Forward(ag.Const(in)).Data() })
		if out == nil {
			shape := append([]int{n}, y.Shape()[1:]...)
			out = tensor.New(shape...)
			per = y.Len() / len(rs)
		}
		for a, r := range rs {
			copy(out.Data()[r*per:(r+1)*per], y.Data()[a*per:(a+1)*per])
		}
	}
	if out == nil {
		return nil, fmt.Errorf("mixgan: no noise rows to generate from")
	}
	return g.Post(out), nil
}
