package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// Which weights a Sampler was loaded with.
const (
	WeightsEMA  = "ema"  // the EMA of the generator's weights (checkpoint group "ema_<player>")
	WeightsG    = "g"    // the generator's live weights (checkpoint group "<player>")
	WeightsFile = "file" // a weights file given with its config
	// WeightsAverage: the mean of several checkpoints' generator weights,
	// a checkpoint written by Average (kallima average).
	WeightsAverage = "average"
)

// Sampler is a trained generator of any family loaded for sampling, in
// evaluation mode (batch norm uses its running statistics).
type Sampler struct {
	Config config.Config
	// Generator is the family's generator; a family.Conditional when the
	// model takes a class.
	Generator family.Generator
	// Classes is the number of classes of a conditional generator, 0 for
	// an unconditional one.
	Classes int
	Prior   gan.Prior
	// Step is the checkpoint's step (0 for a weights file).
	Step int
	// Weights is WeightsEMA, WeightsG, WeightsAverage or WeightsFile.
	Weights string
	// Averaged lists the steps a WeightsAverage checkpoint averaged.
	Averaged []int
	// IsImage is false for a 2-D run, whose samples are points [N, 2].
	IsImage bool
	// ClassNames names a conditional generator's classes in label order
	// when the checkpoint records them (nil otherwise).
	ClassNames []string
	// Path is the checkpoint file LoadSampler loaded ("" otherwise).
	Path string
}

// Sample maps noise z [N, ZDim] (and, for a conditional generator, one
// label in [0, Classes) per row; nil otherwise) to samples: images
// [N, C, H, W] in [-1, 1], or points [N, 2]. It returns an error for
// labels given to an unconditional generator, a label count other than N
// or a label out of range; it panics if z is not [N, ZDim].
func (g *Sampler) Sample(z *tensor.Tensor, labels []int) (*tensor.Tensor, error) {
	if labels != nil && g.Classes == 0 {
		return nil, fmt.Errorf("pipeline: labels given to an unconditional generator (model.kind %s)", g.Config.Model.Kind)
	}
	return g.SampleRequest(z, family.Request{Labels: labels})
}

// SampleRequest is Sample with a whole request: labels and, for a
// family.Coded generator, named latent codes.
func (g *Sampler) SampleRequest(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil && g.Classes == 0 {
		return nil, fmt.Errorf("pipeline: labels given to an unconditional generator (model.kind %s)", g.Config.Model.Kind)
	}
	return g.Generator.Generate(z, req)
}

// LoadSampler loads the generator of the run in dir from its newest
// checkpoint that verifies, reading the run without changing it (unlike
// run.Open, which prepares the folder for appending). With raw false it
// uses the EMA weights when the run keeps an EMA (train.ema > 0) and G's
// live weights otherwise; with raw true always G's live weights. Newer
// checkpoints that do not verify are skipped and returned in skipped.
func LoadSampler(dir string, raw bool) (g *Sampler, skipped []error, err error) {
	c, err := RunConfig(dir)
	if err != nil {
		return nil, nil, err
	}
	infos, err := ListCheckpoints(dir)
	if err != nil {
		return nil, nil, err
	}
	if len(infos) == 0 {
		return nil, nil, fmt.Errorf("pipeline: %s: %w", dir, run.ErrNoCheckpoint)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		ck, err := run.LoadCheckpoint(infos[i].Path)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		g, err := SamplerFromCheckpoint(c, ck, raw)
		if g != nil {
			g.Path = infos[i].Path
		}
		return g, skipped, err
	}
	return nil, skipped, fmt.Errorf("pipeline: %s: %w: none of the %d checkpoints verifies", dir, run.ErrCorrupt, len(infos))
}

// CheckpointRun returns the run folder of path when path names a file in
// a run's checkpoints folder (RUN/checkpoints/step-N.safetensors), and
// false for any other path.
func CheckpointRun(path string) (string, bool) {
	parent := filepath.Dir(path)
	return filepath.Dir(parent), filepath.Base(parent) == run.CheckpointsDir
}

