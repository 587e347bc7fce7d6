// Package imagegan trains image GANs (DCGAN and conditional DCGAN on MNIST,
// an image folder or synthetic images) from a config, into a run folder
// (package run): a metrics record every step, sample grids of a fixed noise
// batch every train.sample_every steps, and checkpoints every
// train.checkpoint_every steps, at the end and after a stop.
//
// A checkpoint holds everything the next step depends on: G, D, the EMA of
// G, both Adam optimizers, the game's random stream, the data loader's
// position and the step counter. Training runs on one goroutine with fixed
// reduction orders, so Resume continues a run bit for bit as if it had never
// been interrupted (on a machine with the same core count, or on any with
// train.deterministic).
package imagegan

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/internal/progress"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// Options are the settings of a training session that are not part of the
// config.
type Options struct {
	// Progress receives the periodic progress lines (every
	// train.log_every steps; every step, as a bar, when it is a
	// *progress.Bar) and one line per checkpoint; nil for none.
	Progress io.Writer
	// Warn receives the run folder's warnings (see run.Options.Warn); nil
	// means os.Stderr.
	Warn io.Writer
}

// Result is a finished (or stopped) training session.
type Result struct {
	Dir        string // the run folder
	Step       int    // generator updates done
	Steps      int    // generator updates asked for
	Checkpoint int    // the step of the last checkpoint written
	ResumedAt  int    // the step training continued from (0 for a new run)
	Elapsed    time.Duration
}

// Meta keys of a checkpoint beyond the run package's.
const (
	metaThreads = "imagegan.blas_threads" // the GEMM thread count the run used
	rngGame     = "game"
	jsonLoader  = "loader"
)

// sampleCols is the number of columns of a sample grid; an unconditional
// grid has sampleCols rows, a conditional one a column per class.
const sampleCols = 8

// Train creates a run in dir for config c and trains it. ctx cancellation
// stops training after the current step; a checkpoint is written and the
// error wraps gan.ErrStopped. An existing run in dir is an error wrapping
// run.ErrExists (continue it with Resume).
func Train(ctx context.Context, c config.Config, dir string, opts Options) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	if !c.IsImage() {
		return Result{}, fmt.Errorf("data.kind: %s is not an image set (imagegan trains mnist, folder or synthetic)", c.Data.Kind)
	}
	snap, err := c.YAML()
	if err != nil {
		return Result{}, fmt.Errorf("config snapshot: %w", err)
	}
	s, err := build(c, opts.Progress)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	r, err := run.Create(dir, snap, run.Options{Keep: c.Train.KeepCheckpoints, Warn: opts.Warn})
	if err != nil {
		return Result{}, err
	}
	s.run = r
	return s.train(ctx, opts)
}

// Resume reopens the run in dir and continues it from its newest checkpoint
// that verifies (from the start if it has none) until train.steps, with the
// config it was created with. A checkpoint made with another GEMM thread
// count (another number of cores, without train.deterministic) resumes with
// a warning: the continuation may then differ in the last bits.
func Resume(ctx context.Context, dir string, opts Options) (Result, error) {
	snap, err := os.ReadFile(filepath.Join(dir, run.ConfigFile))
	if err != nil {
		return Result{}, fmt.Errorf("resume %s: %w", dir, run.ErrNotRun)
	}
	c, err := config.Parse(bytes.NewReader(snap))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return Result{}, fmt.Errorf("resume %s: config.yaml: %w", dir, err)
	}
	s, err := build(c, opts.Progress)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	r, err := run.Open(dir, run.Options{Keep: c.Train.KeepCheckpoints, Warn: opts.Warn})
	if err != nil {
		return Result{}, err
	}
	s.run = r
	ck, _, err := r.Resume()
	switch {
	case errors.Is(err, run.ErrNoCheckpoint):
		// Stopped before its first checkpoint: start over.
		err = r.Rewind(-1)
	case err == nil:
		if err = s.restore(ck, opts.Warn); err != nil {
			err = fmt.Errorf("resume %s from step %d: %w", dir, ck.Step, err)
			break
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "resuming %s from step %d of %d\n", dir, ck.Step, c.Train.Steps)
		}
	}
	if err != nil {
		r.Close()
		return Result{}, err
	}
	return s.train(ctx, opts)
}

