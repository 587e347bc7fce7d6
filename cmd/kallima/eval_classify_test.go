package main

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
)

// TestScoreClassify checks the scores on hand-made classes: a relabelling
// of the labels is all wrong read directly but perfect once matched (NMI
// 1); more clusters than labels are mapped by majority.
func TestScoreClassify(t *testing.T) {
	labels := []int{0, 0, 1, 1, 2, 2}
	s, err := scoreClassify([]int{1, 1, 2, 2, 0, 0}, labels, 3, 3)
	if err != nil || s.ErrorRate != 1 || s.ClusterAccuracy != 1 || math.Abs(s.NMI-1) > 1e-12 || s.Matching != "hungarian" || !slices.Equal(s.Match, []int{2, 0, 1}) {
		t.Fatalf("relabelling: %+v, %v", s, err)
	}
	// One digit of class 2 in cluster 0: 5 of 6 right after matching.
	s, _ = scoreClassify([]int{0, 0, 1, 1, 2, 0}, labels, 3, 3)
	if math.Abs(s.ErrorRate-1.0/6) > 1e-12 || math.Abs(s.ClusterAccuracy-5.0/6) > 1e-12 || !(s.NMI < 1) {
		t.Errorf("one error: %+v", s)
	}
	// Four clusters, two labels: clusters 0, 1 -> 0 and 2, 3 -> 1, with
	// one vote lost in cluster 3.
	s, _ = scoreClassify([]int{0, 1, 2, 3, 3, 3}, []int{0, 0, 1, 1, 1, 0}, 4, 2)
	if s.Matching != "majority" || !slices.Equal(s.Match, []int{0, 0, 1, 1}) || math.Abs(s.ClusterAccuracy-5.0/6) > 1e-12 {
		t.Errorf("majority: %+v", s)
	}
	if _, err := scoreClassify([]int{0, 5}, []int{0, 1}, 3, 2); err == nil {
		t.Error("a class out of range was accepted")
	}
}

// TestEvalClassify trains a tiny semi-supervised AAE on synthetic images
// and scores it: the JSON fields, the same numbers in text, the errors for
// a model that does not classify and for flags that do not go with it.
func TestEvalClassify(t *testing.T) {
	c, err := config.Parse(strings.NewReader(`
name: tiny-aae
seed: 3
data: {kind: synthetic, size: 28, n: 60, classes: 3}
model: {kind: aae, prior: categorical, classes: 3, labels: 6, z_dim: 2, hidden: [16], d_hidden: [8]}
train: {steps: 30, batch: 10, lr_g: 3.0e-3, lr_d: 1.0e-3, beta1: 0.5, beta2: 0.999, log_every: 0, sample_every: 0, checkpoint_every: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "aae")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := call(runEval, "-classify", dir, "-n", "45", "-json")
	var s ClassifyScore
	if code != exitOK || json.Unmarshal([]byte(stdout), &s) != nil {
		t.Fatalf("exit %d, %q, %s", code, stdout, stderr)
	}
	if s.N != 45 || s.Classes != 3 || s.Labels != 6 || s.Matching != "hungarian" || len(s.Match) != 3 || s.ClusterAccuracy < 1-s.ErrorRate-1e-12 || s.ClusterAccuracy > 1 || s.NMI < 0 || s.NMI > 1 {
		t.Errorf("score %+v", s)
	}
	if !strings.Contains(s.Set, "synthetic") {
		t.Errorf("set %q, want the run's synthetic images", s.Set)
	}
	code, text, _ := call(runEval, "-classify", dir, "-n", "45")
	if code != exitOK || !strings.Contains(text, "semi-supervised") || !strings.Contains(text, "error rate") {
		t.Errorf("text: exit %d, %q", code, text)
	}
	if code, _, stderr := call(runEval, "-classify", dir, "-metrics", "fid"); code != exitUsage || !strings.Contains(stderr, "-metrics does not go with -classify") {
		t.Errorf("-metrics: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-classify", dir, "-n", "0"); code != exitUsage || !strings.Contains(stderr, "-n 0") {
		t.Errorf("-n 0: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-classify", trainTinyAE(t, "ae")); code != exitUsage || !strings.Contains(stderr, "does not classify") {
		t.Errorf("AE run: exit %d, %q", code, stderr)
	}
}