// RunConfig reads and validates the config.yaml of the run in dir.
func RunConfig(dir string) (config.Config, error) {
	snap, err := os.ReadFile(filepath.Join(dir, run.ConfigFile))
	if err != nil {
		return config.Config{}, fmt.Errorf("pipeline: %s: %w (%w)", dir, run.ErrNotRun, err)
	}
	c, err := config.Parse(bytes.NewReader(snap))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return config.Config{}, fmt.Errorf("pipeline: %s: %w", filepath.Join(dir, run.ConfigFile), err)
	}
	return c, nil
}

// RunOf returns the run folder holding a checkpoint file
// (RUN/checkpoints/step-N.safetensors gives RUN), and ok false when path is
// not inside a run's checkpoints folder.
func RunOf(path string) (dir string, ok bool) {
	ckDir := filepath.Dir(path)
	if filepath.Base(ckDir) != run.CheckpointsDir {
		return "", false
	}
	dir = filepath.Dir(ckDir)
	if _, err := os.Stat(filepath.Join(dir, run.ConfigFile)); err != nil {
		return "", false
	}
	return dir, true
}

// SamplerFromCheckpoint builds the model of config c and loads its
// generator from ck (a checkpoint written by Train): the EMA weights
// (group "ema_<player>") unless raw is set or ck has none, else the live
// ones (group "<player>").
func SamplerFromCheckpoint(c config.Config, ck *run.Checkpoint, raw bool) (*Sampler, error) {
	classes, _ := strconv.Atoi(ck.Meta[metaClasses])
	g, m, err := newSampler(c, classes)
	if err != nil {
		return nil, err
	}
	g.Step = ck.Step
	if v := ck.Meta[metaClassNames]; v != "" && g.Classes > 0 {
		// Names are a courtesy for display: a damaged list is left out.
		if json.Unmarshal([]byte(v), &g.ClassNames) != nil || len(g.ClassNames) != g.Classes {
			g.ClassNames = nil
		}
	}
	if g.Weights, err = loadPlayerWeights(m.GeneratorPlayer, ck, raw); err != nil {
		return nil, err
	}
	if g.Averaged, err = AverageSteps(ck.Meta); err != nil {
		return nil, fmt.Errorf("pipeline: checkpoint at step %d: %w", ck.Step, err)
	}
	if g.Averaged != nil {
		g.Weights = WeightsAverage
	}
	return g, nil
}

// loadPlayerWeights loads player p's module from ck: its EMA weights
// (group "ema_<player>") unless raw is set or ck has none, else the live
// ones (group "<player>"); it returns WeightsEMA or WeightsG.
func loadPlayerWeights(p *gan.Player, ck *run.Checkpoint, raw bool) (string, error) {
	state := ck.Group(p.Name)
	if len(state) == 0 {
		return "", fmt.Errorf("pipeline: checkpoint at step %d has no group %q (groups %q)", ck.Step, p.Name, ck.Groups())
	}
	if err := nn.LoadState(p.Module, state); err != nil {
		return "", fmt.Errorf("pipeline: checkpoint at step %d: group %s: %w", ck.Step, p.Name, err)
	}
	ema := ck.Group("ema_" + p.Name)
	if raw || len(ema) == 0 {
		return WeightsG, nil
	}
	e, err := optim.NewEMA(nn.Parameters(p.Module), nn.BufferTensors(p.Module), optim.EMAConfig{})
	if err != nil {
		return "", fmt.Errorf("pipeline: EMA: %w", err)
	}
	if err := e.LoadState(ema); err != nil {
		return "", fmt.Errorf("pipeline: checkpoint at step %d: group ema_%s: %w", ck.Step, p.Name, err)
	}
	e.CopyTo()
	// Spectral norm's u and v are averaged with the weights, which leaves
	// them short and off w's singular vectors: fit them to the EMA weights.
	nn.SyncBuffers(p.Module)
	return WeightsEMA, nil
}

