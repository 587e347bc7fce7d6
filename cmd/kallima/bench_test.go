package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/bench"
)

func TestBenchRejectsBadArguments(t *testing.T) {
	cases := []struct {
		args   []string
		stderr string
	}{
		{nil, "no workload"},
		{[]string{"stylegan"}, `unknown workload "stylegan" (want dcgan, wgangp, or toy or serve as the first word)`},
		{[]string{"dcgan", "toy"}, "toy runs alone, as the first word"},
		{[]string{"dcgan", "-iters", "0"}, "-iters >= 1"},
		{[]string{"-warmup", "-1", "dcgan"}, "-warmup >= 0"},
		{[]string{"dcgan", "-fast"}, "flag provided but not defined"},
		{[]string{"dcgan", "-iters", "many"}, "invalid value"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := runCmd(append([]string{"bench"}, c.args...)...)
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

// TestBenchJSON runs one timed iteration with flags after the workload and
// checks the JSON record and the silence of -q.
func TestBenchJSON(t *testing.T) {
	code, out, errOut := runCmd("bench", "dcgan", "-iters", "1", "-warmup", "0", "-json", "-q", "-seed", "3")
	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, errOut)
	}
	if errOut != "" {
		t.Errorf("-q still wrote to stderr: %q", errOut)
	}
	var r bench.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if r.Workload != "dcgan" || r.Iters != 1 || r.Warmup != 0 || len(r.Seconds) != 1 || r.ItersPerSecond <= 0 || r.GFLOPPerIteration != 9.44111616 ||
		r.CPU != bench.CPU() || r.CPU == "" {
		t.Errorf("result %+v", r)
	}
}

// TestBenchText runs one warm-up and one timed iteration with flags before
// the workload: a text line on stdout and a progress line per iteration on
// stderr.
func TestBenchText(t *testing.T) {
	code, out, errOut := runCmd("bench", "-iters", "1", "-warmup", "1", "wgangp")
	if code != exitOK {
		t.Fatalf("exit code %d, stderr %q", code, errOut)
	}
	for _, s := range []string{"kallima wgangp:", "it/s (median of 1 after 1 warm-up", "GFLOP/s effective (12.835 GFLOP/it)", "on " + bench.CPU() + ", GOMAXPROCS"} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout lacks %q: %q", s, out)
		}
	}
	for _, s := range []string{"wgangp: warm-up 1/1:", "wgangp: timed 1/1:"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q: %q", s, errOut)
		}
	}
}
