package bench

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// stepClock records when each progress line ("step N/M ...") is written:
// with train.log_every 1, one per training step.
type stepClock struct{ at []time.Time }

func (s *stepClock) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "step ") {
		s.at = append(s.at, time.Now())
	}
	return len(p), nil
}

// BenchmarkTrainStep times a step of the dcgan-mnist preset's training
// loop, the whole pipeline (game, loader, EMA, divergence checks,
// progress), on 2048 synthetic 28x28 images so it needs no download:
// "memory" without a run folder (pipeline.Run), "folder" with one
// (metrics.jsonl and TensorBoard every step; checkpoints and samples off),
// and "reuse", the folder run with train.reuse_fake, whose G update reuses
// D's fake batch as the bench step does (the default draws fresh noise:
// one generator pass more, BenchmarkGeneratorForward). "cgan-mnist/memory"
// is the conditional step of the time-to-quality run (the matching-aware
// D, lr 4e-4). Compare them with BenchmarkIteration/dcgan, the bench step,
// in the same run:
//
//	go test ./bench -run x -bench 'Iteration/dcgan|TrainStep|GeneratorForward' -benchtime 30x
//
// It reports the median step (b.N steps after 3 warm-up steps) as it/s.
func BenchmarkTrainStep(b *testing.B) {
	for _, run := range []struct{ preset, mode string }{
		{"dcgan-mnist", "memory"}, {"dcgan-mnist", "folder"}, {"dcgan-mnist", "reuse"}, {"cgan-mnist", "memory"},
	} {
		mode := run.mode
		b.Run(run.preset+"/"+mode, func(b *testing.B) {
			c, err := config.Preset(run.preset)
			if err != nil {
				b.Fatal(err)
			}
			for _, kv := range []string{"data.kind=synthetic", "data.n=2048", "train.checkpoint_every=0", "train.sample_every=0", "train.log_every=1"} {
				if err := c.Set(kv); err != nil {
					b.Fatal(err)
				}
			}
			if run.preset == "cgan-mnist" { // the settings of the time-to-quality run
				for _, kv := range []string{"model.matching_aware=true", "train.lr_g=4e-4", "train.lr_d=4e-4"} {
					if err := c.Set(kv); err != nil {
						b.Fatal(err)
					}
				}
			}
			c.Train.ReuseFake = mode == "reuse"
			c.Train.Steps = b.N + 3
			clock := &stepClock{}
			opts := pipeline.Options{Progress: clock}
			if mode == "memory" {
				_, err = pipeline.Run(context.Background(), c, opts)
			} else {
				_, err = pipeline.Train(context.Background(), c, filepath.Join(b.TempDir(), "run"), opts)
			}
			if err != nil {
				b.Fatal(err)
			}
			var steps []float64
			for i := 4; i < len(clock.at); i++ {
				steps = append(steps, clock.at[i].Sub(clock.at[i-1]).Seconds())
			}
			if len(steps) == 0 {
				return
			}
			slices.Sort(steps)
			b.ReportMetric(1/steps[len(steps)/2], "it/s")
		})
	}
}

// BenchmarkGeneratorForward times the dcgan workload's generator on a batch
// of 64 without gradients: the pass the training game makes for D's fake
// batch on top of G's own update (the bench step reuses one forward pass
// for both updates).
func BenchmarkGeneratorForward(b *testing.B) {
	w, err := New("dcgan", 1)
	if err != nil {
		b.Fatal(err)
	}
	z := tensor.NewRNG(1).Normal(0, 1, Batch, NZ)
	run := func() {
		arena := tensor.OpenArena()
		defer arena.Close()
		autograd.NoGrad(func() { w.G.Forward(autograd.Const(z)) })
	}
	for range 3 {
		run()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "it/s")
}
