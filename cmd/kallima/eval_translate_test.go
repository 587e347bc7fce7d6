package main

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/internal/famtest"
	_ "github.com/kallima-gan/kallima/internal/famtest/shift" // the testshift translator family
	"github.com/kallima-gan/kallima/pipeline"
)

// trainShift trains the test-only translator testshift (A to B is -x + b,
// B to A is -(x - b), b pulled to 0.5) for a few steps on data kind into
// a new run folder.
func trainShift(t *testing.T, sets ...string) string {
	t.Helper()
	c := config.Default()
	for _, kv := range append([]string{"model.kind=testshift", "train.batch=4", "train.steps=4", "train.sample_every=0", "train.checkpoint_every=0", "train.lr_g=0.5"}, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEvalTranslate scores a testshift run on mnist-inverted: A to B and
// B to A, both reading their digits (-x + b is an inverted digit a little
// brighter), in text and JSON.
func TestEvalTranslate(t *testing.T) {
	if testing.Short() && blas.Impl == "go" {
		t.Skip("classifies thousands of images: with OpenBLAS, or without -short")
	}
	famtest.MNIST(t, data.Test)
	dir := trainShift(t, "data.kind=mnist-inverted")
	code, stdout, stderr := call(runEval, "-translate", dir, "-n", "200", "-json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s TranslateScore
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if s.Kind != "testshift" || len(s.Directions) != 2 || s.Directions[0].From != "A" || s.Directions[0].To != "B" || s.Directions[0].Readable != "negated" {
		t.Fatalf("%+v", s)
	}
	for _, d := range s.Directions {
		if d.N != 200 || d.ClassKept < 0.9 || d.L1 != nil || d.DomainAcc != nil || !strings.Contains(stdout, `"fid"`) {
			t.Errorf("%s to %s: %+v, want 200 images with their digits kept, no L1, no domain score", d.From, d.To, d)
		}
	}
	code, text, stderr := call(runEval, "-translate", dir, "-n", "200")
	if code != exitOK || !strings.Contains(text, "A -> B (200 images)") || !strings.Contains(text, "B -> A (200 images)") || strings.Contains(text, "PSNR") || strings.Contains(text, "judged") {
		t.Fatalf("exit %d, text:\n%s%s", code, text, stderr)
	}
	if testing.Short() {
		return
	}
	// With judges: one per domain, trained briefly, each direction read
	// by its target's judge (inverted digits as they are).
	code, stdout, stderr = call(runEval, "-translate", dir, "-n", "200", "-judge", "30", "-json")
	if code != exitOK || !strings.Contains(stderr, "class judge of B") {
		t.Fatalf("-judge: exit %d: %s", code, stderr)
	}
	s = TranslateScore{}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	for _, d := range s.Directions {
		if d.JudgedKept == nil || d.JudgeCeiling == nil || *d.JudgeCeiling < 0.5 || *d.JudgedKept < 0.5 {
			t.Errorf("-judge, %s to %s: %+v, want judged scores above 0.5", d.From, d.To, d)
		}
	}
}

// TestEvalTranslateRefuses checks the errors: a run on the user's own
// folders, an -n too small for FID (up front), and flags that belong to
// other scorings.
func TestEvalTranslateRefuses(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		writeImage(t, filepath.Join(dir, []string{"A", "B"}[i%2], string(rune('a'+i/2))+".png"), grayDigit(8, 8, i))
	}
	run := trainShift(t, "data.kind=paired", "data.dir="+dir, "data.size=8", "data.channels=1", "train.batch=2")
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"-translate", run}, "data.kind mnist-edges", exitUsage},
		{[]string{"-translate", run, "-metrics", "fid"}, "-metrics does not go with -translate", exitUsage},
		{[]string{"-translate", run, run}, "one run folder", exitUsage},
		{[]string{"-translate", run, "-n", "0"}, "-n 0", exitUsage},
		// Too few for FID, said before the run is even read (not after
		// training the domain classifier).
		{[]string{"-translate", run, "-n", "128"}, "-translate -n 128: want 129 to 10000 images per direction (FID on 128 features", exitUsage},
		{[]string{"-translate", filepath.Join(dir, "nothing"), "-n", "50"}, "-n 50: want 129 to", exitUsage},
		{[]string{"-translate", run, "-judge", "-1"}, "-judge -1", exitUsage},
		{[]string{"-translate", run, "-judge", "20000"}, "-judge 20000", exitUsage},
		{[]string{"-modes", run, "-judge", "100"}, "-judge goes with -translate", exitUsage},
		{[]string{"-translate", filepath.Join(dir, "nothing")}, "no such file", exitError},
	} {
		code, _, stderr := call(runEval, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
}
