package pipeline

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// MetaAverage is the checkpoint metadata key under which Average records
// the steps it averaged, comma-separated ("13000,14000,15000").
const MetaAverage = "average.steps"

// AverageSteps returns the steps an averaged checkpoint's metadata names
// under MetaAverage, nil for a checkpoint that is not an average, and an
// error when the value is not a comma-separated list of steps.
func AverageSteps(meta map[string]string) ([]int, error) {
	v := meta[MetaAverage]
	if v == "" {
		return nil, nil
	}
	var steps []int
	for _, f := range strings.Split(v, ",") {
		step, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s %q: not a list of steps", MetaAverage, v)
		}
		steps = append(steps, step)
	}
	return steps, nil
}

// averagePattern names the files AverageFile gives, for filepath.Glob.
const averagePattern = "average-*.safetensors"

// AverageFile is where kallima average writes the mean of the run in
// dir's checkpoints from step from to step to: a name resume, pruning and
// the latest pointer never read (not step-N).
func AverageFile(dir string, from, to int) string {
	return filepath.Join(dir, run.CheckpointsDir, fmt.Sprintf("average-%06d-%06d.safetensors", from, to))
}

// AverageFiles lists the files of averaged weights in the run in dir's
// checkpoints folder (named as AverageFile names them), sorted by name.
func AverageFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, run.CheckpointsDir, averagePattern))
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	return paths, nil
}

// AverageOptions are Average's choices; the zero value averages the EMA
// weights (where the run keeps them) and their running statistics.
type AverageOptions struct {
	// Raw averages the generator's trained weights even when the run
	// keeps an EMA of them.
	Raw bool
	// NormBatches, when positive, replaces the averaged batch norm
	// statistics by the averaged generator's own, as SWA does (Izmailov et
	// al. 2018, arXiv:1803.05407): the mean over this many batches of
	// train.batch prior draws (random classes for a conditional
	// generator), seeded by Seed, with nn.EstimateStatistics. The averaged
	// statistics are not the averaged weights': on the BiGAN encoder of
	// docs/RESULTS-encoders.md their variances were twice the activations'.
	// Layers sampling does not reach (BiGAN's encoder) keep the averaged
	// ones.
	NormBatches int
	Seed        uint64
	// Progress receives progress lines (nil for none).
	Progress io.Writer
}

// MetaAverageNorms records, in an averaged checkpoint, the number of
// batches its generator's batch norm statistics were recomputed over
// (AverageOptions.NormBatches); absent when they are averaged.
const MetaAverageNorms = "average.norm_batches"

