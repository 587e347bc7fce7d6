// Package pipeline is the one run pipeline of every model family and every
// data kind: it loads the data, builds the family's model (package
// family), trains it with gan.Trainer and keeps the run folder (package
// run): the config snapshot, a metrics record every step (metrics.jsonl and
// TensorBoard), previews every train.sample_every steps (a sample grid for
// images, a scatter plot for 2-D points), checkpoints every
// train.checkpoint_every steps, at the end and after a stop, periodic
// evaluation, and rollback on divergence. A 2-D run is also scored at the
// end (mode coverage, quality, W1) into plot.png and metrics.txt.
//
// A checkpoint holds everything the next step depends on: every player's
// networks, optimizer and EMA under the player's name, the family's random
// streams and extra state (such as the loader's position), the rollback
// count and learning-rate scale, and the step counter. Training runs on
// one goroutine with fixed reduction orders, so Resume continues a run bit
// for bit as if it had never been interrupted (on a machine with the same
// core count, or on any with train.deterministic).
package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	_ "github.com/kallima-gan/kallima/family/all" // every family can be trained
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/atomicfile"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/internal/progress"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// Options are the settings of a training session that are not part of the
// config.
type Options struct {
	// Progress receives the periodic progress lines (every
	// train.log_every steps; every step, as a bar, when it is a
	// *progress.Bar), one line per checkpoint and one per rollback; nil
	// for none.
	Progress io.Writer
	// Warn receives the run folder's warnings (see run.Options.Warn); nil
	// means os.Stderr.
	Warn io.Writer
	// OnStep, when set, is called after every step, once its metrics,
	// preview and checkpoint are written, on the training goroutine: a
	// live view (package serve/live) watches training through it, and
	// pauses it by blocking. An error stops training and is returned
	// (wrap gan.ErrStopped to stop as Ctrl-C does, with a checkpoint).
	OnStep func(v StepView) error

	// stopAt, when set, is where a candidate stops (train.candidate_steps):
	// its progress lines count to it, not to train.steps.
	stopAt int
}

// Result is a finished (or stopped) training session.
type Result struct {
	Dir        string // the run folder ("" for Run)
	Step       int    // steps done
	Steps      int    // steps asked for
	Checkpoint int    // the step of the last checkpoint written
	ResumedAt  int    // the step training continued from (0 for a new run)
	Rollbacks  int    // recoveries from divergence so far
	Elapsed    time.Duration
	// Candidate names the candidate that was training when a run with
	// train.candidates stopped before its choice ("candidate 2 of 3, seed
	// 1000001", "finalist 1 of 2, candidate 3, seed 2000001"); Step and
	// Checkpoint are then that candidate's.
	Candidate string
	// Points are the results of a 2-D run (nil for images): its final
	// score and the points plotted.
	Points *PointsResult
}

// PointsResult is the final score of a 2-D run: SampleN generated points
// (EMA weights when EMA is on) scored against the mixture, and as many
// real points for the plot.
type PointsResult struct {
	Score      metrics.MixtureScore
	Real, Fake *tensor.Tensor // [n, 2]
	Plot       string         // plot.png in the run folder ("" for Run)
}

// Meta keys of a checkpoint beyond the run package's.
const (
	metaThreads   = "pipeline.blas_threads" // the GEMM thread count the run used
	metaClasses   = "data.classes"          // the data's class count, for sampling without the data
	metaLRScale   = "train.lr_scale"        // the rollbacks' learning-rate scale
	metaRollbacks = "train.rollbacks"
)

// Files a 2-D run writes at the end.
const (
	PlotFile    = "plot.png"
	SummaryFile = "metrics.txt"
)

