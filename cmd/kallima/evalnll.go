package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// nllBatch is the number of test images estimated between progress lines.
const nllBatch = 50

// NLLScore is the result of kallima eval -nll.
type NLLScore struct {
	Run string `json:"run"`
	// Set names the images scored: mnist/test[:n], or the run's own
	// training images when it has no test split.
	Set string `json:"set"`
	N   int    `json:"n"`
	K   int    `json:"k"`
	// Seed seeds the binarisation (its first split) and the importance
	// samples (its second).
	Seed uint64 `json:"seed"`
	// LogLikelihood is the mean IWAE estimate of log p(x) in nats, and
	// StdErr its standard error over the images.
	LogLikelihood float64 `json:"log_likelihood"`
	StdErr        float64 `json:"std_err"`
	Seconds       float64 `json:"seconds"`
}

// runEvalNLL is kallima eval -nll RUN: the test-set log-likelihood of a VAE
// run estimated by importance sampling (family.Likelihood), with -recon a
// grid of test images and their reconstructions.
func runEvalNLL(pos []string, k, n int, seed uint64, raw, asJSON bool, recon string, stdout, stderr io.Writer) int {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima eval: -nll scores one run folder or checkpoint, got %d arguments\n", len(pos))
		return exitUsage
	}
	if k < 1 || n < 1 {
		fmt.Fprintf(stderr, "kallima eval: -nll -k %d -n %d: want at least one importance sample and one image\n", k, n)
		return exitUsage
	}
	s, c, what, err := loadForEval(pos[0], raw)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	lk, ok := s.Generator.(family.Likelihood)
	if !ok {
		fmt.Fprintf(stderr, "kallima eval: -nll: the model (%s) has no likelihood to estimate (model.kind vae and avb have)\n", c.Model.Kind)
		return exitUsage
	}
	images, set, err := nllImages(c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if have := images.Size(0); n > have {
		fmt.Fprintf(stderr, "kallima eval: -n %d: %s has %d images; scoring all of them\n", n, set, have)
		n = have
	}
	x := tensor.Slice(images, 0, 0, n)
	root := tensor.NewRNG(seed)
	binRNG, zRNG := root.Split(), root.Split()
	obs := lk.Observe(x, binRNG)
	start := time.Now()
	var sum, sumSq float64
	for lo := 0; lo < n; lo += nllBatch {
		hi := min(lo+nllBatch, n)
		ll, err := lk.LogLikelihood(tensor.Slice(obs, 0, lo, hi), k, zRNG)
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		for _, v := range ll {
			sum += v
			sumSq += v * v
		}
		el := time.Since(start)
		eta := time.Duration(float64(el) / float64(hi) * float64(n-hi))
		fmt.Fprintf(stderr, "nll: %d/%d images, mean log p(x) %.3f nats, %s, ETA %s\n", hi, n, sum/float64(hi), el.Round(time.Second), eta.Round(time.Second))
	}
	mean := sum / float64(n)
	se := 0.0
	if n > 1 {
		se = math.Sqrt(max(sumSq/float64(n)-mean*mean, 0) * float64(n) / float64(n-1) / float64(n))
	}
	score := NLLScore{Run: what, Set: fmt.Sprintf("%s[:%d]", set, n), N: n, K: k, Seed: seed, LogLikelihood: mean, StdErr: se, Seconds: time.Since(start).Seconds()}
	if recon != "" {
		if err := saveReconstructions(s.Generator, x, recon); err != nil {
			fmt.Fprintf(stderr, "kallima eval: -recon: %v\n", err)
			return exitError
		}
	}
	if asJSON {
		return printJSON(score, stdout, stderr)
	}
	fmt.Fprintf(stdout, "model            %s (%s weights)\n", what, s.Weights)
	fmt.Fprintf(stdout, "images           %s, observed as the decoder's likelihood defines (binarised with the seed's first stream for a Bernoulli decoder)\n", score.Set)
	fmt.Fprintf(stdout, "estimator        IWAE, k = %d importance samples per image (Burda et al. 2016), seed %d\n", k, seed)
	fmt.Fprintf(stdout, "log p(x)         %.3f ± %.3f nats (NLL %.3f)\n", mean, se, -mean)
	fmt.Fprintf(stdout, "time             %.1f s\n", score.Seconds)
	if recon != "" {
		fmt.Fprintf(stdout, "reconstructions  %s (rows: test images, then their reconstructions)\n", recon)
	}
	return exitOK
}

// nllImages returns the images -nll scores: MNIST's test split for an
// mnist run, else the run's own (training) images, and their name.
func nllImages(c config.Config, log io.Writer) (*tensor.Tensor, string, error) {
	if c.Data.Kind == "mnist" {
		if _, err := data.MNISTFiles(c.DataDir()); err != nil {
			if err := data.FetchMNIST(c.DataDir(), log); err != nil {
				return nil, "", err
			}
		}
		set, err := data.LoadMNIST(c.DataDir(), data.Test)
		if err != nil {
			return nil, "", err
		}
		return set.Images, "mnist/test", nil
	}
	d, err := pipeline.LoadData(c, log)
	if err != nil {
		return nil, "", err
	}
	return d.Images.Images, fmt.Sprintf("the run's %s training images (no test split)", c.Data.Kind), nil
}

// saveReconstructions writes the first 32 images of x (as many whole rows
// of 8 as x has, or one shorter row) and their reconstructions as a grid:
// pairs of rows, the images then their reconstructions.
func saveReconstructions(g family.Generator, x *tensor.Tensor, path string) error {
	r, ok := g.(family.Reconstructor)
	if !ok {
		return fmt.Errorf("the model has no encoder")
	}
	n := min(32, x.Size(0))
	cols := min(8, n)
	n -= n % cols
	orig := tensor.Slice(x, 0, 0, n)
	rec, err := r.Reconstruct(orig)
	if err != nil {
		return err
	}
	var rows []*tensor.Tensor
	for lo := 0; lo < n; lo += cols {
		hi := lo + cols
		rows = append(rows, tensor.Slice(orig, 0, lo, hi), tensor.Slice(rec, 0, lo, hi))
	}
	return picture.SavePNG(path, picture.Grid(tensor.Concat(rows, 0), cols, 2))
}
