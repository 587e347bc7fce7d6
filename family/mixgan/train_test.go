package mixgan_test

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
)

// ring8 returns the mixgan-ring8 preset with the given settings.
func ring8(t *testing.T, sets ...string) config.Config {
	t.Helper()
	c, err := config.Preset("mixgan-ring8")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range sets {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// small is a MIX+GAN on ring8 small enough for the short tests: three
// components a side of 32-unit MLPs, batch 64, a constant learning rate.
var small = []string{"model.components=3", "model.g_hidden=[32,32]", "model.d_hidden=[32,32]", "train.batch=64", "train.sample_n=500", "train.lr_decay=false"}

// TestTrainsRing8 trains a small MIX+GAN on ring8 for 300 steps and checks
// that it learns: the exact W1 to the data falls below a third of the
// untrained mixture's (about 0.3 against 1.4 here).
func TestTrainsRing8(t *testing.T) {
	score := func(steps string) *pipeline.PointsResult {
		r, err := pipeline.Run(context.Background(), ring8(t, append(small, "train.steps="+steps)...), pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Points
	}
	before, after := score("1"), score("300")
	if !(after.Score.W1 < before.Score.W1/3) {
		t.Fatalf("after 300 steps: W1 %.3f (%d modes, %.1f%% high quality); untrained: W1 %.3f",
			after.Score.W1, after.Score.Modes, 100*after.Score.HighQuality, before.Score.W1)
	}
}

// TestWeightsStayADistribution trains the small MIX+GAN and reads both
// sides' logits from the final checkpoint: they moved from their equal
// start (the weights are learnt), and their softmax is a distribution whose
// smallest weight the entropy regulariser keeps well away from 0.
func TestWeightsStayADistribution(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := pipeline.Train(context.Background(), ring8(t, append(small, "train.steps=200", "train.checkpoint_every=0")...), dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(dir, run.Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ck, _, err := r.LoadLatest()
	if err != nil {
		t.Fatal(err)
	}
	// The EMA keeps G's parameters by index: three networks of three
	// layers' weights and biases, then the logits (parameter 18).
	for _, name := range []string{"g/logits", "d/logits", "ema_g/ema.param.18"} {
		l := ck.Tensors[name]
		if l == nil || l.Len() != 3 {
			t.Fatalf("%s: %v (want 3 logits; have %d tensors)", name, l, len(ck.Tensors))
		}
		var moved, sum float64
		w := make([]float64, 3)
		for k, v := range l.Data() {
			moved = math.Max(moved, math.Abs(float64(v)))
			w[k] = math.Exp(float64(v))
			sum += w[k]
		}
		var total float64
		for k := range w {
			w[k] /= sum
			total += w[k]
			if !(w[k] > 0.05) {
				t.Fatalf("%s: weights %v, one below 0.05", name, w)
			}
		}
		if !(moved > 1e-3) || math.Abs(total-1) > 1e-9 {
			t.Fatalf("%s: logits %v (weights %v, total %v): not learnt, or not a distribution", name, l.Data(), w, total)
		}
	}
}

// TestPresetLength trains the mixgan-ring8 preset as it is (4000 steps,
// five components a side) and checks it finds at least 7 of the 8 modes at
// 80% high quality or more; the full comparison is in docs/RESULTS-toy.md.
func TestPresetLength(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the whole mixgan-ring8 preset (about 2 minutes)")
	}
	if os.Getenv("KALLIMA_SKIP_LONG") != "" {
		t.Skip("KALLIMA_SKIP_LONG set")
	}
	if blas.Impl == "go" {
		t.Skip("the whole preset takes many minutes with the pure-Go GEMM; .ci/long's OpenBLAS pass runs it")
	}
	r, err := pipeline.Run(context.Background(), ring8(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := r.Points.Score; s.Modes < 7 || s.HighQuality < 0.8 {
		t.Fatalf("mixgan-ring8: %d modes, %.1f%% high quality, W1 %.3f", s.Modes, 100*s.HighQuality, s.W1)
	}
}
