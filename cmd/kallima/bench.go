package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/bench"
)

const benchUsage = `Usage: kallima bench [flags] <workload>...

Bench times a reference training workload: one iteration is a discriminator
update on a real and a fake batch and a generator update (batch 64, 28x28x1,
Adam lr 2e-4, betas 0.5, 0.999). It prints the median iterations per second
over the timed iterations and the effective GFLOP/s (a nominal FLOP count of
the convolutions and linear layers, the same as bench/pytorch_bench.py's,
over the median time). Progress goes to stderr.

Workloads:
  dcgan    DCGAN with batch norm, non-saturating BCE losses
  wgangp   WGAN-GP: the same networks without batch norm in D, the gradient penalty
  toy      the 2-D mixture benchmark (its own flags: kallima bench toy -h)
  serve    a load test of kallima serve on loopback (kallima bench serve -h)

Flags (before or after the workloads):
`

const benchExamples = `
Examples:
  kallima bench dcgan
  kallima bench wgangp -iters 50 -warmup 10
  kallima bench dcgan wgangp -json > kallima.jsonl
  GOMAXPROCS=1 kallima bench dcgan -q
`

// runBench is `kallima bench`.
func runBench(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "toy" {
		return runBenchToy(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		return runBenchServe(args[1:], stdout, stderr)
	}
	fs := flagSet("kallima bench", benchUsage, benchExamples)
	def := bench.DefaultOptions()
	iters := fs.Int("iters", def.Iters, "timed iterations (the median is reported)")
	warmup := fs.Int("warmup", def.Warmup, "untimed warm-up iterations before them")
	seed := fs.Uint64("seed", def.Seed, "seed for weights, data and latents")
	asJSON := fs.Bool("json", false, "print one JSON object per workload instead of text")
	quiet := fs.Bool("q", false, "no progress on stderr")
	names, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(names) == 0 {
		fmt.Fprintf(stderr, "kallima bench: no workload given (want %s; toy and serve come first, alone)\n", strings.Join(bench.Names(), ", "))
		return exitUsage
	}
	for _, n := range names {
		if _, ok := bench.IterationFLOPs(n); !ok {
			if n == "toy" || n == "serve" {
				fmt.Fprintf(stderr, "kallima bench: %s runs alone, as the first word (kallima bench %s -h)\n", n, n)
			} else {
				fmt.Fprintf(stderr, "kallima bench: unknown workload %q (want %s, or toy or serve as the first word)\n", n, strings.Join(bench.Names(), ", "))
			}
			return exitUsage
		}
	}
	if *iters < 1 || *warmup < 0 {
		fmt.Fprintf(stderr, "kallima bench: need -iters >= 1 and -warmup >= 0, got %d and %d\n", *iters, *warmup)
		return exitUsage
	}
	for _, name := range names {
		opt := bench.Options{Iters: *iters, Warmup: *warmup, Seed: *seed}
		if !*quiet {
			opt.Progress = func(i, total int, d time.Duration) {
				phase := "timed"
				k, n := i-*warmup, *iters
				if i <= *warmup {
					phase, k, n = "warm-up", i, *warmup
				}
				fmt.Fprintf(stderr, "%s: %s %d/%d: %.1f ms\n", name, phase, k, n, float64(d.Microseconds())/1e3)
			}
		}
		res, err := bench.Run(name, opt)
		if err != nil {
			fmt.Fprintf(stderr, "kallima bench: %v\n", err)
			return exitError
		}
		if *asJSON {
			b, err := json.Marshal(res)
			if err != nil {
				fmt.Fprintf(stderr, "kallima bench: %v\n", err)
				return exitError
			}
			fmt.Fprintf(stdout, "%s\n", b)
			continue
		}
		fmt.Fprintf(stdout, "kallima %s: %.2f it/s (median of %d after %d warm-up, %.1f ms/it), %.1f GFLOP/s effective (%.3f GFLOP/it), on %s\n",
			name, res.ItersPerSecond, res.Iters, res.Warmup, res.MedianSeconds*1e3, res.GFLOPS, res.GFLOPPerIteration, bench.Machine(res.BLAS))
	}
	return exitOK
}
