package config

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kallima-gan/kallima/data"
)

// Validate checks every field, naming the first one that is wrong and how
// to fix it.
func (c Config) Validate() error {
	if err := c.validateData(); err != nil {
		return err
	}
	if err := c.validateModel(); err != nil {
		return err
	}
	return c.validateRest()
}

// validateData checks the data section.
func (c Config) validateData() error {
	d := c.Data
	if d.Order != "" && d.Kind != "mnist" {
		return fmt.Errorf("data.order: %q orders mnist's training digits, and data.kind is %s (leave data.order out)", d.Order, d.Kind)
	}
	switch d.Kind {
	case "ring8", "grid25":
	case "mixture":
		if c.Data.Mixture == nil {
			return errors.New("data.mixture: data.kind is mixture but no mixture is given (means, sigmas, weights)")
		}
		if err := c.Data.Mixture.Validate(); err != nil {
			return fmt.Errorf("data.mixture: %w", err)
		}
	case "mnist":
		if d.Size != 0 && d.Size != 28 {
			return fmt.Errorf("data.size: %d, but mnist images are 28x28 (leave data.size out)", d.Size)
		}
		if d.Channels != 0 && d.Channels != 1 {
			return fmt.Errorf("data.channels: %d, but mnist images are gray (leave data.channels out)", d.Channels)
		}
		if d.N < 0 || d.N > data.MNISTTrainN {
			return fmt.Errorf("data.n: %d (want the first N of mnist's %d training digits, or 0 for all)", d.N, data.MNISTTrainN)
		}
		if _, err := data.MNISTOrder(d.Order); err != nil {
			return fmt.Errorf("data.order: %w", err)
		}
	case "stacked-mnist":
		if d.Size != 0 && d.Size != 28 {
			return fmt.Errorf("data.size: %d, but stacked-mnist images are 28x28 (leave data.size out)", d.Size)
		}
		if d.Channels != 0 && d.Channels != 3 {
			return fmt.Errorf("data.channels: %d, but stacked-mnist images have 3 channels, one digit each (leave data.channels out)", d.Channels)
		}
		if d.N < 0 {
			return fmt.Errorf("data.n: %d must not be negative (0: %d stacked images)", d.N, data.StackedDefaultN)
		}
		if d.Classes != 0 {
			return fmt.Errorf("data.classes: %d, but stacked-mnist has 1000 classes, its modes (leave data.classes out)", d.Classes)
		}
	case "folder", "paired", "unpaired":
		if d.Dir == "" {
			return fmt.Errorf("data.dir: data.kind is %s but no folder is given (data.dir: path/to/images)", d.Kind)
		}
		if d.Size <= 0 {
			return fmt.Errorf("data.size: %d (a folder's images are resized to data.size x data.size: give 28, 32 or 64)", d.Size)
		}
	case "synthetic":
		if d.Size < 0 || d.N < 0 || d.Classes < 0 {
			return errors.New("data.size/n/classes: must not be negative")
		}
	case "mnist-edges", "mnist-thick", "mnist-inverted", "mnist-width":
		if d.Size != 0 && d.Size != 28 {
			return fmt.Errorf("data.size: %d, but %s images are 28x28 (leave data.size out)", d.Size, d.Kind)
		}
		if d.Channels != 0 && d.Channels != 1 {
			return fmt.Errorf("data.channels: %d, but %s images are gray (leave data.channels out)", d.Channels, d.Kind)
		}
	default:
		return fmt.Errorf("data.kind: %q is not a data set (want ring8, grid25, mixture, mnist, stacked-mnist, folder, synthetic, paired, unpaired, %s)", d.Kind, strings.Join(MNISTTasks, ", "))
	}
	if d.Kind == "folder" || d.Kind == "synthetic" || d.Kind == "paired" || d.Kind == "unpaired" {
		if d.Channels != 0 && d.Channels != 1 && d.Channels != 3 {
			return fmt.Errorf("data.channels: %d (want 1 for gray or 3 for RGB)", d.Channels)
		}
	}
	return nil
}

// validateModel checks the model section against the data: the family's
// own Validate.
func (c Config) validateModel() error {
	if c.Model.Section == nil {
		return fmt.Errorf("model.kind: %q is not a model family (have %s)", c.Model.Kind, strings.Join(ModelKinds(), ", "))
	}
	return c.Model.Section.Validate(c)
}

