package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleCodes draws an InfoGAN run with fixed codes and traversals
// (the grid's shape: one row per value, one column per noise vector) and
// checks the errors for codes the model does not have, values out of
// range and -code on a model without codes: all usage errors (exit 2).
func TestSampleCodes(t *testing.T) {
	dir := trainTiny(t, "infogan")
	out := filepath.Join(t.TempDir(), "g.png")
	for _, tc := range []struct {
		args       []string
		cols, rows int
	}{
		{[]string{"-code", "c1=0:3"}, 8, 4},                           // every category, 8 columns
		{[]string{"-code", "c1=1:2", "-n", "3"}, 3, 2},                // categories 1 and 2
		{[]string{"-code", "c2=-2:2", "-rows", "5", "-n", "4"}, 4, 5}, // 5 values
		{[]string{"-code", "c2=-1:1", "-code", "c1=3", "-n", "2"}, 2, 9},
		{[]string{"-code", "c1=2", "-n", "9"}, 3, 3}, // fixed: a square grid
	} {
		code, _, stderr := call(runSample, append([]string{dir, "-out", out}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		b := decodePNG(t, out).Bounds()
		if w, h := tc.cols*30+2, tc.rows*30+2; b.Dx() != w || b.Dy() != h {
			t.Errorf("%v: grid %dx%d, want %dx%d", tc.args, b.Dx(), b.Dy(), w, h)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-code", "c3=0"}, `unknown latent code "c3" (the model has c1, c2)`},
		{[]string{"-code", "c1=4"}, "c1 = 4"},
		{[]string{"-code", "c1=0:4"}, "whole categories 0 to 3"},
		{[]string{"-code", "c2=-3:0"}, "out of the code's range [-2, 2]"},
		{[]string{"-code", "c2=0.5:1", "-rows", "1"}, "-rows 1"},
		{[]string{"-code", "c1=1", "-per-class", "2"}, "-class and -per-class"},
		{[]string{"-code", "c1=x"}, `"x" is not a number`},
		// Fixed values the code cannot take: usage errors like the rest,
		// found before drawing (they were failed draws, exit 1).
		{[]string{"-code", "c1=10"}, "c1 = 10: a categorical code takes a category 0 to 3"},
		{[]string{"-code", "c1=2.5"}, "c1 = 2.5: a categorical code"},
		{[]string{"-code", "c2=3"}, "c2 = 3 out of the code's range [-2, 2]"},
		{[]string{"-code", "c2=-1:1", "-code", "c1=9"}, "c1 = 9"},
		{[]string{"-code", "c1=0:3", "-code", "c2=-2.5"}, "c2 = -2.5 out of the code's range"},
		{[]string{"-code", "c4=0"}, `unknown latent code "c4"`},
		{[]string{"-code", "c2=2:-2"}, "from low to high"},
	} {
		code, stdout, stderr := call(runSample, append([]string{dir, "-out", out}, tc.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q, want a usage error (exit %d) with %q", tc.args, code, stdout, stderr, exitUsage, tc.want)
		}
	}
	if code, _, stderr := call(runSample, trainTiny(t, "dcgan"), "-code", "c1=1", "-out", out); code != exitUsage || !strings.Contains(stderr, "no latent codes") {
		t.Errorf("-code on a DCGAN: exit %d, %q", code, stderr)
	}
}
