package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
)

// TestAverage: kallima average writes average-FROM-TO.safetensors into the
// run's checkpoints folder (by default the last 3 checkpoints; -from and
// -to pick others), which sample and eval then read as averaged weights,
// and leaves the run's own checkpoints as they were.
func TestAverage(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	ckDir := filepath.Join(dir, runfolder.CheckpointsDir)
	before, err := pipeline.ListCheckpoints(dir)
	if err != nil || len(before) < 3 {
		t.Fatalf("the tiny run has checkpoints %v (%v); want at least 3", before, err)
	}
	n := len(before)
	code, out, errOut := call(runAverage, dir)
	want := filepath.Join(ckDir, fmt.Sprintf("average-%06d-%06d.safetensors", before[n-3].Step, before[n-1].Step))
	if code != exitOK || !strings.Contains(out, "wrote "+want) || !strings.Contains(errOut, "(3 of 3)") {
		t.Fatalf("average %s: exit %d, stdout %q, stderr %q; want %s written", dir, code, out, errOut, want)
	}
	code, out, errOut = call(runSample, want, "-n", "4", "-out", filepath.Join(t.TempDir(), "g.png"))
	if code != exitOK || !strings.Contains(out, "averaged over steps") {
		t.Errorf("sample of the average: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	after, _ := pipeline.ListCheckpoints(dir)
	if len(after) != n || after[n-1].Step != before[n-1].Step {
		t.Errorf("checkpoints after average: %v, before %v", after, before)
	}
	for _, in := range after {
		if _, err := runfolder.LoadCheckpoint(in.Path); err != nil {
			t.Errorf("%s: %v", in.Path, err)
		}
	}

	// -from/-to: two checkpoints, written where -out says; sample reads it
	// with the run's config.
	other := filepath.Join(t.TempDir(), "avg.safetensors")
	a, b := strconv.Itoa(before[0].Step), strconv.Itoa(before[1].Step)
	code, out, errOut = call(runAverage, dir, "-from", a, "-to", b, "-out", other)
	if code != exitOK || !strings.Contains(out, "wrote "+other+": the generator's weights averaged over steps "+a+", "+b+"\n") {
		t.Fatalf("average -from %s -to %s -out: exit %d, stdout %q, stderr %q", a, b, code, out, errOut)
	}
	cfg := filepath.Join(dir, runfolder.ConfigFile)
	if code, out, errOut = call(runSample, other, "-config", cfg, "-n", "4", "-out", filepath.Join(t.TempDir(), "h.png")); code != exitOK {
		t.Errorf("sample -config of an average written elsewhere: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// -bn: the statistics recomputed, said on stdout and in the file.
	code, out, errOut = call(runAverage, dir, "-bn", "3", "-seed", "2", "-out", other)
	if code != exitOK || !strings.Contains(out, "batch norm's statistics recomputed over 3 batches") || !strings.Contains(errOut, "batch norm statistics: 3/3 batches") {
		t.Fatalf("average -bn 3: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	ck, err := runfolder.LoadCheckpoint(other)
	if err != nil {
		t.Fatal(err)
	}
	if got := ck.Meta[pipeline.MetaAverageNorms]; got != "3" {
		t.Errorf("%s: %s %q, want 3", other, pipeline.MetaAverageNorms, got)
	}
}

// TestAverageUsage: wrong command lines are refused naming the problem.
func TestAverageUsage(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "give one run folder"},
		{[]string{dir, "-from", "2", "-last", "2"}, exitUsage, "give one"},
		{[]string{dir, "-from", "-2"}, exitUsage, "0 or more"},
		{[]string{dir, "-last", "1"}, exitUsage, "at least 2"},
		{[]string{dir, "-from", "4", "-to", "2"}, exitUsage, "-from 4 is after -to 2"},
		{[]string{dir, "-bn", "-1"}, exitUsage, "-bn -1: want a number of batches"},
		{[]string{dir, "-seed", "2"}, exitUsage, "-seed goes with -bn"},
		{[]string{dir, "-from", "4", "-to", "4"}, exitError, "want at least 2"},
		{[]string{filepath.Join(dir, "missing")}, exitError, "no checkpoint"},
		{[]string{dir, "-last", "2", "-out", filepath.Join(dir, runfolder.CheckpointsDir, "step-000002.safetensors")}, exitError, "step-N names are the run's own"},
	} {
		code, _, errOut := call(runAverage, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("average %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestStackedDeepAverage runs the dcgan-stacked-deep recipe end to end on
// a few real Stacked MNIST images: train (cut to 3 steps, a checkpoint
// each, and narrowed: the extra layers and two G steps stay, the width and
// batch shrink, so the pure-Go build runs it in seconds), average the last
// 3 checkpoints, and score the average with eval -modes, which reads it as
// averaged weights.
func TestStackedDeepAverage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deep")
	code, _, errOut := call(runTrain, "-preset", "dcgan-stacked-deep", "-set", "data.n=128", "-set", "train.steps=3",
		"-set", "model.width=16", "-set", "train.batch=16",
		"-set", "train.checkpoint_every=1", "-set", "train.sample_every=0", "-out", dir)
	if code != exitOK {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	code, out, errOut := call(runAverage, dir)
	want := filepath.Join(dir, runfolder.CheckpointsDir, "average-000001-000003.safetensors")
	if code != exitOK || !strings.Contains(out, "wrote "+want) {
		t.Fatalf("average: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	s := evalModesJSON(t, want, "-n", "200")
	if s.N != 200 || s.Modes < 1 || s.Modes > 200 || !strings.Contains(s.Source, "(average weights)") {
		t.Errorf("eval -modes of the average: %+v", s)
	}
}
