package pipeline

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/run"
)

// TestPeriodicEvaluation trains a tiny synthetic 28x28x1 run with
// train.eval_every=2 and checks that metrics.jsonl holds eval/fid at steps
// 2 and 4 (and not at odd steps), that a checkpoint was written at each
// evaluation scored by that FID, and that the run's best checkpoint is the
// one with the lower FID.
func TestPeriodicEvaluation(t *testing.T) {
	c := tinyConfig(t, "dcgan")
	for _, kv := range []string{"data.n=200", "train.steps=4", "train.sample_every=0", "train.eval_every=2", "train.eval_n=150", "train.lr_decay=false"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	var progress strings.Builder
	if _, err := Train(context.Background(), c, dir, Options{Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	fids := map[int]float64{}
	for _, r := range recs {
		if v, ok := r.Scalars["eval/fid"]; ok {
			fids[r.Step] = v
			for _, k := range []string{"eval/is", "eval/precision", "eval/recall", "eval/density", "eval/coverage", "d/loss"} {
				if _, ok := r.Scalars[k]; !ok {
					t.Errorf("step %d: eval record lacks %s", r.Step, k)
				}
			}
		}
	}
	if len(fids) != 2 || fids[2] <= 0 || fids[4] <= 0 {
		t.Fatalf("eval/fid logged at %v, want steps 2 and 4 with positive values", fids)
	}
	r, err := run.Open(dir, run.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	infos, err := r.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("%d checkpoints, want 2 (steps 2 and 4)", len(infos))
	}
	for _, in := range infos {
		if in.Score == nil || *in.Score != fids[in.Step] {
			t.Errorf("checkpoint at step %d: score %v, want the logged FID %g", in.Step, in.Score, fids[in.Step])
		}
	}
	best, err := r.LoadBest()
	if err != nil {
		t.Fatal(err)
	}
	wantBest := 4
	if fids[2] < fids[4] {
		wantBest = 2
	}
	if best.Step != wantBest {
		t.Errorf("best checkpoint at step %d, want %d (FIDs %v)", best.Step, wantBest, fids)
	}
	if !strings.Contains(progress.String(), "eval at step 2: fid") {
		t.Errorf("progress lacks the eval line:\n%s", progress.String())
	}
}

// TestEvalConfigValidation checks that train.eval_every is refused for
// images the MNIST network cannot take and that a too small train.eval_n
// is named.
func TestEvalConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"data.size=32", "train.eval_every=10"}, "MNIST feature network"},
		{[]string{"data.channels=3", "train.eval_every=10"}, "MNIST feature network"},
		{[]string{"train.eval_every=10", "train.eval_n=100"}, "train.eval_n"},
		{[]string{"train.eval_every=-1"}, "train.eval_every"},
	} {
		c := tinyConfig(t, "dcgan")
		for _, kv := range tc.sets {
			if err := c.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want one containing %q", tc.sets, err, tc.want)
		}
	}
}
