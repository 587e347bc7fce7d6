package gan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// AuxClassifierLayer is an auxiliary-classifier discriminator: images
// [N, C, H, W] to a source logit [N, 1] (real or fake) and class logits
// [N, Classes]. *models.ACDiscriminator is one.
type AuxClassifierLayer interface {
	nn.Module
	Forward(x *ag.Value) (source, class *ag.Value)
}

// CrossEntropyLoss is the mean negative log-likelihood of labels under the
// softmax of logits [N, K]:
//
//	L = -1/N sum_i log softmax(logits_i)[labels_i]
//
// computed as logits_i[y_i] - logsumexp(logits_i), stable for any logits.
// Its gradient with respect to logits is (softmax(logits) - onehot(y)) / N.
// It panics unless labels has N entries in [0, K).
func CrossEntropyLoss(logits *ag.Value, labels []int) *ag.Value {
	s := logits.Shape()
	if len(s) != 2 || len(labels) != s[0] {
		panic(fmt.Sprintf("gan.CrossEntropyLoss: logits %v with %d labels, want [%d K]", s, len(labels), len(labels)))
	}
	idx := make([]int32, len(labels))
	for i, y := range labels {
		if y < 0 || y >= s[1] {
			panic(fmt.Sprintf("gan.CrossEntropyLoss: label %d out of range for %d classes", y, s[1]))
		}
		idx[i] = int32(i*s[1] + y)
	}
	return ag.Neg(mean(ag.Gather(ag.LogSoftmax(logits, 1), idx, len(labels))))
}

// Names of the class terms of ACGAN's losses, as they appear in the logs
// ("d/class_real", "d/class_fake", "g/class_fake").
const (
	TermClassReal = "class_real"
	TermClassFake = "class_fake"
)

// ACGAN is the auxiliary classifier GAN game (Odena et al. 2017,
// "Conditional Image Synthesis with Auxiliary Classifier GANs",
// arXiv:1610.09585). G maps noise and a class c (drawn uniformly over
// Classes from RNG) to an image; D does not see the label but predicts it:
// from shared features it gives a source logit (real or fake) and class
// logits. With the source loss L_S and the class log-likelihood L_C,
//
//	L_S = E[log P(S=real | X_real)] + E[log P(S=fake | X_fake)]
//	L_C = E[log P(C=c | X_real)]    + E[log P(C=c | X_fake)]
//
// D maximises L_S + L_C and G maximises L_C - L_S. Here L_S is the
// configured Objective (the paper's is "ns"), and each class
// log-likelihood is a cross-entropy (CrossEntropyLoss) scaled by
// ClassWeight. D's loss is the terms
//
//	Objective.Name: Objective.D(D_s(x), D_s(G(z, c)))
//	class_real:     ClassWeight * CE(D_c(x), y)
//	class_fake:     ClassWeight * CE(D_c(G(z, c)), c)    (only with DFakeClass)
//
// plus the penalty on the source logit, with the fake batch detached (no
// D term reaches G). G's loss is the terms
//
//	Objective.Name: Objective.G(D_s(x), D_s(G(z, c)))
//	class_fake:     ClassWeight * CE(D_c(G(z, c)), c)
//
// (the real images' class term does not depend on G). DFakeClass true is
// the paper's D; false drops the fake images' class term from D's loss, so
// D's classifier learns from real images only (as PyTorch-StudioGAN's
// ACGAN does), which keeps it from learning to classify G's mistakes.
type ACGAN struct {
	G         ConditionalLayer
	D         AuxClassifierLayer
	Objective Objective
	Penalty   Penalty
	Noise     InstanceNoise
	Prior     Prior
	// Classes is the number of classes; labels are 0 .. Classes-1.
	Classes int
	// Real draws a batch of n real samples and their labels.
	Real  func(n int) (*tensor.Tensor, []int)
	Batch int
	RNG   *tensor.RNG
	// ClassWeight scales every class term; the paper's is 1.
	ClassWeight float32
	// DFakeClass puts the generated images' class term in D's loss, as
	// the paper does.
	DFakeClass bool
	// ReuseFake makes G's update score the fake batch (and labels) of D's
	// last update in the step (see FakeReuser) instead of a fresh one.
	ReuseFake bool

	kept       *ag.Value
	keptLabels []int
}