// Train creates a run in dir for config c and trains it. ctx cancellation
// stops training after the current step; a checkpoint is written and the
// error wraps gan.ErrStopped. An existing run in dir is an error wrapping
// run.ErrExists (continue it with Resume).
func Train(ctx context.Context, c config.Config, dir string, opts Options) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	snap, err := c.YAML()
	if err != nil {
		return Result{}, fmt.Errorf("config snapshot: %w", err)
	}
	if c.Train.Candidates > 1 {
		// The run folder first, so a stop among the candidates resumes;
		// it stays open, and so locked, while they train in subfolders.
		r, err := run.Create(dir, snap, run.Options{Keep: c.Train.KeepCheckpoints, Warn: opts.Warn})
		if err != nil {
			return Result{}, err
		}
		return trainCandidates(ctx, c, r, opts)
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

// Run trains config c in memory, without a run folder (no checkpoints,
// metrics or previews), and returns the result: the benchmark's way of
// running many short 2-D runs.
func Run(ctx context.Context, c config.Config, opts Options) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	if c.Train.Candidates > 1 {
		return Result{}, errors.New("train.candidates: candidates train in a run folder; use Train")
	}
	s, err := build(c, opts.Progress)
	if err != nil {
		return Result{}, err
	}
	defer s.close()
	return s.train(ctx, opts)
}

// Resume reopens the run in dir and continues it from its newest checkpoint
// that verifies (from the start if it has none) until train.steps, with the
// config it was created with. sets are -set overrides (section.field=value)
// of the run's config: only train.steps may change (to train a finished
// run for longer, or stop it sooner), and the snapshot is rewritten with
// it; any other field is refused, with the reason. With train.lr_decay the
// linear decay stretches to the new length, so the rates rise again from
// where a finished run had decayed them to 0. A checkpoint made with
// another GEMM thread count (another number of cores, without
// train.deterministic) resumes with a warning: the continuation may then
// differ in the last bits.
//
// The run folder is locked first (run.Open): while another process trains
// it, the error wraps run.ErrLocked. A resume that is refused (a
// checkpoint past train.steps) or has nothing to do (the run is at
// train.steps: Result.ResumedAt is then Result.Steps, and Points nil)
// leaves the folder as it was.
func Resume(ctx context.Context, dir string, opts Options, sets ...string) (Result, error) {
	c, snap, err := resumeConfig(dir, sets)
	if err != nil {
		return Result{}, err
	}
	r, err := run.Open(dir, run.Options{Keep: c.Train.KeepCheckpoints, Warn: opts.Warn})
	if err != nil {
		return Result{}, err
	}
	return resumeRun(ctx, r, c, snap, opts)
}

// resumeRun is Resume of the open run r, whose config is c; snap is the
// config snapshot to write once training goes ahead (nil: unchanged). It
// closes r.
func resumeRun(ctx context.Context, r *run.Run, c config.Config, snap []byte, opts Options) (Result, error) {
	dir := r.Dir()
	var choice *Choice // the kept candidate, with train.candidates
	if c.Train.Candidates > 1 {
		ch, ok, err := ReadChoice(dir)
		if err == nil && !ok && snap != nil {
			err = writeConfig(dir, snap)
		}
		switch {
		case err != nil:
			r.Close()
			return Result{}, fmt.Errorf("resume %s: %w", dir, err)
		case !ok:
			return trainCandidates(ctx, c, r, opts)
		}
		// The session is the kept candidate's, continued.
		choice = &ch
		c.Seed = ch.Candidates[ch.Kept].Seed
	}
	// The checkpoint before anything else: a resume that is refused or
	// has nothing to do must leave the folder as it was.
	ck, _, ckErr := r.LoadLatest()
	if ckErr != nil && !errors.Is(ckErr, run.ErrNoCheckpoint) {
		r.Close()
		return Result{}, ckErr
	}
	if ckErr == nil && ck.Step > c.Train.Steps {
		r.Close()
		return Result{}, fmt.Errorf("resume %s from step %d: %w", dir, ck.Step, pastSteps(ck.Step, c.Train.Steps))
	}
	if ckErr == nil && ck.Step == c.Train.Steps && finished(c, dir) {
		res := Result{Dir: dir, Step: ck.Step, Steps: c.Train.Steps, Checkpoint: ck.Step, ResumedAt: ck.Step}
		res.Rollbacks, _ = strconv.Atoi(ck.Meta[metaRollbacks])
		if err := r.Close(); err != nil {
			return res, err
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%s is finished (step %d of %d): nothing to train; resume with -set train.steps=N to train it longer\n", dir, ck.Step, c.Train.Steps)
		}
		return res, nil
	}
	s, err := build(c, opts.Progress)
	if err != nil {
		r.Close()
		return Result{}, err
	}
	defer s.close()
	s.run = r
	switch {
	case errors.Is(ckErr, run.ErrNoCheckpoint) && choice != nil:
		// Candidates done: start from the kept one.
		err = s.adoptCandidate(dir, *choice, opts)
	case errors.Is(ckErr, run.ErrNoCheckpoint):
		// Stopped before its first checkpoint: start over.
		err = r.Rewind(-1)
		if err == nil && opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "%s stopped before its first checkpoint: training it from step 0\n", dir)
		}
	default:
		if err = s.restore(ck, opts.Warn); err != nil {
			err = fmt.Errorf("resume %s from step %d: %w", dir, ck.Step, err)
			break
		}
		// Drops the metrics logged after the checkpoint (the steps are
		// trained again) and sets newer, damaged checkpoints aside.
		if err = r.Rewind(ck.Step); err != nil {
			break
		}
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "resuming %s from step %d of %d\n", dir, ck.Step, c.Train.Steps)
		}
	}
	if err == nil && snap != nil {
		err = writeConfig(dir, snap)
	}
	if err != nil {
		r.Close()
		return Result{}, err
	}
	return s.train(ctx, opts)
}

