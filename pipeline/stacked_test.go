package pipeline

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/tensor"
)

// stackedConfig is a tiny DCGAN on 64 Stacked MNIST images.
func stackedConfig(t *testing.T) config.Config {
	t.Helper()
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	for _, kv := range []string{"data.kind=stacked-mnist", "data.dir=" + dir, "data.n=64", "model.kind=dcgan", "model.width=4", "model.z_dim=8",
		"train.batch=16", "train.steps=3", "train.checkpoint_every=0", "train.sample_every=3"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestStackedMNISTRun: data.kind stacked-mnist loads data.n seeded 3x28x28
// images in 1000 classes (the same set for the same seed), and a DCGAN
// trains on it and samples 3-channel images; the gray-image scores refuse
// it, naming the Stacked MNIST score.
func TestStackedMNISTRun(t *testing.T) {
	c := stackedConfig(t)
	set, err := loadImages(c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Images.Shape(); !slices.Equal(got, []int{64, 3, 28, 28}) || len(set.Classes) != 1000 {
		t.Fatalf("stacked-mnist set %v in %d classes, want [64 3 28 28] in 1000", got, len(set.Classes))
	}
	again, err := loadImages(c, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Labels, again.Labels) || !slices.Equal(set.Images.Data(), again.Images.Data()) {
		t.Error("the same seed built two different stacked-mnist sets")
	}
	dir := t.TempDir()
	if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	s, _, err := LoadSampler(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.Sample(tensor.NewRNG(1).Normal(0, 1, 5, 8), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Shape(); !slices.Equal(got, []int{5, 3, 28, 28}) {
		t.Errorf("samples %v, want [5 3 28 28]", got)
	}
	if _, err := EvalReference(c); err == nil || !strings.Contains(err.Error(), "kallima eval -modes") {
		t.Errorf("EvalReference of a stacked-mnist run: %v, want an error pointing to kallima eval -modes", err)
	}
}
