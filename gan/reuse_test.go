package gan

import (
	"context"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// reuseSetup builds a small unconditional game (G and D one linear layer
// each, SGD) and its trainer, from fixed seeds.
func reuseSetup(t *testing.T, reuse, wrap bool) (*Unconditional, *Trainer) {
	t.Helper()
	rng := tensor.NewRNG(3)
	g, d := nn.NewLinear(2, 2, rng), nn.NewLinear(2, 1, rng)
	realRNG := tensor.NewRNG(4)
	u := &Unconditional{G: g, D: d, Objective: mustObjective(t, "ns"), Prior: Prior{Kind: "normal", Dim: 2},
		Batch: 8, RNG: tensor.NewRNG(5), ReuseFake: reuse,
		Real: func(n int) *tensor.Tensor { return realRNG.Normal(2, 1, n, 2) }}
	og, err := optim.NewSGD(nn.Parameters(g), optim.SGDConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	od, err := optim.NewSGD(nn.Parameters(d), optim.SGDConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	pg, pd := &Player{Name: "g", Module: g, Opt: og}, &Player{Name: "d", Module: d, Opt: od}
	var game Game = u
	if wrap {
		game = WithTerms{Game: u}
	}
	return u, &Trainer{Players: []*Player{pg, pd}, Phases: TwoPlayer(game, pg, pd, 1, 1), Steps: 1}
}

// TestReuseFakeIsTheBenchStep checks that with ReuseFake one step is D's
// update on a fake batch G(z), then G's update on D'(G(z)) for the same z
// (the updated D), as PyTorch's DCGAN example does, by redoing the step by
// hand; and that without it G's update sees other noise.
func TestReuseFakeIsTheBenchStep(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		u, tr := reuseSetup(t, true, wrap)
		g, d := u.G.(*nn.Linear), u.D.(*nn.Linear)
		gw, gb, dw, db := g.Weight.Data().Clone(), g.Bias.Data().Clone(), d.Weight.Data().Clone(), d.Bias.Data().Clone()
		if len(tr.Phases[0].Keep) != 1 || tr.Phases[0].Keep[0] != tr.Players[0] {
			t.Fatalf("wrap %v: D's phase does not keep G's gradients", wrap)
		}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		// By hand: the same draws in the same order.
		real := tensor.NewRNG(4).Normal(2, 1, 8, 2)
		z := tensor.NewRNG(5).Normal(0, 1, 8, 2)
		G := &nn.Linear{Weight: ag.Param(gw), Bias: ag.Param(gb)}
		D := &nn.Linear{Weight: ag.Param(dw), Bias: ag.Param(db)}
		fake := G.Forward(ag.Const(z))
		ld := u.Objective.D(D.Forward(ag.Const(real)), D.Forward(fake.Detach()))
		ag.Backward(ld)
		sgd := func(p *ag.Value) {
			w, gr := p.Data().Data(), p.Grad().Data()
			for i := range w {
				w[i] -= 0.1 * gr[i]
			}
		}
		sgd(D.Weight)
		sgd(D.Bias)
		lg := u.Objective.G(nil, D.Forward(fake))
		ag.Backward(lg)
		sgd(G.Weight)
		sgd(G.Bias)
		for name, pair := range map[string][2]*tensor.Tensor{
			"g.weight": {g.Weight.Data(), G.Weight.Data()}, "g.bias": {g.Bias.Data(), G.Bias.Data()},
			"d.weight": {d.Weight.Data(), D.Weight.Data()},
		} {
			for i, v := range pair[0].Data() {
				if w := pair[1].Data()[i]; v != w {
					t.Fatalf("wrap %v: %s[%d] = %g after the trainer's step, %g by hand", wrap, name, i, v, w)
				}
			}
		}
		if u.kept != nil {
			t.Fatal("the kept fake batch outlives the step")
		}
	}
	// Without ReuseFake, G's update draws fresh noise: G ends elsewhere.
	a, ta := reuseSetup(t, false, false)
	b, tb := reuseSetup(t, true, false)
	for _, tr := range []*Trainer{ta, tb} {
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if a.G.(*nn.Linear).Weight.Data().Data()[0] == b.G.(*nn.Linear).Weight.Data().Data()[0] {
		t.Fatal("fresh and reused fake batches gave the same generator update")
	}
	if !a.G.(*nn.Linear).Weight.RequiresGrad() || !b.D.(*nn.Linear).Weight.RequiresGrad() {
		t.Fatal("parameters left frozen after the step")
	}
}
