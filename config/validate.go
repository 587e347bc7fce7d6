package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
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

// Upper bounds on sizes, generously above any real use and far below what
// exhausts memory, so that a slip (3000000000 for 3000) is a validation
// error rather than the Go runtime's out-of-memory crash in mid-build.
const (
	// MaxSize bounds train.batch and every integer of a model: section
	// (z_dim, widths and lists of widths, counts of codes or samples),
	// whatever its family.
	MaxSize = 1 << 16
	// MaxLayers bounds a model: section's counts of layers and blocks
	// (fields named depth, blocks or *layers): each adds whole layers of
	// weights and activations.
	MaxLayers = 1 << 8
	// MaxSamples bounds train.sample_n and train.eval_n, the samples
	// generated at once to score a run (FID's usual is 50000).
	MaxSamples = 1 << 18
)

// validateModel checks the model section against the data: the bounds on
// sizes every family shares, then the family's own Validate.
func (c Config) validateModel() error {
	if c.Model.Section == nil {
		return fmt.Errorf("model.kind: %q is not a model family (have %s)", c.Model.Kind, strings.Join(ModelKinds(), ", "))
	}
	if err := sizeBounds(reflect.ValueOf(c.Model.Section), "model"); err != nil {
		return err
	}
	return c.Model.Section.Validate(c)
}

// sizeBounds checks every integer of the section v, and every one in its
// lists, against MaxSize, or MaxLayers for counts of layers. Families
// check their own lower bounds and relations; this is the shared ceiling,
// so a family added later gets it too.
func sizeBounds(v reflect.Value, prefix string) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if err := sizeBounds(v.Field(i), prefix); err != nil {
				return err
			}
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		path := prefix + "." + tag
		limit, what := MaxSize, "is too large"
		if tag == "depth" || strings.HasSuffix(tag, "blocks") || strings.HasSuffix(tag, "layers") {
			limit, what = MaxLayers, "is too many"
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if n := fv.Int(); n > int64(limit) {
				return fmt.Errorf("%s: %d %s (want at most %d)", path, n, what, limit)
			}
		case reflect.Slice, reflect.Array:
			for j := 0; j < fv.Len(); j++ {
				if e := fv.Index(j); e.CanInt() && e.Int() > int64(limit) {
					return fmt.Errorf("%s: %d %s (want at most %d each)", path, e.Int(), what, limit)
				}
			}
		case reflect.Struct, reflect.Pointer:
			if err := sizeBounds(fv, path); err != nil {
				return err
			}
		}
	}
	return nil
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
	case t.Batch > MaxSize:
		return fmt.Errorf("train.batch: %d is too large (want at most %d)", t.Batch, MaxSize)
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
	case t.SampleN > MaxSamples:
		return fmt.Errorf("train.sample_n: %d is too large (want at most %d)", t.SampleN, MaxSamples)
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
	if t.EvalN > MaxSamples {
		return fmt.Errorf("train.eval_n: %d is too large (want at most %d; 2000 is the default)", t.EvalN, MaxSamples)
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
	case t.Finalists == 0 && t.FinalistSteps != 0:
		return fmt.Errorf("train.finalist_steps: %d, but train.finalists is 0 (set it to how many candidates train on)", t.FinalistSteps)
	case t.Finalists != 0 && (t.Finalists < 2 || t.Finalists >= t.Candidates):
		return fmt.Errorf("train.finalists: %d (want how many of the %d candidates train on to train.finalist_steps: 2 to %d; 0 keeps one at train.candidate_steps)", t.Finalists, t.Candidates, t.Candidates-1)
	}
	if err := t.validateRounds(); err != nil {
		return err
	}
	switch {
	case t.CandidateMetric == "":
		return errors.New("train.candidate_metric: empty (name the logged scalar that picks the candidate, such as d/real_info)")
	case t.CandidatePick != "" && t.CandidatePick != "min" && t.CandidatePick != "max":
		return fmt.Errorf("train.candidate_pick: %q (want min, the default, or max)", t.CandidatePick)
	case uint64(t.Candidates-1) > (math.MaxUint64-c.Seed)/CandidateStride:
		return fmt.Errorf("seed: %d leaves no room for %d candidates %d apart", c.Seed, t.Candidates, CandidateStride)
	}
	return nil
}