// session is one training session's state.
type session struct {
	c          config.Config
	g, d       nn.Module
	sample     func() *tensor.Tensor // the fixed noise batch through G, [N, C, H, W]
	optG, optD *optim.Adam
	ema        *optim.EMA
	loader     *data.Loader
	gameRNG    *tensor.RNG
	tr         *gan.Trainer
	run        *run.Run
	lastCk     int        // step of the newest checkpoint written or restored
	classes    int        // a cgan's class count
	eval       *evaluator // periodic evaluation's feature network and reference, made at the first
}

// build makes the models, optimizers, loader, game and trainer of c, all
// from c.Seed.
func build(c config.Config, progress io.Writer) (*session, error) {
	if c.Train.Deterministic {
		blas.SetThreads(1)
	}
	set, err := loadData(c, progress)
	if err != nil {
		return nil, err
	}
	ch, side := c.ImageShape()
	if sh := set.Shape(); sh[0] != ch || sh[1] != side || sh[2] != side {
		return nil, fmt.Errorf("data: images are %v, want [%d, %d, %d]", sh, ch, side, side)
	}
	root := tensor.NewRNG(c.Seed)
	initRNG, gameRNG, fixedRNG, loaderRNG := root.Split(), root.Split(), root.Split(), root.Split()
	loader, err := data.NewLoader(set, data.LoaderConfig{BatchSize: c.Train.Batch, Seed: uint64(loaderRNG.Intn(1 << 62)), DropLast: true})
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	s := &session{c: c, loader: loader, gameRNG: gameRNG}
	obj, err := gan.LookupObjective(c.Loss.Name, c.Loss.LabelSmoothing)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("loss.name: %w", err)
	}
	m := c.Model
	prior := gan.Prior{Kind: m.Prior, Dim: m.ZDim}
	dc := models.DCGANConfig{Size: side, Channels: ch, Width: m.Width, ZDim: m.ZDim, SpectralNorm: m.DSpecNorm, NoBatchNorm: m.DNoBatchNorm, NormalInit: true}
	noiseSteps := cmp.Or(c.Loss.NoiseSteps, c.Train.Steps)
	penalty := gan.Penalty{Kind: c.Loss.Penalty, Weight: c.Loss.PenaltyWeight, Power: c.Loss.PenaltyPower}
	noise := gan.InstanceNoise{Sigma: c.Loss.InstanceNoise, Steps: noiseSteps}
	var game gan.Game
	if m.Kind == "cgan" {
		classes := max(len(set.Classes), maxLabel(set.Labels)+1)
		s.classes = classes
		cc := models.CGANConfig{DCGANConfig: dc, Classes: classes, EmbedDim: m.EmbedDim, Conditioning: m.Conditioning}
		g, err := models.NewCondGenerator(cc, initRNG)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("model: generator: %w", err)
		}
		d, err := models.NewCondDiscriminator(cc, initRNG)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("model: discriminator: %w", err)
		}
		s.g, s.d = g, d
		cg := &gan.Conditional{G: g, D: d, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Classes: classes,
			Batch: c.Train.Batch, RNG: gameRNG, MatchingAware: m.MatchingAware,
			Real: func(int) (*tensor.Tensor, []int) { b := loader.Next(); return b.Images, b.Labels }}
		if err := cg.Validate(); err != nil {
			s.close()
			return nil, err
		}
		game = cg
		z := prior.Sample(fixedRNG, sampleCols)
		// Row r holds noise vector r for every class: z is repeated along
		// each row and the labels run 0 .. classes-1.
		zs := tensor.New(sampleCols*classes, m.ZDim)
		labels := make([]int, sampleCols*classes)
		for r := range sampleCols {
			for k := range classes {
				copy(zs.Data()[(r*classes+k)*m.ZDim:], z.Data()[r*m.ZDim:(r+1)*m.ZDim])
				labels[r*classes+k] = k
			}
		}
		s.sample = func() *tensor.Tensor { return g.Forward(ag.Const(zs), labels).Data() }
	} else {
		g, err := models.NewDCGANGenerator(dc, initRNG)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("model: generator: %w", err)
		}
		d, err := models.NewDCGANDiscriminator(dc, initRNG)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("model: discriminator: %w", err)
		}
		s.g, s.d = g, d
		game = &gan.Unconditional{G: g, D: d, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior,
			Batch: c.Train.Batch, RNG: gameRNG, Real: func(int) *tensor.Tensor { return loader.Next().Images }}
		z := prior.Sample(fixedRNG, sampleCols*sampleCols)
		s.sample = func() *tensor.Tensor { return g.Forward(ag.Const(z)).Data() }
	}
	adam := func(lr float32, m nn.Module) (*optim.Adam, error) {
		ac := optim.DefaultAdamConfig()
		ac.LR, ac.Beta1, ac.Beta2 = lr, c.Train.Beta1, c.Train.Beta2
		return optim.NewAdam(nn.Parameters(m), ac)
	}
	if c.Train.Optimizer != "adam" {
		s.close()
		return nil, fmt.Errorf("train.optimizer: %s: image runs use adam", c.Train.Optimizer)
	}
	if s.optG, err = adam(c.Train.LRG, s.g); err != nil {
		s.close()
		return nil, err
	}
	if s.optD, err = adam(c.Train.LRD, s.d); err != nil {
		s.close()
		return nil, err
	}
	s.tr = &gan.Trainer{Game: game, G: s.g, D: s.d, OptG: s.optG, OptD: s.optD, NCritic: c.Train.NCritic, Steps: c.Train.Steps, ClipD: c.Train.ClipD}
	if c.Train.LRDecay {
		s.tr.LRG = optim.Linear{Base: c.Train.LRG, Start: 0, End: c.Train.Steps, Final: 0}
		s.tr.LRD = optim.Linear{Base: c.Train.LRD, Start: 0, End: c.Train.Steps, Final: 0}
	}
	if c.Train.EMA > 0 {
		var bufs []*tensor.Tensor
		for _, b := range s.g.Buffers("") {
			bufs = append(bufs, b.Tensor)
		}
		if s.ema, err = optim.NewEMA(nn.Parameters(s.g), bufs, optim.EMAConfig{Decay: c.Train.EMA, Warmup: true}); err != nil {
			s.close()
			return nil, err
		}
		s.tr.EMA = s.ema
	}
	return s, nil
}

