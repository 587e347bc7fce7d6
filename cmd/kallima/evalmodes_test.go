package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/metrics"
)

// evalModesJSON runs kallima eval -modes with args and -json and decodes
// its result.
func evalModesJSON(t *testing.T, args ...string) ModesScore {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runEval(append([]string{"-modes", "-json"}, args...), &out, &errb); code != exitOK {
		t.Fatalf("eval -modes %v: exit %d: %s", args, code, errb.String())
	}
	if !strings.Contains(errb.String(), "images labelled") {
		t.Errorf("eval -modes %v: no progress on stderr: %q", args, errb.String())
	}
	var s ModesScore
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("eval -modes %v: %v in %q", args, err, out.String())
	}
	return s
}

// TestEvalModes: -modes -real stacked-mnist scores the same images as
// imagegan.StackedScore does on data.StackedMNIST with that seed; a .npy
// of one stacked image repeated, channels last, scores one mode and KL
// log 1000.
func TestEvalModes(t *testing.T) {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	train, err := classifier.LoadMNIST(dir, data.Train, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.StackedMNIST(train, 300, 5)
	if err != nil {
		t.Fatal(err)
	}
	net, err := classifier.Load()
	if err != nil {
		t.Fatal(err)
	}
	want, err := imagegan.StackedScore(net, set.Images)
	if err != nil {
		t.Fatal(err)
	}
	got := evalModesJSON(t, "-real", "stacked-mnist", "-n", "300", "-seed", "5")
	if got.N != 300 || got.Modes != want.Modes || got.KL != want.KL || got.Total != 1000 || got.Seed != 5 {
		t.Errorf("-real stacked-mnist -n 300 -seed 5: %+v, want %d modes, KL %g", got, want.Modes, want.KL)
	}
	if pairs, err := metrics.PairMI(want, 10, 3); err != nil || !slices.Equal(got.PairMI, pairs) {
		t.Errorf("-real stacked-mnist -n 300 -seed 5: pair_mi %v, want %v (%v)", got.PairMI, pairs, err)
	}
	// The confidence is the mean of the 900 channels' probabilities, and
	// the network is sure of real digits.
	_, prob, err := imagegan.StackedLabels(net, set.Images)
	if err != nil {
		t.Fatal(err)
	}
	var sure float64
	unsure := 0
	for _, p := range prob {
		sure += p
		if p < UnsureBelow {
			unsure++
		}
	}
	if len(prob) != 900 || math.Abs(got.Confidence-sure/900) > 1e-12 || got.Unsure != float64(unsure)/900 || got.Confidence < 0.97 || got.Unsure > 0.06 {
		t.Errorf("real images: confidence %v, unsure %v; want %v and %v (%d channels), above 0.97 and below 0.06", got.Confidence, got.Unsure, sure/900, float64(unsure)/900, len(prob))
	}

	// data export stacked-mnist writes the same images, byte-exact, and
	// their modes.
	exported := filepath.Join(t.TempDir(), "stacked.npy")
	var out, errb bytes.Buffer
	if code := runData([]string{"export", "stacked-mnist", "-out", exported, "-n", "300", "-seed", "5"}, &out, &errb); code != exitOK {
		t.Fatalf("data export stacked-mnist: exit %d: %s", code, errb.String())
	}
	back, _, err := data.LoadRGB(exported, 28, data.RangeAuto)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Data(), set.Images.Data()) {
		t.Error("data export stacked-mnist -seed 5 wrote other images than data.StackedMNIST with seed 5")
	}
	labels, err := data.ReadNPYFile(strings.TrimSuffix(exported, ".npy") + "-labels.npy")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range set.Labels {
		if int(labels.Value(i)) != l {
			t.Fatalf("exported label %d is %g, want %d", i, labels.Value(i), l)
		}
	}
	if again := evalModesJSON(t, exported); again.Modes != want.Modes || again.KL != want.KL {
		t.Errorf("the exported images score %d modes, KL %g; the same images in memory %d, %g", again.Modes, again.KL, want.Modes, want.KL)
	}

	// Image 0 repeated 50 times, [50, 28, 28, 3] bytes.
	const n, plane = 50, 28 * 28
	b := make([]byte, n*plane*3)
	for i := range n {
		for p := range plane {
			for ch := range 3 {
				v := set.Images.Data()[ch*plane+p]
				b[(i*plane+p)*3+ch] = byte(math.Round(float64(v+1) * 127.5))
			}
		}
	}
	path := filepath.Join(t.TempDir(), "one.npy")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPY(f, &data.NPY{Kind: 'u', Size: 1, Shape: []int{n, 28, 28, 3}, Data: b}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	one := evalModesJSON(t, path, "-n", "50")
	if one.Modes != 1 || math.Abs(one.KL-math.Log(1000)) > 1e-12 {
		t.Errorf("one image repeated: %d modes, KL %.15g; want 1, log 1000", one.Modes, one.KL)
	}
	// One digit per channel: each channel's KL is log 10, and nothing
	// couples the channels.
	for c, kl := range one.ChannelKL {
		if math.Abs(kl-math.Log(10)) > 1e-12 {
			t.Errorf("one image repeated: channel %d KL %g, want log 10", c, kl)
		}
	}
	if len(one.ChannelKL) != 3 || one.Dependence > 1e-12 || len(one.PairMI) != 3 || slices.Max(one.PairMI) > 1e-12 {
		t.Errorf("one image repeated: channel KLs %v, dependence %g, pairs %v; want three, 0 and three 0s", one.ChannelKL, one.Dependence, one.PairMI)
	}
}

// TestEvalModesUsage: wrong command lines are refused naming the problem.
func TestEvalModesUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-modes"}, exitUsage, "-modes scores one run folder"},
		{[]string{"-modes", "-real", "mnist/train"}, exitUsage, "only stacked-mnist"},
		{[]string{"-modes", "-real", "stacked-mnist", "x.npy"}, exitUsage, "-modes scores one run folder"},
		{[]string{"-modes", "-metrics", "fid", "x.npy"}, exitUsage, "-metrics does not go with -modes"},
		{[]string{"-modes", "-n", "0", "x.npy"}, exitUsage, "want at least one image"},
		{[]string{"-modes", "missing.npy"}, exitError, "missing.npy"},
	} {
		var out, errb bytes.Buffer
		if code := runEval(tc.args, &out, &errb); code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("eval %v: exit %d, %q; want exit %d saying %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}
