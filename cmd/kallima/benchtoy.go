package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/toy"
)

const benchToyUsage = `Usage: kallima bench toy [-seeds 5] [-losses a,b] [-data ring8,grid25] [-steps N] [-jobs N] [-journal FILE] [-out docs/RESULTS-toy.md]

Runs the 2-D mixture benchmark: every loss's recommended preset (toy.Recommended)
on ring8 and grid25 with each seed, scores 2,500 samples (modes captured, % high
quality, reverse KL, exact W1), and writes the mean +- std table beside the
published VEEGAN and PacGAN rows. One line per run goes to stderr. The whole
benchmark takes a long time; -jobs runs that many trainings at once (each
in its own process, on one core), and -losses, -data, -seeds and -steps
shorten it, with -out then required (the default file holds the whole
benchmark's table, and a part judges the target only where it is met). With
-journal every finished run is appended to FILE, and runs already there (same
loss, data set, seed and preset config) are read back instead of trained, so a
stopped benchmark continues where it was. Notes written by hand below the
marker line at the end of the -out file are kept when it is rewritten.

-print loss,data,seed writes one run's config as YAML and stops; training it
reproduces that run and draws its plot:
  kallima bench toy -print wgan-gp,grid25,1 > wgan-gp.yaml
  kallima train -config wgan-gp.yaml

Flags:
`

func runBenchToy(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima bench toy", benchToyUsage, "")
	seeds := fs.Int("seeds", 5, "seeds per loss and data set")
	losses := fs.String("losses", strings.Join(toy.BenchLosses, ","), "comma-separated loss presets")
	datasets := fs.String("data", "ring8,grid25", "comma-separated data sets")
	out := fs.String("out", filepath.Join("docs", "RESULTS-toy.md"), "where to write the table")
	steps := fs.Int("steps", 0, "override every preset's training steps (0: the presets'; for quick checks)")
	jobs := fs.Int("jobs", 1, "trainings run at once, each in its own single-core process")
	one := fs.String("one", "", "internal: run one cell loss,data,seed and print its scores")
	journal := fs.String("journal", "", "file of finished runs to reuse and extend (created if missing)")
	printCfg := fs.String("print", "", "print the config of one run, loss,data,seed, as YAML for kallima train -config, and stop")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 || *seeds < 1 || *steps < 0 || *jobs < 1 {
		fmt.Fprintf(stderr, "kallima bench toy: want only flags, -seeds >= 1, -steps >= 0 and -jobs >= 1\n")
		return exitUsage
	}
	if *printCfg != "" {
		return printCell(*printCfg, *steps, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *one != "" {
		return runOneCell(ctx, *one, *steps, stdout, stderr)
	}
	// The default -out is the project's results page: a partial or
	// shortened run must not replace its table unasked.
	if !isSet(fs, "out") && (isSet(fs, "losses") || isSet(fs, "data") || isSet(fs, "seeds") || *steps != 0) {
		fmt.Fprintf(stderr, "kallima bench toy: this run is not the whole benchmark (-losses, -data, -seeds or -steps given): give -out FILE for its table; the default, %s, holds the whole benchmark's\n", *out)
		return exitUsage
	}
	ls, ds := strings.Split(*losses, ","), strings.Split(*datasets, ",")
	for _, d := range ds {
		for _, l := range ls {
			if _, err := toy.Recommended(l, d, 1); err != nil {
				fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
				return exitUsage
			}
		}
	}
	var ss []uint64
	for i := 1; i <= *seeds; i++ {
		ss = append(ss, uint64(i))
	}
	run := toy.RunCell
	if *jobs > 1 {
		run = processRunner
	}
	if *journal != "" {
		j, err := toy.OpenJournal(*journal)
		if err != nil {
			fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stderr, "journal %s: %d finished runs\n", *journal, j.Len())
		run = j.Wrap(run)
	}
	rows, err := toy.Bench(ctx, ls, ds, ss, *steps, *jobs, run, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
		return exitError
	}
	md := toy.Markdown(rows, "kallima bench toy "+strings.Join(args, " "))
	// Hand-written notes after the marker in the old file survive.
	old, err := os.ReadFile(*out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
		return exitError
	}
	md = toy.KeepNotes(md, string(old))
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
		return exitError
	}
	fmt.Fprint(stdout, md)
	return exitOK
}

// printCell writes the config of one benchmark run as YAML, so that
// kallima train -config reproduces it with its plot.
func printCell(spec string, steps int, stdout, stderr io.Writer) int {
	y, err := cellYAML(spec, steps)
	if err != nil {
		fmt.Fprintf(stderr, "kallima bench toy: -print %s: %v\n", spec, err)
		return exitUsage
	}
	stdout.Write(y)
	return exitOK
}

func cellYAML(spec string, steps int) ([]byte, error) {
	c, err := parseCell(spec)
	if err != nil {
		return nil, err
	}
	c.Steps = steps
	cfg, err := c.Config()
	if err != nil {
		return nil, err
	}
	return cfg.YAML()
}

// runOneCell is the worker side of -jobs: it trains one cell and prints
// its scores as one toy.FormatScore line.
func runOneCell(ctx context.Context, spec string, steps int, stdout, stderr io.Writer) int {
	c, err := parseCell(spec)
	if err != nil {
		fmt.Fprintf(stderr, "kallima bench toy: -one %s: %v\n", spec, err)
		return exitUsage
	}
	c.Steps = steps
	s, el, err := toy.RunCell(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitError
	}
	fmt.Fprintln(stdout, toy.FormatScore(s, el))
	return exitOK
}

func parseCell(spec string) (toy.Cell, error) {
	f := strings.Split(spec, ",")
	if len(f) != 3 {
		return toy.Cell{}, fmt.Errorf("want loss,data,seed")
	}
	seed, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return toy.Cell{}, fmt.Errorf("seed: %w", err)
	}
	return toy.Cell{Loss: f[0], Data: f[1], Seed: seed}, nil
}

// processRunner runs a cell in a child kallima process limited to one core,
// because tensor arenas are process-wide and trainings in one process
// cannot overlap.
func processRunner(ctx context.Context, c toy.Cell) (metrics.MixtureScore, time.Duration, error) {
	exe, err := os.Executable()
	if err != nil {
		return metrics.MixtureScore{}, 0, fmt.Errorf("find the kallima binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "toy", "-one", fmt.Sprintf("%s,%s,%d", c.Loss, c.Data, c.Seed), "-steps", strconv.Itoa(c.Steps))
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return metrics.MixtureScore{}, 0, fmt.Errorf("%s (%w)", strings.TrimSpace(errb.String()), err)
	}
	s, el, err := toy.ParseScore(strings.Split(strings.TrimSpace(out.String()), "\t"))
	if err != nil {
		return metrics.MixtureScore{}, 0, fmt.Errorf("read the scores of %v from %q: %w", c, out.String(), err)
	}
	return s, el, nil
}
