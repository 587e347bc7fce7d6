package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// trainLoadRun trains a tiny synthetic run for the loader tests.
func trainLoadRun(t *testing.T, yaml string) string {
	t.Helper()
	c, err := config.Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLoadSampler loads the generators of a DCGAN and a cGAN run, with and
// without EMA, and checks: the step and weights reported, that EMA and live
// weights give different images, that a checkpoint read as a weights file
// gives exactly the live weights' images, that a cGAN's class count comes
// from its weights and that the class changes the image, and the errors for
// labels that do not fit.
func TestLoadSampler(t *testing.T) {
	cases := []struct {
		name, yaml string
		classes    int
	}{
		{"dcgan", `
seed: 3
data: {kind: synthetic, size: 28, n: 32}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 4, batch: 8, ema: 0.9, log_every: 0, checkpoint_every: 2}
`, 0},
		{"cgan-onehot", `
seed: 4
data: {kind: synthetic, size: 28, n: 30, classes: 5}
model: {kind: cgan, z_dim: 8, width: 4}
train: {steps: 4, batch: 6, ema: 0.9, log_every: 0, checkpoint_every: 2}
`, 5},
		{"cgan-embed", `
seed: 5
data: {kind: synthetic, size: 28, n: 24, classes: 3}
model: {kind: cgan, z_dim: 8, width: 4, embed_dim: 2}
train: {steps: 4, batch: 6, ema: 0.9, log_every: 0, checkpoint_every: 2}
`, 3},
		{"acgan", `
seed: 6
data: {kind: synthetic, size: 28, n: 24, classes: 4}
model: {kind: acgan, z_dim: 8, width: 4}
train: {steps: 4, batch: 6, ema: 0.9, log_every: 0, checkpoint_every: 2}
`, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := trainLoadRun(t, c.yaml)
			ema, skipped, err := LoadSampler(dir, false)
			if err != nil || len(skipped) > 0 {
				t.Fatalf("LoadSampler: %v (skipped %v)", err, skipped)
			}
			live, _, err := LoadSampler(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if ema.Step != 4 || ema.Weights != WeightsEMA || live.Weights != WeightsG || ema.Classes != c.classes {
				t.Fatalf("step %d, weights %s/%s, classes %d; want 4, ema/g, %d", ema.Step, ema.Weights, live.Weights, ema.Classes, c.classes)
			}
			cfg, err := RunConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			file, err := LoadSamplerWeights(cfg, filepath.Join(dir, run.CheckpointsDir, "step-000004.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			z := ema.Prior.Sample(tensor.NewRNG(9), 2)
			var labels, other []int
			if c.classes > 0 {
				labels, other = []int{0, 0}, []int{c.classes - 1, c.classes - 1}
			}
			sample := func(s *Sampler, l []int) []float32 {
				out, err := s.Sample(z, l)
				if err != nil {
					t.Fatal(err)
				}
				if sh := out.Shape(); !slices.Equal(sh, []int{2, 1, 28, 28}) {
					t.Fatalf("shape %v", sh)
				}
				return out.Data()
			}
			a, b, f := sample(ema, labels), sample(live, labels), sample(file, labels)
			if slices.Equal(a, b) {
				t.Error("EMA and live weights give the same images")
			}
			if !slices.Equal(b, f) {
				t.Error("the checkpoint as a weights file differs from the live weights")
			}
			if c.classes > 0 {
				if slices.Equal(a, sample(ema, other)) {
					t.Error("the class does not change the image")
				}
				if _, err := ema.Sample(z, []int{0, c.classes}); err == nil || !strings.Contains(err.Error(), "out of range") {
					t.Errorf("label %d of %d: %v", c.classes, c.classes, err)
				}
				if _, err := ema.Sample(z, nil); err == nil {
					t.Error("no labels for a conditional generator: no error")
				}
			} else if _, err := ema.Sample(z, []int{0, 0}); err == nil {
				t.Error("labels for an unconditional generator: no error")
			}
		})
	}
}

// TestLoadSamplerErrors: a folder that is not a run, a run without
// checkpoints, and a run whose only checkpoint is damaged.
func TestLoadSamplerErrors(t *testing.T) {
	if _, _, err := LoadSampler(t.TempDir(), false); !errors.Is(err, run.ErrNotRun) {
		t.Errorf("empty folder: %v, want ErrNotRun", err)
	}
	dir := trainLoadRun(t, `
seed: 3
data: {kind: synthetic, size: 28, n: 16}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 2, batch: 8, log_every: 0, checkpoint_every: 2}
`)
	infos, err := ListCheckpoints(dir)
	if err != nil || len(infos) != 1 || infos[0].Step != 2 {
		t.Fatalf("ListCheckpoints: %v, %v", infos, err)
	}
	if step, ok := LatestPointer(dir); !ok || step != 2 {
		t.Errorf("LatestPointer: %d, %v", step, ok)
	}
	g, _, err := LoadSampler(dir, false)
	if err != nil || g.Weights != WeightsG {
		t.Fatalf("a run without EMA: %v, weights %v", err, g)
	}
	// Flip one byte near the end (tensor data): the checksum fails.
	path := infos[0].Path
	b := readAll(t, path)
	b[len(b)-3] ^= 0xff
	writeAll(t, path, b)
	if _, skipped, err := LoadSampler(dir, false); !errors.Is(err, run.ErrCorrupt) || len(skipped) != 1 {
		t.Errorf("damaged checkpoint: %v, skipped %v", err, skipped)
	}
	rmAll(t, path)
	if _, _, err := LoadSampler(dir, false); !errors.Is(err, run.ErrNoCheckpoint) {
		t.Errorf("no checkpoint: %v", err)
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeAll(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rmAll(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
