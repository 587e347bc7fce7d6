package classifier

import (
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// Sanity checks of the scores computed on the embedded classifier's
// features, on real MNIST: n = 5000 images per set (the first 5000 of the
// training set as the reference, the first 5000 of the test set as the
// "generated" set), so the tests stay fast.
const scoreN = 5000

func features(t *testing.T, c *Classifier, x *tensor.Tensor, layer string) *tensor.Tensor {
	t.Helper()
	f, err := c.Features(x, layer)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestScoreIS: the IS-style score of 5000 real test images, from "probs"
// over 10 splits of 500, is close to its maximum of 10 (confident
// predictions, nearly balanced classes): above 9.0 (measured: 9.49).
func TestScoreIS(t *testing.T) {
	c := loadEmbedded(t)
	x, _ := head(mnist(t, data.Test), scoreN)
	s, err := metrics.InceptionScore(features(t, c, x, "probs"), metrics.ISConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(s.Result(c.Provenance("probs", "")))
	if s.Mean < 9 || s.Mean > 10 {
		t.Errorf("IS of real test images %.3f, want in [9, 10]", s.Mean)
	}
}

// TestScoreFID: FID on fc1 features between 5000 training and 5000 test
// images is small next to FID between the training images and 5000
// uniform-noise images in [-1, 1]: the noise value is over 30 times the
// real one (measured: 169.4 and 11722, a factor 69; FID's scale is that
// of the features, unnormalised fc1 pre-activations here).
func TestScoreFID(t *testing.T) {
	if testing.Short() {
		t.Skip("scores 15,000 images through the classifier")
	}
	c := loadEmbedded(t)
	train, _ := head(mnist(t, data.Train), scoreN)
	test, _ := head(mnist(t, data.Test), scoreN)
	noise := tensor.NewRNG(11).Uniform(-1, 1, scoreN, 1, Side, Side)
	fit := func(x *tensor.Tensor) metrics.Gaussian {
		g, err := metrics.FitGaussian(features(t, c, x, "fc1"))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	ref := fit(train)
	real, err := metrics.FID(ref, fit(test))
	if err != nil {
		t.Fatal(err)
	}
	fake, err := metrics.FID(ref, fit(noise))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(real.Result(c.Provenance("fc1", "mnist/train[:5000]")))
	t.Log(fake.Result(c.Provenance("fc1", "mnist/train[:5000]")))
	if real.FID <= 0 || fake.FID < 30*real.FID {
		t.Errorf("FID real %.3f, noise %.3f: want noise >= 30 x real > 0", real.FID, fake.FID)
	}
}

// TestScorePRDC: precision and recall of real test images against real
// training images are close to 1 (k = 5: above 0.9; measured 0.936 and
// 0.937; with the default k = 3 at n = 5000 they are 0.858 and 0.863); a
// "generator" collapsed to one class (the test images of digit 1, 571 of
// the 5000) keeps its precision (above 0.9 and no more than 0.02 below
// the real set's; measured 0.970) but loses recall and coverage (below
// 0.25 and 0.2; measured 0.150 and 0.099: one class of ten covers about a
// tenth of the real manifold).
func TestScorePRDC(t *testing.T) {
	if testing.Short() {
		t.Skip("scores 10,000 images through the classifier")
	}
	c := loadEmbedded(t)
	train, _ := head(mnist(t, data.Train), scoreN)
	test, labels := head(mnist(t, data.Test), scoreN)
	ref := features(t, c, train, "fc1")
	all := features(t, c, test, "fc1")
	cfg := metrics.PRDCConfig{K: 5}
	real, err := metrics.PRDC(ref, all, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(real.Result(c.Provenance("fc1", "mnist/train[:5000]")))
	if real.Precision < 0.9 || real.Recall < 0.9 {
		t.Errorf("real vs real: precision %.3f, recall %.3f, want both >= 0.9", real.Precision, real.Recall)
	}
	var ones []int
	for i, y := range labels {
		if y == 1 {
			ones = append(ones, i)
		}
	}
	collapsed := tensor.IndexSelect(all, 0, ones)
	one, err := metrics.PRDC(ref, collapsed, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("collapsed to digit 1 (%d images): %v", len(ones), one.Result(c.Provenance("fc1", "mnist/train[:5000]")))
	if one.Precision < 0.9 || one.Precision < real.Precision-0.02 || one.Recall > 0.25 || one.Coverage > 0.2 {
		t.Errorf("collapsed: precision %.3f (real set %.3f), recall %.3f, coverage %.3f: want precision >= 0.9 and not below the real set's by more than 0.02, recall <= 0.25, coverage <= 0.2",
			one.Precision, real.Precision, one.Recall, one.Coverage)
	}
}
