package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kallima-gan/kallima/toy"
)

const benchToyUsage = `Usage: kallima bench toy [-seeds 5] [-losses a,b] [-data ring8,grid25] [-steps N] [-out docs/RESULTS-toy.md]

Runs the 2-D mixture benchmark: every loss's recommended preset (toy.Recommended)
on ring8 and grid25 with each seed, scores 2,500 samples (modes captured, % high
quality, reverse KL, exact W1), and writes the mean +- std table beside the
published VEEGAN and PacGAN rows. One line per run goes to stderr. The whole
benchmark takes a long time on two cores; -losses and -seeds shorten it.

Flags:
`

func runBenchToy(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kallima bench toy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	seeds := fs.Int("seeds", 5, "seeds per loss and data set")
	losses := fs.String("losses", strings.Join(toy.BenchLosses, ","), "comma-separated loss presets")
	datasets := fs.String("data", "ring8,grid25", "comma-separated data sets")
	out := fs.String("out", filepath.Join("docs", "RESULTS-toy.md"), "where to write the table")
	steps := fs.Int("steps", 0, "override every preset's training steps (0: the presets'; for quick checks)")
	usage := func(w io.Writer) {
		fmt.Fprint(w, benchToyUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
		usage(stderr)
		return exitUsage
	}
	if fs.NArg() > 0 || *seeds < 1 || *steps < 0 {
		fmt.Fprintf(stderr, "kallima bench toy: want only flags, -seeds >= 1 and -steps >= 0\n")
		return exitUsage
	}
	ls, ds := strings.Split(*losses, ","), strings.Split(*datasets, ",")
	for _, d := range ds {
		for _, l := range ls {
			if _, err := toy.Recommended(l, d, 1); err != nil {
				fmt.Fprintf(stderr, "kallima bench toy: %v (losses: %s)\n", err, strings.Join(toy.BenchLosses, ", "))
				return exitUsage
			}
		}
	}
	var ss []uint64
	for i := 1; i <= *seeds; i++ {
		ss = append(ss, uint64(i))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows, err := toy.Bench(ctx, ls, ds, ss, *steps, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
		return exitError
	}
	md := toy.Markdown(rows, "kallima bench toy "+strings.Join(args, " "))
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintf(stderr, "kallima bench toy: %v\n", err)
		return exitError
	}
	fmt.Fprint(stdout, md)
	return exitOK
}
