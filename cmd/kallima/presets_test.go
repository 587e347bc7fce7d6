package main

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
)

// TestPresets checks the list (every preset with its family, data and
// steps) and that one preset printed whole reads back as that preset.
func TestPresets(t *testing.T) {
	code, out, errOut := runCmd("presets")
	if code != exitOK || errOut != "" {
		t.Fatalf("presets: exit %d, stderr %q", code, errOut)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 5 {
			rows[f[0]] = f
		}
	}
	for _, name := range config.Presets() {
		c, _ := config.Preset(name)
		f := rows[name]
		if f == nil || f[1] != c.Model.Kind || f[2] != c.Data.Kind || f[3] != strconv.Itoa(c.Train.Steps) {
			t.Errorf("%s: row %q, want model %s, data %s, steps %d", name, f, c.Model.Kind, c.Data.Kind, c.Train.Steps)
		}
	}
	if !strings.Contains(out, "dcgan-mnist          dcgan     mnist           5000    DCGAN on MNIST\n") {
		t.Errorf("dcgan-mnist's row is not its family, data, steps and first clause:\n%s", out)
	}

	code, out, errOut = runCmd("presets", "cyclegan-thick")
	if code != exitOK || errOut != "" || !strings.HasPrefix(out, "# CycleGAN") {
		t.Fatalf("presets cyclegan-thick: exit %d, stdout %.60q, stderr %q", code, out, errOut)
	}
	got, err := config.Parse(bytes.NewReader([]byte(out)))
	want, _ := config.Preset("cyclegan-thick")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("the printed preset reads back as another config (%v)", err)
	}

	for _, args := range [][]string{{"presets", "no-such"}, {"presets", "ring8", "grid25"}} {
		code, out, errOut = runCmd(args...)
		if code != exitUsage || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if _, _, errOut = runCmd("presets", "no-such"); !strings.Contains(errOut, "dcgan-mnist") {
		t.Errorf("an unknown preset does not list the known ones: %q", errOut)
	}
}

func TestSummary(t *testing.T) {
	for _, c := range []struct{ about, want string }{
		{"DCGAN (Radford et al. 2016, arXiv:1511.06434) on MNIST: the paper's architecture.", "DCGAN on MNIST"},
		{"25 Gaussians, means {-4,-2,0,2,4}^2.", "25 Gaussians, means..."},
		{"A on B (an aside (nested, with: a colon)), then more. Next sentence.", "A on B, then more"},
		{"Stacked MNIST (1000 modes; scored by eval): K = 5", "Stacked MNIST"},
		{"one two three four five six seven eight nine ten", "one two three four..."},
	} {
		if got := summary(c.about, 24); got != c.want || len(got) > 24 {
			t.Errorf("summary(%q) = %q, want %q", c.about, got, c.want)
		}
	}
}