// validateRounds checks where the rounds of a run with candidates end:
// the candidates train to candidate_steps and are scored on the second
// half of them, the finalists (when train.finalists is set) train on to
// finalist_steps and are scored on the second half of the steps since,
// and the one kept trains on to train.steps. The three must fit together,
// so the error names every one that does not, and the values that would,
// worked out from train.steps: one message, not one per -set.
func (t Train) validateRounds() error {
	finals := t.Finalists > 0
	// Each round scores the second half of its steps, so takes 2 or more.
	minSteps, csMax := 3, t.Steps-1
	if finals {
		minSteps, csMax = 5, t.Steps-3
	}
	type problem struct{ field, text string }
	var probs []problem
	cs, fs := t.CandidateSteps, t.FinalistSteps
	switch {
	case cs < 2:
		probs = append(probs, problem{"candidate_steps", fmt.Sprintf("%d is below 2", cs)})
	case cs >= t.Steps:
		probs = append(probs, problem{"candidate_steps", fmt.Sprintf("%d is not below train.steps %d", cs, t.Steps)})
	case cs > csMax:
		probs = append(probs, problem{"candidate_steps", fmt.Sprintf("%d leaves the finalists fewer than 2 steps before train.steps %d", cs, t.Steps)})
	}
	if finals {
		switch {
		case fs < cs+2:
			probs = append(probs, problem{"finalist_steps", fmt.Sprintf("%d is below train.candidate_steps+2 = %d", fs, cs+2)})
		case fs >= t.Steps:
			probs = append(probs, problem{"finalist_steps", fmt.Sprintf("%d is not below train.steps %d", fs, t.Steps)})
		}
	}
	if len(probs) == 0 {
		return nil
	}
	var fields, texts []string
	for _, p := range probs {
		fields = append(fields, p.field)
		texts = append(texts, p.text)
	}
	if len(probs) > 1 {
		for i, p := range probs {
			texts[i] = p.field + " " + p.text
		}
	}
	why := "the candidates train to candidate_steps and are scored on the second half of those steps, and the one kept trains on to train.steps"
	if finals {
		why = "the candidates train to candidate_steps, the finalists on to finalist_steps, each round scored on the second half of its steps, and the one kept trains on to train.steps"
	}
	var want string
	switch {
	case t.Steps < minSteps:
		want = fmt.Sprintf("train.steps %d is too few for these rounds: want at least %d", t.Steps, minSteps)
	case finals:
		c, f := t.fittingRounds()
		want = fmt.Sprintf("with train.steps %d, want candidate_steps from 2 to %d and finalist_steps from candidate_steps+2 to %d, such as candidate_steps %d and finalist_steps %d", t.Steps, csMax, t.Steps-1, c, f)
	default:
		c, _ := t.fittingRounds()
		want = fmt.Sprintf("with train.steps %d, want candidate_steps from 2 to %d, such as %d", t.Steps, csMax, c)
	}
	return fmt.Errorf("train.%s: %s (%s; %s)", strings.Join(fields, "/"), strings.Join(texts, ", and "), want, why)
}

// fittingRounds returns a candidate_steps and finalist_steps that fit
// train.steps (at least 3, or 5 with finalists): the ones given where they
// fit, else a third and two thirds of the steps, as in the
// infogan-pick-mnist preset.
func (t Train) fittingRounds() (cs, fs int) {
	csMax := t.Steps - 1
	if t.Finalists > 0 {
		csMax = t.Steps - 3
	}
	cs = t.CandidateSteps
	if cs < 2 || cs > csMax {
		cs = min(max(t.Steps/3, 2), csMax)
	}
	fs = t.FinalistSteps
	if fs < cs+2 || fs >= t.Steps {
		fs = min(max(cs+(t.Steps-cs)/2, cs+2), t.Steps-1)
	}
	return cs, fs
}
