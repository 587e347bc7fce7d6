package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// averageRun trains a tiny run of kind (tinyConfig) for 6 steps, keeping
// the checkpoints at steps 2, 4 and 6.
func averageRun(t *testing.T, kind string) string {
	t.Helper()
	c := tinyConfig(t, kind)
	for _, kv := range []string{"train.steps=6", "train.checkpoint_every=2", "train.keep_checkpoints=-1", "train.sample_every=0"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// generatorState returns the generator player's group name and its module's
// state as sampling loads it from the checkpoint at path (EMA unless raw).
func generatorState(t *testing.T, dir, path string, raw bool) (string, map[string][]float32) {
	t.Helper()
	c, err := RunConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := run.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	_, m, err := newSampler(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadPlayerWeights(m.GeneratorPlayer, ck, raw); err != nil {
		t.Fatal(err)
	}
	state := map[string][]float32{}
	for _, b := range nn.State(m.GeneratorPlayer.Module) {
		state[b.Name] = slices.Clone(b.Tensor.Data())
	}
	return m.GeneratorPlayer.Name, state
}

// TestAverage averages steps 2-6 of a DCGAN run with an EMA (its EMA
// weights, and its live ones with raw) and of a BiGAN run (G and E in one
// player, "ge"): every entry of the player's state is the mean of the
// three checkpoints' within float32 rounding, the other players are step
// 6's unchanged, the EMA and optimizer groups are gone, and the file written by
// run.WriteCheckpoint loads as WeightsAverage with its steps and draws
// other images than step 6 does.
func TestAverage(t *testing.T) {
	for _, tc := range []struct {
		kind string
		raw  bool
	}{{"dcgan", false}, {"dcgan", true}, {"bigan", false}} {
		t.Run(tc.kind+map[bool]string{true: "-raw"}[tc.raw], func(t *testing.T) {
			dir := averageRun(t, tc.kind)
			ck, err := Average(dir, 1, 6, AverageOptions{Raw: tc.raw, Progress: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if ck.Step != 6 || ck.Meta[MetaAverage] != "2,4,6" {
				t.Fatalf("step %d, %s %q; want 6 and 2,4,6", ck.Step, MetaAverage, ck.Meta[MetaAverage])
			}
			paths := make([]string, 3)
			for i, s := range []int{2, 4, 6} {
				paths[i] = filepath.Join(dir, run.CheckpointsDir, checkpointFile(s))
			}
			player, want := generatorState(t, dir, paths[0], tc.raw)
			for _, p := range paths[1:] {
				_, s := generatorState(t, dir, p, tc.raw)
				for name, v := range s {
					for j := range v {
						want[name][j] += v[j]
					}
				}
			}
			got := ck.Group(player)
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("group %s: %d tensors, want %d", player, len(got), len(want))
			}
			for name, sum := range want {
				for j, v := range got[name].Data() {
					if m := sum[j] / 3; math.Abs(float64(v-m)) > 1e-6*(1+math.Abs(float64(m))) {
						t.Fatalf("%s/%s[%d] = %g, want the mean %g", player, name, j, v, m)
					}
				}
			}
			step6, err := run.LoadCheckpoint(paths[2])
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range step6.Tensors {
				g, _, _ := strings.Cut(name, "/")
				switch {
				case g == "ema_"+player || strings.HasPrefix(g, "opt_"):
					if _, ok := ck.Tensors[name]; ok {
						t.Errorf("%s kept in the average", name)
					}
				case g != player:
					if w, ok := ck.Tensors[name]; !ok || !slices.Equal(w.Data(), v.Data()) {
						t.Errorf("%s: not step 6's", name)
					}
				}
			}
			if len(step6.Group("opt_"+player)) == 0 {
				t.Fatalf("step 6 has no opt_%s group: the optimizer case tests nothing", player)
			}
			if !tc.raw && tc.kind == "dcgan" && len(step6.Group("ema_"+player)) == 0 {
				t.Fatal("the DCGAN run keeps no EMA: the EMA case tests nothing")
			}

			path := filepath.Join(dir, run.CheckpointsDir, "average-000002-000006.safetensors")
			if err := run.WriteCheckpoint(path, ck); err != nil {
				t.Fatal(err)
			}
			back, err := run.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := RunConfig(dir)
			avg, err := SamplerFromCheckpoint(c, back, false)
			if err != nil {
				t.Fatal(err)
			}
			last, err := SamplerFromCheckpoint(c, step6, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if avg.Weights != WeightsAverage || !slices.Equal(avg.Averaged, []int{2, 4, 6}) || avg.Step != 6 {
				t.Errorf("loaded as %s of %v at step %d; want average of [2 4 6] at 6", avg.Weights, avg.Averaged, avg.Step)
			}
			z := avg.Prior.Sample(tensor.NewRNG(9), 4)
			a, err := avg.Sample(z, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := last.Sample(z, nil)
			if slices.Equal(a.Data(), b.Data()) {
				t.Error("the average draws step 6's images")
			}
			// The run itself is unchanged: its newest checkpoint is step 6.
			if infos, _ := ListCheckpoints(dir); len(infos) != 3 || infos[2].Step != 6 {
				t.Errorf("the run's checkpoints after writing the average: %v", infos)
			}
		})
	}
}

// TestAverageErrors: a range with one checkpoint names the run's steps; a
// damaged checkpoint in the range is named; a folder that is no run and a
// step-N file name are refused.
func TestAverageErrors(t *testing.T) {
	dir := averageRun(t, "dcgan")
	if _, err := Average(dir, 5, 6, AverageOptions{}); err == nil || !strings.Contains(err.Error(), "1 checkpoints from step 5 to 6 (the run has steps 2, 4, 6); want at least 2") {
		t.Errorf("one checkpoint in range: %v", err)
	}
	if _, err := Average(t.TempDir(), 0, 10, AverageOptions{}); !errors.Is(err, run.ErrNotRun) {
		t.Errorf("not a run: %v, want ErrNotRun", err)
	}
	step4 := filepath.Join(dir, run.CheckpointsDir, checkpointFile(4))
	b, err := os.ReadFile(step4)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(step4, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Average(dir, 0, 6, AverageOptions{}); !errors.Is(err, run.ErrCorrupt) || !strings.Contains(err.Error(), step4) {
		t.Errorf("damaged step 4: %v, want ErrCorrupt naming %s", err, step4)
	}
	if err := run.WriteCheckpoint(filepath.Join(dir, run.CheckpointsDir, checkpointFile(8)), run.NewCheckpoint(8)); err == nil {
		t.Error("WriteCheckpoint to step-000008.safetensors: no error")
	}
}

// checkpointFile is run's name for the checkpoint at step.
func checkpointFile(step int) string { return fmt.Sprintf("step-%06d.safetensors", step) }

// TestAverageSteps: the steps read back from MetaAverage, nil for a
// checkpoint that is not an average, an error naming a damaged list; and
// AverageFiles finds what AverageFile names, not the run's step files.
func TestAverageSteps(t *testing.T) {
	for _, tc := range []struct {
		meta map[string]string
		want string
		err  bool
	}{
		{map[string]string{}, "[]", false},
		{map[string]string{MetaAverage: "2,4,6"}, "[2 4 6]", false},
		{map[string]string{MetaAverage: "2,x"}, "[]", true},
	} {
		steps, err := AverageSteps(tc.meta)
		if fmt.Sprint(steps) != tc.want || (err != nil) != tc.err || (steps == nil) != (tc.want == "[]") {
			t.Errorf("AverageSteps(%v) = %v, %v; want %s (error %v)", tc.meta, steps, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "not a list of steps") {
			t.Errorf("error %q does not say what is wrong", err)
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, run.CheckpointsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{AverageFile(dir, 14000, 16000), filepath.Join(dir, run.CheckpointsDir, checkpointFile(16000))} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := AverageFiles(dir)
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != "average-014000-016000.safetensors" {
		t.Errorf("AverageFiles = %v, %v; want the one average-014000-016000.safetensors", got, err)
	}
}

// TestAverageNorms recomputes the averaged generator's batch norm
// statistics over 4 batches (DCGAN; a conditional SN-GAN, whose batch norm
// is conditional and whose batches draw random classes; BiGAN, whose
// encoder sampling does not reach): the weights are the plain average's, the statistics are the
// mean of what a replay finds (the plain average's weights with every
// batch norm layer at momentum 1, so its running statistics are each
// batch's, over the same noise), they differ from the averaged ones for
// G's layers, BiGAN's encoder keeps the averaged ones, and
// MetaAverageNorms records the batches.
func TestAverageNorms(t *testing.T) {
	for _, kind := range []string{"dcgan", "sngan-cond", "bigan"} {
		t.Run(kind, func(t *testing.T) {
			dir := averageRun(t, kind)
			plain, err := Average(dir, 1, 6, AverageOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const batches, seed = 4, 3
			var log strings.Builder
			ck, err := Average(dir, 1, 6, AverageOptions{NormBatches: batches, Seed: seed, Progress: &log})
			if err != nil {
				t.Fatal(err)
			}
			if ck.Meta[MetaAverageNorms] != "4" || !strings.Contains(log.String(), "average: batch norm statistics: 4/4 batches") {
				t.Errorf("%s %q, progress %q", MetaAverageNorms, ck.Meta[MetaAverageNorms], log.String())
			}
			if _, ok := plain.Meta[MetaAverageNorms]; ok {
				t.Errorf("the plain average records %s", MetaAverageNorms)
			}

			c, err := RunConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			classes, _ := strconv.Atoi(plain.Meta[metaClasses])
			s, m, err := newSampler(c, classes)
			if err != nil {
				t.Fatal(err)
			}
			if (kind == "sngan-cond") != (s.Classes > 0) {
				t.Fatalf("%s: %d classes", kind, s.Classes)
			}
			gp := m.GeneratorPlayer
			if _, err := loadPlayerWeights(gp, plain, false); err != nil {
				t.Fatal(err)
			}
			for _, b := range nn.BatchNorms(gp.Module) {
				b.Momentum = 1
				b.SetTraining(true)
			}
			want := map[string][]float64{}
			rng := tensor.NewRNG(seed)
			for range batches {
				var req family.Request
				for range c.Train.Batch * min(s.Classes, 1) {
					req.Labels = append(req.Labels, rng.Intn(s.Classes))
				}
				if _, err := s.Generator.Generate(s.Prior.Sample(rng, c.Train.Batch), req); err != nil {
					t.Fatal(err)
				}
				for _, b := range nn.State(gp.Module) {
					if strings.HasSuffix(b.Name, "running_mean") || strings.HasSuffix(b.Name, "running_var") {
						if want[b.Name] == nil {
							want[b.Name] = make([]float64, b.Tensor.Len())
						}
						for j, v := range b.Tensor.Data() {
							want[b.Name][j] += float64(v) / batches
						}
					}
				}
			}
			got, avg := ck.Group(gp.Name), plain.Group(gp.Name)
			changed, kept := 0, 0
			for name, w := range want {
				g, a := got[name].Data(), avg[name].Data()
				for j, v := range g {
					if math.Abs(float64(v)-w[j]) > 1e-5*(1+math.Abs(w[j])) {
						t.Fatalf("%s[%d] = %g, the replay's mean %g", name, j, v, w[j])
					}
				}
				if slices.Equal(g, a) {
					kept++
				} else {
					changed++
				}
				if encoder := strings.HasPrefix(name, "e."); encoder != slices.Equal(g, a) {
					t.Errorf("%s: recomputed %v, but sampling reaches it %v", name, !slices.Equal(g, a), !encoder)
				}
			}
			if changed == 0 || (kind == "bigan") != (kept > 0) {
				t.Errorf("%d statistics recomputed, %d kept", changed, kept)
			}
			for name, v := range avg {
				if !strings.Contains(name, "running_") && !slices.Equal(got[name].Data(), v.Data()) {
					t.Errorf("%s differs from the plain average's", name)
				}
			}
		})
	}
}
