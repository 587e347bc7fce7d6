package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/pipeline"
)

// TestEvalCodes scores a tiny InfoGAN run's codes: a line per code (the
// categorical one with accuracy, NMI and its matching, the continuous one
// with its class agreement), the same numbers as JSON, and the errors for
// a model without codes and for flags that do not go with -codes.
func TestEvalCodes(t *testing.T) {
	dir := trainTiny(t, "infogan")
	code, stdout, stderr := call(runEval, "-codes", dir, "-n", "30")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"code c1", "30 images per value: accuracy", "NMI", "value->class   0->", "code c2", "class agreement"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = call(runEval, "-codes", dir, "-n", "30", "-json")
	var s pipeline.CodeScore
	if code != exitOK || json.Unmarshal([]byte(stdout), &s) != nil {
		t.Fatalf("-json: exit %d, %q, %s", code, stdout, stderr)
	}
	if len(s.Categorical) != 1 || s.Categorical[0].PerValue != 30 || len(s.Categorical[0].Counts) != 4 || len(s.Continuous) != 1 {
		t.Fatalf("-json: %+v", s)
	}
	total := 0
	for _, row := range s.Categorical[0].Counts {
		for _, v := range row {
			total += v
		}
	}
	if total != 4*30 {
		t.Fatalf("%d images counted, want 120", total)
	}
	if code, _, stderr := call(runEval, "-codes", trainTiny(t, "dcgan"), "-n", "10"); code != exitUsage || !strings.Contains(stderr, "no latent codes") {
		t.Errorf("DCGAN run: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-codes", dir, "-metrics", "fid"); code != exitUsage || !strings.Contains(stderr, "-metrics does not go with -codes") {
		t.Errorf("-metrics: exit %d, %q", code, stderr)
	}
}
