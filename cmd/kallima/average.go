package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
)

const averageUsage = `Usage: kallima average RUN [-from STEP | -last N] [-to STEP] [-out FILE] [flags]

Averages a run's saved generator weights over several checkpoints
(Polyak averaging; Yazıcı et al., "The Unusual Effectiveness of
Averaging in GAN Training", arXiv:1806.04498): for a generator that
wanders around a good solution late in training, the mean of its
last checkpoints often samples better than any one of them. The
checkpoints are the run's with -from <= step <= -to (-to: the newest;
without -from, the -last N up to -to), each read as sampling reads it
(the EMA of G's weights when the run keeps one, G's own with -raw);
every weight of the generator's module is averaged (BiGAN's encoder
too), batch norm's running statistics with them. The averaged statistics
are not the averaged weights' own: -bn N recomputes them as the mean
over N batches of train.batch noise draws through the averaged generator
(as SWA does; Izmailov et al. 2018, arXiv:1803.05407; 1000 is plenty).
BiGAN's encoder is not reached by sampling and keeps the averaged ones
(kallima eval -nn -bn recomputes those before scoring).

The result is a checkpoint file: the newest averaged checkpoint with
the generator's weights replaced by the mean and the optimizers'
state left out (a third of the size: an average is read, not
resumed), written by default
into the run's checkpoints folder as average-FROM-TO.safetensors
(FROM and TO the first and last steps averaged). There every command
that takes a checkpoint file reads it (sample, eval, eval -modes,
export, encode); training, resuming and pruning never see it, and
no checkpoint is changed. -out writes it elsewhere (give -config
RUN/config.yaml to read it there).

Flags:
`

const averageExamples = `
Examples:
  kallima average runs/stacked                     the last 3 checkpoints
  kallima average runs/stacked -from 13000 -to 16000
  kallima average runs/stacked -bn 1000            batch norm's statistics recomputed
  kallima eval -modes runs/stacked/checkpoints/average-013000-016000.safetensors
`

func runAverage(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima average", averageUsage, averageExamples)
	from := fs.Int("from", 0, "first step averaged (all checkpoints from it to -to)")
	to := fs.Int("to", 0, "last step averaged (default: the newest checkpoint)")
	last := fs.Int("last", 3, "without -from: the number of checkpoints averaged, ending at -to")
	out := fs.String("out", "", "file to write (default RUN/checkpoints/average-FROM-TO.safetensors)")
	raw := fs.Bool("raw", false, "average G's live weights even when the run keeps an EMA")
	bn := fs.Int("bn", 0, "recompute the averaged generator's batch norm statistics over this many batches of noise (0: average them)")
	seed := fs.Uint64("seed", 1, "with -bn: the seed the noise is drawn with")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintln(stderr, "kallima average: give one run folder (kallima average RUN)")
		return exitUsage
	case isSet(fs, "from") && isSet(fs, "last"):
		fmt.Fprintln(stderr, "kallima average: -from and -last both choose the first checkpoint; give one")
		return exitUsage
	case isSet(fs, "from") && *from < 0, isSet(fs, "to") && *to < 0:
		fmt.Fprintln(stderr, "kallima average: -from and -to are steps, 0 or more")
		return exitUsage
	case *bn < 0:
		fmt.Fprintf(stderr, "kallima average: -bn %d: want a number of batches, or 0 to average the statistics\n", *bn)
		return exitUsage
	case isSet(fs, "seed") && *bn == 0:
		fmt.Fprintln(stderr, "kallima average: -seed goes with -bn")
		return exitUsage
	case *last < 2:
		fmt.Fprintf(stderr, "kallima average: -last %d: want at least 2 checkpoints\n", *last)
		return exitUsage
	case isSet(fs, "from") && isSet(fs, "to") && *from > *to:
		fmt.Fprintf(stderr, "kallima average: -from %d is after -to %d\n", *from, *to)
		return exitUsage
	}
	dir := pos[0]
	infos, err := pipeline.ListCheckpoints(dir)
	if err == nil && len(infos) == 0 {
		err = fmt.Errorf("%s: %w", dir, runfolder.ErrNoCheckpoint)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima average: %v\n", err)
		return exitError
	}
	hi := *to
	if !isSet(fs, "to") {
		hi = infos[len(infos)-1].Step
	}
	lo := *from
	if !isSet(fs, "from") {
		// The -last checkpoints at or before hi.
		lo = hi
		for i, n := len(infos)-1, 0; i >= 0 && n < *last; i-- {
			if infos[i].Step <= hi {
				lo, n = infos[i].Step, n+1
			}
		}
	}
	ck, err := pipeline.Average(dir, lo, hi, pipeline.AverageOptions{Raw: *raw, NormBatches: *bn, Seed: *seed, Progress: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "kallima average: %v\n", err)
		return exitError
	}
	steps := strings.Split(ck.Meta[pipeline.MetaAverage], ",")
	path := *out
	if path == "" {
		first, _ := strconv.Atoi(steps[0])
		path = pipeline.AverageFile(dir, first, ck.Step)
	}
	if err := runfolder.WriteCheckpoint(path, ck); err != nil {
		fmt.Fprintf(stderr, "kallima average: %v\n", err)
		return exitError
	}
	norms := ""
	if ck.Meta[pipeline.MetaAverageNorms] != "" {
		norms = fmt.Sprintf(", batch norm's statistics recomputed over %d batches", *bn)
	} else if *bn > 0 {
		norms = " (the generator has no batch norm: -bn changed nothing)"
	}
	fmt.Fprintf(stdout, "wrote %s: the generator's weights averaged over steps %s%s\n", path, strings.Join(steps, ", "), norms)
	return exitOK
}

// joinInts writes steps as "1000, 2000, 3000".
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
