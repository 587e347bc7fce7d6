package main

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/pipeline"
)

// tinyMNISTRun trains the acgan-mnist preset shrunk to width 4 for two
// steps of batch 8 into a new folder and returns it.
func tinyMNISTRun(t *testing.T) string {
	t.Helper()
	c, err := config.Preset("acgan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"model.width=4", "model.z_dim=8", "train.steps=2", "train.batch=8", "train.sample_every=0", "train.log_every=0"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "acgan-mnist")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEvalPerClass trains a tiny ACGAN on MNIST for two steps and scores it
// with eval -per-class: -json gives ten classes of -n/10 samples each with
// scores in range, the text table has a row per digit, a mean and an all
// row; the default -n is 1000.
func TestEvalPerClass(t *testing.T) {
	needMNIST(t)
	dir := tinyMNISTRun(t)
	code, stdout, stderr := call(runEval, "-per-class", dir, "-n", "200", "-json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res imagegan.ClassScores
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if len(res.Classes) != 10 || res.PerClass != 20 || res.All.NFake != 200 || res.Reference != "mnist/test" {
		t.Fatalf("%d classes, %d per class, %d samples in all, reference %q", len(res.Classes), res.PerClass, res.All.NFake, res.Reference)
	}
	for _, k := range res.Classes {
		if k.Agreement < 0 || k.Agreement > 1 || k.PRDC.NFake != 20 || k.PRDC.NReal != 20 {
			t.Errorf("class %d: %+v", k.Class, k)
		}
	}
	code, stdout, stderr = call(runEval, "-per-class", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"the first 100 images of each class", "class  agreement precision", "\n9 ", "\nmean ", "\nall ", "all 1000 samples"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestEvalPerClassReal scores MNIST's training images as a conditional
// generator: the feature network agrees with nearly every label (it was
// trained on them) and precision and recall per class are high.
func TestEvalPerClassReal(t *testing.T) {
	needMNIST(t)
	code, stdout, stderr := call(runEval, "-per-class", "-real", "mnist/train", "-n", "300", "-json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res imagegan.ClassScores
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if len(res.Classes) != 10 || res.PerClass != 30 || !(res.Agreement > 0.97) || !(res.Precision > 0.7) || !(res.Recall > 0.7) {
		t.Fatalf("real images: %d classes of %d, agreement %.3f, precision %.3f, recall %.3f; want 10 of 30, above 0.97, 0.7, 0.7",
			len(res.Classes), res.PerClass, res.Agreement, res.Precision, res.Recall)
	}
}

// TestEvalPerClassErrors: -per-class refuses an unconditional run, a run
// not on MNIST, an -n that does not split into the classes, and the flags
// it does not take.
func TestEvalPerClassErrors(t *testing.T) {
	needMNIST(t)
	dcgan, acgan, mnist := trainTiny(t, "dcgan"), trainTiny(t, "acgan"), tinyMNISTRun(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-per-class", dcgan}, "unconditional"},
		{[]string{"-per-class", acgan}, "mnist runs only"},
		{[]string{"-per-class", mnist, "-n", "205"}, "want a multiple of the 10 classes"},
		{[]string{"-per-class", mnist, "-n", "120"}, "129 in all"},
		{[]string{"-per-class", acgan, "-metrics", "fid"}, "-per-class takes one run folder"},
		{[]string{"-per-class", acgan, acgan}, "-per-class takes one run folder"},
		{[]string{"-per-class", acgan, "-real", "mnist/train"}, "-per-class takes one run folder"},
		{[]string{"-per-class", "-real", "mnist/test"}, "only mnist/train"},
	} {
		if code, _, stderr := call(runEval, tc.args...); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}
