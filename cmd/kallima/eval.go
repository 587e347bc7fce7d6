package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

const evalUsage = `Usage: kallima eval RUN_OR_WEIGHTS [flags]
       kallima eval -real mnist/train [flags]

Scores a trained MNIST-shaped (28x28 gray) image generator: -n generated
images against the first -n images of the reference set (MNIST's test split
for an mnist run, the training images otherwise), with Kallima's own MNIST
feature network (package classifier): fid and kid on its fc1 features, is
(the Inception-Score-style score) on its class probabilities in 10 splits,
pr (precision/recall, k=3, and density/coverage, k=5) on fc1 features.

RUN_OR_WEIGHTS is a run folder (its best-scoring checkpoint, else its
newest), a checkpoint file inside one, or a weights file with a config.yaml
beside it. The EMA weights are used when the run keeps them, unless -raw.
With -real mnist/train, MNIST's first -n training images are scored in
place of a generator: the real-data row that calibrates a results table.

These scores use Kallima's MNIST feature network: they compare runs scored
the same way and are NOT comparable with Inception-based numbers in papers.

Flags:
`

func runEval(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima eval", evalUsage, "")
	list := fs.String("metrics", "fid,kid,is,pr", "comma-separated metrics: fid, kid, is, pr")
	n := fs.Int("n", 10000, "generated images (and reference images, at most the set's size)")
	seed := fs.Uint64("seed", 1, "seed of the noise (and of KID's subsets)")
	raw := fs.Bool("raw", false, "use G's trained weights, not their EMA")
	asJSON := fs.Bool("json", false, "print one JSON result per line")
	realSet := fs.String("real", "", "score real images instead of a generator: mnist/train (against mnist/test)")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case *realSet != "" && len(pos) != 0:
		fmt.Fprintln(stderr, "kallima eval: -real scores real images; give no run folder with it")
		return exitUsage
	case *realSet == "" && len(pos) != 1:
		fmt.Fprintln(stderr, "kallima eval: give one run folder or weights file (kallima eval RUN_OR_WEIGHTS [flags])")
		return exitUsage
	}
	if *realSet != "" && *realSet != "mnist/train" {
		fmt.Fprintf(stderr, "kallima eval: -real %s: only mnist/train (mnist/test is the reference it is scored against)\n", *realSet)
		return exitUsage
	}
	which, err := imagegan.ParseMetrics(*list)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: -metrics: %v\n", err)
		return exitUsage
	}
	if *n < 129 {
		fmt.Fprintf(stderr, "kallima eval: -n %d: want at least 129 (FID on 128 features needs more images than features; 10000 is usual)\n", *n)
		return exitUsage
	}
	var (
		src   imagegan.Source
		prior gan.Prior
		ref   imagegan.Reference
		what  string
	)
	if *realSet != "" {
		src, ref, err = realMNIST(*n, stderr)
		// The replayed images ignore the noise; its size only sets how far
		// the noise advances the seed's stream before KID draws its
		// subsets, and 4 gives the real row of docs/RESULTS-mnist.md.
		prior, what = gan.Prior{Kind: "normal", Dim: 4}, fmt.Sprintf("real images      %s[:%d], scored as if generated", *realSet, *n)
	} else {
		var s *pipeline.Sampler
		var c config.Config
		if s, c, what, err = loadForEval(pos[0], *raw); err == nil {
			src, prior = pipeline.SourceOf(s), s.Prior
			what = fmt.Sprintf("generator        %s (%s weights)", what, s.Weights)
			ref, err = pipeline.EvalReference(c)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	res, err := imagegan.Evaluate(src, prior, *n, which, ref, tensor.NewRNG(*seed))
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if *asJSON {
		for _, r := range res {
			b, err := r.JSON()
			if err != nil {
				fmt.Fprintf(stderr, "kallima eval: %v\n", err)
				return exitError
			}
			fmt.Fprintf(stdout, "%s\n", b)
		}
		return exitOK
	}
	fmt.Fprintln(stdout, what)
	for _, r := range res {
		fmt.Fprintf(stdout, "\n%s\n", r.Metric)
		for _, v := range r.Values {
			fmt.Fprintf(stdout, "  %-14s %s\n", v.Name, valueText(v.Value, v.Std, v.Runs))
		}
		fmt.Fprintf(stdout, "  n_real         %d\n  n_fake         %d\n  network        %s\n  layer          %s (%d-D)\n", r.NReal, r.NFake, r.Network, r.Layer, r.Dim)
		refText := r.Reference
		if refText == "" {
			refText = "none (no real set)"
		}
		fmt.Fprintf(stdout, "  reference      %s\n  protocol       %s\n", refText, r.Protocol)
	}
	fmt.Fprintln(stdout, "\nThese scores use Kallima's MNIST feature network; they are not comparable with Inception-based numbers in papers.")
	return exitOK
}

// realMNIST returns MNIST's training images, the first n of which are
// scored, and the test split as the reference, both from the folder the
// classifier uses (KALLIMA_MNIST_DIR, else the user cache; fetched with
// progress on log if missing).
func realMNIST(n int, log io.Writer) (imagegan.Source, imagegan.Reference, error) {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	train, err := classifier.LoadMNIST(dir, data.Train, log)
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	if have := train.Images.Size(0); n > have {
		return nil, imagegan.Reference{}, fmt.Errorf("-n %d: mnist/train has %d images", n, have)
	}
	test, err := classifier.LoadMNIST(dir, data.Test, log)
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	return &imagegan.Replay{Images: train.Images}, imagegan.Reference{Name: "mnist/test", Images: test.Images}, nil
}

// valueText formats a score, with its spread over runs when it has one.
func valueText(v, std float64, runs int) string {
	if runs > 0 {
		return fmt.Sprintf("%.6g ± %.3g (%d runs)", v, std, runs)
	}
	return fmt.Sprintf("%.6g", v)
}

// loadForEval loads the generator at path: a run folder (its best-scoring
// checkpoint, else its newest that verifies), a checkpoint file of a run,
// or a weights file with config.yaml beside it. It returns the generator,
// its config and a description of what was loaded.
func loadForEval(path string, raw bool) (*pipeline.Sampler, config.Config, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, config.Config{}, "", err
	}
	if fi.IsDir() {
		c, err := pipeline.RunConfig(path)
		if err != nil {
			return nil, c, "", err
		}
		infos, err := pipeline.ListCheckpoints(path)
		if err != nil {
			return nil, c, "", err
		}
		best := -1
		for i, in := range infos {
			if in.Err == nil && in.Score != nil && !math.IsNaN(*in.Score) && (best < 0 || *in.Score <= *infos[best].Score) {
				best = i
			}
		}
		if best >= 0 {
			ck, err := runfolder.LoadCheckpoint(infos[best].Path)
			if err == nil {
				s, err := pipeline.SamplerFromCheckpoint(c, ck, raw)
				return s, c, fmt.Sprintf("%s, best checkpoint: step %d (score %.6g)", path, ck.Step, *infos[best].Score), err
			}
		}
		s, _, err := pipeline.LoadSampler(path, raw)
		if err != nil {
			return nil, c, "", err
		}
		return s, c, fmt.Sprintf("%s, newest checkpoint: step %d", path, s.Step), nil
	}
	// A checkpoint file inside a run's checkpoints folder.
	runDir := filepath.Dir(filepath.Dir(path))
	if filepath.Base(filepath.Dir(path)) == runfolder.CheckpointsDir {
		if c, err := pipeline.RunConfig(runDir); err == nil {
			ck, err := runfolder.LoadCheckpoint(path)
			if err != nil {
				return nil, c, "", err
			}
			s, err := pipeline.SamplerFromCheckpoint(c, ck, raw)
			return s, c, fmt.Sprintf("%s (step %d)", path, ck.Step), err
		}
	}
	c, err := config.Load(filepath.Join(filepath.Dir(path), runfolder.ConfigFile))
	if err != nil {
		return nil, c, "", fmt.Errorf("%s: a weights file needs its run's config.yaml beside it: %w", path, err)
	}
	s, err := pipeline.LoadSamplerWeights(c, path)
	return s, c, path, err
}