// finished reports whether the run in dir, whose newest checkpoint is at
// train.steps, wrote everything its end writes: a 2-D run's plot and
// score come after that checkpoint, so a kill in between leaves them to
// the resume to write.
func finished(c config.Config, dir string) bool {
	if c.IsImage() {
		return true
	}
	for _, f := range []string{PlotFile, SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// pastSteps is the error of a checkpoint at step beyond train.steps.
func pastSteps(step, steps int) error {
	return fmt.Errorf("checkpoint at step %d is past train.steps %d (resume with -set train.steps=N to train longer)", step, steps)
}

// writeConfig replaces the run's config.yaml with snap, atomically.
func writeConfig(dir string, snap []byte) error {
	return atomicfile.Write(filepath.Join(dir, run.ConfigFile), func(w io.Writer) error { _, err := w.Write(snap); return err })
}

// resumeConfig reads the run's config and applies sets, which may change
// train.steps only. snap is the new snapshot to write, nil when nothing
// changed.
func resumeConfig(dir string, sets []string) (c config.Config, snap []byte, err error) {
	old, err := os.ReadFile(filepath.Join(dir, run.ConfigFile))
	if err != nil {
		if _, serr := os.Stat(dir); serr != nil {
			return c, nil, fmt.Errorf("resume %s: %w (%w)", dir, run.ErrNotRun, serr)
		}
		return c, nil, fmt.Errorf("resume %s: %w (no %s)", dir, run.ErrNotRun, run.ConfigFile)
	}
	c, err = config.Parse(bytes.NewReader(old))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return c, nil, fmt.Errorf("resume %s: config.yaml: %w", dir, err)
	}
	if len(sets) == 0 {
		return c, nil, nil
	}
	// The config as saved, encoded before any -set: a copy of c would share
	// the model section (a pointer behind an interface) and see the sets.
	oldSteps := c.Train.Steps
	b, err := c.YAML()
	if err != nil {
		return c, nil, err
	}
	for _, kv := range sets {
		if err := c.Set(kv); err != nil {
			return c, nil, fmt.Errorf("resume %s: %w", dir, err)
		}
	}
	if err := c.Validate(); err != nil {
		return c, nil, fmt.Errorf("resume %s: %w", dir, err)
	}
	steps := c.Train.Steps
	c.Train.Steps = oldSteps
	a, err := c.YAML()
	if err != nil {
		return c, nil, err
	}
	if !bytes.Equal(a, b) {
		return c, nil, fmt.Errorf("resume %s: only train.steps can change on resume (-set %v): the checkpoints' networks, optimizer states and random streams were made by the rest of the config; train a new run with -config %s to change it", dir, sets, filepath.Join(dir, run.ConfigFile))
	}
	c.Train.Steps = steps
	if snap, err = c.YAML(); err != nil {
		return c, nil, err
	}
	return c, snap, nil
}

// session is one training session's state.
type session struct {
	c       config.Config
	data    family.Data
	model   *family.Model
	tr      *gan.Trainer
	run     *run.Run // nil for Run
	preview *preview
	lastCk  int        // step of the newest checkpoint written or restored
	eval    *evaluator // periodic evaluation's feature network and reference, made at the first

	// translation is a translator's fixed preview inputs (transpreview.go).
	translation *translationPreview
	// logged are the scalars the run logged at the current step, for
	// Options.OnStep.
	logged gan.Logs
}

// build loads the data and makes the model, preview and trainer of c, all
// from c.Seed.
func build(c config.Config, progress io.Writer) (*session, error) {
	if c.Train.Deterministic {
		blas.SetThreads(1)
	}
	d, err := LoadData(c, progress)
	if err != nil {
		return nil, err
	}
	m, err := family.Build(c, d)
	if err != nil {
		return nil, err
	}
	s := &session{c: c, data: d, model: m}
	if m.Generator != nil && m.GeneratorPlayer != nil {
		s.preview = newPreview(c, d, m)
	}
	if m.Translator != nil && m.GeneratorPlayer != nil {
		s.translation = newTranslationPreview(d, m.Translator, m.SampleRNG)
	}
	s.tr = &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: c.Train.Steps}
	if c.Train.RollbackEvery > 0 {
		s.tr.Rollback = &gan.Rollback{Every: c.Train.RollbackEvery, OnRollback: func(e *gan.DivergenceError, resume int) {
			if progress != nil {
				fmt.Fprintf(progress, "%v: rolled back to step %d with the learning rates scaled by %g\n", e, resume, s.tr.LRScale)
			}
		}}
	}
	return s, nil
}