// loadData loads (fetching MNIST if needed) or makes the data set.
func loadData(c config.Config, progress io.Writer) (*data.Set, error) {
	switch c.Data.Kind {
	case "mnist":
		dir := c.DataDir()
		if _, err := data.MNISTFiles(dir); err != nil {
			if err := data.FetchMNIST(dir, progress); err != nil {
				return nil, fmt.Errorf("data: %w", err)
			}
		}
		set, err := data.LoadMNIST(dir, data.Train)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		return set, nil
	case "folder":
		ch, side := c.ImageShape()
		set, skipped, err := data.LoadFolder(c.Data.Dir, data.FolderConfig{Height: side, Width: side, Gray: ch == 1, CenterCrop: true, Skip: true, Warnings: progress})
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if skipped > 0 && progress != nil {
			fmt.Fprintf(progress, "data: skipped %d unreadable files in %s\n", skipped, c.Data.Dir)
		}
		return set, nil
	case "synthetic":
		ch, side := c.ImageShape()
		n, classes := c.SyntheticSet()
		return Synthetic(n, classes, ch, side, c.Seed), nil
	}
	return nil, fmt.Errorf("data.kind: %s is not an image set", c.Data.Kind)
}

// Synthetic returns n seeded images [n, channels, size, size] in classes
// classes: image i has label i mod classes and is a blurred blob whose
// position depends on its class, plus noise, in [-1, 1]. The same
// arguments give the same images.
func Synthetic(n, classes, channels, size int, seed uint64) *data.Set {
	rng := tensor.NewRNG(seed ^ 0x5eed5eed5eed5eed)
	img := make([]float32, n*channels*size*size)
	labels := make([]int, n)
	names := make([]string, classes)
	for k := range names {
		names[k] = strconv.Itoa(k)
	}
	plane := size * size
	for i := range n {
		k := i % classes
		labels[i] = k
		cx := float64(size) * (0.25 + 0.5*float64(k%4)/3)
		cy := float64(size) * (0.25 + 0.5*float64(k/4%4)/3)
		cx += (rng.Float64() - 0.5) * 3
		cy += (rng.Float64() - 0.5) * 3
		r2 := float64(size*size) / 32
		for ch := range channels {
			base := (i*channels + ch) * plane
			for y := range size {
				for x := range size {
					dx, dy := float64(x)-cx, float64(y)-cy
					v := 2*math.Exp(-(dx*dx+dy*dy)/r2) - 1 + 0.1*rng.NormFloat64()
					img[base+y*size+x] = float32(min(max(v, -1), 1))
				}
			}
		}
	}
	return &data.Set{Images: tensor.FromSlice(img, n, channels, size, size), Labels: labels, Classes: names}
}

