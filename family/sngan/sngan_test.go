package sngan_test

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// trainSynthetic trains preset with narrow networks on synthetic 28x28
// images (3 classes) for 40 steps through the pipeline and checks what
// any ResNet GAN run must show: D's hinge loss falls from its start (far
// above 2: D sums its features over positions, so its first logits are
// large) as D learns to tell the data from G's samples, every
// recorded loss is finite, the checkpoint has both players with spectral
// norm on D's first convolution, and the run's generator samples images in
// [-1, 1], taking labels exactly when conditional. It returns the run
// folder. Package sagan, which builds through this package, is tested
// here too (TestTrainSyntheticSAGAN).
func trainSynthetic(t *testing.T, preset string, conditional bool) string {
	t.Helper()
	c, err := config.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	if conditional {
		if err := c.Set("model.conditional=true"); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range []string{"data.kind=synthetic", "data.n=64", "data.classes=3", "model.g_width=8", "model.d_width=8",
		"model.z_dim=16", "train.batch=16", "train.steps=40", "train.log_every=1", "train.sample_every=20", "train.checkpoint_every=20"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), preset)
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil || len(recs) != 40 {
		t.Fatalf("%d metric records, %v", len(recs), err)
	}
	mean := func(rs []run.Record) float64 {
		s := 0.0
		for _, r := range rs {
			v, ok := r.Scalars["d/hinge"]
			if !ok {
				t.Fatalf("no d/hinge in %v", r.Scalars)
			}
			s += v
		}
		return s / float64(len(rs))
	}
	for _, r := range recs {
		for k, v := range r.Scalars {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("step %d: %s = %v", r.Step, k, v)
			}
		}
	}
	first, last := mean(recs[:3]), mean(recs[len(recs)-5:])
	t.Logf("D hinge loss: first steps %.3f, last steps %.3f", first, last)
	if !(last < first-0.2) {
		t.Errorf("D's hinge loss went from %.3f to %.3f: want a fall of more than 0.2", first, last)
	}
	ck, err := run.LoadCheckpoint(filepath.Join(dir, "checkpoints", "step-000040.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Group("d")["blocks.0.c1.weight_orig"] == nil || ck.Group("d")["blocks.0.c1.weight_u"] == nil || ck.Group("g")["l1.bias"] == nil {
		t.Fatal("checkpoint lacks D's spectrally normalised first convolution or G's projection")
	}
	s, _, err := pipeline.LoadSampler(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	z := tensor.NewRNG(1).Normal(0, 1, 3, 16)
	labels := []int{0, 1, 2}
	if !conditional {
		if _, err := s.Sample(z, labels); err == nil {
			t.Error("an unconditional generator took labels")
		}
		labels = nil
	} else if _, err := s.Sample(z, []int{0, 1, 3}); err == nil || s.Classes != 3 {
		t.Errorf("classes %d; label 3 of 3 classes: %v", s.Classes, err)
	}
	img, err := s.Sample(z, labels)
	if err != nil {
		t.Fatal(err)
	}
	if sh := img.Shape(); len(sh) != 4 || sh[0] != 3 || sh[1] != 1 || sh[2] != 28 || sh[3] != 28 {
		t.Fatalf("samples %v", sh)
	}
	for _, v := range img.Data() {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("sample value %v outside [-1, 1]", v)
		}
	}
	return dir
}

// TestTrainSynthetic trains sngan-mnist and sngan-cond-mnist on synthetic
// images (the conditional one without -short).
func TestTrainSynthetic(t *testing.T) {
	for _, tc := range []struct {
		preset      string
		conditional bool
	}{{"sngan-mnist", false}, {"sngan-cond-mnist", true}} {
		t.Run(tc.preset, func(t *testing.T) {
			if tc.conditional && testing.Short() {
				t.Skip("the conditional variant runs in the long checks (-short)")
			}
			trainSynthetic(t, tc.preset, tc.conditional)
		})
	}
}

// TestTrainSyntheticSAGAN trains sagan-mnist (and, without -short, its conditional variant) on
// synthetic images; it also checks the self-attention blocks are in the
// checkpoint, spectrally normalised in both networks.
func TestTrainSyntheticSAGAN(t *testing.T) {
	for _, tc := range []struct {
		name        string
		conditional bool
	}{{"sagan", false}, {"sagan-cond", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.conditional && testing.Short() {
				t.Skip("the conditional variant runs in the long checks (-short)")
			}
			dir := trainSynthetic(t, "sagan-mnist", tc.conditional)
			ck, err := run.LoadCheckpoint(filepath.Join(dir, "checkpoints", "step-000040.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"g", "d"} {
				if ck.Group(p)["attn.gamma"] == nil || ck.Group(p)["attn.h.weight_orig"] == nil {
					t.Errorf("%s: no spectrally normalised self-attention in the checkpoint", p)
				}
			}
			if ck.Group("g")["blocks.0.c1.weight_orig"] == nil {
				t.Error("G's convolutions have no spectral norm")
			}
		})
	}
}