// validateRest checks the loss and train sections.
func (c Config) validateRest() error {
	if c.Loss.LabelSmoothing < 0 || c.Loss.LabelSmoothing >= 0.5 {
		return fmt.Errorf("loss.label_smoothing: %g (want 0 <= s < 0.5; 0.1 is usual)", c.Loss.LabelSmoothing)
	}
	if c.Loss.Penalty != "" && c.Loss.PenaltyWeight == 0 {
		return fmt.Errorf("loss.penalty_weight: penalty %s needs a weight (10 for gp and dragan, 2 for wgan-div)", c.Loss.Penalty)
	}
	if c.Loss.FeatureMatching < 0 || c.Loss.MinibatchKernels < 0 || c.Loss.HistoricalAverage < 0 {
		return errors.New("loss.feature_matching/minibatch_kernels/historical_average: must not be negative")
	}
	if c.Loss.FeatureMatchingOnly && c.Loss.FeatureMatching == 0 {
		return errors.New("loss.feature_matching_only: set loss.feature_matching to a weight (1 is usual) too")
	}
	if c.Loss.InstanceNoise < 0 || c.Loss.NoiseSteps < 0 {
		return errors.New("loss.instance_noise/noise_steps: must not be negative")
	}
	t := c.Train
	switch {
	case t.Steps <= 0:
		return fmt.Errorf("train.steps: %d (want a positive number of training steps)", t.Steps)
	case t.Batch <= 0:
		return fmt.Errorf("train.batch: %d (want a positive batch size)", t.Batch)
	case t.NCritic <= 0:
		return fmt.Errorf("train.n_critic: %d (want >= 1; 5 is usual for WGAN)", t.NCritic)
	case t.GSteps < 0:
		return fmt.Errorf("train.g_steps: %d (want 1 or more G updates per step, or leave it out for 1; PacGAN's code makes 2)", t.GSteps)
	case t.Optimizer != "adam" && t.Optimizer != "rmsprop":
		return fmt.Errorf("train.optimizer: %q (want adam or rmsprop)", t.Optimizer)
	case !(t.LRG > 0) || !(t.LRD > 0):
		return fmt.Errorf("train.lr_g/lr_d: %g and %g (want positive learning rates)", t.LRG, t.LRD)
	case t.Beta1 < 0 || t.Beta1 >= 1 || t.Beta2 < 0 || t.Beta2 >= 1:
		return fmt.Errorf("train.beta1/beta2: %g and %g (want values in [0, 1))", t.Beta1, t.Beta2)
	case t.ClipD < 0:
		return fmt.Errorf("train.clip_d: %g must not be negative (0.01 in the WGAN paper)", t.ClipD)
	case t.EMA < 0 || t.EMA >= 1:
		return fmt.Errorf("train.ema: %g (want 0 for none or a decay in (0, 1) such as 0.999)", t.EMA)
	case t.LogEvery < 0:
		return fmt.Errorf("train.log_every: %d must not be negative", t.LogEvery)
	case t.SampleN < 10 && !c.IsImage():
		return fmt.Errorf("train.sample_n: %d (want at least 10; the benchmark protocol uses 2500)", t.SampleN)
	case t.RollbackEvery < 0:
		return fmt.Errorf("train.rollback_every: %d must not be negative (0: no rollback)", t.RollbackEvery)
	case t.CheckpointEvery < 0 || t.SampleEvery < 0:
		return fmt.Errorf("train.checkpoint_every/sample_every: %d and %d must not be negative (0: only at the end)", t.CheckpointEvery, t.SampleEvery)
	}
	if err := c.validateEval(); err != nil {
		return err
	}
	if err := c.validateCandidates(); err != nil {
		return err
	}
	if c.IsImage() && c.Data.Kind == "synthetic" && t.Batch > c.syntheticN() {
		return fmt.Errorf("train.batch: %d is more than the %d synthetic images (raise data.n)", t.Batch, c.syntheticN())
	}
	if c.Data.Kind == "mnist" && c.Data.N > 0 && t.Batch > c.Data.N {
		return fmt.Errorf("train.batch: %d is more than the %d mnist digits of data.n", t.Batch, c.Data.N)
	}
	if c.Data.Kind == "stacked-mnist" && t.Batch > c.StackedN() {
		return fmt.Errorf("train.batch: %d is more than the %d stacked-mnist images (raise data.n)", t.Batch, c.StackedN())
	}
	return nil
}