// train runs the trainer from its current step with the run's callbacks,
// then writes the final checkpoint and samples.
func (s *session) train(ctx context.Context, opts Options) (res Result, err error) {
	c := s.c
	start, from := time.Now(), s.tr.Step
	res = Result{Dir: s.run.Dir(), Steps: c.Train.Steps, ResumedAt: from, Checkpoint: s.lastCk}
	defer func() {
		res.Step, res.Elapsed, res.Checkpoint = s.tr.Step, time.Since(start), s.lastCk
		if cerr := s.run.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	s.tr.Callbacks = append(s.tr.Callbacks, func(t *gan.Trainer, logs gan.Logs) error {
		var score *float64
		if c.Train.EvalEvery > 0 && t.Step%c.Train.EvalEvery == 0 {
			res, err := s.evaluate()
			if err != nil {
				return fmt.Errorf("evaluation at step %d: %w", t.Step, err)
			}
			ev := Scalars(res)
			logs = maps.Clone(logs)
			maps.Copy(logs, ev)
			fid := ev["eval/fid"]
			score = &fid
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "eval at step %d: fid %.4g, is %.4g, precision %.3f, recall %.3f (%s)\n", t.Step, fid, ev["eval/is"], ev["eval/precision"], ev["eval/recall"], s.eval.refName)
			}
		}
		if err := s.run.Log(t.Step, logs); err != nil {
			return err
		}
		progress.Report(opts.Progress, t.Step, t.Steps, c.Train.LogEvery, progress.Line(t.Step, t.Steps, from, logs["d/loss"], logs["g/loss"], time.Since(start)))
		if c.Train.SampleEvery > 0 && t.Step%c.Train.SampleEvery == 0 {
			if err := s.saveSamples(); err != nil {
				return err
			}
		}
		if score != nil || (c.Train.CheckpointEvery > 0 && t.Step%c.Train.CheckpointEvery == 0) {
			return s.checkpoint(opts.Progress, score)
		}
		return nil
	})
	runErr := s.tr.Run(ctx)
	var div *gan.DivergenceError
	if errors.As(runErr, &div) || (runErr != nil && !errors.Is(runErr, gan.ErrStopped)) {
		return res, runErr
	}
	if s.tr.Step == s.tr.Steps && (c.Train.SampleEvery == 0 || s.tr.Step%c.Train.SampleEvery != 0) {
		if err := s.saveSamples(); err != nil {
			return res, err
		}
	}
	if s.lastCk != s.tr.Step {
		if err := s.checkpoint(opts.Progress, nil); err != nil {
			return res, err
		}
	}
	if runErr != nil {
		return res, fmt.Errorf("%w at step %d; checkpoint written, continue with resume", runErr, s.tr.Step)
	}
	return res, nil
}

