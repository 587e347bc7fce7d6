package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/pipeline"
)

// evalRun trains a tiny synthetic 28x28x1 run with one evaluation and
// returns its folder.
func evalRun(t *testing.T) string {
	t.Helper()
	c := config.Default()
	for _, kv := range []string{"data.kind=synthetic", "data.n=200", "data.classes=3", "model.kind=dcgan", "model.width=4", "model.z_dim=8",
		"train.batch=8", "train.steps=2", "train.checkpoint_every=0", "train.sample_every=0", "train.ema=0.9", "train.eval_every=2", "train.eval_n=150"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEvalPrintsProvenance runs `kallima eval RUN --metrics fid,is,pr -n
// 150` on a tiny run and checks each score is printed with n_real, n_fake,
// network, layer and reference, plus the warning about comparability; and
// that -json gives one parseable result per metric.
func TestEvalPrintsProvenance(t *testing.T) {
	dir := evalRun(t)
	var out, errb bytes.Buffer
	if code := runEval([]string{dir, "--metrics", "fid,is,pr", "--n", "150", "-seed", "3"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"best checkpoint: step 2", "(ema weights)", "\nFID\n", "\nIS\n", "\nPRDC\n", "n_real         150", "n_fake         150",
		"network        kallima mnist-cnn", "layer          fc1 (128-D)", "layer          probs (10-D)", "reference      synthetic/train[:150]",
		"precision", "not comparable with Inception-based numbers"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	out.Reset()
	if code := runEval([]string{"-json", "-metrics", "fid,kid", "-n", "150", "-raw", dir}, &out, &errb); code != exitOK {
		t.Fatalf("-json: exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("-json: %d lines, want 2:\n%s", len(lines), out.String())
	}
	for i, want := range []string{"FID", "KID"} {
		var r metrics.Result
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatal(err)
		}
		if r.Metric != want || r.NReal != 150 || r.NFake != 150 || r.Layer != "fc1" || r.Reference != "synthetic/train[:150]" || len(r.Values) == 0 {
			t.Errorf("line %d: %+v", i, r)
		}
	}
}

// TestEvalReal scores MNIST's own training images against its test split,
// the real-data row of a results table: they should look like data to the
// feature network (a high IS-style score, precision and recall near 1),
// far better than any generator of docs/RESULTS-mnist.md.
func TestEvalReal(t *testing.T) {
	needMNIST(t)
	var out, errb bytes.Buffer
	if code := runEval([]string{"-real", "mnist/train", "-metrics", "is,pr", "-n", "500", "-json"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r metrics.Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.NFake != 500 || (r.Metric == "PRDC" && r.Reference != "mnist/test[:500]") {
			t.Errorf("%s: n_fake %d, reference %q", r.Metric, r.NFake, r.Reference)
		}
		for _, v := range r.Values {
			got[v.Name] = v.Value
		}
	}
	if got["is"] < 8 || got["precision"] < 0.7 || got["recall"] < 0.7 {
		t.Fatalf("real MNIST scored like a poor generator: %v\n%s", got, out.String())
	}
	out.Reset()
	if code := runEval([]string{"-real", "mnist/train", "-metrics", "is", "-n", "200"}, &out, &errb); code != exitOK || !strings.Contains(out.String(), "real images      mnist/train[:200]") {
		t.Fatalf("exit %d, output lacks the provenance line:\n%s", code, out.String())
	}
}

// TestEvalUsageErrors checks that bad flags, metric names and arguments
// exit 2 and say what is wrong.
func TestEvalUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"somewhere", "-metrics", "fid,lpips"}, `"lpips"`},
		{[]string{"somewhere", "-bogus"}, "bogus"},
		{[]string{"somewhere", "-n", "10"}, "-n 10"},
		{[]string{}, "one run folder"},
		{[]string{"run", "-real", "mnist/train"}, "no run folder with it"},
		{[]string{"-real", "mnist/test"}, "only mnist/train"},
	} {
		var out, errb bytes.Buffer
		if code := runEval(tc.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), exitUsage, tc.want)
		}
	}
}

// TestEvalRunWithRef scores a tiny run against a .npy reference given with
// -ref in place of its own training images.
func TestEvalRunWithRef(t *testing.T) {
	dir := evalRun(t)
	ref := filepath.Join(t.TempDir(), "ref.npy")
	pix := make([]byte, 150*28*28)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := data.WriteNPY(&buf, &data.NPY{Kind: 'u', Size: 1, Shape: []int{150, 28, 28}, Data: pix}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ref, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runEval([]string{dir, "-ref", ref, "-metrics", "fid", "-n", "150"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"reference set    " + ref + " (npy |u1 [150 28 28])", "reference      " + ref + "[:150]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestEvalMetricsMinimum: the bound on -n is the largest of the metrics
// asked for (FID 129, IS 10, precision/recall 6, KID 2), so KID and IS
// score 50 images, each metric scores at its bound, one below it is a
// usage error naming the bound, and a reference too small for a metric is
// refused before any image is generated.
func TestEvalMetricsMinimum(t *testing.T) {
	dir := evalRun(t)
	code, stdout, stderr := call(runEval, dir, "-n", "50", "-metrics", "kid,is")
	if code != exitOK || !strings.Contains(stdout, "\nKID\n") || !strings.Contains(stdout, "\nIS\n") || !strings.Contains(stdout, "n_fake         50") {
		t.Fatalf("-n 50 -metrics kid,is: exit %d, stderr %q, stdout:\n%s", code, stderr, stdout)
	}
	for _, c := range []struct {
		metrics string
		need    int
		why     string
	}{
		{"kid", 2, "KID"},
		{"is", 10, "IS averages over 10 splits"},
		{"pr", 6, "precision/recall"},
		{"kid,is,pr", 10, "IS averages"},
		{"kid,fid", 129, "FID on 128 features"},
	} {
		if code, _, stderr := call(runEval, dir, "-n", strconv.Itoa(c.need), "-metrics", c.metrics); code != exitOK {
			t.Errorf("-metrics %s at its bound -n %d: exit %d: %s", c.metrics, c.need, code, stderr)
		}
		below := strconv.Itoa(c.need - 1)
		want := "-n " + below + ": want at least " + strconv.Itoa(c.need) + " (" + c.why
		if code, _, stderr := call(runEval, dir, "-n", below, "-metrics", c.metrics); code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("-metrics %s -n %s: exit %d, stderr %q; want %d and %q", c.metrics, below, code, stderr, exitUsage, want)
		}
	}

	ref := filepath.Join(t.TempDir(), "ref.npy")
	var buf bytes.Buffer
	if err := data.WriteNPY(&buf, &data.NPY{Kind: 'u', Size: 1, Shape: []int{100, 28, 28}, Data: make([]byte, 100*28*28)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ref, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "reference " + ref + " has 100 images: FID on 128 features needs more images than features (at least 129)"
	if code, _, stderr := call(runEval, dir, "-ref", ref, "-n", "150", "-metrics", "kid,fid"); code != exitError || !strings.Contains(stderr, want) {
		t.Errorf("FID against 100 reference images: exit %d, stderr %q; want %d and %q", code, stderr, exitError, want)
	}
	if code, _, stderr := call(runEval, dir, "-ref", ref, "-n", "150", "-metrics", "kid,is"); code != exitOK {
		t.Errorf("KID and IS against 100 reference images: exit %d: %s", code, stderr)
	}
}
