package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// TestNNAccuracy checks the 1-NN scorer on codes with a known answer: the
// distance is Euclidean (a test code nearer to one training code but at a
// smaller angle to another takes the nearer one's label), ties go to the
// lowest index, and on random codes over several row blocks it agrees
// with a plain float64 search.
func TestNNAccuracy(t *testing.T) {
	train := []float32{1, 0, 10, 1, 0, 5, 0, 5}
	trainLabels := []int{0, 1, 2, 3}
	// (2, 0.3): Euclidean-nearest (1, 0), label 0; cosine-nearest (10, 1).
	// (0, 4.9): nearest (0, 5), the first of two equal codes: label 2.
	// (9, 1): nearest (10, 1) either way, label 1.
	test := []float32{2, 0.3, 0, 4.9, 9, 1}
	if got := nnAccuracy(train, trainLabels, test, []int{0, 2, 0}, 2); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("accuracy %v, want 2/3 (a cosine search would give 1/3)", got)
	}
	if got := nnAccuracy(train, trainLabels, test, []int{1, 2, 1}, 2); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("accuracy %v, want 2/3 (a cosine search would give 1)", got)
	}
	rng := tensor.NewRNG(4)
	const n, m, dim = 300, 3*nnRows + 17, 5
	tr, te := rng.Normal(0, 1, n, dim).Data(), rng.Normal(0, 1, m, dim).Data()
	trL, teL := make([]int, n), make([]int, m)
	for i := range trL {
		trL[i] = rng.Intn(4)
	}
	for i := range teL {
		teL[i] = rng.Intn(4)
	}
	correct := 0
	for i := 0; i < m; i++ {
		best, bestD := 0, math.Inf(1)
		for j := 0; j < n; j++ {
			d := 0.0
			for k := 0; k < dim; k++ {
				x := float64(te[i*dim+k]) - float64(tr[j*dim+k])
				d += x * x
			}
			if d < bestD {
				best, bestD = j, d
			}
		}
		if trL[best] == teL[i] {
			correct++
		}
	}
	if got, want := nnAccuracy(tr, trL, te, teL, dim), float64(correct)/m; got != want {
		t.Errorf("random codes: accuracy %v, plain search %v", got, want)
	}
}

