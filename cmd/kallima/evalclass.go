package main

import (
	"fmt"
	"io"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// runEvalPerClass is kallima eval -per-class: the conditional generator at
// path scored class by class (imagegan.PerClass) with n/classes samples of
// each class against MNIST's test images of that class; with real,
// MNIST's training images of each class in place of the generator.
func runEvalPerClass(path string, real bool, n int, seed uint64, raw, asJSON bool, stdout, stderr io.Writer) int {
	var (
		sample  func(z *tensor.Tensor, labels []int) (*tensor.Tensor, error)
		prior   gan.Prior
		classes int
		ref     imagegan.Reference
		what    string
		err     error
	)
	if real {
		var train *data.Set
		if train, ref, err = mnistLabelled(stderr); err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		sample, prior, classes = realByClass(train), realPrior, len(train.Classes)
		what = "real images      mnist/train, the first images of each class, scored as if generated"
	} else {
		s, c, desc, err := loadForEval(path, raw)
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
		sample, prior, classes = s.Sample, s.Prior, s.Classes
		what = fmt.Sprintf("generator        %s (%s weights)", desc, s.Weights)
		if n%classes == 0 && n/classes >= 6 && n > fidFeatures {
			if ref, err = pipeline.EvalReference(c); err != nil {
				fmt.Fprintf(stderr, "kallima eval: %v\n", err)
				return exitError
			}
		}
	}
	if n%classes != 0 || n/classes < 6 || n <= fidFeatures {
		fmt.Fprintf(stderr, "kallima eval: -per-class: -n %d: want a multiple of the %d classes, at least 6 per class and %d in all (FID on %d features); 1000 is usual\n", n, classes, fidFeatures+1, fidFeatures)
		return exitUsage
	}
	res, err := imagegan.PerClass(sample, prior, classes, n/classes, ref, tensor.NewRNG(seed))
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if asJSON {
		return printJSON(res, stdout, stderr)
	}
	fmt.Fprintln(stdout, what)
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

// mnistLabelled returns MNIST's training set and its test split as a
// labelled reference, from the classifier's folder (fetched with progress
// on log if missing).
func mnistLabelled(log io.Writer) (*data.Set, imagegan.Reference, error) {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	train, err := classifier.LoadMNIST(dir, data.Train, log)
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	test, err := classifier.LoadMNIST(dir, data.Test, log)
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	return train, imagegan.Reference{Name: "mnist/test", Images: test.Images, Labels: test.Labels}, nil
}

// realByClass answers each label k with set's next image of class k, in
// the set's order: real images standing in for a conditional generator.
// It returns an error when a class runs out.
func realByClass(set *data.Set) func(z *tensor.Tensor, labels []int) (*tensor.Tensor, error) {
	byClass := make([][]int, len(set.Classes))
	for i, y := range set.Labels {
		byClass[y] = append(byClass[y], i)
	}
	next := make([]int, len(byClass))
	px := set.Images.Len() / set.Images.Size(0)
	return func(_ *tensor.Tensor, labels []int) (*tensor.Tensor, error) {
		out := tensor.New(append([]int{len(labels)}, set.Images.Shape()[1:]...)...)
		for i, k := range labels {
			if k < 0 || k >= len(byClass) || next[k] >= len(byClass[k]) {
				return nil, fmt.Errorf("real images: no more images of class %d", k)
			}
			j := byClass[k][next[k]]
			next[k]++
			copy(out.Data()[i*px:(i+1)*px], set.Images.Data()[j*px:(j+1)*px])
		}
		return out, nil
	}
}
