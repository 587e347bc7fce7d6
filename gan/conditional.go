package gan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// ConditionalLayer is a network that takes a batch and one class label per
// sample: a conditional generator (noise [N, ZDim] to samples) or a
// conditional discriminator (samples to raw outputs [N, 1]).
type ConditionalLayer interface {
	nn.Module
	Forward(x *ag.Value, labels []int) *ag.Value
}

// Relabeler is a conditional discriminator whose label enters after the
// image's features, as a projection D's does: ForwardRelabel scores one
// batch x under two label sets from a single pass through the trunk and
// returns the logits for labels and for other. The game uses it for the
// matching-aware D's real batch, shown with its labels and with wrong ones;
// the result equals two Forward calls, with the trunk's batch statistics
// (and any power iteration) updated once instead of twice.
type Relabeler interface {
	ForwardRelabel(x *ag.Value, labels, other []int) (logits, otherLogits *ag.Value)
}

// Conditional is the class-conditional GAN game (Mirza & Osindero 2014,
// "Conditional Generative Adversarial Nets", arXiv:1411.1784): G maps noise
// and a label to a sample, D scores a sample given a label. Real batches
// come with their labels; fakes get labels drawn uniformly over Classes from
// RNG.
//
// With MatchingAware D also learns to reject real samples shown with a
// wrong label (Reed et al. 2016, "Generative Adversarial Text to Image
// Synthesis", arXiv:1605.05396, GAN-CLS): real + right label counts as real,
// real + wrong label and fake + its label as fake. The wrong labels are the
// real ones shifted by a uniform 1 .. Classes-1 (mod Classes), so every one
// is wrong. As in the paper, the two fake kinds share the fake side's
// weight half and half: D's loss is the two terms
//
//	Objective.Name: 1/2 * Objective.D(D(x, y), D(G(z, y'), y'))
//	mismatch:       1/2 * Objective.D(D(x, y), D(x, y_wrong))
//
// whose sum, for the objectives that add a real part and a fake part (all
// but the relativistic ones), is the real part plus the mean of the two
// fake parts: the paper's log(s_r) + (log(1 - s_w) + log(1 - s_f)) / 2.
// For the relativistic objectives it is the mean of the two relativistic
// games. G's loss is unchanged.
type Conditional struct {
	G, D      ConditionalLayer
	Objective Objective
	Penalty   Penalty
	Noise     InstanceNoise
	Prior     Prior
	// Classes is the number of classes; labels are 0 .. Classes-1.
	Classes int
	// Real draws a batch of n real samples and their labels.
	Real          func(n int) (*tensor.Tensor, []int)
	Batch         int
	RNG           *tensor.RNG
	MatchingAware bool
	// ReuseFake makes G's update score the fake batch (and labels) of D's
	// last update in the step (see FakeReuser) instead of a fresh one.
	ReuseFake bool

	kept       *ag.Value // D's fake batch, with G's graph, for G's update
	keptLabels []int
}

// ReusesFake reports ReuseFake (FakeReuser).
func (c *Conditional) ReusesFake() bool { return c.ReuseFake }

// Validate reports a game a config got wrong.
func (c *Conditional) Validate() error {
	err := validateLabelled("conditional", c.G == nil || c.D == nil, c.Real == nil, c.RNG, c.Objective, c.Batch, c.Prior, c.Penalty)
	switch {
	case err != nil:
		return err
	case c.Classes < 1:
		return fmt.Errorf("conditional game: %d classes", c.Classes)
	case c.MatchingAware && c.Classes < 2:
		return fmt.Errorf("conditional game: matching-aware D needs at least 2 classes, have %d", c.Classes)
	}
	return nil
}

// validateLabelled is the check a game with labelled real data and a
// conditional generator (Conditional, ACGAN) shares: its networks, data,
// random source, objective, batch size, prior and penalty.
func validateLabelled(game string, noNets, noReal bool, rng *tensor.RNG, obj Objective, batch int, prior Prior, penalty Penalty) error {
	switch {
	case noNets:
		return fmt.Errorf("%s game: missing generator or discriminator", game)
	case noReal:
		return fmt.Errorf("%s game: no real data", game)
	case rng == nil:
		return fmt.Errorf("%s game: no random source", game)
	case obj.D == nil || obj.G == nil:
		return fmt.Errorf("%s game: no objective", game)
	case batch <= 0:
		return fmt.Errorf("%s game: batch size %d must be positive", game, batch)
	}
	if err := prior.Validate(); err != nil {
		return fmt.Errorf("%s game: %w", game, err)
	}
	if err := penalty.Validate(); err != nil {
		return fmt.Errorf("%s game: %w", game, err)
	}
	return nil
}

// SampleLabels draws n labels uniformly from 0 .. classes-1.
func SampleLabels(rng *tensor.RNG, n, classes int) []int {
	ys := make([]int, n)
	for i := range ys {
		ys[i] = rng.Intn(classes)
	}
	return ys
}

// mismatched returns each label shifted by a uniform 1 .. classes-1, mod
// classes: a uniformly drawn wrong label.
func mismatched(rng *tensor.RNG, labels []int, classes int) []int {
	ys := make([]int, len(labels))
	for i, y := range labels {
		ys[i] = (y + 1 + rng.Intn(classes-1)) % classes
	}
	return ys
}

