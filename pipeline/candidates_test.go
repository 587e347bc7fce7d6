package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
)

// cancelOn cancels a context when a progress line contains mark for the
// nth time.
type cancelOn struct {
	mark   string
	n      int
	seen   *atomic.Int32
	cancel context.CancelFunc
}

func (w cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.mark) && int(w.seen.Add(1)) == w.n {
		w.cancel()
	}
	return len(p), nil
}

// TestCandidates trains a run as three candidates, checks the choice (each
// score is its candidate's mean over the second half of its steps, the
// kept one the lowest), that the run's metrics continue the kept
// candidate's, and that the run ends bit for bit where a plain run with the
// kept seed ends (the learning-rate decay included); then stops the same
// run once among the candidates and once after the choice, resumes it each
// time, and gets the same weights again. A candidate's progress lines
// count to its own last step (step 3/6).
func TestCandidates(t *testing.T) {
	c := tinyConfig(t, "infogan")
	c.Train.Steps, c.Train.LogEvery = 12, 1
	c.Train.Candidates, c.Train.CandidateSteps, c.Train.CandidateMetric = 3, 6, "g/loss"
	root := t.TempDir()
	dir := filepath.Join(root, "picked")
	res, err := Train(context.Background(), c, dir, Options{Warn: io.Discard})
	if err != nil || res.Step != 12 || res.ResumedAt != 6 {
		t.Fatalf("train: %+v, %v (want 12 steps, continued from the candidate's step 6)", res, err)
	}
	ch, ok, err := ReadChoice(dir)
	if err != nil || !ok || len(ch.Candidates) != 3 || ch.From != 4 || ch.To != 6 || ch.Pick != "min" {
		t.Fatalf("choice %+v, %v, %v", ch, ok, err)
	}
	for k, cand := range ch.Candidates {
		if want := c.Seed + uint64(k)*config.CandidateStride; cand.Seed != want {
			t.Fatalf("candidate %d: seed %d, want %d", k, cand.Seed, want)
		}
		recs, err := run.ReadMetrics(filepath.Join(dir, cand.Dir, run.MetricsFile))
		if err != nil || len(recs) != 6 {
			t.Fatalf("candidate %d: %d records, %v (want 6)", k, len(recs), err)
		}
		mean := (recs[3].Scalars["g/loss"] + recs[4].Scalars["g/loss"] + recs[5].Scalars["g/loss"]) / 3
		if math.Abs(cand.Score-mean) > 1e-12 {
			t.Fatalf("candidate %d: score %v, mean of steps 4-6 %v", k, cand.Score, mean)
		}
		if cand.Score < ch.Candidates[ch.Kept].Score {
			t.Fatalf("kept candidate %d (%v) but %d scores %v", ch.Kept, ch.Candidates[ch.Kept].Score, k, cand.Score)
		}
	}
	if ch.Candidates[0].Score == ch.Candidates[1].Score {
		t.Fatal("candidates 0 and 1 score the same: the seeds did not differ")
	}
	kept := filepath.Join(dir, ch.Candidates[ch.Kept].Dir)
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	candRecs, err2 := run.ReadMetrics(filepath.Join(kept, run.MetricsFile))
	if err != nil || err2 != nil || len(recs) != 12 {
		t.Fatalf("run metrics: %d records, %v, %v (want 12)", len(recs), err, err2)
	}
	for i, r := range recs {
		if r.Step != i+1 {
			t.Fatalf("record %d is step %d", i, r.Step)
		}
		if i < 6 && r.Scalars["g/loss"] != candRecs[i].Scalars["g/loss"] {
			t.Fatalf("step %d: g/loss %v, the kept candidate's %v", r.Step, r.Scalars["g/loss"], candRecs[i].Scalars["g/loss"])
		}
	}

	plain := filepath.Join(root, "plain")
	if _, err := Train(context.Background(), candidateConfig(c, ch.Kept), plain, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	want := latest(t, plain)
	sameWeights(t, "picked", want, latest(t, dir))

	for _, stop := range []struct {
		mark      string
		n         int
		step      int
		candidate string
	}{{"step 3/6", 2, 3, fmt.Sprintf("candidate 2 of 3, seed %d", c.Seed+config.CandidateStride)}, {"step 9/12", 1, 9, ""}} {
		d := filepath.Join(root, "stopped-"+strings.ReplaceAll(stop.mark, "/", "-"))
		ctx, cancel := context.WithCancel(context.Background())
		var seen atomic.Int32
		res, err := Train(ctx, c, d, Options{Progress: cancelOn{stop.mark, stop.n, &seen, cancel}, Warn: io.Discard})
		cancel()
		if !errors.Is(err, gan.ErrStopped) || res.Step != stop.step || res.Checkpoint != stop.step || res.Candidate != stop.candidate {
			t.Fatalf("stop at %q: %+v, %v; want ErrStopped at step %d, candidate %q", stop.mark, res, err, stop.step, stop.candidate)
		}
		if _, err := Resume(context.Background(), d, Options{Warn: io.Discard}); err != nil {
			t.Fatalf("resume after %q: %v", stop.mark, err)
		}
		sameWeights(t, d, want, latest(t, d))
	}

	// In memory there is no folder for the candidates.
	if _, err := Run(context.Background(), c, Options{}); err == nil || !strings.Contains(err.Error(), "run folder") {
		t.Fatalf("Run with candidates: %v", err)
	}
}

// sameWeights fails unless a and b hold the same tensors bit for bit.
func sameWeights(t *testing.T, name string, a, b *run.Checkpoint) {
	t.Helper()
	if a.Step != b.Step || len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%s: checkpoints at %d and %d with %d and %d tensors", name, a.Step, b.Step, len(a.Tensors), len(b.Tensors))
	}
	for k, x := range a.Tensors {
		y := b.Tensors[k]
		if y == nil {
			t.Fatalf("%s: %s missing", name, k)
		}
		xs, ys := x.Data(), y.Data()
		for i := range xs {
			if math.Float32bits(xs[i]) != math.Float32bits(ys[i]) {
				t.Fatalf("%s: %s[%d]: %v, want %v", name, k, i, ys[i], xs[i])
			}
		}
	}
}

