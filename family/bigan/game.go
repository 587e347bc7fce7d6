package bigan

import (
	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

func mean(x *ag.Value) *ag.Value { return ag.Mean(x, nil, false) }

// DiscriminatorLoss is the joint discriminator's loss of BiGAN (Donahue et
// al. 2017, arXiv:1605.09782, eq. 2) and ALI (Dumoulin et al. 2017,
// arXiv:1606.00704): binary cross-entropy with the encoder's pairs
// (x, E(x)) real and the generator's pairs (G(z), z) fake, each half
// weighted 1/2 as the authors' code averages them:
//
//	L_D = 1/2 E[-log D(x, E(x))] + 1/2 E[-log(1 - D(G(z), z))]
//	    = 1/2 mean(softplus(-real)) + 1/2 mean(softplus(fake))
//
// real and fake are D's logits [N] or [N, 1]. It returns the two halves,
// whose sum is the loss.
func DiscriminatorLoss(real, fake *ag.Value) (realTerm, fakeTerm *ag.Value) {
	return ag.Scale(mean(ag.Softplus(ag.Neg(real))), 0.5), ag.Scale(mean(ag.Softplus(fake)), 0.5)
}

// EncoderGeneratorLoss is the loss E and G minimise together against D.
// With minimax false it is the authors' code's (its "opp" loss): the
// discriminator's cross-entropy with the labels swapped, so E wants its
// pairs called fake and G its pairs called real (the non-saturating form
// of the game):
//
//	L_EG = 1/2 E[-log(1 - D(x, E(x)))] + 1/2 E[-log D(G(z), z)]
//	     = 1/2 mean(softplus(real)) + 1/2 mean(softplus(-fake))
//
// With minimax true it is -L_D, the paper's minimax value (eq. 3). real
// and fake are D's logits. It returns E's half and G's half.
func EncoderGeneratorLoss(real, fake *ag.Value, minimax bool) (eTerm, gTerm *ag.Value) {
	if minimax {
		r, f := DiscriminatorLoss(real, fake)
		return ag.Neg(r), ag.Neg(f)
	}
	return ag.Scale(mean(ag.Softplus(real)), 0.5), ag.Scale(mean(ag.Softplus(ag.Neg(fake))), 0.5)
}

// Game is the BiGAN/ALI game as a gan.Game: D's update scores a real
// batch x with E's codes and a generated batch with its noise, E and G's
// update (one player) scores the same pairs through the updated D. The
// authors' code updates D, E and G simultaneously from one pass (its
// update_both); Kallima's trainer runs phases in order, so D updates
// first and E and G then see the D just updated, on the same batch: one
// batch of the loader per step either way.
type Game struct {
	G *models.BiGANGenerator
	E *models.BiGANEncoder
	D *models.BiGANDiscriminator
	// Prior is p(z); Code maps E's linear output to a code (see code).
	Prior gan.Prior
	Code  Code
	// Minimax selects EncoderGeneratorLoss's minimax form.
	Minimax bool
	// Real returns the next real batch [Batch, C, S, S]; it must stay
	// valid until the step's end (a data.Loader's batch does).
	Real  func() *tensor.Tensor
	Batch int
	// RNG draws z and ALI's encoder noise.
	RNG *tensor.RNG

	x      *tensor.Tensor // the step's real batch
	z      *tensor.Tensor // the step's noise, [Batch, ZDim], outside any arena
	ez, gx *ag.Value      // E(x) and G(z) of D's update, kept for E and G's
}

// Code says how E's linear output becomes a code.
type Code int

const (
	// CodeUniform squashes the output into the uniform prior's (-1, 1):
	// 2 sigmoid(out) - 1, the authors' code's uniform distribution.
	CodeUniform Code = iota
	// CodeLinear uses the output itself (a deterministic encoder for a
	// normal prior).
	CodeLinear
	// CodeGaussian reads the output as ALI's Gaussian q(z|x): a mean and
	// a log-variance per dimension, sampled by the reparameterisation
	// trick z = mu + exp(logVar/2) eps while training; its mean is the
	// code an encoder reports.
	CodeGaussian
)

// encode maps E's linear output out to codes: a sample for CodeGaussian
// when rng is set, its mean otherwise.
func (c Code) encode(out *ag.Value, dim int, rng *tensor.RNG) *ag.Value {
	switch c {
	case CodeUniform:
		return ag.AddScalar(ag.Scale(ag.Sigmoid(out), 2), -1)
	case CodeGaussian:
		mu := ag.Slice(out, 1, 0, dim)
		if rng == nil {
			return mu
		}
		logVar := ag.Slice(out, 1, dim, 2*dim)
		eps := rng.Normal(0, 1, out.Shape()[0], dim)
		return ag.Add(mu, ag.Mul(ag.Exp(ag.Scale(logVar, 0.5)), ag.Const(eps)))
	}
	return out
}

// forward builds E's codes of x (sampled for ALI) and G's images of z.
func (g *Game) forward(x, z *tensor.Tensor) (ez, gx *ag.Value) {
	return g.Code.encode(g.E.Forward(ag.Const(x)), g.Prior.Dim, g.RNG), g.G.Forward(ag.Const(z))
}

// ReusesFake reports true (gan.FakeReuser): D's update builds E(x) and
// G(z) with their graphs, which TwoPlayer keeps for E and G's update in
// the same step. E and G do not change between the two updates, so this
// is the same computation done once (and ALI's encoder noise is drawn
// once per step).
func (g *Game) ReusesFake() bool { return true }

// DiscriminatorTerms draws the step's real batch and noise and returns D's
// loss as its two halves, "real" and "fake"; D sees E(x) and G(z)
// detached.
func (g *Game) DiscriminatorTerms(step int) []gan.Term {
	g.draw()
	g.ez, g.gx = g.forward(g.x, g.z)
	r, f := DiscriminatorLoss(g.D.Forward(ag.Const(g.x), ag.Const(g.ez.Data())), g.D.Forward(ag.Const(g.gx.Data()), ag.Const(g.z)))
	return []gan.Term{{Name: "real", Value: r}, {Name: "fake", Value: f}}
}

// GeneratorTerms returns E and G's loss on the step's pairs (fresh ones
// when no D update came before in the step) as its two halves, "e" and
// "g".
func (g *Game) GeneratorTerms(step int) []gan.Term {
	ez, gx := g.ez, g.gx
	g.ez, g.gx = nil, nil
	if ez == nil || !ez.RequiresGrad() {
		g.draw()
		ez, gx = g.forward(g.x, g.z)
	}
	real, fake := g.D.Forward(ag.Const(g.x), ez), g.D.Forward(gx, ag.Const(g.z))
	e, gt := EncoderGeneratorLoss(real, fake, g.Minimax)
	return []gan.Term{{Name: "e", Value: e}, {Name: "g", Value: gt}}
}

// draw takes the next real batch and fresh noise into the persistent
// buffer z.
func (g *Game) draw() {
	g.x = g.Real()
	if g.z == nil {
		tensor.Persistent(func() { g.z = tensor.New(g.Batch, g.Prior.Dim) })
	}
	copy(g.z.Data(), g.Prior.Sample(g.RNG, g.Batch).Data())
}
