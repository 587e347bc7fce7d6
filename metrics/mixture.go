package metrics

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/tensor"
)

// MixtureProtocol fixes how generated samples are scored against a
// Gaussian mixture. Defaults (zero fields): 2,500 samples, quality radius 3
// sigma, a mode captured with at least 20 high-quality samples, W1 on a
// subsample of 500 generated against 500 fresh real points.
type MixtureProtocol struct {
	Samples     int     // generated samples scored; default 2500
	Radius      float64 // high quality: within Radius*sigma of the nearest mean; default 3
	MinPerMode  int     // a mode is captured with at least this many high-quality samples; default 20
	W1Subsample int     // points per side for the exact W1; default 500
}

func (p MixtureProtocol) withDefaults() MixtureProtocol {
	if p.Samples == 0 {
		p.Samples = 2500
	}
	if p.Radius == 0 {
		p.Radius = 3
	}
	if p.MinPerMode == 0 {
		p.MinPerMode = 20
	}
	if p.W1Subsample == 0 {
		p.W1Subsample = 500
	}
	return p
}

// String states the protocol, to be printed with its results.
func (p MixtureProtocol) String() string {
	p = p.withDefaults()
	return fmt.Sprintf("%d samples; high quality = within %g sigma of the nearest mode; a mode is captured with >= %d high-quality samples; "+
		"reverse KL = KL(high-quality histogram over modes || true weights); W1 exact on %d generated vs %d real points",
		p.Samples, p.Radius, p.MinPerMode, p.W1Subsample, p.W1Subsample)
}

// MixtureScore is the result of scoring samples against a mixture.
type MixtureScore struct {
	Modes       int       // modes captured
	TotalModes  int       // components in the mixture
	HighQuality float64   // fraction of samples within Radius sigma of their nearest mode
	ReverseKL   float64   // KL(q || p) of the high-quality mode histogram q against the weights p
	W1          float64   // exact Wasserstein-1 to the data on the subsample
	PerMode     []int     // high-quality samples per mode
	N           int       // samples scored
	Protocol    string    // MixtureProtocol.String()
	Centroid    []float64 // mean of the samples, a quick sanity figure
}

// ScoreMixture scores generated samples [n, d] against mixture m, drawing
// fresh real points for W1 from rng. If more samples than the protocol's
// are given, the first Samples are used.
func ScoreMixture(m data.Mixture, samples *tensor.Tensor, p MixtureProtocol, rng *tensor.RNG) (MixtureScore, error) {
	p = p.withDefaults()
	if err := m.Validate(); err != nil {
		return MixtureScore{}, err
	}
	if samples.Dim() != 2 || samples.Size(1) != m.Dim() {
		return MixtureScore{}, fmt.Errorf("score mixture: samples of shape %v for a %d-D mixture", samples.Shape(), m.Dim())
	}
	n := min(samples.Size(0), p.Samples)
	if n == 0 {
		return MixtureScore{}, fmt.Errorf("score mixture: no samples")
	}
	d := m.Dim()
	x := samples.Data()
	s := MixtureScore{TotalModes: len(m.Means), PerMode: make([]int, len(m.Means)), N: n, Protocol: p.String(), Centroid: make([]float64, d)}
	hq := 0
	for i := 0; i < n; i++ {
		best, bi := math.Inf(1), 0
		for k, mu := range m.Means {
			dist := 0.0
			for j := 0; j < d; j++ {
				t := float64(x[i*d+j]) - mu[j]
				dist += t * t
			}
			if dist < best {
				best, bi = dist, k
			}
		}
		for j := 0; j < d; j++ {
			s.Centroid[j] += float64(x[i*d+j]) / float64(n)
		}
		if math.Sqrt(best) <= p.Radius*m.Sigmas[bi] {
			hq++
			s.PerMode[bi]++
		}
	}
	s.HighQuality = float64(hq) / float64(n)
	for _, c := range s.PerMode {
		if c >= p.MinPerMode {
			s.Modes++
		}
	}
	s.ReverseKL = math.Inf(1)
	if hq > 0 {
		prob := m.Probabilities()
		kl := 0.0
		for k, c := range s.PerMode {
			if c == 0 {
				continue
			}
			q := float64(c) / float64(hq)
			kl += q * math.Log(q/prob[k])
		}
		s.ReverseKL = kl
	}
	k := min(n, p.W1Subsample)
	gen := tensor.FromSlice(append([]float32(nil), x[:k*d]...), k, d)
	w, err := Wasserstein1(gen, m.Sample(rng, k))
	if err != nil {
		return MixtureScore{}, err
	}
	s.W1 = w
	return s, nil
}
