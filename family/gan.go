package family

import (
	"cmp"
	"errors"
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// The helpers below are shared by the GAN families: the loss: section, the
// prior and the train: section's optimizer, schedule and EMA.

// CheckLoss validates the loss: section's names against package gan.
func CheckLoss(c config.Config) error {
	if _, err := gan.LookupObjective(c.Loss.Name, c.Loss.LabelSmoothing); err != nil {
		return fmt.Errorf("loss.name: %w", err)
	}
	if err := (gan.Penalty{Kind: c.Loss.Penalty, Weight: c.Loss.PenaltyWeight}).Validate(); err != nil {
		return fmt.Errorf("loss.penalty: %w", err)
	}
	return nil
}

// CheckPrior validates a section's prior and z_dim.
func CheckPrior(kind string, dim int) error {
	if err := (gan.Prior{Kind: kind, Dim: dim}).Validate(); err != nil {
		return fmt.Errorf("model.prior/z_dim: %w", err)
	}
	return nil
}

// CheckNoTricks reports the loss: tricks a family does not support yet.
func CheckNoTricks(c config.Config, kind string) error {
	if c.Loss.FeatureMatching > 0 || c.Loss.MinibatchKernels > 0 || c.Loss.HistoricalAverage > 0 {
		return fmt.Errorf("loss.feature_matching/minibatch_kernels/historical_average: not available for model.kind %s yet (model.kind mlp has them)", kind)
	}
	return nil
}

// FeatureNet is a discriminator that feature matching can read: a module
// with penultimate features.
type FeatureNet interface {
	nn.Module
	gan.FeatureCritic
}

// WithTricks wraps game in the loss: section's feature matching
// (loss.feature_matching, drawing a real batch from real and a fake batch
// of train.batch from rng; with loss.feature_matching_only it is G's whole
// loss) and historical averaging (loss.historical_average, on g's and d's
// parameters, whose running sums m keeps as the extras hist_d and hist_g),
// and returns game itself when neither is set.
func WithTricks(c config.Config, m *Model, game gan.Game, g nn.Layer, d FeatureNet, prior gan.Prior, real func(n int) *tensor.Tensor, rng *tensor.RNG) (gan.Game, error) {
	var extraD, extraG []func(int) []gan.Term
	if c.Loss.FeatureMatching > 0 {
		fm := &gan.FeatureMatching{D: d, G: g, Prior: prior, Real: real, Batch: c.Train.Batch, RNG: rng, Weight: c.Loss.FeatureMatching}
		extraG = append(extraG, fm.Terms)
	}
	if w := c.Loss.HistoricalAverage; w > 0 {
		hd, err := gan.NewHistoricalAverage(nn.Parameters(d), w)
		if err != nil {
			return nil, err
		}
		hg, err := gan.NewHistoricalAverage(nn.Parameters(g), w)
		if err != nil {
			return nil, err
		}
		extraD, extraG = append(extraD, hd.Terms), append(extraG, hg.Terms)
		if m.Extras == nil {
			m.Extras = map[string]Extra{}
		}
		m.Extras["hist_d"], m.Extras["hist_g"] = StateExtra{S: hd}, StateExtra{S: hg}
	}
	if len(extraD)+len(extraG) == 0 {
		return game, nil
	}
	return gan.WithTerms{Game: game, ExtraD: gan.CombineTerms(extraD...), ExtraG: gan.CombineTerms(extraG...), OnlyExtraG: c.Loss.FeatureMatchingOnly}, nil
}

// Loss returns the objective, penalty and instance noise of c's loss:
// section.
func Loss(c config.Config) (gan.Objective, gan.Penalty, gan.InstanceNoise, error) {
	obj, err := gan.LookupObjective(c.Loss.Name, c.Loss.LabelSmoothing)
	if err != nil {
		return gan.Objective{}, gan.Penalty{}, gan.InstanceNoise{}, fmt.Errorf("loss.name: %w", err)
	}
	penalty := gan.Penalty{Kind: c.Loss.Penalty, Weight: c.Loss.PenaltyWeight, Power: c.Loss.PenaltyPower}
	noise := gan.InstanceNoise{Sigma: c.Loss.InstanceNoise, Steps: cmp.Or(c.Loss.NoiseSteps, c.Train.Steps)}
	return obj, penalty, noise, nil
}

// NewPlayer makes a player that trains m with the train: section's
// optimizer at rate lr, its linear decay (train.lr_decay) and, when ema is
// true and train.ema is positive, an EMA of m's weights and buffers.
func NewPlayer(name string, m nn.Module, t config.Train, lr float32, ema bool) (*gan.Player, error) {
	opt, err := NewOptimizer(t, lr, nn.Parameters(m))
	if err != nil {
		return nil, fmt.Errorf("player %s: %w", name, err)
	}
	p := &gan.Player{Name: name, Module: m, Opt: opt}
	if t.LRDecay {
		p.LR = optim.Linear{Base: lr, Start: 0, End: t.Steps, Final: 0}
	}
	if ema && t.EMA > 0 {
		if p.EMA, err = optim.NewEMA(nn.Parameters(m), nn.BufferTensors(m), optim.EMAConfig{Decay: t.EMA, Warmup: true}); err != nil {
			return nil, fmt.Errorf("player %s: EMA: %w", name, err)
		}
	}
	return p, nil
}

// GANPlayers makes the two players of a GAN from the train: section: "g"
// training g at train.lr_g with the generator's EMA (train.ema), and "d"
// training d at train.lr_d with WGAN's weight clipping (train.clip_d).
func GANPlayers(t config.Train, g, d nn.Module) (pg, pd *gan.Player, err error) {
	if pg, err = NewPlayer("g", g, t, t.LRG, true); err != nil {
		return nil, nil, err
	}
	if pd, err = NewPlayer("d", d, t, t.LRD, false); err != nil {
		return nil, nil, err
	}
	pd.Clip = t.ClipD
	return pg, pd, nil
}

// NewOptimizer returns train.optimizer (adam or rmsprop) over ps at rate
// lr, with the section's betas for Adam.
func NewOptimizer(t config.Train, lr float32, ps []*ag.Value) (optim.Optimizer, error) {
	switch t.Optimizer {
	case "rmsprop":
		c := optim.DefaultRMSPropConfig()
		c.LR = lr
		return optim.NewRMSProp(ps, c)
	case "adam":
		c := optim.DefaultAdamConfig()
		c.LR, c.Beta1, c.Beta2 = lr, t.Beta1, t.Beta2
		return optim.NewAdam(ps, c)
	}
	return nil, errors.New("train.optimizer: want adam or rmsprop")
}