// saveSamples writes the grid of the fixed noise batch through G (the EMA
// weights when EMA is on) in evaluation mode, leaving every weight and
// statistic as it was.
func (s *session) saveSamples() error {
	if s.ema != nil {
		s.ema.Swap()
		defer s.ema.Swap()
	}
	s.g.SetTraining(false)
	defer s.g.SetTraining(true)
	arena := tensor.OpenArena()
	defer arena.Close()
	var img *tensor.Tensor
	ag.NoGrad(func() { img = s.sample() })
	cols := sampleCols
	if s.c.Model.Kind == "cgan" {
		cols = img.Size(0) / sampleCols
	}
	return s.run.SaveSamples(s.tr.Step, picture.Grid(img, cols, 2))
}

// checkpoint writes the session's whole state at the current step, with
// score (an evaluation's FID; nil for none) for choosing the best.
func (s *session) checkpoint(progress io.Writer, score *float64) error {
	ck := run.NewCheckpoint(s.tr.Step)
	ck.PutModule("g", s.g)
	ck.PutModule("d", s.d)
	if s.ema != nil {
		ck.PutState("ema_g", s.ema)
	}
	ck.PutState("opt_g", s.optG)
	ck.PutState("opt_d", s.optD)
	ck.PutRNG(rngGame, s.gameRNG)
	if err := ck.PutJSON(jsonLoader, s.loader.State()); err != nil {
		return err
	}
	ck.Meta[metaThreads] = strconv.Itoa(blas.Threads())
	if err := s.run.SaveCheckpoint(ck, score); err != nil {
		return err
	}
	s.lastCk = s.tr.Step
	if progress != nil {
		fmt.Fprintf(progress, "checkpoint at step %d\n", s.tr.Step)
	}
	return nil
}

// restore loads a checkpoint written by checkpoint.
func (s *session) restore(ck *run.Checkpoint, warn io.Writer) error {
	if ck.Step > s.c.Train.Steps {
		return fmt.Errorf("checkpoint at step %d is past train.steps %d", ck.Step, s.c.Train.Steps)
	}
	if err := ck.LoadModule("g", s.g); err != nil {
		return err
	}
	if err := ck.LoadModule("d", s.d); err != nil {
		return err
	}
	if s.ema != nil {
		if err := ck.LoadState("ema_g", s.ema); err != nil {
			return err
		}
	}
	if err := ck.LoadState("opt_g", s.optG); err != nil {
		return err
	}
	if err := ck.LoadState("opt_d", s.optD); err != nil {
		return err
	}
	if err := ck.LoadRNG(rngGame, s.gameRNG); err != nil {
		return err
	}
	var st data.LoaderState
	if err := ck.LoadJSON(jsonLoader, &st); err != nil {
		return err
	}
	if err := s.loader.SetState(st); err != nil {
		return err
	}
	if t := ck.Meta[metaThreads]; t != "" && t != strconv.Itoa(blas.Threads()) {
		if warn == nil {
			warn = os.Stderr
		}
		fmt.Fprintf(warn, "checkpoint at step %d was made with %s GEMM threads, this process uses %d: the continuation may differ in the last bits (train.deterministic avoids this)\n", ck.Step, t, blas.Threads())
	}
	s.lastCk = ck.Step
	s.tr.Step = ck.Step
	return nil
}

func (s *session) close() {
	if s.loader != nil {
		s.loader.Close()
	}
}

// maxLabel is the largest label, or -1 for none.
func maxLabel(ls []int) int {
	m := -1
	for _, l := range ls {
		m = max(m, l)
	}
	return m
}