// TestEvalNN scores a tiny BiGAN and a tiny VAE on MNIST: both print the
// codes' accuracy and reconstruction errors, the BiGAN its features'
// accuracy too; a model without an encoder and foreign flags are refused.
// Encoding MNIST three times takes seconds: the scoring runs without
// -short only.
func TestEvalNN(t *testing.T) {
	if code, _, stderr := call(runEval, "-nn", trainTiny(t, "dcgan")); code != exitUsage || !strings.Contains(stderr, "(dcgan) has no encoder") {
		t.Errorf("dcgan run: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-nn", "x", "-metrics", "fid"); code != exitUsage || !strings.Contains(stderr, "-metrics does not go with -nn") {
		t.Errorf("-metrics: exit %d, %q", code, stderr)
	}
	for _, args := range [][]string{{"-nn", "x", "-val", "-1"}, {"-nn", "x", "-val", "60000"}} {
		if code, _, stderr := call(runEval, args...); code != exitUsage || !strings.Contains(stderr, "-val "+args[3]+": want how many") {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
	if code, _, stderr := call(runEval, "x", "-val", "10"); code != exitUsage || !strings.Contains(stderr, "-val goes with -nn") {
		t.Errorf("-val without -nn: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-nn", "x", "-order", "bigan"); code != exitUsage || !strings.Contains(stderr, "-order goes with -val") {
		t.Errorf("-order without -val: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "x", "-order", "bigan"); code != exitUsage || !strings.Contains(stderr, "-order goes with -nn") {
		t.Errorf("-order without -nn: exit %d, %q", code, stderr)
	}
	if testing.Short() {
		t.Skip("encoding MNIST: without -short only")
	}
	needMNIST(t)
	// -val scores the last training digits of the run's data.order (or
	// -order's) against the others; a run that trained on some of them is
	// scored with a note counting them.
	perm := data.NumpyShuffle(data.MNISTTrainN, 42)
	inHead := make([]bool, data.MNISTTrainN)
	for _, j := range perm[:59000] {
		inHead[j] = true
	}
	trainedFiles, trainedBigan := 0, 0 // held-out digits trained on, across the orders
	for i := 59000; i < data.MNISTTrainN; i++ {
		if inHead[i] {
			trainedFiles++
		}
		if perm[i] < 59000 {
			trainedBigan++
		}
	}
	if trainedFiles == 0 || trainedBigan == 0 {
		t.Fatalf("the orders' held-out digits do not overlap: %d, %d", trainedFiles, trainedBigan)
	}
	for _, tc := range []struct {
		n     int
		order string
		flags []string
		split string
		note  int // how many of the 1000 held-out digits the run trained on
		text  string
	}{
		{59000, "", nil, "val", 0, "100 of mnist/train[59000:] against mnist/train[:59000] (a validation split"},
		{0, "", nil, "val", 1000, ""},
		{59000, "", []string{"-order", "bigan"}, "val-bigan", trainedBigan, ""},
		{59000, "bigan", nil, "val-bigan", 0, "100 of mnist/train[59000:] in order bigan against mnist/train[:59000] in order bigan"},
		{59000, "bigan", []string{"-order", "files"}, "val", trainedFiles, ""},
	} {
		c, err := config.Parse(strings.NewReader(tinyRuns["bigan"]))
		if err != nil {
			t.Fatal(err)
		}
		c.Data = config.Data{Kind: "mnist", N: tc.n, Order: tc.order}
		dir := filepath.Join(t.TempDir(), "bigan-mnist")
		if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("data.n %d, data.order %q, %v", tc.n, tc.order, tc.flags)
		code, stdout, stderr := call(runEval, append([]string{"-nn", dir, "-val", "1000", "-n", "200", "-json"}, tc.flags...)...)
		var s NNScore
		if code != exitOK || json.Unmarshal([]byte(stdout), &s) != nil {
			t.Fatalf("-val 1000, %s: exit %d, %q, %s", what, code, stdout, stderr)
		}
		if s.Split != tc.split || s.Train != 59000 || s.Test != 200 || !strings.Contains(stderr, "nn: encoded 59200/59200 images") {
			t.Errorf("-val 1000 -n 200, %s: split %q, %d against %d digits; %q", what, s.Split, s.Test, s.Train, stderr)
		}
		note := fmt.Sprintf("note: the run trained on %d of the 1000 digits scored", tc.note)
		if tc.note == 0 {
			note = "note:"
		}
		if got := strings.Contains(stderr, note); got != (tc.note > 0) {
			t.Errorf("%s: want a note %v (%q): %q", what, tc.note > 0, note, stderr)
		}
		if tc.text != "" {
			if code, stdout, _ := call(runEval, "-nn", dir, "-val", "1000", "-n", "100"); code != exitOK || !strings.Contains(stdout, tc.text) {
				t.Errorf("-val text output, %s: exit %d, %q", what, code, stdout)
			}
		}
		if tc.order == "bigan" && tc.flags == nil {
			if code, _, stderr := call(runEval, "-nn", dir, "-val", "1000", "-order", "numpy"); code != exitUsage || !strings.Contains(stderr, "-order numpy: want bigan") {
				t.Errorf("-order numpy: exit %d, %q", code, stderr)
			}
		}
	}
	// The VAE's with -bn, which it has no batch norm for: the score must not
	// claim a re-estimate.
	for _, tc := range []struct {
		dir      string
		dim      int
		features bool
		flags    []string
	}{{trainTiny(t, "bigan"), 4, true, nil}, {trainTinyAE(t, "vae"), 4, false, []string{"-bn", "2"}}} {
		code, stdout, stderr := call(runEval, append([]string{"-nn", tc.dir, "-n", "300", "-json"}, tc.flags...)...)
		var s NNScore
		if code != exitOK || json.Unmarshal([]byte(stdout), &s) != nil {
			t.Fatalf("%s: exit %d, %q, %s", tc.dir, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "nn: encoded 60300/60300 images") {
			t.Errorf("progress %q", stderr)
		}
		if s.Train != 60000 || s.Test != 300 || s.Split != "test" || s.CodeDim != tc.dim || s.Distance != "euclidean" || (s.FeatureAccuracy != nil) != tc.features || s.Recon == nil || s.BNBatches != 0 {
			t.Fatalf("%s: score %+v", tc.dir, s)
		}
		// Even a barely trained encoder's codes carry the digits' class
		// above chance (10%), and so do its features.
		fa := 1.0
		if s.FeatureAccuracy != nil {
			fa = *s.FeatureAccuracy
		}
		if !(s.CodeAccuracy > 0.2 && s.CodeAccuracy <= 1) || !(fa > 0.3 && fa <= 1) {
			t.Errorf("%s: accuracies %v (codes) and %v (features)", tc.dir, s.CodeAccuracy, fa)
		}
		if r := s.Recon; !(r.Recon > 0 && r.RandomPair > 0 && r.RandomRecon > 0) {
			t.Errorf("%s: reconstruction %+v", tc.dir, r)
		}
	}
	code, stdout, _ := call(runEval, "-nn", trainTiny(t, "bigan"), "-n", "50")
	if code != exitOK || !strings.Contains(stdout, "codes            ") || !strings.Contains(stdout, "features         ") || !strings.Contains(stdout, "||G(E(x)) - x||") {
		t.Errorf("text output: exit %d, %q", code, stdout)
	}
}

// TestEstimateNorms checks -bn's pass on a tiny BiGAN with 128 reference
// images: E's batch norm statistics change, one batch and four give the
// same statistics (each batch is the whole set, shuffled), and E is left
// in evaluation mode (one image encodes as it does within a batch; in
// training mode a batch of one would not even run). The flag's misuse is
// refused, and an encoder without batch norm is left alone with a note.
func TestEstimateNorms(t *testing.T) {
	if code, _, stderr := call(runEval, "x", "-bn", "10"); code != exitUsage || !strings.Contains(stderr, "-bn goes with -nn") {
		t.Errorf("-bn without -nn: exit %d, %q", code, stderr)
	}
	if code, _, stderr := call(runEval, "-nn", "x", "-bn", "-1"); code != exitUsage || !strings.Contains(stderr, "-bn -1: want a number of batches") {
		t.Errorf("-bn -1: exit %d, %q", code, stderr)
	}
	s, _, err := pipeline.LoadSampler(trainTiny(t, "bigan"), false)
	if err != nil {
		t.Fatal(err)
	}
	enc := s.Generator.(family.Encoder)
	g, err := enc.(family.EncoderNet).EncoderGraph()
	if err != nil {
		t.Fatal(err)
	}
	stats := func() []float32 {
		var r []float32
		for _, b := range nn.BatchNorms(g.Net) {
			r = append(append(r, b.RunningMean.Data()...), b.RunningVar.Data()...)
		}
		return r
	}
	before := stats()
	if len(before) == 0 {
		t.Fatal("the tiny BiGAN's encoder has no batch norm")
	}
	ref := &data.Set{Images: tensor.NewRNG(2).Uniform(-1, 1, nnBNBatch, 1, 28, 28), Labels: make([]int, nnBNBatch)}
	var log strings.Builder
	if n, err := estimateNorms(enc, "bigan", ref, 1, 7, &log); err != nil || n == 0 {
		t.Fatalf("%d layers re-estimated, %v", n, err)
	}
	one := stats()
	if slices.Equal(one, before) {
		t.Fatal("-bn 1 left the statistics as the checkpoint had them")
	}
	if _, err := estimateNorms(enc, "bigan", ref, 4, 8, &log); err != nil {
		t.Fatal(err)
	}
	for i, v := range stats() {
		if math.Abs(float64(v-one[i])) > 1e-5*(1+math.Abs(float64(one[i]))) {
			t.Fatalf("statistic %d: %v over four batches of the whole set, %v over one", i, v, one[i])
		}
	}
	if !strings.Contains(log.String(), "nn: batch norm statistics: 4/4 batches") {
		t.Errorf("progress %q", log.String())
	}
	all, err := enc.Encode(ref.Images)
	if err != nil {
		t.Fatal(err)
	}
	first, err := enc.Encode(tensor.Slice(ref.Images, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range first.Data() {
		if w := all.Data()[j]; math.Abs(float64(v-w)) > 1e-5 {
			t.Fatalf("code %d of image 0: %v alone, %v in its batch: E left in training mode", j, v, w)
		}
	}

	vae, _, err := pipeline.LoadSampler(trainTinyAE(t, "vae"), false)
	if err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if n, err := estimateNorms(vae.Generator.(family.Encoder), "vae", ref, 2, 1, &log); err != nil || n != 0 || !strings.Contains(log.String(), "the encoder has no batch norm") {
		t.Errorf("vae: %d layers, %v, %q", n, err, log.String())
	}
	// AVB's encoder averages noisy samples: not one network, a note, no error.
	avb, _, err := pipeline.LoadSampler(trainTiny(t, "avb"), false)
	if err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if n, err := estimateNorms(avb.Generator.(family.Encoder), "avb", ref, 2, 1, &log); err != nil || n != 0 || !strings.Contains(log.String(), "avb's encoder is not one network") {
		t.Errorf("avb: %d layers, %v, %q", n, err, log.String())
	}
}
