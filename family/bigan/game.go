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
// batch x with E's codes and a generated batch with its noise, and E and
// G's update (one player) scores the same pairs, one batch of the loader
// per step. The authors' code updates D, E and G simultaneously from one
// pass (its update_both): with Simultaneous, E and G update first and D
// then scores the pairs they made before their update, which takes both
// gradients at the same point. Without it the updates alternate as
// gan.TwoPlayer's: D first, then E and G against the D just updated.
type Game struct {
	G *models.BiGANGenerator
	E *models.BiGANEncoder
	D *models.BiGANDiscriminator
	// Prior is p(z); Code maps E's linear output to a code (see code).
	Prior gan.Prior
	Code  Code
	// SigmaMax bounds ALI's posterior standard deviation (see
	// CodeGaussian); 0 leaves it unbounded.
	SigmaMax float32
	// Minimax selects EncoderGeneratorLoss's minimax form.
	Minimax bool
	// JointBatch makes D score the real and the fake pairs as one batch
	// (shared batch-norm statistics; the authors' --cat_inputs), instead
	// of two.
	JointBatch bool
	// Real returns the next real batch [Batch, C, S, S]; it must stay
	// valid until the step's end (a data.Loader's batch does).
	Real  func() *tensor.Tensor
	Batch int
	// RNG draws z and ALI's encoder noise.
	RNG *tensor.RNG

	// Simultaneous runs E and G's update first and D's on the pairs they
	// made before it (the authors' update_both; see Phases).
	Simultaneous bool

	x            *tensor.Tensor // the step's real batch
	z            *tensor.Tensor // the step's noise, [Batch, ZDim], outside any arena
	ez, gx       *ag.Value      // E(x) and G(z) of D's update, kept for E and G's
	ezBuf, gxBuf *tensor.Tensor // E(x) and G(z) of E and G's update, for D's
	pending      bool           // ezBuf and gxBuf hold this step's pairs
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
	// CodeGaussian reads the output as ALI's Gaussian q(z|x): a mean mu
	// and a scale s per dimension, sampled by the reparameterisation trick
	// z = mu + sigma eps while training, with sigma = sigmaMax sigmoid(s)
	// (bounded) or, for sigmaMax 0, sigma = exp(s/2) (s a log-variance,
	// unbounded); its mean is the code an encoder reports.
	CodeGaussian
)

// encode maps E's linear output out to codes: a sample for CodeGaussian
// when rng is set (its standard deviation bounded by sigmaMax, or
// unbounded for 0), its mean otherwise.
func (c Code) encode(out *ag.Value, dim int, rng *tensor.RNG, sigmaMax float32) *ag.Value {
	switch c {
	case CodeUniform:
		return ag.AddScalar(ag.Scale(ag.Sigmoid(out), 2), -1)
	case CodeGaussian:
		mu := ag.Slice(out, 1, 0, dim)
		if rng == nil {
			return mu
		}
		s := ag.Slice(out, 1, dim, 2*dim)
		sigma := ag.Exp(ag.Scale(s, 0.5))
		if sigmaMax > 0 {
			sigma = ag.Scale(ag.Sigmoid(s), sigmaMax)
		}
		eps := rng.Normal(0, 1, out.Shape()[0], dim)
		return ag.Add(mu, ag.Mul(sigma, ag.Const(eps)))
	}
	return out
}

// forward builds E's codes of x (sampled for ALI) and G's images of z.
func (g *Game) forward(x, z *tensor.Tensor) (ez, gx *ag.Value) {
	return g.Code.encode(g.E.Forward(ag.Const(x)), g.Prior.Dim, g.RNG, g.SigmaMax), g.G.Forward(ag.Const(z))
}

// ReusesFake reports whether D's update builds E(x) and G(z) with their
// graphs for E and G's update in the same step (gan.FakeReuser), as it
// does when the updates alternate: E and G do not change between the two
// updates, so this is the same computation done once (and ALI's encoder
// noise is drawn once per step).
func (g *Game) ReusesFake() bool { return !g.Simultaneous }

// Phases returns the trainer's phases for the players ge (E and G) and d.
// Simultaneous: E and G's update first, then D's on the pairs E and G
// made before their update, so both gradients are taken at the same
// point. Otherwise gan.TwoPlayer's: nCritic updates of D, then E and G's.
func (g *Game) Phases(ge, d *gan.Player, nCritic int) []gan.Phase {
	if g.Simultaneous {
		return []gan.Phase{{Player: ge, Terms: g.GeneratorTerms}, {Player: d, Terms: g.DiscriminatorTerms}}
	}
	return gan.TwoPlayer(g, ge, d, nCritic, 1)
}

// score returns D's logits on the real pairs (x, ez) and the fake pairs
// (gx, z): two passes, so each batch has its own batch-norm statistics,
// or with JointBatch one pass over both batches together.
func (g *Game) score(x, ez, gx, z *ag.Value) (real, fake *ag.Value) {
	if !g.JointBatch {
		return g.D.Forward(x, ez), g.D.Forward(gx, z)
	}
	n := x.Shape()[0]
	out := g.D.Forward(ag.Concat([]*ag.Value{x, gx}, 0), ag.Concat([]*ag.Value{ez, z}, 0))
	return ag.Slice(out, 0, 0, n), ag.Slice(out, 0, n, 2*n)
}

// DiscriminatorTerms returns D's loss as its two halves, "real" and
// "fake", on the pairs E and G's update of the step made (simultaneous
// updates), or on a fresh batch and noise; D sees E(x) and G(z) detached.
func (g *Game) DiscriminatorTerms(step int) []gan.Term {
	var ez, gx *ag.Value
	if g.pending {
		g.pending = false
		ez, gx = ag.Const(g.ezBuf), ag.Const(g.gxBuf)
	} else {
		g.draw()
		g.ez, g.gx = g.forward(g.x, g.z)
		ez, gx = ag.Const(g.ez.Data()), ag.Const(g.gx.Data())
	}
	r, f := DiscriminatorLoss(g.score(ag.Const(g.x), ez, gx, ag.Const(g.z)))
	return []gan.Term{{Name: "real", Value: r}, {Name: "fake", Value: f}}
}

// GeneratorTerms returns E and G's loss as its two halves, "e" and "g",
// on the pairs of D's update of the step (alternating updates) or on a
// fresh batch and noise, whose pairs it keeps for D's update (simultaneous
// updates).
func (g *Game) GeneratorTerms(step int) []gan.Term {
	ez, gx := g.ez, g.gx
	g.ez, g.gx = nil, nil
	if ez == nil || !ez.RequiresGrad() {
		g.draw()
		ez, gx = g.forward(g.x, g.z)
		if g.Simultaneous {
			// D's update of the step scores these pairs, as made now.
			tensor.Persistent(func() {
				if g.ezBuf == nil {
					g.ezBuf, g.gxBuf = tensor.New(ez.Shape()...), tensor.New(gx.Shape()...)
				}
			})
			copy(g.ezBuf.Data(), ez.Data().Data())
			copy(g.gxBuf.Data(), gx.Data().Data())
			g.pending = true
		}
	}
	real, fake := g.score(ag.Const(g.x), ez, gx, ag.Const(g.z))
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
