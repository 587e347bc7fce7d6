package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/progress"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
)

const trainUsage = `Usage: kallima train [flags]

Trains a model from a preset or a YAML config into a run folder:
config.yaml (the exact config used), metrics.jsonl and TensorBoard events
(every step), samples/step-N.png (a fixed noise batch every
train.sample_every steps: an image grid, or for 2-D data the generated
points over the real ones) and checkpoints/ (every train.checkpoint_every
steps, at the end and when stopped by Ctrl-C or SIGTERM). A 2-D run (ring8,
grid25, mixture) also writes plot.png and metrics.txt, its final score.
A run continues from its newest checkpoint with -resume, exactly as if it
had not been interrupted; -resume with -set train.steps=N trains a finished
run for longer. With no flags it trains the default, ring8.

Flags:
`

const trainExamples = `
Examples:
  kallima train                                  the default: ring8, non-saturating loss + R1 (about 20 s)
  kallima train -preset grid25                   an embedded preset
  kallima train -config my.yaml -out runs/mine   a config file
  kallima train -set loss.name=hinge -set train.steps=5000
  kallima train -set loss.name=wgan -set loss.penalty=gp -set loss.penalty_weight=1 -set train.n_critic=5
  kallima train -preset dcgan-mnist -out runs/dcgan    DCGAN on MNIST (fetched on first use)
  kallima train -resume runs/dcgan                     continue it from its newest checkpoint
  kallima train -resume runs/dcgan -set train.steps=10000   train the finished run for longer
  kallima train -serve 127.0.0.1:8080            watch it learn in the browser (the 2-D view: pause, step)
`

// setFlags collects repeated -set flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func runTrain(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima train", trainUsage, trainExamples)
	preset := fs.String("preset", "", "embedded preset: "+strings.Join(config.Presets(), ", ")+" (default ring8)")
	file := fs.String("config", "", "YAML config file (fields not given keep their defaults)")
	out := fs.String("out", "", "run folder (default runs/<config name>)")
	resume := fs.String("resume", "", "continue the run in this folder from its newest checkpoint")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the training to this file (go tool pprof reads it)")
	serveAddr := fs.String("serve", "", "serve the live page (curves, samples, the 2-D view with pause and step) at this address while training, e.g. 127.0.0.1:8080")
	serveKeep := fs.Bool("serve-keep", false, "with -serve, keep serving after training ends, until Ctrl-C (default: stop with training)")
	var sets setFlags
	fs.Var(&sets, "set", "override a config field, section.field=value (repeatable)")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "kallima train: unexpected argument %q (use -config FILE or -preset NAME)\n", pos[0])
		return exitUsage
	}
	if *preset != "" && *file != "" {
		fmt.Fprintln(stderr, "kallima train: give -preset or -config, not both")
		return exitUsage
	}
	if *serveKeep && *serveAddr == "" {
		fmt.Fprintln(stderr, "kallima train: -serve-keep keeps -serve's page up after training: give -serve ADDR too")
		return exitUsage
	}
	if *cpuProfile != "" {
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "kallima train: -cpuprofile: %v\n", err)
			return exitError
		}
		defer stop()
	}
	if *resume != "" {
		if *preset != "" || *file != "" || *out != "" {
			fmt.Fprintln(stderr, "kallima train: -resume takes the run's own config: give no -preset, -config or -out (-set train.steps=N may extend it)")
			return exitUsage
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		pw := progress.For(stderr)
		opts := pipeline.Options{Progress: pw, Warn: pw}
		if *serveAddr != "" {
			c, err := pipeline.RunConfig(*resume)
			if err != nil {
				fmt.Fprintf(stderr, "kallima train: %v\n", err)
				return exitError
			}
			ls, hook, err := startLive(ctx, *serveAddr, *resume, c, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "kallima train: %v\n", err)
				return exitError
			}
			defer ls.stop(ctx, *serveKeep, stderr)
			opts.OnStep = hook
		}
		r, err := pipeline.Resume(ctx, *resume, opts, sets...)
		progress.Finish(pw)
		return trainDone(r, err, stdout, stderr)
	}
	var c config.Config
	var err error
	switch {
	case *file != "":
		c, err = config.Load(*file)
	case *preset != "":
		c, err = config.Preset(*preset)
	default:
		c, err = config.Preset("ring8")
	}
	if err == nil {
		for _, kv := range sets {
			if err = c.Set(kv); err != nil {
				break
			}
		}
	}
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitUsage
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("runs", c.Name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "training %s: %s; %s loss on %s for %d steps (seed %d) into %s\n", c.Name, c.Model, c.Loss.Name, dataOf(c), c.Train.Steps, c.Seed, dir)
	pw := progress.For(stderr)
	opts := pipeline.Options{Progress: pw, Warn: pw}
	if *serveAddr != "" {
		ls, hook, err := startLive(ctx, *serveAddr, dir, c, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "kallima train: %v\n", err)
			return exitError
		}
		defer ls.stop(ctx, *serveKeep, stderr)
		opts.OnStep = hook
	}
	r, err := pipeline.Train(ctx, c, dir, opts)
	progress.Finish(pw)
	if errors.Is(err, runfolder.ErrExists) {
		fmt.Fprintf(stderr, "kallima train: %s already holds a run: continue it with -resume %s, or pick another -out\n", dir, dir)
		return exitUsage
	}
	return trainDone(r, err, stdout, stderr)
}

// dataOf describes a config's data, e.g. "mnist (1x28x28)".
func dataOf(c config.Config) string {
	if !c.IsImage() {
		return c.Data.Kind
	}
	ch, side := c.ImageShape()
	return fmt.Sprintf("%s (%dx%dx%d)", c.Data.Kind, ch, side, side)
}

// trainDone reports a finished, stopped or failed run: for a 2-D run its
// score and plot too.
func trainDone(r pipeline.Result, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, gan.ErrStopped) {
		what := "stopped"
		if r.Candidate != "" {
			what = "stopped " + r.Candidate
		}
		saved := fmt.Sprintf("checkpoint written at step %d", r.Checkpoint)
		if r.Checkpoint == 0 {
			// Nothing to save before the first step: resume starts afresh.
			saved = "no checkpoint written (stopped before its first step; resuming starts it from step 0)"
		}
		fmt.Fprintf(stderr, "%s at step %d of %d; %s\n", what, r.Step, r.Steps, saved)
		fmt.Fprintf(stderr, "continue with: kallima train -resume %s\n", r.Dir)
		return exitError
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitError
	}
	if p := r.Points; p != nil {
		fmt.Fprint(stdout, pipeline.Summary(p.Score))
		fmt.Fprintf(stdout, "plot             %s\n", p.Plot)
	}
	fmt.Fprintf(stdout, "steps            %d (from %d)\nwall time        %.1f s\nrun folder       %s\nsamples          %s\ncheckpoint       step %d\n",
		r.Step, r.ResumedAt, r.Elapsed.Seconds(), r.Dir, filepath.Join(r.Dir, runfolder.SamplesDir), r.Checkpoint)
	if r.Rollbacks > 0 {
		fmt.Fprintf(stdout, "rollbacks        %d (learning rates scaled down after divergence)\n", r.Rollbacks)
	}
	return exitOK
}

// startProfile starts a CPU profile into path and returns what stops it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
