// Package toy runs the 2-D mixture benchmark: it builds an MLP GAN from a
// config, trains it on ring8, grid25 or a configured mixture, and scores
// 2,500 samples for mode coverage, sample quality, reverse KL and exact W1.
package toy

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/progress"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// Result is a finished toy run.
type Result struct {
	Score   metrics.MixtureScore
	Real    *tensor.Tensor // [n, 2] real points drawn for the plot
	Fake    *tensor.Tensor // [n, 2] generated points (EMA weights when EMA is on)
	Elapsed time.Duration
	Steps   int
}

// Run trains the config's GAN and scores it. Progress lines go to log
// (nil for none; a *progress.Bar shows a bar). ctx cancellation stops training early with gan.ErrStopped.
func Run(ctx context.Context, c config.Config, log io.Writer) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	mix := c.Mixture()
	root := tensor.NewRNG(c.Seed)
	initRNG, dataRNG, gameRNG, evalRNG := root.Split(), root.Split(), root.Split(), root.Split()
	prior := gan.Prior{Kind: c.Model.Prior, Dim: c.Model.ZDim}
	g, err := models.NewMLP(models.MLPConfig{In: prior.Dim, Out: mix.Dim(), Hidden: c.Model.GHidden, Act: c.Model.GAct, BatchNorm: c.Model.GBatchNorm}, initRNG)
	if err != nil {
		return Result{}, fmt.Errorf("model: generator: %w", err)
	}
	// The feature MLP is NewMLP's network plus a Features method (and the
	// minibatch layer when asked for).
	d, err := models.NewFeatureMLP(models.FeatureMLPConfig{
		MLPConfig:        models.MLPConfig{In: mix.Dim(), Out: 1, Hidden: c.Model.DHidden, Act: c.Model.DAct, SpecNorm: c.Model.DSpecNorm},
		MinibatchKernels: c.Loss.MinibatchKernels}, initRNG)
	if err != nil {
		return Result{}, fmt.Errorf("model: discriminator: %w", err)
	}
	obj, err := gan.LookupObjective(c.Loss.Name, c.Loss.LabelSmoothing)
	if err != nil {
		return Result{}, err
	}
	optG, err := newOptimizer(c.Train, c.Train.LRG, nn.Parameters(g))
	if err != nil {
		return Result{}, err
	}
	optD, err := newOptimizer(c.Train, c.Train.LRD, nn.Parameters(d))
	if err != nil {
		return Result{}, err
	}
	noiseSteps := c.Loss.NoiseSteps
	if noiseSteps == 0 {
		noiseSteps = c.Train.Steps
	}
	// The networks see standardised coordinates (data.Mixture.Moments);
	// samples are mapped back before scoring and plotting. A real batch is
	// drawn inside the step and lives only as long as it.
	mean, std := mix.Moments()
	std /= trainSpread
	real := func(n int) *tensor.Tensor { return standardise(mix.Sample(dataRNG, n), mean, std) }
	game := &gan.Unconditional{G: g, D: d, Objective: obj, Prior: prior, Batch: c.Train.Batch, RNG: gameRNG,
		Penalty: gan.Penalty{Kind: c.Loss.Penalty, Weight: c.Loss.PenaltyWeight, Power: c.Loss.PenaltyPower},
		Noise:   gan.InstanceNoise{Sigma: c.Loss.InstanceNoise, Steps: noiseSteps},
		Real:    real,
	}
	var extraD, extraG []func(int) []gan.Term
	if c.Loss.FeatureMatching > 0 {
		fm := &gan.FeatureMatching{D: d, G: g, Prior: prior, Real: real, Batch: c.Train.Batch, RNG: gameRNG, Weight: c.Loss.FeatureMatching}
		extraG = append(extraG, fm.Terms)
	}
	if w := c.Loss.HistoricalAverage; w > 0 {
		hd, err := gan.NewHistoricalAverage(nn.Parameters(d), w)
		if err != nil {
			return Result{}, err
		}
		hg, err := gan.NewHistoricalAverage(nn.Parameters(g), w)
		if err != nil {
			return Result{}, err
		}
		extraD, extraG = append(extraD, hd.Terms), append(extraG, hg.Terms)
	}
	var played gan.Game = game
	if len(extraD)+len(extraG) > 0 {
		played = gan.WithTerms{Game: game, ExtraD: gan.CombineTerms(extraD...), ExtraG: gan.CombineTerms(extraG...), OnlyExtraG: c.Loss.FeatureMatchingOnly}
	}
	tr := &gan.Trainer{Game: played, G: g, D: d, OptG: optG, OptD: optD, NCritic: c.Train.NCritic, Steps: c.Train.Steps, ClipD: c.Train.ClipD}
	if c.Train.RollbackEvery > 0 {
		tr.Rollback = &gan.Rollback{Every: c.Train.RollbackEvery, OnRollback: func(e *gan.DivergenceError, resume int) {
			if log != nil {
				fmt.Fprintf(log, "%v: rolled back to step %d with the learning rates halved\n", e, resume)
			}
		}}
	}
	if c.Train.LRDecay {
		tr.LRG = optim.Linear{Base: c.Train.LRG, Start: 0, End: c.Train.Steps, Final: 0}
		tr.LRD = optim.Linear{Base: c.Train.LRD, Start: 0, End: c.Train.Steps, Final: 0}
	}
	if c.Train.EMA > 0 {
		var bufs []*tensor.Tensor
		for _, b := range g.Buffers("") {
			bufs = append(bufs, b.Tensor)
		}
		tr.EMA, err = optim.NewEMA(nn.Parameters(g), bufs, optim.EMAConfig{Decay: c.Train.EMA, Warmup: true})
		if err != nil {
			return Result{}, err
		}
	}
	if log != nil {
		tr.Callbacks = append(tr.Callbacks, func(t *gan.Trainer, l gan.Logs) error {
			progress.Report(log, t.Step, t.Steps, c.Train.LogEvery, progress.Line(t.Step, t.Steps, 0, l["d/loss"], l["g/loss"], time.Since(start)))
			return nil
		})
	}
	runErr := tr.Run(ctx)
	if runErr != nil && runErr != gan.ErrStopped {
		return Result{}, runErr
	}
	if tr.EMA != nil {
		tr.EMA.Swap() // evaluate with the averaged weights
	}
	g.SetTraining(false)
	var fake *tensor.Tensor
	ag.NoGrad(func() { fake = g.Forward(ag.Const(prior.Sample(evalRNG, c.Train.SampleN))).Data() })
	fake = unstandardise(fake, mean, std)
	score, err := metrics.ScoreMixture(mix, fake, metrics.MixtureProtocol{Samples: c.Train.SampleN}, evalRNG)
	if err != nil {
		return Result{}, err
	}
	return Result{Score: score, Real: mix.Sample(evalRNG, c.Train.SampleN), Fake: fake, Elapsed: time.Since(start), Steps: tr.Step}, runErr
}

func newOptimizer(t config.Train, lr float32, ps []*ag.Value) (optim.Optimizer, error) {
	if t.Optimizer == "rmsprop" {
		c := optim.DefaultRMSPropConfig()
		c.LR = lr
		return optim.NewRMSProp(ps, c)
	}
	c := optim.DefaultAdamConfig()
	c.LR, c.Beta1, c.Beta2 = lr, t.Beta1, t.Beta2
	return optim.NewAdam(ps, c)
}

// trainSpread is the standard deviation the networks see: ring8's own
// (sqrt 2), which the MLP presets were tuned on; grid25 is shrunk by 2.
const trainSpread = math.Sqrt2

// standardise maps points x [n, d] to (x - mean) / std in place.
func standardise(x *tensor.Tensor, mean []float64, std float64) *tensor.Tensor {
	d := len(mean)
	for i, v := range x.Data() {
		x.Data()[i] = float32((float64(v) - mean[i%d]) / std)
	}
	return x
}

// unstandardise is standardise's inverse, in place.
func unstandardise(x *tensor.Tensor, mean []float64, std float64) *tensor.Tensor {
	d := len(mean)
	for i, v := range x.Data() {
		x.Data()[i] = float32(float64(v)*std + mean[i%d])
	}
	return x
}
