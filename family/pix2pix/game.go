package pix2pix

import (
	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Game is pix2pix's conditional game on paired images. Each update draws a
// batch of pairs [a, b] (input and target concatenated along channels);
// D scores pairs that begin with the input: the real pair [a, b] and the
// fake pair [a, G(a)].
//
//	L_D = 1/2 Objective.D(D([a, b]), D([a, G(a)]))          G(a) detached
//	L_G = Objective.G(D([a, b]), D([a, G(a)])) + L1 mean |G(a) - b|
//
// D's outputs are patch logits [N, 1, H', W'], which every objective
// averages over patches and samples alike. G's terms are logged as the
// objective's name and "l1" (the weighted term).
type Game struct {
	G, D      nn.Layer
	Objective gan.Objective
	// L1 is lambda, the weight of the L1 term; 0 leaves the term out.
	L1 float32
	// Channels is the channel count of one image of a pair: a pair's
	// first Channels channels are the input a, the rest the target b.
	Channels int
	// Pairs draws a batch of pairs [N, 2 Channels, H, W].
	Pairs func() *tensor.Tensor
	// ReuseFake makes G's update use the input, target and G(a) of D's
	// last update in the step (one G pass per step, as the authors' code
	// does; see gan.FakeReuser) instead of drawing a fresh batch.
	ReuseFake bool

	kept         *ag.Value // D's G(a), with G's graph, for G's update
	keptA, keptB *ag.Value
}

// ReusesFake reports ReuseFake (gan.FakeReuser).
func (g *Game) ReusesFake() bool { return g.ReuseFake }

// split draws a batch of pairs and returns the inputs a and targets b.
func (g *Game) split() (a, b *ag.Value) {
	p := ag.Const(g.Pairs())
	c := g.Channels
	return ag.Slice(p, 1, 0, c), ag.Slice(p, 1, c, 2*c)
}

// pair concatenates an input and an output along channels, the input
// first, as D takes them.
func pair(a, out *ag.Value) *ag.Value { return ag.Concat([]*ag.Value{a, out}, 1) }

// DiscriminatorTerms scores a real pair [a, b] and a fake pair [a, G(a)]
// with G(a) detached, and halves the objective (the paper's section 3.3).
func (g *Game) DiscriminatorTerms(step int) []gan.Term {
	a, b := g.split()
	var fake *tensor.Tensor
	if g.ReuseFake {
		// G's gradients stay on in this phase (TwoPlayer's Keep): the
		// graph is kept for G's update, and D's loss sees it detached.
		g.kept, g.keptA, g.keptB = g.G.Forward(a), a, b
		fake = g.kept.Data()
	} else {
		ag.NoGrad(func() { fake = g.G.Forward(a).Data() })
	}
	dr := g.D.Forward(pair(a, b))
	df := g.D.Forward(pair(a, ag.Const(fake)))
	return []gan.Term{{Name: g.Objective.Name, Value: ag.Scale(g.Objective.D(dr, df), 0.5)}}
}

// GeneratorTerms scores [a, G(a)] with gradients to G and adds the
// weighted L1 distance of G(a) to the target b.
func (g *Game) GeneratorTerms(step int) []gan.Term {
	fake, a, b := g.kept, g.keptA, g.keptB
	g.kept, g.keptA, g.keptB = nil, nil, nil
	if fake == nil {
		a, b = g.split()
		fake = g.G.Forward(a)
	}
	df := g.D.Forward(pair(a, fake))
	var dr *ag.Value
	if g.Objective.GUsesReal {
		dr = g.D.Forward(pair(a, b))
	}
	terms := []gan.Term{{Name: g.Objective.Name, Value: g.Objective.G(dr, df)}}
	if g.L1 > 0 {
		terms = append(terms, gan.Term{Name: "l1", Value: ag.Scale(ag.Mean(ag.Abs(ag.Sub(fake, b)), nil, false), g.L1)})
	}
	return terms
}