// ReusesFake reports ReuseFake (FakeReuser).
func (a *ACGAN) ReusesFake() bool { return a.ReuseFake }

// Validate reports a game a config got wrong.
func (a *ACGAN) Validate() error {
	err := validateLabelled("acgan", a.G == nil || a.D == nil, a.Real == nil, a.RNG, a.Objective, a.Batch, a.Prior, a.Penalty)
	switch {
	case err != nil:
		return err
	case a.Classes < 2:
		return fmt.Errorf("acgan game: %d classes: an auxiliary classifier needs at least 2", a.Classes)
	case !(a.ClassWeight > 0):
		return fmt.Errorf("acgan game: class weight %g must be positive", a.ClassWeight)
	}
	return nil
}

// fakes draws fake labels and the generator's samples for them.
func (a *ACGAN) fakes() (*ag.Value, []int) {
	return labelledFakes(a.G, a.Prior, a.RNG, a.Batch, a.Classes)
}

// realBatch draws a real batch and checks its labels.
func (a *ACGAN) realBatch() (*tensor.Tensor, []int) {
	return labelledBatch(a.Real, a.Batch, "gan.ACGAN")
}

// classTerm is ClassWeight * CE(logits, labels) under name.
func (a *ACGAN) classTerm(name string, logits *ag.Value, labels []int) Term {
	return Term{Name: name, Value: ag.Scale(CrossEntropyLoss(logits, labels), a.ClassWeight)}
}

// source is D's source logit alone, the critic a penalty constrains.
func (a *ACGAN) source(x *ag.Value) *ag.Value {
	s, _ := a.D.Forward(x)
	return s
}

// DiscriminatorTerms scores a labelled real batch and a detached fake
// batch: the source objective, the real class term and (DFakeClass) the
// fake class term, plus the penalty on the source logit.
func (a *ACGAN) DiscriminatorTerms(step int) []Term {
	real, yr := a.realBatch()
	var fake *tensor.Tensor
	var yf []int
	if a.ReuseFake {
		a.kept, a.keptLabels = a.fakes()
		fake, yf = a.kept.Data(), a.keptLabels
	} else {
		ag.NoGrad(func() {
			f, ys := a.fakes()
			fake, yf = f.Data(), ys
		})
	}
	sr, cr := a.D.Forward(a.Noise.Apply(a.RNG, ag.Const(real), step))
	sf, cf := a.D.Forward(a.Noise.Apply(a.RNG, ag.Const(fake), step))
	terms := []Term{{Name: a.Objective.Name, Value: a.Objective.D(sr, sf)}, a.classTerm(TermClassReal, cr, yr)}
	if a.DFakeClass {
		terms = append(terms, a.classTerm(TermClassFake, cf, yf))
	}
	if a.Penalty.Kind != "" {
		terms = append(terms, Term{Name: a.Penalty.Kind, Value: a.Penalty.Term(a.source, real, fake, a.RNG)})
	}
	return terms
}

// GeneratorTerms scores a fresh fake batch (D's with ReuseFake): the
// source objective (with a real batch for the relativistic objectives) and
// the fake class term.
func (a *ACGAN) GeneratorTerms(step int) []Term {
	fake, yf := takeKept(&a.kept), a.keptLabels
	if fake == nil {
		fake, yf = a.fakes()
	}
	sf, cf := a.D.Forward(a.Noise.Apply(a.RNG, fake, step))
	var sr *ag.Value
	if a.Objective.GUsesReal {
		real, _ := a.realBatch()
		sr = a.source(a.Noise.Apply(a.RNG, ag.Const(real), step))
	}
	return []Term{{Name: a.Objective.Name, Value: a.Objective.G(sr, sf)}, a.classTerm(TermClassFake, cf, yf)}
}