// train runs the trainer from its current step with the run's callbacks,
// then writes the final checkpoint, preview and (2-D) score.
func (s *session) train(ctx context.Context, opts Options) (res Result, err error) {
	c := s.c
	start, from := time.Now(), s.tr.Step
	res = Result{Steps: c.Train.Steps, ResumedAt: from, Checkpoint: s.lastCk}
	if s.run != nil {
		res.Dir = s.run.Dir()
	}
	defer func() {
		res.Step, res.Elapsed, res.Checkpoint, res.Rollbacks = s.tr.Step, time.Since(start), s.lastCk, s.tr.Rollbacks
		if s.run != nil {
			if cerr := s.run.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	if len(s.tr.Phases) == 0 {
		return res, fmt.Errorf("model.kind %s: the model has no training phases", c.Model.Kind)
	}
	// The progress line shows the losses of the first and the last phase's
	// players (D's and G's for a GAN; a one-player model's once).
	players := []string{s.tr.Phases[0].Player.Name}
	if last := s.tr.Phases[len(s.tr.Phases)-1].Player.Name; last != players[0] {
		players = append(players, last)
	}
	losses := func(logs gan.Logs) []progress.Loss {
		ls := make([]progress.Loss, len(players))
		for i, p := range players {
			ls[i] = progress.Loss{Name: p, Value: logs[p+"/loss"]}
		}
		return ls
	}
	end := c.Train.Steps
	if opts.stopAt > 0 {
		end = opts.stopAt
	}
	s.tr.Callbacks = append(s.tr.Callbacks, func(t *gan.Trainer, logs gan.Logs) error {
		if s.run == nil {
			progress.Report(opts.Progress, t.Step, end, c.Train.LogEvery, progress.Line(t.Step, end, from, losses(logs), time.Since(start)))
			return nil
		}
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
		s.logged = logs
		if err := s.run.Log(t.Step, logs); err != nil {
			return err
		}
		progress.Report(opts.Progress, t.Step, end, c.Train.LogEvery, progress.Line(t.Step, end, from, losses(logs), time.Since(start)))
		if c.Train.SampleEvery > 0 && t.Step%c.Train.SampleEvery == 0 {
			if err := s.savePreview(); err != nil {
				return err
			}
		}
		if score != nil || (c.Train.CheckpointEvery > 0 && t.Step%c.Train.CheckpointEvery == 0) {
			return s.checkpoint(opts.Progress, score)
		}
		return nil
	})
	if opts.OnStep != nil {
		// After the run's callback, so the step's files exist, with the
		// scalars it logged (the evaluation's too).
		s.tr.Callbacks = append(s.tr.Callbacks, func(t *gan.Trainer, logs gan.Logs) error {
			if s.logged != nil {
				logs = s.logged
			}
			sampled := c.Train.SampleEvery > 0 && t.Step%c.Train.SampleEvery == 0
			return opts.OnStep(s.stepView(logs, sampled))
		})
	}
	runErr := s.tr.Run(ctx)
	var div *gan.DivergenceError
	if errors.As(runErr, &div) || (runErr != nil && !errors.Is(runErr, gan.ErrStopped)) {
		return res, runErr
	}
	if s.run != nil {
		if s.tr.Step == s.tr.Steps && (c.Train.SampleEvery == 0 || s.tr.Step%c.Train.SampleEvery != 0) {
			if err := s.savePreview(); err != nil {
				return res, err
			}
		}
		if s.tr.Step == s.tr.Steps {
			if err := s.saveTraversals(); err != nil {
				return res, err
			}
		}
		if s.lastCk != s.tr.Step {
			if err := s.checkpoint(opts.Progress, nil); err != nil {
				return res, err
			}
		}
	}
	if !s.data.IsImage() && s.preview != nil {
		pr, err := s.scorePoints()
		if err != nil {
			return res, err
		}
		res.Points = pr
	}
	if runErr != nil {
		if s.run == nil {
			return res, runErr
		}
		return res, fmt.Errorf("%w at step %d; checkpoint written, continue with resume", runErr, s.tr.Step)
	}
	return res, nil
}

// checkpoint writes the session's whole state at the current step, with
// score (an evaluation's FID; nil for none) for choosing the best.
func (s *session) checkpoint(progress io.Writer, score *float64) error {
	ck := run.NewCheckpoint(s.tr.Step)
	for _, p := range s.model.Players {
		ck.PutModule(p.Name, p.Module)
		ck.PutState("opt_"+p.Name, p.Opt)
		if p.EMA != nil {
			ck.PutState("ema_"+p.Name, p.EMA)
		}
	}
	for name, rng := range s.model.Streams {
		ck.PutRNG(name, rng)
	}
	for name, e := range s.model.Extras {
		if err := e.Save(ck, name); err != nil {
			return fmt.Errorf("checkpoint at step %d: %s: %w", s.tr.Step, name, err)
		}
	}
	ck.Meta[metaThreads] = strconv.Itoa(blas.Threads())
	ck.Meta[metaClasses] = strconv.Itoa(s.data.Classes)
	putClassNames(ck, s.data.ClassNames)
	ck.Meta[metaLRScale] = strconv.FormatFloat(float64(s.tr.LRScale), 'g', -1, 32)
	ck.Meta[metaRollbacks] = strconv.Itoa(s.tr.Rollbacks)
	if err := s.run.SaveCheckpoint(ck, score); err != nil {
		return err
	}
	s.lastCk = s.tr.Step
	if progress != nil {
		fmt.Fprintf(progress, "checkpoint at step %d\n", s.tr.Step)
	}
	return nil
}

// restore loads a checkpoint written by checkpoint: the family's extras
// first (a growing family grows to the checkpoint's stage), then every
// player, stream and the rollback state.
func (s *session) restore(ck *run.Checkpoint, warn io.Writer) error {
	if ck.Step > s.c.Train.Steps {
		return pastSteps(ck.Step, s.c.Train.Steps)
	}
	for name, e := range s.model.Extras {
		if err := e.Load(ck, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, p := range s.model.Players {
		if err := ck.LoadModule(p.Name, p.Module); err != nil {
			return err
		}
		if err := ck.LoadState("opt_"+p.Name, p.Opt); err != nil {
			return err
		}
		if p.EMA != nil {
			if err := ck.LoadState("ema_"+p.Name, p.EMA); err != nil {
				return err
			}
		}
	}
	for name, rng := range s.model.Streams {
		if err := ck.LoadRNG(name, rng); err != nil {
			return err
		}
	}
	if v := ck.Meta[metaLRScale]; v != "" {
		f, err := strconv.ParseFloat(v, 32)
		if err != nil || !(f > 0 && f <= 1) {
			return fmt.Errorf("checkpoint at step %d: %s %q is not a scale in (0, 1]", ck.Step, metaLRScale, v)
		}
		s.tr.LRScale = float32(f)
	}
	if v := ck.Meta[metaRollbacks]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("checkpoint at step %d: %s %q is not a count", ck.Step, metaRollbacks, v)
		}
		s.tr.Rollbacks = n
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
	if s.model != nil && s.model.Close != nil {
		s.model.Close()
	}
}
