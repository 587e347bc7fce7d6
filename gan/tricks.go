package gan

import (
	"fmt"
	"slices"
	"strconv"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// The training tricks of Salimans et al. 2016 ("Improved Techniques for
// Training GANs", arXiv:1606.03498) that act on the losses rather than on
// the networks: feature matching (sec. 3.1) and historical averaging (sec.
// 3.3). One-sided label smoothing (sec. 3.4) is MinimaxDiscriminatorLoss's
// smoothing; minibatch discrimination (sec. 3.2) and virtual batch norm
// (sec. 3.5) are layers, nn.MinibatchDiscrimination and
// nn.VirtualBatchNorm, as is Karras et al.'s minibatch standard deviation
// (arXiv:1710.10196), nn.MinibatchStdDev. Each trick here is a source of Terms that WithTerms
// adds to any Game, so they compose with every objective and variant.

// WithTerms is a Game with extra terms added to the wrapped Game's: ExtraD
// to the discriminator's, ExtraG to the generator's (either may be nil).
// They run after the wrapped game's terms, inside the same update, so their
// values are logged as "d/<name>" and "g/<name>" and their gradients reach
// the updated player. CombineTerms joins several sources.
type WithTerms struct {
	Game
	ExtraD, ExtraG func(step int) []Term
	// OnlyExtraG drops the wrapped game's generator terms, so ExtraG is the
	// generator's whole loss: Salimans et al. train G on feature matching
	// alone.
	OnlyExtraG bool
}

// DiscriminatorTerms returns the wrapped game's terms followed by ExtraD's.
func (w WithTerms) DiscriminatorTerms(step int) []Term {
	ts := w.Game.DiscriminatorTerms(step)
	if w.ExtraD != nil {
		ts = append(ts, w.ExtraD(step)...)
	}
	return ts
}

// GeneratorTerms returns the wrapped game's terms (none with OnlyExtraG)
// followed by ExtraG's.
func (w WithTerms) GeneratorTerms(step int) []Term {
	var ts []Term
	if !w.OnlyExtraG {
		ts = w.Game.GeneratorTerms(step)
	}
	if w.ExtraG != nil {
		ts = append(ts, w.ExtraG(step)...)
	}
	return ts
}

// ReusesFake reports whether the wrapped game reuses its fake batch
// (FakeReuser), so TwoPlayer sees through the wrapper.
func (w WithTerms) ReusesFake() bool {
	r, ok := w.Game.(FakeReuser)
	return ok && r.ReusesFake()
}

// CombineTerms returns a source of terms that calls each of fs in order and
// joins their terms; nil entries are skipped.
func CombineTerms(fs ...func(step int) []Term) func(step int) []Term {
	return func(step int) []Term {
		var ts []Term
		for _, f := range fs {
			if f != nil {
				ts = append(ts, f(step)...)
			}
		}
		return ts
	}
}

// FeatureCritic is a discriminator that exposes an intermediate layer's
// activations (the features f of feature matching) along with its raw
// outputs, from one forward pass. models.FeatureMLP is one.
type FeatureCritic interface {
	Features(x *ag.Value) (feat, logits *ag.Value)
}

// FeatureMatchingLoss is the feature matching objective of Salimans et al.
// 2016, sec. 3.1, on features real [N, ...] and fake [M, ...] (the same
// trailing shape):
//
//	L = || mean_n real_n - mean_m fake_m ||_2^2
//
// summed over every feature (the authors' code averages over features
// instead, which only scales L). It is 0 when the batch means agree and its
// gradient with respect to fake_m is -2/M (mean real - mean fake): each
// fake sample's features are pulled toward the real mean. It panics if the
// trailing shapes differ.
func FeatureMatchingLoss(real, fake *ag.Value) *ag.Value {
	rs, fs := real.Shape(), fake.Shape()
	if len(rs) == 0 || len(fs) == 0 || !tensor.SameShape(rs[1:], fs[1:]) {
		panic(fmt.Sprintf("gan.FeatureMatchingLoss: real features %v, fake features %v", rs, fs))
	}
	d := ag.Sub(ag.Mean(real, []int{0}, false), ag.Mean(fake, []int{0}, false))
	return ag.Sum(ag.Mul(d, d), nil, false)
}

// FeatureMatchingTerm returns the term "feature_matching", weight *
// FeatureMatchingLoss of d's features on the real batch (computed without
// recording: nothing of it is trained) and on fake, the generator's output
// whose gradient is wanted.
func FeatureMatchingTerm(d FeatureCritic, real *tensor.Tensor, fake *ag.Value, weight float32) Term {
	var fr *ag.Value
	ag.NoGrad(func() { fr, _ = d.Features(ag.Const(real)) })
	ff, _ := d.Features(fake)
	return Term{Name: "feature_matching", Value: ag.Scale(FeatureMatchingLoss(fr, ff), weight)}
}

// FeatureMatching is a source of the generator's feature matching term for
// WithTerms.ExtraG: each call draws a real batch and a fresh fake batch of
// Batch samples. With WithTerms.OnlyExtraG it replaces G's objective, as
// in the paper; without, it is added to it.
type FeatureMatching struct {
	D      FeatureCritic
	G      nn.Layer
	Prior  Prior
	Real   func(n int) *tensor.Tensor
	Batch  int
	RNG    *tensor.RNG
	Weight float32 // 0 means 1
}

// Terms returns the one term "feature_matching".
func (f *FeatureMatching) Terms(int) []Term {
	w := f.Weight
	if w == 0 {
		w = 1
	}
	fake := f.G.Forward(ag.Const(f.Prior.Sample(f.RNG, f.Batch)))
	return []Term{FeatureMatchingTerm(f.D, f.Real(f.Batch), fake, w)}
}

// HistoricalAverage is historical averaging (Salimans et al. 2016, sec.
// 3.3) for one player: with theta[i] the player's parameters at its i-th
// update, its loss gets the term
//
//	Weight * sum_k || theta_k - (1/t) sum_{i=1..t} theta_k[i] ||^2
//
// at update t, pulling the parameters back toward their running average,
// which damps the oscillations of gradient descent in a game. The average
// lives outside any step arena and is updated in place, one pass over the
// parameters per call; it is a constant in the term, so the gradient is
// 2 Weight (theta - average). The current parameters count in the average,
// so the first term is 0. State and LoadState let a checkpoint keep it.
type HistoricalAverage struct {
	Name   string // the term's name; default "hist_avg"
	Weight float32

	params []*ag.Value
	avg    []*tensor.Tensor
	t      int
}

// NewHistoricalAverage returns historical averaging of params with the
// given weight (the paper does not give one; try 1e-3 to 1e-1). It returns
// an error if params is empty or weight is negative.
func NewHistoricalAverage(params []*ag.Value, weight float32) (*HistoricalAverage, error) {
	if len(params) == 0 {
		return nil, fmt.Errorf("historical average: no parameters")
	}
	if weight < 0 {
		return nil, fmt.Errorf("historical average: weight %g must not be negative", weight)
	}
	h := &HistoricalAverage{Name: "hist_avg", Weight: weight, params: params}
	tensor.Persistent(func() {
		h.avg = make([]*tensor.Tensor, len(params))
		for i, p := range params {
			h.avg[i] = tensor.New(p.Shape()...)
		}
	})
	return h, nil
}

// State returns copies of the averages ("avg.<i>") and the update count
// ("t", one value), for a checkpoint.
func (h *HistoricalAverage) State() map[string]*tensor.Tensor {
	r := map[string]*tensor.Tensor{"t": tensor.FromSlice([]float32{float32(h.t)}, 1)}
	for i, a := range h.avg {
		r["avg."+strconv.Itoa(i)] = a.Clone()
	}
	return r
}

// LoadState restores what State returned, checking every shape.
func (h *HistoricalAverage) LoadState(state map[string]*tensor.Tensor) error {
	t, ok := state["t"]
	if !ok || t.Len() != 1 || len(state) != len(h.avg)+1 {
		return fmt.Errorf("historical average: state has %d tensors, want %d averages and t", len(state), len(h.avg))
	}
	for i, a := range h.avg {
		s, ok := state["avg."+strconv.Itoa(i)]
		if !ok || !slices.Equal(s.Shape(), a.Shape()) {
			return fmt.Errorf("historical average: average %d missing or not %v", i, a.Shape())
		}
	}
	for i, a := range h.avg {
		copy(a.Data(), state["avg."+strconv.Itoa(i)].Data())
	}
	h.t = int(t.Data()[0])
	return nil
}

// Updates returns how many parameter snapshots the average holds.
func (h *HistoricalAverage) Updates() int { return h.t }

// Average returns the running average of parameter i (shared: do not
// modify it).
func (h *HistoricalAverage) Average(i int) *tensor.Tensor { return h.avg[i] }

// Terms folds the current parameters into the average and returns the one
// term Name: Weight * sum_k ||theta_k - average_k||^2.
func (h *HistoricalAverage) Terms(int) []Term {
	h.t++
	c := 1 / float32(h.t)
	for i, p := range h.params {
		a, x := h.avg[i].Data(), p.Data().Data()
		for j := range a {
			a[j] += (x[j] - a[j]) * c
		}
	}
	var pen *ag.Value
	for i, p := range h.params {
		d := ag.Sub(p, ag.Const(h.avg[i]))
		s := ag.Sum(ag.Mul(d, d), nil, false)
		if pen == nil {
			pen = s
		} else {
			pen = ag.Add(pen, s)
		}
	}
	name := h.Name
	if name == "" {
		name = "hist_avg"
	}
	return []Term{{Name: name, Value: ag.Scale(pen, h.Weight)}}
}
