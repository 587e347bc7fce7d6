package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
)

// ExampleAverage trains a tiny DCGAN with checkpoints every 2 steps, then
// averages its generator over steps 2-6 into a checkpoint file that the
// loaders read as averaged weights.
func ExampleAverage() {
	c, err := config.Parse(strings.NewReader(`
data: {kind: synthetic, size: 28, n: 32}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 6, batch: 8, log_every: 0, sample_every: 0, checkpoint_every: 2, keep_checkpoints: -1}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	tmp, err := os.MkdirTemp("", "average")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "run")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		fmt.Println(err)
		return
	}
	ck, err := pipeline.Average(dir, 2, 6, pipeline.AverageOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	path := filepath.Join(dir, run.CheckpointsDir, "average-000002-000006.safetensors")
	if err := run.WriteCheckpoint(path, ck); err != nil {
		fmt.Println(err)
		return
	}
	back, err := run.LoadCheckpoint(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, err := pipeline.SamplerFromCheckpoint(c, back, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(g.Weights, g.Averaged, "at step", g.Step)
	// Output: average [2 4 6] at step 6
}