// validateEval checks train.eval_every and train.eval_n: evaluation uses
// the MNIST feature network, so it needs 28x28 gray images.
func (c Config) validateEval() error {
	t := c.Train
	if t.EvalEvery < 0 {
		return fmt.Errorf("train.eval_every: %d must not be negative (0: no evaluation)", t.EvalEvery)
	}
	if t.EvalEvery == 0 {
		return nil
	}
	if !c.IsImage() {
		return fmt.Errorf("train.eval_every: evaluation is for image runs, and data.kind is %s (set train.eval_every to 0)", c.Data.Kind)
	}
	if ch, side := c.ImageShape(); ch != 1 || side != 28 {
		return fmt.Errorf("train.eval_every: evaluation uses Kallima's MNIST feature network, which takes 28x28 gray images, and the data's are %dx%dx%d (set train.eval_every to 0)", ch, side, side)
	}
	if t.EvalN < 129 {
		return fmt.Errorf("train.eval_n: %d (want at least 129: FID on the 128 fc1 features needs more rows than features; 2000 is the default)", t.EvalN)
	}
	return nil
}

// validateCandidates checks train.candidates and the settings that go with
// it.
func (c Config) validateCandidates() error {
	t := c.Train
	switch {
	case t.Candidates < 0:
		return fmt.Errorf("train.candidates: %d must not be negative (0: one run, no candidates)", t.Candidates)
	case t.Candidates <= 1:
		if t.CandidateSteps != 0 || t.CandidateMetric != "" || t.CandidatePick != "" || t.Finalists != 0 || t.FinalistSteps != 0 {
			return fmt.Errorf("train.candidate_steps/candidate_metric/candidate_pick/finalists/finalist_steps: set, but train.candidates is %d (set it to 2 or more to train candidates)", t.Candidates)
		}
		return nil
	case !c.IsImage():
		return fmt.Errorf("train.candidates: for image runs (run folders), and data.kind is %s", c.Data.Kind)
	case t.CandidateSteps <= 0 || t.CandidateSteps >= t.Steps:
		return fmt.Errorf("train.candidate_steps: %d (want the steps each of the %d candidates trains before one is kept, between 1 and train.steps %d)", t.CandidateSteps, t.Candidates, t.Steps)
	case t.CandidateSteps < 2:
		return fmt.Errorf("train.candidate_steps: %d (want at least 2: a candidate is scored on the second half of its steps)", t.CandidateSteps)
	case t.CandidateMetric == "":
		return errors.New("train.candidate_metric: empty (name the logged scalar that picks the candidate, such as d/real_info)")
	case t.CandidatePick != "" && t.CandidatePick != "min" && t.CandidatePick != "max":
		return fmt.Errorf("train.candidate_pick: %q (want min, the default, or max)", t.CandidatePick)
	case uint64(t.Candidates-1) > (math.MaxUint64-c.Seed)/CandidateStride:
		return fmt.Errorf("seed: %d leaves no room for %d candidates %d apart", c.Seed, t.Candidates, CandidateStride)
	case t.Finalists == 0 && t.FinalistSteps != 0:
		return fmt.Errorf("train.finalist_steps: %d, but train.finalists is 0 (set it to how many candidates train on)", t.FinalistSteps)
	case t.Finalists == 0:
		return nil
	case t.Finalists < 2 || t.Finalists >= t.Candidates:
		return fmt.Errorf("train.finalists: %d (want how many of the %d candidates train on to train.finalist_steps: 2 to %d; 0 keeps one at train.candidate_steps)", t.Finalists, t.Candidates, t.Candidates-1)
	case t.FinalistSteps < t.CandidateSteps+2 || t.FinalistSteps >= t.Steps:
		return fmt.Errorf("train.finalist_steps: %d (want the step where one finalist is kept, from train.candidate_steps+2 = %d, to score the second half of the steps since, to below train.steps %d)", t.FinalistSteps, t.CandidateSteps+2, t.Steps)
	}
	return nil
}
