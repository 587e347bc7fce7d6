package main

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	runfolder "github.com/kallima-gan/kallima/run"
)

// buildKallima builds the kallima binary into a temporary folder.
func buildKallima(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kallima")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// resumeConfigs are tiny image runs on synthetic data: an unconditional
// DCGAN with EMA and learning-rate decay, and a conditional one with
// WGAN-GP, two critic updates and a matching-aware D (every random stream:
// noise, fake labels, wrong labels, interpolation weights, batch order).
var resumeConfigs = []struct{ name, yaml string }{
	{"dcgan", `
name: resume-dcgan
seed: 7
data: {kind: synthetic, size: 28, n: 96}
model: {kind: dcgan, z_dim: 16, width: 8}
loss: {name: ns}
train: {steps: 120, batch: 16, lr_g: 2.0e-4, lr_d: 2.0e-4, beta1: 0.5, beta2: 0.999, ema: 0.99, lr_decay: true,
        log_every: 20, sample_every: 40, checkpoint_every: 5, keep_checkpoints: 2}
`},
	{"cgan-wgangp", `
name: resume-cgan
seed: 11
data: {kind: synthetic, size: 28, n: 80, classes: 4}
model: {kind: cgan, z_dim: 16, width: 8, d_no_batchnorm: true, matching_aware: true}
loss: {name: wgan, penalty: gp, penalty_weight: 10}
train: {steps: 60, batch: 16, n_critic: 2, lr_g: 1.0e-4, lr_d: 1.0e-4, beta1: 0, beta2: 0.9, ema: 0.99,
        log_every: 20, sample_every: 30, checkpoint_every: 5}
`},
}

// TestKillAndResumeIsExact trains each config once without interruption,
// then again in a process killed with SIGKILL at a random moment (twice:
// the first resume is killed too) and resumed with -resume until done. The
// final checkpoints must hold the same tensors byte for byte and the same
// RNG and loader states, and metrics.jsonl the same scalars at every step.
func TestKillAndResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains four runs")
	}
	bin := buildKallima(t)
	rng := rand.New(rand.NewPCG(2024, 7))
	for _, rc := range resumeConfigs {
		t.Run(rc.name, func(t *testing.T) {
			root := t.TempDir()
			cfg := filepath.Join(root, "config.yaml")
			if err := os.WriteFile(cfg, []byte(rc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			whole, killed := filepath.Join(root, "whole"), filepath.Join(root, "killed")

			if out, err := exec.Command(bin, "train", "-config", cfg, "-out", whole).CombinedOutput(); err != nil {
				t.Fatalf("uninterrupted run: %v\n%s", err, out)
			}
			recs, err := runfolder.ReadMetrics(filepath.Join(whole, runfolder.MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			steps := len(recs)
			// The kills come after a random number of logged steps, not
			// after a random time: on a slow or loaded machine a timed
			// kill could come after the run had finished. The first is in
			// the first half of the run; the second, of the resumed run,
			// after the first's step and before 80% of the run (the
			// resumed run restarts from the last checkpoint before the
			// kill, so it logs those steps again first).
			k1 := 1 + rng.IntN(steps/2)
			k2 := k1 + 1 + rng.IntN(steps*4/5-k1)
			metrics := filepath.Join(killed, runfolder.MetricsFile)

			kills := 0
			args := []string{"train", "-config", cfg, "-out", killed}
			var log bytes.Buffer
			for kills < 2 {
				cmd := exec.Command(bin, args...)
				cmd.Stdout, cmd.Stderr = &log, &log
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				at := []int{k1, k2}[kills]
				waitForRecords(t, metrics, at, done, &log)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				err := <-done
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("process was not killed by SIGKILL: %v", err)
				}
				kills++
				t.Logf("killed after %d logged steps of %d", at, steps)
				args = []string{"train", "-resume", killed}
			}
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = &log, &log
			if err := cmd.Run(); err != nil {
				t.Fatalf("resumed run: %v\n%s", err, log.String())
			}
			if kills == 0 || !strings.Contains(log.String(), "steps ") {
				t.Fatalf("no summary from the last run:\n%s", log.String())
			}
			a, b := latest(t, whole), latest(t, killed)
			if a.Step != b.Step {
				t.Fatalf("final steps %d and %d", a.Step, b.Step)
			}
			compareCheckpoints(t, a, b)
			compareMetrics(t, whole, killed)
		})
	}
}

// waitForRecords waits until the metrics file at path holds at least n
// records (one line each, written in one write), failing if the process
// ends first. It polls; only the moment of the kill within the step, not
// the test's outcome, depends on the machine's speed.
func waitForRecords(t *testing.T, path string, n int, done chan error, log *bytes.Buffer) {
	t.Helper()
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Count(b, []byte("\n")) >= n {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("process ended (%v) before logging %d steps\n%s", err, n, log.String())
		case <-time.After(time.Millisecond):
		}
	}
}

// latest loads the run's newest checkpoint.
func latest(t *testing.T, dir string) *runfolder.Checkpoint {
	t.Helper()
	r, err := runfolder.Open(dir, runfolder.Options{Warn: os.Stderr})
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

// compareCheckpoints requires the same tensors, bit for bit, and the same
// metadata but for the run package's own (which holds a timestamp).
func compareCheckpoints(t *testing.T, a, b *runfolder.Checkpoint) {
	t.Helper()
	names := func(m map[string]string) []string {
		var r []string
		for k := range m {
			if !strings.HasPrefix(k, "run.") {
				r = append(r, k)
			}
		}
		slices.Sort(r)
		return r
	}
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d and %d tensors", len(a.Tensors), len(b.Tensors))
	}
	for _, g := range []string{"g", "d", "ema_g", "opt_g", "opt_d"} {
		if len(a.Group(g)) == 0 {
			t.Fatalf("checkpoint has no group %q (groups %q)", g, a.Groups())
		}
	}
	differ := 0
	for name, x := range a.Tensors {
		y, ok := b.Tensors[name]
		if !ok {
			t.Fatalf("tensor %s missing after resume", name)
		}
		if !slices.Equal(x.Shape(), y.Shape()) {
			t.Fatalf("%s: shapes %v and %v", name, x.Shape(), y.Shape())
		}
		xs, ys := x.Data(), y.Data()
		for i := range xs {
			if math.Float32bits(xs[i]) != math.Float32bits(ys[i]) {
				if differ < 5 {
					t.Errorf("%s[%d]: %v uninterrupted, %v resumed", name, i, xs[i], ys[i])
				}
				differ++
				break
			}
		}
	}
	if differ > 0 {
		t.Fatalf("%d tensors differ", differ)
	}
	ka, kb := names(a.Meta), names(b.Meta)
	if !slices.Equal(ka, kb) || !slices.Contains(ka, "rng/game") || !slices.Contains(ka, "json/loader") {
		t.Fatalf("metadata keys %q and %q", ka, kb)
	}
	for _, k := range ka {
		if a.Meta[k] != b.Meta[k] {
			t.Errorf("metadata %s: %q and %q", k, a.Meta[k], b.Meta[k])
		}
	}
}

// compareMetrics requires one record per step in both runs, with the same
// scalars.
func compareMetrics(t *testing.T, a, b string) {
	t.Helper()
	ra, err := runfolder.ReadMetrics(filepath.Join(a, runfolder.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runfolder.ReadMetrics(filepath.Join(b, runfolder.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ra) != len(rb) {
		t.Fatalf("metrics: %d and %d records", len(ra), len(rb))
	}
	for i := range ra {
		if ra[i].Step != i+1 || rb[i].Step != i+1 {
			t.Fatalf("metrics record %d: steps %d and %d", i, ra[i].Step, rb[i].Step)
		}
		for k, v := range ra[i].Scalars {
			if rb[i].Scalars[k] != v {
				t.Fatalf("metrics step %d %s: %v and %v", i+1, k, v, rb[i].Scalars[k])
			}
		}
	}
}
