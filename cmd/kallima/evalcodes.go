package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/pipeline"
)

// runEvalCodes is kallima eval -codes RUN: the latent codes of an InfoGAN
// run scored against the classifier's digit classes (pipeline.EvaluateCodes).
func runEvalCodes(pos []string, perValue int, seed uint64, raw, asJSON bool, stdout, stderr io.Writer) int {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima eval: -codes scores one run folder or checkpoint, got %d arguments\n", len(pos))
		return exitUsage
	}
	if perValue < 1 || perValue > maxSamples {
		fmt.Fprintf(stderr, "kallima eval: -codes -n %d: want 1 to %d images per category\n", perValue, maxSamples)
		return exitUsage
	}
	s, _, what, err := loadForEval(pos[0], raw)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	g, ok := s.Generator.(family.Coded)
	if !ok {
		fmt.Fprintf(stderr, "kallima eval: -codes: the model (%s) has no latent codes (model.kind infogan has)\n", s.Config.Model.Kind)
		return exitUsage
	}
	net, err := classifier.Load()
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	score, err := pipeline.EvaluateCodes(g, net.Net, pipeline.CodeEval{PerValue: perValue, Seed: seed})
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	fi, err := os.Stat(pos[0])
	_, isCheckpoint := pipeline.CheckpointRun(pos[0])
	inRun := err == nil && (fi.IsDir() || isCheckpoint)
	if inRun && s.Config.Data.Kind == "mnist" {
		// The paper's measure: Q reads c1 from MNIST's real test digits,
		// with the weights of the same checkpoint as G's (in a run
		// folder, the one loadForEval chose).
		path := pos[0]
		if fi.IsDir() {
			if infos, err := pipeline.ListCheckpoints(path); err == nil {
				for _, in := range infos {
					if in.Step == s.Step && in.Err == nil {
						path = in.Path
					}
				}
			}
		}
		r, step, err := pipeline.LoadCodeReader(path)
		if err == nil {
			var set *data.Set
			var dir string
			if dir, err = classifier.DefaultDataDir(); err == nil {
				set, err = classifier.LoadMNIST(dir, data.Test, stderr)
			}
			if err == nil {
				score.Real, err = pipeline.ScoreReader(r, set.Images, set.Labels, classifier.Classes)
				score.RealSet = fmt.Sprintf("mnist/test, Q of step %d", step)
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: Q on real digits: %v\n", err)
			return exitError
		}
	}
	if asJSON {
		return printJSON(score, stdout, stderr)
	}
	fmt.Fprintf(stdout, "generator        %s (%s weights)\nclassifier       %s\n", what, s.Weights, net.Name)
	for _, c := range score.Categorical {
		var m []string
		for k, y := range c.Match {
			m = append(m, fmt.Sprintf("%d->%d", k, y))
		}
		fmt.Fprintf(stdout, "code %-4s        categorical, %d images per value: accuracy %.4f, NMI %.4f\n", c.Code, c.PerValue, c.Accuracy, c.NMI)
		fmt.Fprintf(stdout, "  value->class   %s\n", strings.Join(m, " "))
	}
	for _, c := range score.Real {
		fmt.Fprintf(stdout, "code %-4s        read by Q from %s: accuracy %.4f, NMI %.4f\n", c.Code, score.RealSet, c.Accuracy, c.NMI)
	}
	for _, c := range score.Continuous {
		fmt.Fprintf(stdout, "code %-4s        continuous, %d traversals of %d values in [%g, %g]: class agreement %.4f\n", c.Code, c.Columns, c.Values, c.Lo, c.Hi, c.Agreement)
	}
	return exitOK
}
