// Package data holds Kallima's data sets and loaders.
package data

import (
	"errors"
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// Mixture is a mixture of isotropic Gaussians in any dimension: the 2-D
// benchmark's data (ring8, grid25) or any mixture a config gives.
type Mixture struct {
	Means   [][]float64 `yaml:"means"`   // one mean per component, all the same dimension
	Sigmas  []float64   `yaml:"sigmas"`  // one standard deviation per component
	Weights []float64   `yaml:"weights"` // mixing weights; normalised when sampling
}

// Ring8 is 8 Gaussians evenly spaced on a circle of radius 2, sigma 0.02,
// equal weights (the ring of the Unrolled GAN, VEEGAN and PacGAN papers).
func Ring8() Mixture {
	m := Mixture{}
	for k := 0; k < 8; k++ {
		a := 2 * math.Pi * float64(k) / 8
		m.Means = append(m.Means, []float64{2 * math.Cos(a), 2 * math.Sin(a)})
		m.Sigmas = append(m.Sigmas, 0.02)
		m.Weights = append(m.Weights, 1)
	}
	return m
}

// Grid25 is 25 Gaussians with means {-4,-2,0,2,4}^2, sigma 0.05, equal
// weights.
func Grid25() Mixture {
	m := Mixture{}
	for i := -2; i <= 2; i++ {
		for j := -2; j <= 2; j++ {
			m.Means = append(m.Means, []float64{float64(2 * i), float64(2 * j)})
			m.Sigmas = append(m.Sigmas, 0.05)
			m.Weights = append(m.Weights, 1)
		}
	}
	return m
}

// Mixtures lists the built-in mixtures by name.
var Mixtures = map[string]func() Mixture{"ring8": Ring8, "grid25": Grid25}

// Dim is the dimension of the mixture's points.
func (m Mixture) Dim() int {
	if len(m.Means) == 0 {
		return 0
	}
	return len(m.Means[0])
}

// Validate reports what is wrong with a mixture from a config.
func (m Mixture) Validate() error {
	if len(m.Means) == 0 {
		return errors.New("mixture: no means")
	}
	if len(m.Sigmas) != len(m.Means) || len(m.Weights) != len(m.Means) {
		return fmt.Errorf("mixture: %d means, %d sigmas and %d weights: give one sigma and one weight per mean", len(m.Means), len(m.Sigmas), len(m.Weights))
	}
	total := 0.0
	for i, mu := range m.Means {
		if len(mu) == 0 || len(mu) != len(m.Means[0]) {
			return fmt.Errorf("mixture: mean %d has dimension %d, mean 0 has %d", i, len(mu), len(m.Means[0]))
		}
		for _, v := range mu {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("mixture: mean %d is not finite", i)
			}
		}
		if !(m.Sigmas[i] > 0) || math.IsInf(m.Sigmas[i], 0) {
			return fmt.Errorf("mixture: sigma %d is %g, want a positive number", i, m.Sigmas[i])
		}
		if !(m.Weights[i] >= 0) || math.IsInf(m.Weights[i], 0) {
			return fmt.Errorf("mixture: weight %d is %g, want a non-negative number", i, m.Weights[i])
		}
		total += m.Weights[i]
	}
	if total <= 0 {
		return errors.New("mixture: weights sum to 0")
	}
	return nil
}

// Probabilities returns the normalised mixing weights.
func (m Mixture) Probabilities() []float64 {
	s := 0.0
	for _, w := range m.Weights {
		s += w
	}
	p := make([]float64, len(m.Weights))
	for i, w := range m.Weights {
		p[i] = w / s
	}
	return p
}

// Moments returns the mixture's mean and its overall standard deviation:
// the square root of the per-coordinate variance averaged over coordinates,
// sum_k p_k (sigma_k^2 + |mu_k - mean|^2) / Dim. The 2-D benchmark trains in
// these standardised coordinates, as the WGAN-GP paper's toy code does by
// dividing grid25 by 2.828 (its std): an MLP on raw coordinates spread over
// [-4, 4] pushes samples to the edges of the grid.
func (m Mixture) Moments() (mean []float64, std float64) {
	p := m.Probabilities()
	d := m.Dim()
	mean = make([]float64, d)
	for k, mu := range m.Means {
		for j := range mean {
			mean[j] += p[k] * mu[j]
		}
	}
	v := 0.0
	for k, mu := range m.Means {
		s := float64(d) * m.Sigmas[k] * m.Sigmas[k]
		for j := range mean {
			s += (mu[j] - mean[j]) * (mu[j] - mean[j])
		}
		v += p[k] * s
	}
	return mean, math.Sqrt(v / float64(d))
}

// Sample draws n points, [n, Dim], from the mixture. It panics if the
// mixture is invalid (check Validate on untrusted input first).
func (m Mixture) Sample(rng *tensor.RNG, n int) *tensor.Tensor {
	if err := m.Validate(); err != nil {
		panic("data.Mixture.Sample: " + err.Error())
	}
	w := make([]float32, len(m.Weights))
	for i, v := range m.Weights {
		w[i] = float32(v)
	}
	d := m.Dim()
	out := tensor.New(n, d)
	x := out.Data()
	for i, k := range rng.Categorical(w, n) {
		for j := 0; j < d; j++ {
			x[i*d+j] = float32(m.Means[k][j] + m.Sigmas[k]*rng.NormFloat64())
		}
	}
	return out
}
