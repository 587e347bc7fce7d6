package metrics_test

import (
	"fmt"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// Wasserstein1 matches the two point sets one to one at the least mean
// distance: here each point moves up by 1.
func ExampleWasserstein1() {
	a := tensor.FromSlice([]float32{0, 0, 1, 0}, 2, 2)
	b := tensor.FromSlice([]float32{1, 1, 0, 1}, 2, 2)
	w, err := metrics.Wasserstein1(a, b)
	fmt.Println(w, err)
	// Output: 1 <nil>
}

// ScoreMixture scores a generator's 2-D samples against the benchmark's
// ring of 8 Gaussians: a generator collapsed onto one mode captures 1 of 8
// (reverse KL ln 8), the data's own samples all 8; both are of high quality
// (within 3 sigma of a mode: 1 - exp(-4.5), 99%, of a 2-D Gaussian's draws).
func ExampleScoreMixture() {
	ring := data.Ring8()
	rng := tensor.NewRNG(1)
	one := data.Mixture{Means: ring.Means[:1], Sigmas: ring.Sigmas[:1], Weights: []float64{1}}
	for _, c := range []struct {
		name    string
		samples *tensor.Tensor
	}{{"collapsed", one.Sample(rng, 2500)}, {"data", ring.Sample(rng, 2500)}} {
		s, err := metrics.ScoreMixture(ring, c.samples, metrics.MixtureProtocol{}, rng)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d/%d modes, %.0f%% high quality, reverse KL %.2f\n", c.name, s.Modes, s.TotalModes, 100*s.HighQuality, s.ReverseKL)
	}
	// Output:
	// collapsed: 1/8 modes, 99% high quality, reverse KL 2.08
	// data: 8/8 modes, 99% high quality, reverse KL 0.00
}
