package toy

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/metrics"
)

// TestJournalResumesBench: a second benchmark over the same journal trains
// nothing and gives the same rows, failures included.
func TestJournalResumesBench(t *testing.T) {
	calls := 0
	fake := func(_ context.Context, c Cell) (metrics.MixtureScore, time.Duration, error) {
		calls++
		if c.Seed == 3 {
			return metrics.MixtureScore{}, 0, &gan.DivergenceError{Step: 7, What: "d/loss", V: 1}
		}
		return metrics.MixtureScore{Modes: int(c.Seed) + 4, TotalModes: 8, HighQuality: 0.1 * float64(c.Seed), ReverseKL: 1.0 / 3, W1: 0.25}, 1500 * time.Millisecond, nil
	}
	path := filepath.Join(t.TempDir(), "cells.tsv")
	bench := func() []Row {
		j, err := OpenJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		rows, err := Bench(context.Background(), []string{"ns", "hinge"}, []string{"ring8"}, []uint64{1, 2, 3}, 0, 2, j.Wrap(fake), &log)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	first := bench()
	if calls != 6 {
		t.Fatalf("%d runs, want 6", calls)
	}
	second := bench()
	if calls != 6 {
		t.Fatalf("the second benchmark trained %d more runs, want 0", calls-6)
	}
	if !reflect.DeepEqual(first, second) || first[0].Failures != 1 || math.Abs(first[0].Modes.Mean-11.0/3) > 1e-12 {
		t.Fatalf("rows from the journal\n%+v\ndiffer from the runs'\n%+v", second, first)
	}
	// Another training length is another run.
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Bench(context.Background(), []string{"ns"}, []string{"ring8"}, []uint64{1}, 77, 1, j.Wrap(fake), &strings.Builder{}); err != nil || calls != 7 {
		t.Fatalf("err %v, %d runs: a new length should run once", err, calls-6)
	}
	// A run made with another config (here: a preset that changed since,
	// shown by another fingerprint) is run again, not reused.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if f := strings.Split(l, "\t"); len(f) == 12 && f[0] == "hinge" && f[2] == "2" {
			f[4] = "00000000"
			lines[i] = strings.Join(f, "\t")
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = bench()
	if calls != 8 {
		t.Fatalf("%d runs after a preset change, want the changed one only (1)", calls-7)
	}
}

func TestJournalRejectsBadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cells.tsv")
	if err := os.WriteFile(path, []byte(journalHeader+"\nns\tring8\t1\t4500\t1a2b3c4d\t8\t8\tx\t0\t0\t1\t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := OpenJournal(path)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error %v, want one naming line 2", err)
	}
	if _, err := OpenJournal(filepath.Join(t.TempDir(), "no", "such", "dir", "j.tsv")); err == nil {
		t.Fatal("a journal in a missing folder was accepted")
	}
}

// TestCommittedJournalMatchesPresets checks every run of
// docs/toy-journal.tsv against the config its cell has now: a change to the
// presets or to the config's YAML changes the fingerprints, and
// `kallima bench toy -journal` would then silently retrain the whole table
// (it happened once: train.reuse_fake joined the YAML and all 120 keys went
// stale). If this fails on purpose, rerun the journal or re-key it.
func TestCommittedJournalMatchesPresets(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "toy-journal.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		seed, err1 := strconv.ParseUint(f[2], 10, 64)
		steps, err2 := strconv.Atoi(f[3])
		if len(f) < 5 || err1 != nil || err2 != nil {
			t.Fatalf("journal line %q", line)
		}
		fp, err := Cell{Loss: f[0], Data: f[1], Seed: seed, Steps: steps}.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		if fp != f[4] {
			t.Errorf("%s %s seed %d: journal fingerprint %s, the cell's config now %s", f[0], f[1], seed, f[4], fp)
		}
		n++
	}
	if n < 100 {
		t.Errorf("%d runs in the journal, want the full table's 120", n)
	}
}
