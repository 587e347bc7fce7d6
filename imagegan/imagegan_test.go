package imagegan

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
)

func tinyConfig(t *testing.T, kind string) config.Config {
	t.Helper()
	c := config.Default()
	for _, kv := range []string{"data.kind=synthetic", "data.n=48", "data.classes=3", "model.kind=" + kind, "model.width=4", "model.z_dim=8",
		"train.batch=8", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.ema=0.9", "train.lr_decay=true"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// cancelAt is a progress writer that cancels a context once a line for
// the given step has been written.
type cancelAt struct {
	mark   string
	cancel context.CancelFunc
}

func (w cancelAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.mark) {
		w.cancel()
	}
	return len(p), nil
}

// TestStopThenResumeMatchesWholeRun stops a run through its context (as
// SIGINT does), checks that a checkpoint was written at the step it stopped
// at, resumes it, and compares the final weights, optimizer moments, EMA
// and states with an uninterrupted run's, bit for bit.
func TestStopThenResumeMatchesWholeRun(t *testing.T) {
	for _, kind := range []string{"dcgan", "cgan"} {
		t.Run(kind, func(t *testing.T) {
			c := tinyConfig(t, kind)
			c.Train.LogEvery = 1
			root := t.TempDir()
			whole, stopped := filepath.Join(root, "whole"), filepath.Join(root, "stopped")
			if _, err := Train(context.Background(), c, whole, Options{Warn: io.Discard}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := Train(ctx, c, stopped, Options{Progress: cancelAt{"step 7/", cancel}, Warn: io.Discard})
			if !errors.Is(err, gan.ErrStopped) || res.Step != 7 || res.Checkpoint != 7 {
				t.Fatalf("stop: %+v, %v (want ErrStopped at step 7 with a checkpoint)", res, err)
			}
			res, err = Resume(context.Background(), stopped, Options{Warn: io.Discard})
			if err != nil || res.ResumedAt != 7 || res.Step != 24 {
				t.Fatalf("resume: %+v, %v", res, err)
			}
			a, b := latest(t, whole), latest(t, stopped)
			if a.Step != 24 || b.Step != 24 || len(a.Tensors) != len(b.Tensors) {
				t.Fatalf("final checkpoints at %d and %d with %d and %d tensors", a.Step, b.Step, len(a.Tensors), len(b.Tensors))
			}
			for name, x := range a.Tensors {
				xs, ys := x.Data(), b.Tensors[name].Data()
				for i := range xs {
					if math.Float32bits(xs[i]) != math.Float32bits(ys[i]) {
						t.Fatalf("%s[%d]: %v and %v", name, i, xs[i], ys[i])
					}
				}
			}
			for _, k := range []string{"rng/game", "json/loader"} {
				if a.Meta[k] == "" || a.Meta[k] != b.Meta[k] {
					t.Fatalf("%s: %q and %q", k, a.Meta[k], b.Meta[k])
				}
			}
		})
	}
}

func latest(t *testing.T, dir string) *run.Checkpoint {
	t.Helper()
	r, err := run.Open(dir, run.Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ck, _, err := r.LoadLatest()
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// TestSamplingLeavesStateAlone checks that writing a sample grid (EMA swap,
// evaluation mode, a forward pass) changes no weight, buffer or shadow.
func TestSamplingLeavesStateAlone(t *testing.T) {
	c := tinyConfig(t, "cgan")
	s, err := build(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if s.run, err = run.Create(t.TempDir(), []byte("x: 1\n"), run.Options{AllowNonEmpty: true, Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	defer s.run.Close()
	s.tr.Steps = 3
	if err := s.tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := run.NewCheckpoint(3)
	before.PutModule("g", s.g)
	before.PutState("ema", s.ema)
	if err := s.saveSamples(); err != nil {
		t.Fatal(err)
	}
	after := run.NewCheckpoint(3)
	after.PutModule("g", s.g)
	after.PutState("ema", s.ema)
	for name, x := range before.Tensors {
		xs, ys := x.Data(), after.Tensors[name].Data()
		for i := range xs {
			if math.Float32bits(xs[i]) != math.Float32bits(ys[i]) {
				t.Fatalf("%s[%d] changed from %v to %v", name, i, xs[i], ys[i])
			}
		}
	}
}

// TestSyntheticIsSeeded checks that synthetic images are reproducible,
// labelled round-robin, in [-1, 1] and differ between seeds.
func TestSyntheticIsSeeded(t *testing.T) {
	a, b, other := Synthetic(20, 4, 3, 32, 5), Synthetic(20, 4, 3, 32, 5), Synthetic(20, 4, 3, 32, 6)
	if got := a.Images.Shape(); got[0] != 20 || got[1] != 3 || got[2] != 32 || got[3] != 32 {
		t.Fatalf("shape %v", got)
	}
	same, differ := true, false
	for i, v := range a.Images.Data() {
		if v < -1 || v > 1 {
			t.Fatalf("value %v out of [-1, 1]", v)
		}
		same = same && v == b.Images.Data()[i]
		differ = differ || v != other.Images.Data()[i]
	}
	if !same || !differ {
		t.Fatalf("same seed same images: %v; other seed other images: %v", same, differ)
	}
	for i, l := range a.Labels {
		if l != i%4 {
			t.Fatalf("label %d is %d", i, l)
		}
	}
}

// TestTrainRejectsToyData checks the error for a 2-D data set.
func TestTrainRejectsToyData(t *testing.T) {
	c := config.Default()
	if _, err := Train(context.Background(), c, t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "data.kind") {
		t.Fatalf("error %v, want one naming data.kind", err)
	}
}