// LoadSamplerWeights builds the model of config c and loads its generator
// from the safetensors file at path: either the generator's state
// (nn.State names such as "project.weight") or a file whose names carry a
// group prefix ("g/…", as in a checkpoint; a run checkpoint file itself
// works too, using the live weights). A conditional model's class count
// comes from the file's metadata when it is a checkpoint, else from the
// config's data set. A run's checkpoints/latest pointer is followed to
// the checkpoint it names (run.FollowLatest).
func LoadSamplerWeights(c config.Config, path string) (*Sampler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	path, err := run.FollowLatest(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	f, err := safetensors.Load(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	classes, err := strconv.Atoi(f.Metadata[metaClasses])
	if err != nil && c.IsImage() {
		d, err := LoadData(c, nil)
		if err != nil {
			return nil, fmt.Errorf("pipeline: %s has no %s: counting the data's classes: %w", path, metaClasses, err)
		}
		classes = d.Classes
	}
	g, m, err := newSampler(c, classes)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", path, err)
	}
	p := m.GeneratorPlayer
	state := f.Tensors
	ck := run.Checkpoint{Tensors: f.Tensors}
	if gs := ck.Group(p.Name); len(gs) > 0 {
		state = gs
	}
	if err := nn.LoadState(p.Module, state); err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", path, err)
	}
	g.Weights = WeightsFile
	return g, nil
}

// newSampler builds the (untrained, evaluation-mode) model of c for data
// of the config's shape and the given class count, without loading the
// data.
func newSampler(c config.Config, classes int) (*Sampler, *family.Model, error) {
	d := family.Data{Classes: classes}
	if c.IsImage() {
		d.Channels, d.Size = c.ImageShape()
	} else {
		mix := c.Mixture()
		d.Points = &mix
	}
	m, err := family.Build(c, d)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: %w", err)
	}
	if m.Close != nil {
		m.Close()
	}
	if m.Generator == nil || m.GeneratorPlayer == nil {
		if m.Translator != nil {
			return nil, nil, fmt.Errorf("pipeline: model.kind %s does not draw from noise: it translates images (kallima translate, kallima eval -translate)", c.Model.Kind)
		}
		return nil, nil, fmt.Errorf("pipeline: model.kind %s does not draw from noise", c.Model.Kind)
	}
	m.GeneratorPlayer.Module.SetTraining(false)
	g := &Sampler{Config: c, Generator: m.Generator, Prior: m.Generator.Prior(), IsImage: d.IsImage()}
	if cg, ok := m.Generator.(family.Conditional); ok {
		g.Classes = cg.Classes()
	}
	return g, m, nil
}

// ListCheckpoints lists the checkpoint files of the run in dir by ascending
// step, with the score recorded in each header (Info.Err is set for a file
// whose header does not parse), without opening the run for writing. It
// returns an empty list for a run without checkpoints.
func ListCheckpoints(dir string) ([]run.Info, error) {
	entries, err := os.ReadDir(filepath.Join(dir, run.CheckpointsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	var infos []run.Info
	for _, e := range entries {
		step, ok := checkpointStep(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		in := run.Info{Step: step, Path: filepath.Join(dir, run.CheckpointsDir, e.Name())}
		h, err := safetensors.LoadHeader(in.Path)
		switch {
		case err != nil:
			in.Err = err
		case h.Metadata["run.score"] != "":
			v, err := strconv.ParseFloat(h.Metadata["run.score"], 64)
			if err != nil {
				in.Err = fmt.Errorf("invalid run.score %q", h.Metadata["run.score"])
			} else {
				in.Score = &v
			}
		}
		infos = append(infos, in)
	}
	slices.SortFunc(infos, func(a, b run.Info) int { return a.Step - b.Step })
	return infos, nil
}

// LatestPointer returns the step named by the run's checkpoints/latest
// file; ok is false when there is none or it does not name a checkpoint.
func LatestPointer(dir string) (step int, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, run.CheckpointsDir, run.LatestFile))
	if err != nil {
		return 0, false
	}
	return checkpointStep(strings.TrimSpace(string(b)))
}

// checkpointStep parses a checkpoint file name, step-NNNNNN.safetensors.
func checkpointStep(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "step-")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ".safetensors")
	if !ok || s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
