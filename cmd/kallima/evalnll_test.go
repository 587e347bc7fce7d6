package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
)

// trainTinyAE trains a small VAE or AE on synthetic images.
func trainTinyAE(t *testing.T, kind string) string {
	t.Helper()
	c, err := config.Parse(strings.NewReader(`
name: tiny-` + kind + `
seed: 3
data: {kind: synthetic, size: 28, n: 64}
model: {kind: ` + kind + `, z_dim: 4, hidden: [32]}
train: {steps: 40, batch: 16, lr_g: 3.0e-3, beta1: 0.9, beta2: 0.999, log_every: 0, sample_every: 0, checkpoint_every: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), kind)
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEvalNLL estimates a tiny VAE's log-likelihood: the same number twice
// from the same seed, a tighter (higher) estimate with more importance
// samples than with one (the ELBO sample), the reconstruction grid, and
// the errors for an autoencoder (no likelihood) and for flags that do not
// go with -nll.
func TestEvalNLL(t *testing.T) {
	dir := trainTinyAE(t, "vae")
	recon := filepath.Join(t.TempDir(), "new", "recon.png") // its folder is made
	score := func(k string, extra ...string) NLLScore {
		t.Helper()
		code, stdout, stderr := call(runEval, append([]string{"-nll", dir, "-n", "20", "-k", k, "-json"}, extra...)...)
		var s NLLScore
		if code != exitOK || json.Unmarshal([]byte(stdout), &s) != nil {
			t.Fatalf("-k %s: exit %d, %q, %s", k, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "nll: 20/20 images") {
			t.Errorf("progress %q", stderr)
		}
		return s
	}
	a, b, one := score("64", "-recon", recon), score("64"), score("1")
	if a.N != 20 || a.K != 64 || !(a.LogLikelihood < 0) || math.IsInf(a.LogLikelihood, 0) || !(a.StdErr > 0) {
		t.Fatalf("score %+v", a)
	}
	if a.LogLikelihood != b.LogLikelihood {
		t.Errorf("the same seed gave %v and %v", a.LogLikelihood, b.LogLikelihood)
	}
	if !(a.LogLikelihood > one.LogLikelihood) {
		t.Errorf("k = 64 gave %v, k = 1 %v: want the tighter bound higher", a.LogLikelihood, one.LogLikelihood)
	}
	img := decodePNG(t, recon)
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 8*30+2 || h != 4*30+2 {
		t.Errorf("reconstruction grid %dx%d, want 2 pairs of rows of 8 (242x122)", w, h)
	}
	code, stdout, _ := call(runEval, "-nll", dir, "-n", "5", "-k", "8")
	if code != exitOK || !strings.Contains(stdout, "log p(x)") || !strings.Contains(stdout, "k = 8") {
		t.Errorf("text output: exit %d, %q", code, stdout)
	}
	if code, _, stderr := call(runEval, "-nll", trainTinyAE(t, "ae"), "-n", "5"); code != exitUsage || !strings.Contains(stderr, "no likelihood") {
		t.Errorf("AE run: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-nll", dir, "-metrics", "fid"); code != exitUsage || !strings.Contains(stderr, "-metrics does not go with -nll") {
		t.Errorf("-metrics: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, dir, "-k", "5"); code != exitUsage || !strings.Contains(stderr, "go with -nll") {
		t.Errorf("-k without -nll: exit %d, %q", code, stderr)
	}
}
