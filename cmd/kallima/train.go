package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/internal/progress"
	"github.com/kallima-gan/kallima/picture"
	runfolder "github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/toy"
)

const trainUsage = `Usage: kallima train [flags]

Trains a GAN from a preset or a YAML config and writes its results into a
run folder, config.yaml (the exact config used) and:
  2-D toy data (ring8, grid25, mixture): plot.png (real points and generated
    samples over their density) and metrics.txt;
  images (mnist, folder, synthetic): metrics.jsonl and TensorBoard events
    (every step), samples/step-N.png (a fixed noise batch, every
    train.sample_every steps) and checkpoints/ (every train.checkpoint_every
    steps, at the end and when stopped by Ctrl-C or SIGTERM).
An image run continues from its newest checkpoint with -resume, exactly as
if it had not been interrupted. With no flags it trains the default, ring8.

Flags:
`

const trainExamples = `
Examples:
  kallima train                                  the default: ring8, non-saturating loss
  kallima train -preset grid25                   an embedded preset
  kallima train -config my.yaml -out runs/mine   a config file
  kallima train -set loss.name=hinge -set train.steps=5000
  kallima train -set loss.name=wgan -set loss.penalty=gp -set loss.penalty_weight=1 -set train.n_critic=5
  kallima train -preset dcgan-mnist -out runs/dcgan    DCGAN on MNIST (fetched on first use)
  kallima train -resume runs/dcgan                     continue it from its newest checkpoint
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
	resume := fs.String("resume", "", "continue the image run in this folder from its newest checkpoint")
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
	if *resume != "" {
		if *preset != "" || *file != "" || *out != "" || len(sets) > 0 {
			fmt.Fprintln(stderr, "kallima train: -resume takes the run's own config: give no -preset, -config, -out or -set")
			return exitUsage
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		pw := progress.For(stderr)
		r, err := imagegan.Resume(ctx, *resume, imagegan.Options{Progress: pw, Warn: pw})
		progress.Finish(pw)
		return imageDone(r, err, stdout, stderr)
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
	if c.IsImage() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		fmt.Fprintf(stderr, "training %s: %s %s, %s loss on %s for %d steps (seed %d) into %s\n", c.Name, c.Model.Kind, sizeOf(c), c.Loss.Name, c.Data.Kind, c.Train.Steps, c.Seed, dir)
		pw := progress.For(stderr)
		r, err := imagegan.Train(ctx, c, dir, imagegan.Options{Progress: pw, Warn: pw})
		progress.Finish(pw)
		if errors.Is(err, runfolder.ErrExists) {
			fmt.Fprintf(stderr, "kallima train: %s already holds a run: continue it with -resume %s, or pick another -out\n", dir, dir)
			return exitUsage
		}
		return imageDone(r, err, stdout, stderr)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitError
	}
	snap, err := c.YAML()
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "config.yaml"), snap, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima train: write config snapshot: %v\n", err)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "training %s: %s loss on %s for %d steps (seed %d) into %s\n", c.Name, c.Loss.Name, c.Data.Kind, c.Train.Steps, c.Seed, dir)
	pw := progress.For(stderr)
	r, err := toy.Run(ctx, c, pw)
	progress.Finish(pw)
	stopped := errors.Is(err, gan.ErrStopped)
	if err != nil && !stopped {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitError
	}
	if stopped {
		fmt.Fprintf(stderr, "stopped by signal after %d steps; scoring the generator as it is\n", r.Steps)
	}
	s := r.Score
	title := fmt.Sprintf("%s, %s loss, %d steps: %d/%d modes, %.1f%% high quality, W1 %.3f", c.Data.Kind, c.Loss.Name, r.Steps, s.Modes, s.TotalModes, 100*s.HighQuality, s.W1)
	plot := filepath.Join(dir, "plot.png")
	if err := picture.ScatterPlot(plot, r.Real, r.Fake, title); err != nil {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitError
	}
	summary := fmt.Sprintf("modes captured   %d / %d\nhigh quality     %.1f%%\nreverse KL       %.4f\nW1               %.4f\nwall time        %.1f s\nprotocol         %s\n",
		s.Modes, s.TotalModes, 100*s.HighQuality, s.ReverseKL, s.W1, r.Elapsed.Seconds(), s.Protocol)
	if err := os.WriteFile(filepath.Join(dir, "metrics.txt"), []byte(summary), 0o644); err != nil {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitError
	}
	fmt.Fprint(stdout, summary)
	fmt.Fprintf(stdout, "plot             %s\n", plot)
	if stopped {
		return exitError
	}
	return exitOK
}

// sizeOf describes an image config's model size, e.g. "28x28, width 64".
func sizeOf(c config.Config) string {
	ch, side := c.ImageShape()
	return fmt.Sprintf("%dx%dx%d, width %d", ch, side, side, c.Model.Width)
}

// imageDone reports a finished, stopped or failed image run.
func imageDone(r imagegan.Result, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, gan.ErrStopped) {
		fmt.Fprintf(stderr, "stopped at step %d of %d; checkpoint written at step %d\ncontinue with: kallima train -resume %s\n", r.Step, r.Steps, r.Checkpoint, r.Dir)
		return exitError
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima train: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "steps            %d (from %d)\nwall time        %.1f s\nrun folder       %s\nsamples          %s\ncheckpoint       step %d\n",
		r.Step, r.ResumedAt, r.Elapsed.Seconds(), r.Dir, filepath.Join(r.Dir, runfolder.SamplesDir), r.Checkpoint)
	return exitOK
}
