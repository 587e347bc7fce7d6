package imagegan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// Which weights a Sampler was loaded with.
const (
	WeightsEMA  = "ema"  // the EMA of G's weights (checkpoint group "ema_g")
	WeightsG    = "g"    // G's live weights (checkpoint group "g")
	WeightsFile = "file" // a weights file given with its config
)

// Sampler is a trained image generator loaded for sampling, in
// evaluation mode (batch norm uses its running statistics).
type Sampler struct {
	Config config.Config
	// Module is a *models.DCGANGenerator or, for model.kind cgan, a
	// *models.CondGenerator.
	Module nn.Module
	// Classes is the number of classes of a conditional generator, 0 for
	// an unconditional one.
	Classes int
	Prior   gan.Prior
	// Step is the checkpoint's step (0 for a weights file).
	Step int
	// Weights is WeightsEMA, WeightsG or WeightsFile.
	Weights string
}

// Sample maps noise z [N, ZDim] (and, for a conditional generator, one
// label in [0, Classes) per row; nil otherwise) to images [N, C, H, W] in
// [-1, 1], without recording gradients. It returns an error for labels
// given to an unconditional generator, a label count other than N or a
// label out of range; it panics if z is not [N, ZDim].
func (g *Sampler) Sample(z *tensor.Tensor, labels []int) (*tensor.Tensor, error) {
	var out *tensor.Tensor
	switch m := g.Module.(type) {
	case *models.CondGenerator:
		if len(labels) != z.Size(0) {
			return nil, fmt.Errorf("imagegan: %d labels for %d noise vectors", len(labels), z.Size(0))
		}
		for _, k := range labels {
			if k < 0 || k >= g.Classes {
				return nil, fmt.Errorf("imagegan: class %d out of range [0, %d)", k, g.Classes)
			}
		}
		ag.NoGrad(func() { out = m.Forward(ag.Const(z), labels).Data() })
	case *models.DCGANGenerator:
		if labels != nil {
			return nil, errors.New("imagegan: labels given to an unconditional generator")
		}
		ag.NoGrad(func() { out = m.Forward(ag.Const(z)).Data() })
	default:
		panic(fmt.Sprintf("imagegan.Sampler.Sample: module %T", g.Module))
	}
	return out, nil
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
		return nil, nil, fmt.Errorf("imagegan: %s: %w", dir, run.ErrNoCheckpoint)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		ck, err := run.LoadCheckpoint(infos[i].Path)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		g, err := SamplerFromCheckpoint(c, ck, raw)
		return g, skipped, err
	}
	return nil, skipped, fmt.Errorf("imagegan: %s: %w: none of the %d checkpoints verifies", dir, run.ErrCorrupt, len(infos))
}

// RunConfig reads and validates the config.yaml of the run in dir, which
// must describe an image run.
func RunConfig(dir string) (config.Config, error) {
	snap, err := os.ReadFile(filepath.Join(dir, run.ConfigFile))
	if err != nil {
		return config.Config{}, fmt.Errorf("imagegan: %s: %w (%w)", dir, run.ErrNotRun, err)
	}
	c, err := config.Parse(bytes.NewReader(snap))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return config.Config{}, fmt.Errorf("imagegan: %s: %w", filepath.Join(dir, run.ConfigFile), err)
	}
	if !c.IsImage() {
		return config.Config{}, fmt.Errorf("imagegan: %s: data.kind %s is not an image run", dir, c.Data.Kind)
	}
	return c, nil
}

// SamplerFromCheckpoint builds the generator of config c and loads it from ck (a
// checkpoint written by Train): the EMA weights (group "ema_g") unless raw
// is set or ck has none, else G's (group "g").
func SamplerFromCheckpoint(c config.Config, ck *run.Checkpoint, raw bool) (*Sampler, error) {
	state := ck.Group("g")
	if len(state) == 0 {
		return nil, fmt.Errorf("imagegan: checkpoint at step %d has no group %q (groups %q)", ck.Step, "g", ck.Groups())
	}
	g, err := newSampler(c, state)
	if err != nil {
		return nil, err
	}
	g.Step = ck.Step
	if err := nn.LoadState(g.Module, state); err != nil {
		return nil, fmt.Errorf("imagegan: checkpoint at step %d: group g: %w", ck.Step, err)
	}
	g.Weights = WeightsG
	if ema := ck.Group("ema_g"); !raw && len(ema) > 0 {
		var bufs []*tensor.Tensor
		for _, b := range g.Module.Buffers("") {
			bufs = append(bufs, b.Tensor)
		}
		e, err := optim.NewEMA(nn.Parameters(g.Module), bufs, optim.EMAConfig{})
		if err != nil {
			return nil, fmt.Errorf("imagegan: EMA: %w", err)
		}
		if err := e.LoadState(ema); err != nil {
			return nil, fmt.Errorf("imagegan: checkpoint at step %d: group ema_g: %w", ck.Step, err)
		}
		e.CopyTo()
		g.Weights = WeightsEMA
	}
	return g, nil
}

