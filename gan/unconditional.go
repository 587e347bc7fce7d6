package gan

import (
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Prior is the generator's noise distribution.
type Prior struct {
	Kind string // "normal" (N(0, 1)) or "uniform" (U[-1, 1])
	Dim  int
	// Truncation, set only when sampling a trained generator, draws
	// truncated noise (the truncation trick); the zero value draws the
	// prior itself, as training does.
	Truncation Truncation
}

// Sample draws n noise vectors [n, Dim].
func (p Prior) Sample(rng *tensor.RNG, n int) *tensor.Tensor {
	var z *tensor.Tensor
	if p.Kind == "uniform" {
		z = rng.Uniform(-1, 1, n, p.Dim)
	} else {
		z = rng.Normal(0, 1, n, p.Dim)
	}
	p.Truncation.apply(p, rng, z)
	return z
}

// Validate reports a prior a config got wrong.
func (p Prior) Validate() error {
	if p.Kind != "normal" && p.Kind != "uniform" {
		return fmt.Errorf("prior kind %q (want normal or uniform)", p.Kind)
	}
	if p.Dim <= 0 {
		return fmt.Errorf("prior dimension %d must be positive", p.Dim)
	}
	return p.Truncation.Validate()
}

// Penalty is a gradient penalty on the discriminator, selectable by name.
type Penalty struct {
	// Kind is "gp" (WGAN-GP, two-sided), "gp-one-sided", "dragan", "r1",
	// "r2" or "wgan-div"; "" for none.
	Kind string
	// Weight is lambda (gp, dragan), gamma (r1, r2) or k (wgan-div).
	Weight float32
	// Power is WGAN-div's p; default 6.
	Power float32
}

// PenaltyKinds lists the penalties by name.
var PenaltyKinds = []string{"gp", "gp-one-sided", "dragan", "r1", "r2", "wgan-div"}

// Validate reports an unknown kind or a negative weight.
func (p Penalty) Validate() error {
	switch p.Kind {
	case "", "gp", "gp-one-sided", "dragan", "r1", "r2", "wgan-div":
	default:
		return fmt.Errorf("unknown penalty %q (have %v)", p.Kind, PenaltyKinds)
	}
	if p.Weight < 0 {
		return fmt.Errorf("penalty weight %g must not be negative", p.Weight)
	}
	return nil
}

// Term builds the penalty on critic d for a real and a fake batch.
func (p Penalty) Term(d Critic, real, fake *tensor.Tensor, rng *tensor.RNG) *ag.Value {
	switch p.Kind {
	case "gp":
		return GradientPenalty(d, Interpolate(real, fake, rng), p.Weight, false)
	case "gp-one-sided":
		return GradientPenalty(d, Interpolate(real, fake, rng), p.Weight, true)
	case "dragan":
		return GradientPenalty(d, DRAGANPoints(real, rng, 0.5), p.Weight, false)
	case "r1":
		return R1Penalty(d, real, p.Weight)
	case "r2":
		return R2Penalty(d, fake, p.Weight)
	case "wgan-div":
		pw := p.Power
		if pw == 0 {
			pw = 6
		}
		return DivergencePenalty(d, Interpolate(real, fake, rng), p.Weight, pw)
	}
	panic("gan.Penalty.Term: unknown kind " + p.Kind)
}

// InstanceNoise adds Gaussian noise to everything D sees, with a standard
// deviation annealed linearly from Sigma to 0 over Steps generator steps
// (Sonderby et al. 2016, arXiv:1610.04490; Arjovsky & Bottou 2017).
type InstanceNoise struct {
	Sigma float32
	Steps int
}

// At returns the noise's standard deviation at a step.
func (n InstanceNoise) At(step int) float32 {
	if n.Sigma <= 0 || step >= n.Steps {
		return 0
	}
	return n.Sigma * (1 - float32(step)/float32(n.Steps))
}

// Apply adds the step's noise to x (x itself when the noise is off).
func (n InstanceNoise) Apply(rng *tensor.RNG, x *ag.Value, step int) *ag.Value {
	s := n.At(step)
	if s == 0 {
		return x
	}
	return ag.Add(x, ag.Const(rng.Normal(0, s, x.Shape()...)))
}

// Unconditional is the plain GAN game: G maps noise to samples, D scores
// real and generated samples.
type Unconditional struct {
	G, D      nn.Layer
	Objective Objective
	Penalty   Penalty
	Noise     InstanceNoise
	Prior     Prior
	// Real draws a batch of n real samples.
	Real  func(n int) *tensor.Tensor
	Batch int
	RNG   *tensor.RNG
	// ReuseFake makes G's update score the fake batch of D's last update
	// in the step (see FakeReuser) instead of a fresh one.
	ReuseFake bool
	// Pack is PacGAN's packing degree m (see Pack): D scores groups of m
	// samples, all real or all fake, so it must take m times the samples'
	// channels (features) and Batch must be a multiple of m. The loss
	// averages over the Batch/m groups, as the paper's D loss averages
	// over packed samples; G still draws Batch samples. A gradient penalty
	// works on packed groups: interpolates are drawn per group (one mixing
	// weight for a real group and a fake group), r1/r2/DRAGAN perturb the
	// packed real (fake) groups, and the norm is that of D's gradient with
	// respect to the whole group. 0 or 1: no packing.
	Pack int

	kept *ag.Value // D's fake batch, with G's graph, for G's update
}

// score is D's output on a batch x [Batch, ...], packed when Pack > 1.
func (u *Unconditional) score(x *ag.Value) *ag.Value { return u.D.Forward(Pack(x, u.Pack)) }

// ReusesFake reports ReuseFake (FakeReuser).
func (u *Unconditional) ReusesFake() bool { return u.ReuseFake }

// DiscriminatorTerms scores a real batch and a detached fake batch.
func (u *Unconditional) DiscriminatorTerms(step int) []Term {
	real := u.Real(u.Batch)
	var fake *tensor.Tensor
	if u.ReuseFake {
		// G's gradients stay on in this phase (TwoPlayer's Keep): the
		// graph is kept for G's update, and D's loss sees it detached.
		u.kept = u.G.Forward(ag.Const(u.Prior.Sample(u.RNG, u.Batch)))
		fake = u.kept.Data()
	} else {
		ag.NoGrad(func() { fake = u.G.Forward(ag.Const(u.Prior.Sample(u.RNG, u.Batch))).Data() })
	}
	dr := u.score(u.Noise.Apply(u.RNG, ag.Const(real), step))
	df := u.score(u.Noise.Apply(u.RNG, ag.Const(fake), step))
	terms := []Term{{Name: u.Objective.Name, Value: u.Objective.D(dr, df)}}
	if u.Penalty.Kind != "" {
		// The penalty sees D on packed groups (see Pack).
		pen := u.Penalty.Term(u.D.Forward, PackTensor(real, u.Pack), PackTensor(fake, u.Pack), u.RNG)
		terms = append(terms, Term{Name: u.Penalty.Kind, Value: pen})
	}
	return terms
}

// GeneratorTerms scores a fresh fake batch, or D's with ReuseFake (and a
// real one for the relativistic objectives).
func (u *Unconditional) GeneratorTerms(step int) []Term {
	fake := takeKept(&u.kept)
	if fake == nil {
		fake = u.G.Forward(ag.Const(u.Prior.Sample(u.RNG, u.Batch)))
	}
	df := u.score(u.Noise.Apply(u.RNG, fake, step))
	var dr *ag.Value
	if u.Objective.GUsesReal {
		dr = u.score(u.Noise.Apply(u.RNG, ag.Const(u.Real(u.Batch)), step))
	}
	return []Term{{Name: u.Objective.Name, Value: u.Objective.G(dr, df)}}
}

// takeKept returns the fake batch a discriminator update kept for the
// generator's update and clears it; nil when there is none (ReuseFake off,
// or G's update without a D update before it in the step).
func takeKept(kept **ag.Value) *ag.Value {
	f := *kept
	*kept = nil
	if f != nil && !f.RequiresGrad() {
		panic("gan: the kept fake batch has no graph to G: run the game through TwoPlayer, which keeps G's gradients in D's phase")
	}
	return f
}

// Plane returns rows*rows noise vectors [rows*rows, Dim] spread over the
// plane of the first two dimensions, the others at the prior's centre 0:
// vector r*rows+c has dimension 0 at the prior's quantile (c+0.5)/rows and
// dimension 1 at (r+0.5)/rows, so a grid laid out rows per row walks
// dimension 0 across and dimension 1 down, each cell holding an equal share
// of the prior's mass. It is the latent-space picture of Kingma and
// Welling's figure 4 (a 2-d latent) and, for more dimensions, a slice
// through the centre. It panics for fewer than two dimensions or rows.
func (p Prior) Plane(rows int) *tensor.Tensor {
	if p.Dim < 2 || rows < 1 {
		panic(fmt.Sprintf("gan: Plane(%d) of a %d-d prior: want 2 or more dimensions and 1 or more rows", rows, p.Dim))
	}
	q := make([]float32, rows)
	for i := range q {
		u := (float64(i) + 0.5) / float64(rows)
		if p.Kind == "uniform" {
			q[i] = float32(2*u - 1)
		} else {
			q[i] = float32(math.Sqrt2 * math.Erfinv(2*u-1))
		}
	}
	z := tensor.New(rows*rows, p.Dim)
	for r := range rows {
		for c := range rows {
			z.Data()[(r*rows+c)*p.Dim] = q[c]
			z.Data()[(r*rows+c)*p.Dim+1] = q[r]
		}
	}
	return z
}
