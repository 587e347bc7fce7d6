package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// runEvalPerClass is kallima eval -per-class: the conditional generator at
// path scored class by class (imagegan.PerClass) with n/classes samples of
// each class against MNIST's test images of that class.
func runEvalPerClass(path string, n int, seed uint64, raw, asJSON bool, stdout, stderr io.Writer) int {
	s, c, what, err := loadForEval(path, raw)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if s.Classes == 0 {
		fmt.Fprintf(stderr, "kallima eval: -per-class: the model (%s) is unconditional; -per-class needs a conditional model\n", c.Model.Kind)
		return exitUsage
	}
	if c.Data.Kind != "mnist" {
		fmt.Fprintf(stderr, "kallima eval: -per-class: data.kind %s: class agreement is read by the MNIST feature network, so -per-class scores mnist runs only\n", c.Data.Kind)
		return exitUsage
	}
	if n%s.Classes != 0 || n/s.Classes < 6 || n < 129 {
		fmt.Fprintf(stderr, "kallima eval: -per-class: -n %d: want a multiple of the %d classes, at least 6 per class and 129 in all (FID on 128 features); 1000 is usual\n", n, s.Classes)
		return exitUsage
	}
	ref, err := pipeline.EvalReference(c)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	res, err := imagegan.PerClass(s.Sample, s.Prior, s.Classes, n/s.Classes, ref, tensor.NewRNG(seed))
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprintf(stdout, "generator        %s (%s weights)\n", what, s.Weights)
	fmt.Fprintf(stdout, "reference        %s: the first %d images of each class; all: the first %d\n", res.Reference, res.PerClass, n)
	fmt.Fprintf(stdout, "network          %s (agreement: its predicted digit; the rest: fc1 features)\n\n", res.Network)
	fmt.Fprintf(stdout, "%-6s %9s %9s %9s %9s %9s\n", "class", "agreement", "precision", "recall", "density", "coverage")
	for _, k := range res.Classes {
		fmt.Fprintf(stdout, "%-6d %9.3f %9.3f %9.3f %9.3f %9.3f\n", k.Class, k.Agreement, k.PRDC.Precision, k.PRDC.Recall, k.PRDC.Density, k.PRDC.Coverage)
	}
	fmt.Fprintf(stdout, "%-6s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "mean", res.Agreement, res.Precision, res.Recall, res.Density, res.Coverage)
	fmt.Fprintf(stdout, "%-6s %9s %9.3f %9.3f %9.3f %9.3f   fid %.4g (all %d samples)\n", "all", "", res.All.Precision, res.All.Recall, res.All.Density, res.All.Coverage, res.FID, n)
	fmt.Fprintln(stdout, "\nThese scores use Kallima's MNIST feature network; FID at one -n compares only with FID at the same -n.")
	return exitOK
}