// TestCandidateMetricNotLogged checks that a metric the model does not log
// stops the first candidate at its first step, naming what is logged.
func TestCandidateMetricNotLogged(t *testing.T) {
	c := tinyConfig(t, "infogan")
	c.Train.Steps, c.Train.Candidates, c.Train.CandidateSteps, c.Train.CandidateMetric = 12, 2, 6, "d/real_inf"
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Train(context.Background(), c, dir, Options{Warn: io.Discard})
	if err == nil || !strings.Contains(err.Error(), `"d/real_inf": the model does not log it`) || !strings.Contains(err.Error(), "d/loss, ") || res.Step != 1 {
		t.Fatalf("step %d: %v", res.Step, err)
	}
}

// TestFinalists picks in two rounds: three candidates to step 4, the two
// best-scored on to step 8 as finalists (their final scores the means over
// steps 7-8), the better finalist continued to 12, bit for bit the plain
// run of its seed; stopped in the second finalist and resumed, the run
// ends the same.
func TestFinalists(t *testing.T) {
	c := tinyConfig(t, "infogan")
	c.Train.Steps, c.Train.LogEvery = 12, 1
	c.Train.Candidates, c.Train.CandidateSteps, c.Train.CandidateMetric = 3, 4, "g/loss"
	c.Train.Finalists, c.Train.FinalistSteps = 2, 8
	root := t.TempDir()
	dir := filepath.Join(root, "picked")
	// Stage names each folder as a page sees it, step by step.
	var stages []string
	onStep := func(v StepView) error {
		if s := Stage(c, dir, v.Dir, v.Step); len(stages) == 0 || stages[len(stages)-1] != s {
			stages = append(stages, s)
		}
		return nil
	}
	res, err := Train(context.Background(), c, dir, Options{Warn: io.Discard, OnStep: onStep})
	if err != nil || res.Step != 12 || res.ResumedAt != 8 {
		t.Fatalf("train: %+v, %v (want 12 steps, continued from the finalist's step 8)", res, err)
	}
	ch, ok, err := ReadChoice(dir)
	if err != nil || !ok || len(ch.Finalists) != 2 || ch.At() != 8 || ch.FinalFrom != 7 {
		t.Fatalf("choice %+v, %v, %v", ch, ok, err)
	}
	a, b := ch.Finalists[0], ch.Finalists[1]
	for k, cand := range ch.Candidates {
		if k != a && k != b && (cand.Score < ch.Candidates[b].Score || !math.IsNaN(cand.Final)) {
			t.Fatalf("candidate %d (score %v, final %v) left out, finalists %d and %d scored %v and %v", k, cand.Score, cand.Final, a, b, ch.Candidates[a].Score, ch.Candidates[b].Score)
		}
	}
	if ch.Candidates[a].Score > ch.Candidates[b].Score {
		t.Fatalf("finalists not best first: %v then %v", ch.Candidates[a].Score, ch.Candidates[b].Score)
	}
	for _, k := range ch.Finalists {
		recs, err := run.ReadMetrics(filepath.Join(dir, ch.Candidates[k].Dir, run.MetricsFile))
		if err != nil || len(recs) != 8 {
			t.Fatalf("finalist %d: %d records, %v (want 8)", k, len(recs), err)
		}
		if mean := (recs[6].Scalars["g/loss"] + recs[7].Scalars["g/loss"]) / 2; math.Abs(ch.Candidates[k].Final-mean) > 1e-12 {
			t.Fatalf("finalist %d: final score %v, mean of steps 7-8 %v", k, ch.Candidates[k].Final, mean)
		}
	}
	if best := ch.Candidates[ch.Kept].Final; ch.Kept != a && ch.Kept != b || best > ch.Candidates[a].Final || best > ch.Candidates[b].Final {
		t.Fatalf("kept %d, finalists %d (%v) and %d (%v)", ch.Kept, a, ch.Candidates[a].Final, b, ch.Candidates[b].Final)
	}
	name := func(k int) string {
		return fmt.Sprintf("candidate %d of 3 (seed %d)", k+1, ch.Candidates[k].Seed)
	}
	wantStages := []string{name(0), name(1), name(2), name(a) + ", a finalist", name(b) + ", a finalist", name(ch.Kept) + ", kept at step 8"}
	if !slices.Equal(stages, wantStages) {
		t.Fatalf("stages seen:\n%q\nwant\n%q", stages, wantStages)
	}
	plain := filepath.Join(root, "plain")
	if _, err := Train(context.Background(), candidateConfig(c, ch.Kept), plain, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if s := Stage(candidateConfig(c, ch.Kept), plain, plain, 12); s != "" {
		t.Fatalf("a run without candidates has stage %q", s)
	}
	want := latest(t, plain)
	sameWeights(t, "picked", want, latest(t, dir))

	d := filepath.Join(root, "stopped")
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int32
	res, err = Train(ctx, c, d, Options{Progress: cancelOn{"step 6/8", 2, &seen, cancel}, Warn: io.Discard})
	cancel()
	if wantName := fmt.Sprintf("finalist 2 of 2, candidate %d, seed %d", b+1, ch.Candidates[b].Seed); !errors.Is(err, gan.ErrStopped) || res.Step != 6 || res.Candidate != wantName {
		t.Fatalf("stop in the second finalist: %+v, %v; want ErrStopped at step 6 of %q", res, err, wantName)
	}
	if _, err := Resume(context.Background(), d, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	sameWeights(t, d, want, latest(t, d))
}
