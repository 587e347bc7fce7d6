package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
)

// TestOnStep: the hook sees every step in order with the logged scalars and
// the sample paths written, computes a 2-D field without changing the run
// (the checkpoint is bit-identical to one trained without the hook),
// blocks training while it blocks, and stops it with gan.ErrStopped.
func TestOnStep(t *testing.T) {
	c := tinyConfig(t, "mlp")
	c.Train.Steps = 12
	var steps []int
	var samples []string
	var field *Field
	var blocked time.Duration
	hook := func(v StepView) error {
		steps = append(steps, v.Step)
		if _, ok := v.Logs["d/loss"]; !ok || v.Steps != 12 || !v.Points {
			return fmt.Errorf("step %d: logs %v, steps %d, points %v", v.Step, v.Logs, v.Steps, v.Points)
		}
		if v.Sample != "" {
			samples = append(samples, filepath.Base(v.Sample))
		}
		if v.Step == 5 {
			// A paused view blocks the training goroutine.
			t0 := time.Now()
			time.Sleep(30 * time.Millisecond)
			blocked = time.Since(t0)
			f, err := v.Field(FieldOptions{N: 8, WarpN: 5})
			if err != nil {
				return err
			}
			field = f
			if g, err := v.Field(FieldOptions{N: 4, WarpN: 3, MaxPoints: 50}); err != nil || len(g.Real) != 50 || len(g.Fake) != 50 || math.Abs(float64(g.Fake[7][0]-f.Fake[7][0])) > 1e-4 {
				return fmt.Errorf("field of 50 points: %v", err)
			}
		}
		return nil
	}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if _, err := Train(context.Background(), c, dirA, Options{Warn: io.Discard, OnStep: hook}); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 12 || steps[0] != 1 || steps[11] != 12 {
		t.Fatalf("hook saw steps %v, want 1..12", steps)
	}
	if len(samples) != 1 || samples[0] != "step-000010.png" {
		t.Errorf("samples seen %v, want [step-000010.png]", samples)
	}
	if blocked < 30*time.Millisecond {
		t.Errorf("hook blocked %v", blocked)
	}
	if field == nil || field.Step != 5 || len(field.Real) != 200 || len(field.Fake) != 200 || len(field.Arrows) != 200 || len(field.D) != 64 || len(field.Warp) != 10 || len(field.Warp[0]) != 5 {
		t.Fatalf("field %+v: want 200 real, fake and arrows, 8x8 D, 10 polylines of 5", field)
	}
	if !(field.X0 < field.X1 && field.Y0 < field.Y1) || field.Arrows[0][0] != field.Fake[0][0] {
		t.Fatalf("field bounds %v %v %v %v, arrow %v at fake %v", field.X0, field.X1, field.Y0, field.Y1, field.Arrows[0], field.Fake[0])
	}
	nonzero := 0
	for _, a := range field.Arrows {
		if math.Hypot(float64(a[2]), float64(a[3])) > 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("every arrow is zero: D's gradient was not computed")
	}
	if _, err := Train(context.Background(), c, dirB, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(filepath.Join(dirA, run.CheckpointsDir, "step-000012.safetensors"))
	b, errB := os.ReadFile(filepath.Join(dirB, run.CheckpointsDir, "step-000012.safetensors"))
	if errA != nil || errB != nil || string(a) != string(b) {
		t.Fatalf("the field changed training: checkpoints differ (%v, %v)", errA, errB)
	}

	stop := func(v StepView) error {
		if v.Step == 3 {
			return fmt.Errorf("stopped from the page: %w", gan.ErrStopped)
		}
		return nil
	}
	res, err := Train(context.Background(), c, filepath.Join(t.TempDir(), "c"), Options{Warn: io.Discard, OnStep: stop})
	if !errors.Is(err, gan.ErrStopped) || res.Step != 3 || res.Checkpoint != 3 {
		t.Fatalf("stop at 3: step %d, checkpoint %d, %v", res.Step, res.Checkpoint, err)
	}
}

// TestFieldMixGAN: a 2-D MIX+GAN has the heat map and arrows too (its
// critic is the D mixture), and computing them leaves the run as it was.
func TestFieldMixGAN(t *testing.T) {
	c := tinyConfig(t, "mixgan-mlp")
	c.Train.Steps = 6
	var field *Field
	hook := func(v StepView) error {
		if v.Step == 4 {
			f, err := v.Field(FieldOptions{N: 8, WarpN: 5})
			if err != nil {
				return err
			}
			field = f
		}
		return nil
	}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if _, err := Train(context.Background(), c, dirA, Options{Warn: io.Discard, OnStep: hook}); err != nil {
		t.Fatal(err)
	}
	if field == nil || len(field.D) != 64 || len(field.Arrows) != len(field.Fake) || len(field.Fake) == 0 {
		t.Fatalf("field %+v: want an 8x8 D and an arrow per fake point", field)
	}
	nonzero := 0
	for _, a := range field.Arrows {
		if math.Hypot(float64(a[2]), float64(a[3])) > 0 {
			nonzero++
		}
	}
	if nonzero == 0 {
		t.Error("every arrow is zero: the mixture's gradient was not computed")
	}
	if _, err := Train(context.Background(), c, dirB, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(filepath.Join(dirA, run.CheckpointsDir, "step-000006.safetensors"))
	b, errB := os.ReadFile(filepath.Join(dirB, run.CheckpointsDir, "step-000006.safetensors"))
	if errA != nil || errB != nil || string(a) != string(b) {
		t.Fatalf("the field changed training: checkpoints differ (%v, %v)", errA, errB)
	}
}