// LoadSamplerWeights builds the generator of config c and loads it from the
// safetensors file at path: either G's state (nn.State names such as
// "project.weight") or a file whose names carry a group prefix ("g/…", as
// in a checkpoint; a run checkpoint file itself works too, using G's live
// weights).
func LoadSamplerWeights(c config.Config, path string) (*Sampler, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if !c.IsImage() {
		return nil, fmt.Errorf("imagegan: data.kind %s is not an image config", c.Data.Kind)
	}
	f, err := safetensors.Load(path)
	if err != nil {
		return nil, fmt.Errorf("imagegan: %w", err)
	}
	state := f.Tensors
	ck := run.Checkpoint{Tensors: f.Tensors}
	if g := ck.Group("g"); len(g) > 0 {
		state = g
	}
	g, err := newSampler(c, state)
	if err != nil {
		return nil, fmt.Errorf("imagegan: %s: %w", path, err)
	}
	if err := nn.LoadState(g.Module, state); err != nil {
		return nil, fmt.Errorf("imagegan: %s: %w", path, err)
	}
	g.Weights = WeightsFile
	return g, nil
}

// newSampler builds the (untrained, evaluation-mode) generator of c. A
// cgan's class count is not in the config (it comes from the data), so it
// is read from the shapes in state: the embedding's rows, or the one-hot
// code's width in the projection's input.
func newSampler(c config.Config, state map[string]*tensor.Tensor) (*Sampler, error) {
	ch, side := c.ImageShape()
	m := c.Model
	prior := gan.Prior{Kind: m.Prior, Dim: m.ZDim}
	dc := models.DCGANConfig{Size: side, Channels: ch, Width: m.Width, ZDim: m.ZDim, SpectralNorm: m.DSpecNorm, NoBatchNorm: m.DNoBatchNorm, NormalInit: true}
	rng := tensor.NewRNG(c.Seed)
	g := &Sampler{Config: c, Prior: prior}
	switch m.Kind {
	case "cgan":
		classes, err := stateClasses(m, state)
		if err != nil {
			return nil, err
		}
		cg, err := models.NewCondGenerator(models.CGANConfig{DCGANConfig: dc, Classes: classes, EmbedDim: m.EmbedDim, Conditioning: m.Conditioning}, rng)
		if err != nil {
			return nil, fmt.Errorf("imagegan: generator: %w", err)
		}
		g.Module, g.Classes = cg, classes
	case "dcgan":
		dg, err := models.NewDCGANGenerator(dc, rng)
		if err != nil {
			return nil, fmt.Errorf("imagegan: generator: %w", err)
		}
		g.Module = dg
	default:
		return nil, fmt.Errorf("imagegan: model.kind %s is not an image model", m.Kind)
	}
	g.Module.SetTraining(false)
	return g, nil
}

// stateClasses reads a cgan generator's class count from its state.
func stateClasses(m config.Model, state map[string]*tensor.Tensor) (int, error) {
	if m.EmbedDim > 0 {
		if w, ok := state["embed.weight"]; ok && len(w.Shape()) == 2 {
			return w.Size(0), nil
		}
		return 0, errors.New("imagegan: cgan weights without embed.weight [classes, embed_dim]")
	}
	if w, ok := state["net.project.weight"]; ok && len(w.Shape()) == 2 && w.Size(1) > m.ZDim {
		return w.Size(1) - m.ZDim, nil
	}
	return 0, fmt.Errorf("imagegan: cgan weights without net.project.weight [out, z_dim+classes] (z_dim %d)", m.ZDim)
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
		return nil, fmt.Errorf("imagegan: %w", err)
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
