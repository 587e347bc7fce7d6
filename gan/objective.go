package gan

import (
	"fmt"
	"sort"
	"strings"

	ag "github.com/kallima-gan/kallima/autograd"
)

// Objective pairs a discriminator loss and a generator loss under one name,
// for selection in a config. Both take D's raw outputs on a real and a
// fake batch; losses that ignore the real batch in G's step say so, so the
// trainer can skip computing it.
type Objective struct {
	Name      string
	D         func(real, fake *ag.Value) *ag.Value
	G         func(real, fake *ag.Value) *ag.Value
	GUsesReal bool
	// Critic marks Wasserstein-style objectives whose D needs a Lipschitz
	// constraint (clipping, a gradient penalty or spectral norm).
	Critic bool
	Doc    string
}

// objectives maps names to constructors; smoothing applies to the
// classifier losses that have a real target.
func objectives(smoothing float32) map[string]Objective {
	m := map[string]Objective{
		"minimax": {D: func(r, f *ag.Value) *ag.Value { return MinimaxDiscriminatorLoss(r, f, smoothing) },
			G: func(_, f *ag.Value) *ag.Value { return MinimaxGeneratorLoss(f) }, Doc: "original minimax GAN (saturating G loss)"},
		"ns": {D: func(r, f *ag.Value) *ag.Value { return MinimaxDiscriminatorLoss(r, f, smoothing) },
			G: func(_, f *ag.Value) *ag.Value { return NonSaturatingGeneratorLoss(f) }, Doc: "GAN with the non-saturating G loss"},
		"lsgan": {D: func(r, f *ag.Value) *ag.Value { return LeastSquaresDiscriminatorLoss(r, f, LSCoding01) },
			G: func(_, f *ag.Value) *ag.Value { return LeastSquaresGeneratorLoss(f, LSCoding01) }, Doc: "least squares, 0-1-1 coding"},
		"wgan": {D: WassersteinCriticLoss, G: func(_, f *ag.Value) *ag.Value { return WassersteinGeneratorLoss(f) },
			Critic: true, Doc: "Wasserstein critic (pair with clipping, a penalty or spectral norm)"},
		"hinge": {D: HingeDiscriminatorLoss, G: func(_, f *ag.Value) *ag.Value { return WassersteinGeneratorLoss(f) }, Doc: "hinge"},
		"rsgan": {D: RelativisticDiscriminatorLoss, G: RelativisticGeneratorLoss, GUsesReal: true, Doc: "relativistic standard"},
		"rasgan": {D: RelativisticAverageDiscriminatorLoss, G: RelativisticAverageGeneratorLoss, GUsesReal: true,
			Doc: "relativistic average standard"},
		"ralsgan": {D: RelativisticAverageLSDiscriminatorLoss, G: RelativisticAverageLSGeneratorLoss, GUsesReal: true,
			Doc: "relativistic average least squares"},
		"rahinge": {D: RelativisticAverageHingeDiscriminatorLoss, G: RelativisticAverageHingeGeneratorLoss, GUsesReal: true,
			Doc: "relativistic average hinge"},
	}
	for name, d := range Divergences {
		d := d
		m["fgan-"+name] = Objective{D: func(r, f *ag.Value) *ag.Value { return FDiscriminatorLoss(d, r, f) },
			G: func(_, f *ag.Value) *ag.Value { return FGeneratorLoss(d, f) }, Doc: "f-GAN, " + d.description}
	}
	for k, o := range m {
		o.Name = k
		m[k] = o
	}
	return m
}

// ObjectiveNames lists the objectives LookupObjective knows, sorted.
func ObjectiveNames() []string {
	var r []string
	for k := range objectives(0) {
		r = append(r, k)
	}
	sort.Strings(r)
	return r
}

// LookupObjective returns the named objective with one-sided label
// smoothing s applied where it has a meaning (minimax and ns), or an error
// listing the names.
func LookupObjective(name string, smoothing float32) (Objective, error) {
	o, ok := objectives(smoothing)[name]
	if !ok {
		return Objective{}, fmt.Errorf("unknown loss %q (have %s)", name, strings.Join(ObjectiveNames(), ", "))
	}
	if smoothing != 0 && name != "minimax" && name != "ns" {
		return Objective{}, fmt.Errorf("label smoothing applies to the minimax and ns losses, not %q", name)
	}
	return o, nil
}
