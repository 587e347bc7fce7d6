package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSampleTruncation checks that -truncation changes the noise (and so
// the grid) and that bad truncation flags are usage errors naming the flag.
func TestSampleTruncation(t *testing.T) {
	run := trainTiny(t, "dcgan")
	dir := t.TempDir()
	plain, trunc := filepath.Join(dir, "plain.png"), filepath.Join(dir, "trunc.png")
	again := filepath.Join(dir, "again.png")
	for _, args := range [][]string{{"-out", plain}, {"-out", trunc, "-truncation", "0.3"}, {"-out", again, "-truncation", "0.3"}} {
		if code, _, stderr := call(runSample, append([]string{run, "-n", "16"}, args...)...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if bytes.Equal(readFile(t, plain), readFile(t, trunc)) {
		t.Error("-truncation 0.3 drew the same grid as no truncation")
	}
	if !bytes.Equal(readFile(t, trunc), readFile(t, again)) {
		t.Error("-truncation 0.3 drew different grids from one seed")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-truncation", "-1"}, "positive threshold"},
		{[]string{"-truncation", "0"}, "-truncation 0"},
		{[]string{"-truncation", "1", "-truncation-mode", "cut"}, `mode "cut"`},
		{[]string{"-truncation-mode", "clamp"}, "give -truncation too"},
		{[]string{"-truncation", "2", "-truncation-mode", "scale"}, "psi in (0, 1]"},
	} {
		code, _, stderr := call(runSample, append([]string{run, "-out", filepath.Join(dir, "x.png")}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error with %q", c.args, code, stderr, c.want)
		}
	}
}

// TestEvalTruncationSweep runs -truncation-sweep on a tiny run: a table row
// per threshold and one without truncation, and the plot; plus its usage
// errors.
func TestEvalTruncationSweep(t *testing.T) {
	run := evalRun(t)
	plot := filepath.Join(t.TempDir(), "curve.png")
	code, stdout, stderr := call(runEval, run, "-n", "150", "-truncation-sweep", "0.5,1.5", "-truncation-mode", "clamp", "-plot", plot)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"truncation mode  clamp", "| threshold | FID | IS | precision | recall |", "\n| none | ", "\n| 0.5 | ", "\n| 1.5 | ", "wrote " + plot} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 400 {
		t.Fatalf("plot: %v, %v", err, img)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{run, "-truncation-sweep", "0.5", "-truncation", "1"}, "give neither -truncation nor -metrics"},
		{[]string{run, "-truncation-sweep", "0.5,x"}, `"x" is not a number`},
		{[]string{run, "-truncation-sweep", "0.5,-1"}, "want positive thresholds"},
		{[]string{run, "-plot", plot}, "-plot draws the curves of -truncation-sweep"},
		{[]string{"-real", "mnist/train", "-truncation", "0.5"}, "do not apply to image sets"},
	} {
		code, _, stderr := call(runEval, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error with %q", c.args, code, stderr, c.want)
		}
	}
}

// TestSampleTruncationUniform: a uniform prior's noise lies in [-1, 1], so
// resampling or clamping at 1 or more leaves it as drawn; sample says so in
// a note (and draws the untruncated grid), while a bound below 1, scale, or
// a normal prior gets no note. The grids are compared on a DCGAN with the
// uniform prior (a tiny InfoGAN's images do not change visibly with the
// noise), the note checked on both.
func TestSampleTruncationUniform(t *testing.T) {
	uniform, infogan, normal := trainTiny(t, "dcgan-uniform"), trainTiny(t, "infogan"), trainTiny(t, "dcgan")
	dir := t.TempDir()
	draw := func(run string, args ...string) ([]byte, string) {
		t.Helper()
		p := filepath.Join(dir, "g.png")
		code, _, stderr := call(runSample, append([]string{run, "-n", "9", "-out", p}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return readFile(t, p), stderr
	}
	plain, _ := draw(uniform)
	for _, run := range []string{uniform, infogan} {
		for _, args := range [][]string{{"-truncation", "2"}, {"-truncation", "1"}, {"-truncation", "1.5", "-truncation-mode", "clamp"}} {
			img, stderr := draw(run, args...)
			if run == uniform && !bytes.Equal(img, plain) {
				t.Errorf("%v: the grid differs from no truncation", args)
			}
			if !strings.Contains(stderr, "note: -truncation") || !strings.Contains(stderr, "prior is uniform on [-1, 1]") || !strings.Contains(stderr, "changes nothing") {
				t.Errorf("%s %v: stderr %q, want a note that it changes nothing under a uniform prior", filepath.Base(run), args, stderr)
			}
		}
	}
	for _, c := range []struct {
		run  string
		args []string
	}{
		{uniform, []string{"-truncation", "0.5"}},
		{uniform, []string{"-truncation", "0.3", "-truncation-mode", "clamp"}},
		{uniform, []string{"-truncation", "0.5", "-truncation-mode", "scale"}},
		{infogan, []string{"-truncation", "0.5"}},
		{normal, []string{"-truncation", "2"}},
	} {
		img, stderr := draw(c.run, c.args...)
		if strings.Contains(stderr, "note") {
			t.Errorf("%s %v: unexpected note %q", filepath.Base(c.run), c.args, stderr)
		}
		if c.run == uniform && bytes.Equal(img, plain) {
			t.Errorf("%v: the grid equals no truncation", c.args)
		}
	}
}
