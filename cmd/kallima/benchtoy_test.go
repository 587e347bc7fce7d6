package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, bad := range [][]string{{"toy", "-losses", "nope"}, {"toy", "-seeds", "0"}, {"toy", "extra"}} {
		if code := runBench(bad, &so, &se); code != exitUsage {
			t.Errorf("%q: exit %d", bad, code)
		}
	}
}
