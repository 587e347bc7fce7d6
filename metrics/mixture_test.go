package metrics

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/tensor"
)

func TestScoreMixtureOnRealData(t *testing.T) {
	for name, mk := range data.Mixtures {
		m := mk()
		rng := tensor.NewRNG(11)
		s, err := ScoreMixture(m, m.Sample(rng, 2500), MixtureProtocol{}, rng)
		if err != nil {
			t.Fatal(err)
		}
		// Real samples: every mode, ~99.7% within 3 sigma in 1-D terms
		// (a 2-D Gaussian puts 98.9% within radius 3 sigma), KL near 0,
		// W1 near the sampling noise.
		if s.Modes != len(m.Means) || s.HighQuality < 0.97 || s.ReverseKL > 0.02 || s.W1 > 0.5 {
			t.Errorf("%s real data: %+v", name, s)
		}
		if !strings.Contains(s.Protocol, "3 sigma") {
			t.Errorf("protocol not stated: %q", s.Protocol)
		}
	}
}

func TestScoreMixtureCollapsed(t *testing.T) {
	m := data.Ring8()
	rng := tensor.NewRNG(2)
	// All samples on mode 0.
	x := tensor.New(2500, 2)
	for i := 0; i < 2500; i++ {
		x.Set(float32(m.Means[0][0]+0.01*rng.NormFloat64()), i, 0)
		x.Set(float32(m.Means[0][1]+0.01*rng.NormFloat64()), i, 1)
	}
	s, err := ScoreMixture(m, x, MixtureProtocol{}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if s.Modes != 1 || s.HighQuality < 0.99 || math.Abs(s.ReverseKL-math.Log(8)) > 1e-9 || s.W1 < 1 {
		t.Fatalf("collapsed generator: %+v (want 1 mode, KL = log 8, W1 large)", s)
	}
	// Noise far from every mode: nothing high quality, KL infinite.
	far := tensor.Full(10, 100, 2)
	s, err = ScoreMixture(m, far, MixtureProtocol{}, rng)
	if err != nil || s.HighQuality != 0 || s.Modes != 0 || !math.IsInf(s.ReverseKL, 1) {
		t.Fatalf("far samples: %+v, %v", s, err)
	}
	if _, err := ScoreMixture(m, tensor.New(10, 3), MixtureProtocol{}, rng); err == nil {
		t.Fatal("3-D samples for a 2-D mixture accepted")
	}
}