// Average is Polyak averaging of a run's saved weights (Yazıcı et al.,
// "The Unusual Effectiveness of Averaging in GAN Training",
// arXiv:1806.04498): it loads the generator (the player sampling draws
// from, with everything its module holds, such as BiGAN's encoder) from
// every checkpoint of the run in dir with from <= step <= to, as sampling
// would (its EMA weights unless o.Raw is set or the run keeps none), and
// returns the newest of those checkpoints with that player's weights
// replaced by their mean, its EMA group dropped, and MetaAverage set to
// the steps. Batch norm's running statistics are averaged with the
// weights, or recomputed (o.NormBatches); buffers derived from weights
// (spectral norm's u and v) are recomputed. The other players are the
// newest checkpoint's, unchanged; the optimizers' state is dropped (an
// average is read, never resumed, and the state is most of a
// checkpoint's size). It returns an error naming the problem when dir is
// not a run, fewer than two checkpoints fall in the range, a checkpoint
// does not verify or the model does not draw from noise.
func Average(dir string, from, to int, o AverageOptions) (*run.Checkpoint, error) {
	progress := o.Progress
	c, err := RunConfig(dir)
	if err != nil {
		return nil, err
	}
	infos, err := ListCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	var use []run.Info
	var all []string
	for _, in := range infos {
		all = append(all, strconv.Itoa(in.Step))
		if in.Step >= from && in.Step <= to {
			use = append(use, in)
		}
	}
	if len(use) < 2 {
		have := "none"
		if len(all) > 0 {
			have = "steps " + strings.Join(all, ", ")
		}
		return nil, fmt.Errorf("pipeline: average %s: %d checkpoints from step %d to %d (the run has %s); want at least 2", dir, len(use), from, to, have)
	}
	var (
		sum    [][]float64 // per state entry, in nn.State order
		newest *run.Checkpoint
		gp     *gan.Player
		gs     *Sampler
		steps  []string
	)
	for _, in := range use {
		ck, err := run.LoadCheckpoint(in.Path)
		if err != nil {
			return nil, fmt.Errorf("pipeline: average: %w", err)
		}
		if gp == nil {
			classes, _ := strconv.Atoi(ck.Meta[metaClasses])
			s, m, err := newSampler(c, classes)
			if err != nil {
				return nil, err
			}
			gs, gp = s, m.GeneratorPlayer
		}
		if _, err := loadPlayerWeights(gp, ck, o.Raw); err != nil {
			return nil, err
		}
		state := nn.State(gp.Module)
		if sum == nil {
			sum = make([][]float64, len(state))
			for i, b := range state {
				sum[i] = make([]float64, b.Tensor.Len())
			}
		}
		for i, b := range state {
			for j, v := range b.Tensor.Data() {
				sum[i][j] += float64(v)
			}
		}
		newest = ck
		steps = append(steps, strconv.Itoa(ck.Step))
		if progress != nil {
			fmt.Fprintf(progress, "average: read step %d (%d of %d)\n", ck.Step, len(steps), len(use))
		}
	}
	module, player := gp.Module, gp.Name
	mean := map[string]*tensor.Tensor{}
	for i, b := range nn.State(module) {
		t := tensor.Zeros(b.Tensor.Shape()...)
		d := t.Data()
		for j := range d {
			d[j] = float32(sum[i][j] / float64(len(use)))
		}
		mean[b.Name] = t
	}
	if err := nn.LoadState(module, mean); err != nil {
		return nil, fmt.Errorf("pipeline: average: %w", err)
	}
	nn.SyncBuffers(module)
	norms := 0
	if o.NormBatches > 0 {
		if norms, err = estimateNorms(gs, module, o.NormBatches, max(c.Train.Batch, 2), o.Seed, progress); err != nil {
			return nil, fmt.Errorf("pipeline: average: batch norm statistics: %w", err)
		}
	}
	out := run.NewCheckpoint(newest.Step)
	for name, t := range newest.Tensors {
		if g, _, _ := strings.Cut(name, "/"); g != player && g != "ema_"+player && !strings.HasPrefix(g, "opt_") {
			out.Tensors[name] = t
		}
	}
	for k, v := range newest.Meta {
		out.Meta[k] = v
	}
	out.PutModule(player, module)
	out.Meta[MetaAverage] = strings.Join(steps, ",")
	if norms > 0 {
		out.Meta[MetaAverageNorms] = strconv.Itoa(o.NormBatches)
	}
	return out, nil
}

// estimateNorms recomputes the batch norm statistics of module, s's
// generator, over batches of batch prior draws (random classes for a
// conditional generator) seeded by seed, and returns the number of layers
// recomputed.
func estimateNorms(s *Sampler, module nn.Module, batches, batch int, seed uint64, progress io.Writer) (int, error) {
	rng := tensor.NewRNG(seed)
	return nn.EstimateStatistics(module, batches, func(i int) error {
		arena := tensor.OpenArena()
		defer arena.Close()
		var req family.Request
		if s.Classes > 0 {
			req.Labels = make([]int, batch)
			for j := range req.Labels {
				req.Labels[j] = rng.Intn(s.Classes)
			}
		}
		if _, err := s.Generator.Generate(s.Prior.Sample(rng, batch), req); err != nil {
			return err
		}
		if done := i + 1; progress != nil && (done%250 == 0 || done == batches) {
			fmt.Fprintf(progress, "average: batch norm statistics: %d/%d batches\n", done, batches)
		}
		return nil
	})
}
