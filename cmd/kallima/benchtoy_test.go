package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/toy"
)

func TestBenchToyWritesTable(t *testing.T) {
	out := filepath.Join(t.TempDir(), "RESULTS-toy.md")
	var so, se bytes.Buffer
	// One short loss on one data set keeps the test quick; the table's shape
	// is what is checked here, the full benchmark is run by hand.
	code := runBench([]string{"toy", "-seeds", "1", "-losses", "ns", "-data", "ring8", "-out", out, "-steps", "30"}, &so, &se)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ns |", "Protocol", "PacGAN4", "kallima bench toy"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("table lacks %q", want)
		}
	}
	if !strings.Contains(se.String(), "ns") || !strings.Contains(se.String(), "seed 1") {
		t.Errorf("no per-run progress: %q", se.String())
	}
	// Notes written by hand below the marker survive a rewrite.
	if err := os.WriteFile(out, append(b, "By hand.\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := runBench([]string{"toy", "-seeds", "1", "-losses", "ns", "-data", "ring8", "-out", out, "-steps", "30"}, &so, &se); code != exitOK {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	// (s/run may differ between the two runs, so the tail is what is compared.)
	if b2, err := os.ReadFile(out); err != nil || !strings.HasSuffix(string(b2), toy.NotesMarker+"\nBy hand.\n") || strings.Count(string(b2), "By hand.") != 1 {
		t.Errorf("rewrite lost the notes (err %v):\n%s", err, b2)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"toy", "-losses", "nope", "-out", out}, `loss "nope": not one of the benchmark's (minimax, ns,`},
		{[]string{"toy", "-seeds", "0"}, "-seeds >= 1"},
		{[]string{"toy", "extra"}, "want only flags"},
		// A part of the benchmark does not overwrite the results page.
		{[]string{"toy", "-losses", "ns", "-data", "ring8"}, "give -out FILE"},
		{[]string{"toy", "-steps", "30"}, "give -out FILE"},
	} {
		se.Reset()
		if code := runBench(bad.args, &so, &se); code != exitUsage || !strings.Contains(se.String(), bad.want) {
			t.Errorf("%q: exit %d, %q; want %q", bad.args, code, se.String(), bad.want)
		}
	}
}

// TestMain lets the test binary stand in for kallima when -jobs starts
// worker processes (it re-executes os.Executable).
func TestMain(m *testing.M) {
	if os.Getenv("KALLIMA_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestBenchToyJobs: cells run in worker processes give the same scores as
// in-process ones (same seed, same config).
func TestBenchToyJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("trains toy GANs in worker processes and in process")
	}
	t.Setenv("KALLIMA_TEST_AS_MAIN", "1")
	dir := t.TempDir()
	table := func(jobs string) string {
		out := filepath.Join(dir, "t"+jobs+".md")
		var so, se bytes.Buffer
		args := []string{"toy", "-seeds", "2", "-losses", "ns,hinge", "-data", "ring8", "-out", out, "-steps", "40", "-jobs", jobs}
		if code := runBench(args, &so, &se); code != exitOK {
			t.Fatalf("-jobs %s: exit %d: %s", jobs, code, se.String())
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		// Compare the score columns only: the command line and the times differ.
		var rows []string
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Split(l, "|"); len(f) > 6 && (strings.TrimSpace(f[1]) == "ns" || strings.TrimSpace(f[1]) == "hinge") {
				rows = append(rows, strings.Join(f[1:6], "|"))
			}
		}
		return strings.Join(rows, "\n")
	}
	one, two := table("1"), table("3")
	if one != two || strings.Count(one, "\n") != 1 {
		t.Fatalf("in-process rows\n%s\ndiffer from worker-process rows\n%s", one, two)
	}
}

// TestBenchToyJournal: a second run over the same journal trains nothing
// and writes the same rows.
func TestBenchToyJournal(t *testing.T) {
	dir := t.TempDir()
	j := filepath.Join(dir, "cells.tsv")
	table := func() string {
		out := filepath.Join(dir, "t.md")
		var so, se bytes.Buffer
		if code := runBench([]string{"toy", "-seeds", "1", "-losses", "ns", "-data", "ring8", "-steps", "30", "-journal", j, "-out", out}, &so, &se); code != exitOK {
			t.Fatalf("exit %d: %s", code, se.String())
		}
		return so.String()
	}
	first := table()
	b, err := os.ReadFile(j)
	if err != nil || strings.Count(string(b), "\n") != 2 {
		t.Fatalf("journal %q (%v), want a header and one run", b, err)
	}
	if second := table(); second != first {
		t.Fatalf("table from the journal\n%s\ndiffers from the trained one\n%s", second, first)
	}
	if b2, _ := os.ReadFile(j); string(b2) != string(b) {
		t.Fatal("the second benchmark added to the journal")
	}
}

// TestBenchToyPrint: the YAML of -print, trained with kallima train
// -config, gives the same scores as the benchmark's own run of that cell.
func TestBenchToyPrint(t *testing.T) {
	dir := t.TempDir()
	var so, se bytes.Buffer
	if code := runBench([]string{"toy", "-print", "lsgan,grid25,2", "-steps", "60"}, &so, &se); code != exitOK {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	cfgPath := filepath.Join(dir, "cell.yaml")
	if err := os.WriteFile(cfgPath, so.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if code := runTrain([]string{"-config", cfgPath, "-out", out}, &bytes.Buffer{}, &se); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, se.String())
	}
	s, _, err := toy.RunCell(context.Background(), toy.Cell{Loss: "lsgan", Data: "grid25", Seed: 2, Steps: 60})
	if err != nil {
		t.Fatal(err)
	}
	got := string(readFile(t, filepath.Join(out, "metrics.txt")))
	for _, want := range []string{fmt.Sprintf("%d / 25", s.Modes), fmt.Sprintf("%.1f%%", 100*s.HighQuality), fmt.Sprintf("%.4f", s.W1)} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics.txt lacks the benchmark's %q:\n%s", want, got)
		}
	}
	for _, bad := range []struct{ spec, want string }{
		{"lsgan,grid25", "want loss,data,seed"}, {"nope,ring8,1", `loss "nope"`}, {"lsgan,grid25,x", "seed"},
		{"ns,ring9,1", `data set "ring9": the benchmark runs ring8 and grid25`},
	} {
		se.Reset()
		if code := runBench([]string{"toy", "-print", bad.spec}, &so, &se); code != exitUsage || !strings.Contains(se.String(), bad.want) {
			t.Errorf("-print %s: exit %d, %q; want %q", bad.spec, code, se.String(), bad.want)
		}
	}
}