// realBatch draws a real batch and checks its labels.
func (c *Conditional) realBatch() (*tensor.Tensor, []int) {
	return labelledBatch(c.Real, c.Batch, "gan.Conditional")
}

// fakes draws fake labels and the generator's samples for them.
func (c *Conditional) fakes() (*ag.Value, []int) {
	return labelledFakes(c.G, c.Prior, c.RNG, c.Batch, c.Classes)
}

// labelledBatch draws a batch of n real samples with real and panics,
// naming game, if their labels do not match them.
func labelledBatch(real func(n int) (*tensor.Tensor, []int), n int, game string) (*tensor.Tensor, []int) {
	x, ys := real(n)
	if len(ys) != x.Size(0) {
		panic(fmt.Sprintf("%s: real batch %v has %d labels", game, x.Shape(), len(ys)))
	}
	return x, ys
}

// labelledFakes draws n labels uniformly over classes, then n noise
// vectors, and returns g's samples for them with the labels.
func labelledFakes(g ConditionalLayer, prior Prior, rng *tensor.RNG, n, classes int) (*ag.Value, []int) {
	ys := SampleLabels(rng, n, classes)
	return g.Forward(ag.Const(prior.Sample(rng, n)), ys), ys
}

// DiscriminatorTerms scores a labelled real batch and a detached fake batch
// with uniformly drawn labels, plus the mismatched real batch when
// MatchingAware, plus the penalty. The penalty sees D with the labels
// fixed: the fakes' labels for "r2" (its points are the fakes), the real
// labels otherwise (r1 and DRAGAN perturb real points; an interpolate
// between a real and a fake sample is scored under the real sample's
// label, which suffices because the constraint is on x for each label:
// the points only need to spread between the two distributions).
func (c *Conditional) DiscriminatorTerms(step int) []Term {
	real, yr := c.realBatch()
	var fake *tensor.Tensor
	var yf []int
	if c.ReuseFake {
		c.kept, c.keptLabels = c.fakes()
		fake, yf = c.kept.Data(), c.keptLabels
	} else {
		ag.NoGrad(func() {
			f, ys := c.fakes()
			fake, yf = f.Data(), ys
		})
	}
	relabel, share := c.D.(Relabeler)
	share = share && c.MatchingAware && c.Noise.At(step) == 0
	var dr, dw *ag.Value
	if !share {
		dr = c.D.Forward(c.Noise.Apply(c.RNG, ag.Const(real), step), yr)
	}
	df := c.D.Forward(c.Noise.Apply(c.RNG, ag.Const(fake), step), yf)
	var terms []Term
	if c.MatchingAware {
		if share {
			// Without instance noise the mismatched batch is the real
			// batch itself: one pass through D's trunk scores both.
			dr, dw = relabel.ForwardRelabel(ag.Const(real), yr, mismatched(c.RNG, yr, c.Classes))
		} else {
			dw = c.D.Forward(c.Noise.Apply(c.RNG, ag.Const(real), step), mismatched(c.RNG, yr, c.Classes))
		}
		terms = []Term{
			{Name: c.Objective.Name, Value: ag.Scale(c.Objective.D(dr, df), 0.5)},
			{Name: "mismatch", Value: ag.Scale(c.Objective.D(dr, dw), 0.5)},
		}
	} else {
		terms = []Term{{Name: c.Objective.Name, Value: c.Objective.D(dr, df)}}
	}
	if c.Penalty.Kind != "" {
		ys := yr
		if c.Penalty.Kind == "r2" {
			ys = yf
		}
		critic := func(x *ag.Value) *ag.Value { return c.D.Forward(x, ys) }
		terms = append(terms, Term{Name: c.Penalty.Kind, Value: c.Penalty.Term(critic, real, fake, c.RNG)})
	}
	return terms
}

// GeneratorTerms scores a fresh fake batch (D's with ReuseFake) under its labels (and a labelled
// real batch for the relativistic objectives).
func (c *Conditional) GeneratorTerms(step int) []Term {
	fake, yf := takeKept(&c.kept), c.keptLabels
	if fake == nil {
		fake, yf = c.fakes()
	}
	df := c.D.Forward(c.Noise.Apply(c.RNG, fake, step), yf)
	var dr *ag.Value
	if c.Objective.GUsesReal {
		real, yr := c.realBatch()
		dr = c.D.Forward(c.Noise.Apply(c.RNG, ag.Const(real), step), yr)
	}
	return []Term{{Name: c.Objective.Name, Value: c.Objective.G(dr, df)}}
}

// SampleClass draws n samples of class k from g: g(z, [k]*n) with z from
// prior, without recording gradients. Put g in evaluation mode first if it
// has batch norm: in training mode a batch of one class is normalised by its
// own statistics, which removes much of what the label added.
func SampleClass(g ConditionalLayer, prior Prior, k, n int, rng *tensor.RNG) *tensor.Tensor {
	ys := make([]int, n)
	for i := range ys {
		ys[i] = k
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.Forward(ag.Const(prior.Sample(rng, n)), ys).Data() })
	return out
}
