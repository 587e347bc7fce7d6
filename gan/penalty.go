package gan

import (
	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Critic is a discriminator as a function from a batch of inputs to raw
// outputs (one per sample).
type Critic func(x *ag.Value) *ag.Value

// normEps keeps the derivative of the norm finite when a gradient is 0.
const normEps = 1e-12

// inputGradients returns dD/dx at x, recorded (createGraph) so a penalty
// built from it can be differentiated with respect to D's weights.
func inputGradients(d Critic, x *ag.Value) *ag.Value {
	out := d(x)
	return ag.Grad([]*ag.Value{ag.Sum(out, nil, false)}, []*ag.Value{x}, nil, true)[0]
}

// sqNorms returns each sample's squared gradient norm, [N], taken over the
// whole flattened gradient.
func sqNorms(g *ag.Value) *ag.Value {
	f := ag.Flatten(g)
	return ag.Sum(ag.Mul(f, f), []int{1}, false)
}

// Interpolate returns x_hat = e*real + (1-e)*fake with one e ~ U(0, 1) per
// sample, as a leaf that requires its gradient. real and fake are detached.
func Interpolate(real, fake *tensor.Tensor, rng *tensor.RNG) *ag.Value {
	shape := real.Shape()
	es := make([]int, len(shape))
	for i := range es {
		es[i] = 1
	}
	es[0] = shape[0]
	e := rng.Uniform(0, 1, es...)
	x := tensor.Add(fake, tensor.Mul(e, tensor.Sub(real, fake)))
	return ag.Param(x)
}

// GradientPenalty is WGAN-GP's two-sided penalty (Gulrajani et al. 2017,
// arXiv:1704.00028): lambda * E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat from
// Interpolate, the norm over each sample's whole flattened gradient. With
// oneSided it penalises only norms above 1: lambda * E[relu(||g|| - 1)^2].
// The paper's lambda is 10. The result depends on D's weights through the
// gradient, so its own gradient needs second derivatives.
func GradientPenalty(d Critic, xHat *ag.Value, lambda float32, oneSided bool) *ag.Value {
	n := ag.Sqrt(ag.AddScalar(sqNorms(inputGradients(d, xHat)), normEps))
	dev := ag.AddScalar(n, -1)
	if oneSided {
		dev = ag.Relu(dev)
	}
	return ag.Scale(ag.Mean(ag.Square(dev), nil, false), lambda)
}

// DivergencePenalty is WGAN-div's term (Wu et al. 2018, arXiv:1712.01026):
// k * E[||grad_x T(x_hat)||^p] at x_hat from Interpolate; the paper's
// defaults are k = 2, p = 6. It is added to the critic's loss.
func DivergencePenalty(d Critic, xHat *ag.Value, k, p float32) *ag.Value {
	s := ag.AddScalar(sqNorms(inputGradients(d, xHat)), normEps)
	return ag.Scale(ag.Mean(ag.Pow(s, p/2), nil, false), k)
}

// R1Penalty is the zero-centred penalty on real data of Mescheder et al.
// 2018 (arXiv:1801.04406): gamma/2 * E[||grad_x D(x)||^2], x real.
func R1Penalty(d Critic, real *tensor.Tensor, gamma float32) *ag.Value {
	return ag.Scale(ag.Mean(sqNorms(inputGradients(d, ag.Param(real))), nil, false), gamma/2)
}

// R2Penalty is R1's counterpart on generated data:
// gamma/2 * E[||grad_x D(G(z))||^2].
func R2Penalty(d Critic, fake *tensor.Tensor, gamma float32) *ag.Value {
	return R1Penalty(d, fake, gamma)
}

// DRAGANPoints returns DRAGAN's perturbed points (Kodali et al. 2017,
// arXiv:1705.07215, as in its reference code): x_hat = x + a*(x_p - x) with
// x_p = x + c*std(x)*u, u ~ U(0, 1) elementwise, a ~ U(0, 1) per sample and
// c = 0.5. Pass them to GradientPenalty (the paper's lambda is 10).
func DRAGANPoints(real *tensor.Tensor, rng *tensor.RNG, c float32) *ag.Value {
	d := real.Data()
	var s, ss float64
	for _, v := range d {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	n := float64(len(d))
	std := float32(0)
	if n > 1 {
		m := s / n
		v := (ss - n*m*m) / (n - 1)
		if v > 0 {
			std = float32(sqrt(v))
		}
	}
	u := rng.Uniform(0, 1, real.Shape()...)
	xp := tensor.Add(real, tensor.Scale(u, c*std))
	return Interpolate(xp, real, rng)
}
