//go:build (unix && !aix && !solaris) || illumos

package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/run"
)

// TestSecondTrainerRefused starts a second trainer on a run folder while
// the first trains it, from the first one's step hook (flock locks belong
// to an open file, so this process conflicts with itself as another
// process would): -resume and a new train into the folder are refused
// with run.ErrLocked, and the first run ends with every step's record in
// metrics.jsonl and one event file.
func TestSecondTrainerRefused(t *testing.T) {
	c := tinyConfig(t, "dcgan")
	c.Train.LogEvery, c.Train.CheckpointEvery = 1, 4
	dir := filepath.Join(t.TempDir(), "run")
	tried := false
	hook := func(v StepView) error {
		if v.Step != 6 {
			return nil
		}
		tried = true
		if _, err := Resume(context.Background(), dir, Options{Warn: io.Discard}); !errors.Is(err, run.ErrLocked) || !strings.Contains(err.Error(), dir) {
			t.Errorf("resume while the run trains: %v, want run.ErrLocked naming %s", err, dir)
		}
		if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); !errors.Is(err, run.ErrLocked) {
			t.Errorf("second train into the folder while the run trains: %v, want run.ErrLocked", err)
		}
		return nil
	}
	res, err := Train(context.Background(), c, dir, Options{Warn: io.Discard, OnStep: hook})
	if err != nil || res.Step != 24 || !tried {
		t.Fatalf("train: %+v, %v (second trainer tried: %v)", res, err, tried)
	}
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil || len(recs) != 24 {
		t.Fatalf("metrics: %d records, %v; want 24", len(recs), err)
	}
	for i, r := range recs {
		if r.Step != i+1 {
			t.Fatalf("metrics line %d is step %d", i+1, r.Step)
		}
	}
	if evs, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*")); len(evs) != 1 {
		t.Errorf("event files %q, want the first trainer's only", evs)
	}
	if _, err := os.Stat(filepath.Join(dir, run.LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after training: %v, want it gone", err)
	}
}

// TestCandidatesHoldTheRun checks that a run with train.candidates stays
// locked while its candidates train in subfolders: a second trainer of
// the run is refused then, not only while the run trains on after the
// choice.
func TestCandidatesHoldTheRun(t *testing.T) {
	c := tinyConfig(t, "dcgan")
	c.Train.Steps, c.Train.LogEvery = 12, 1
	c.Train.Candidates, c.Train.CandidateSteps, c.Train.CandidateMetric = 2, 6, "g/loss"
	dir := filepath.Join(t.TempDir(), "run")
	tried := 0
	hook := func(v StepView) error {
		if v.Step != 3 || v.Dir == dir {
			return nil
		}
		tried++
		for name, open := range map[string]func() error{
			"run.Open": func() error {
				r, err := run.Open(dir, run.Options{Warn: io.Discard})
				if err == nil {
					r.Close()
				}
				return err
			},
			"Resume": func() error {
				_, err := Resume(context.Background(), dir, Options{Warn: io.Discard})
				return err
			},
		} {
			if err := open(); !errors.Is(err, run.ErrLocked) {
				t.Errorf("%s of the run while candidate %s trains: %v, want run.ErrLocked", name, v.Dir, err)
			}
		}
		return nil
	}
	res, err := Train(context.Background(), c, dir, Options{Warn: io.Discard, OnStep: hook})
	if err != nil || res.Step != 12 || tried != 2 {
		t.Fatalf("train: %+v, %v (tried during %d candidates, want 2)", res, err, tried)
	}
}
