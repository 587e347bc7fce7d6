package onnx

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/family/mixgan"
	"github.com/kallima-gan/kallima/tensor"
)

// TestChoiceThresholds: comparing the choice coordinate v with the float32
// thresholds picks the component mixgan.Choose picks from F(v) in float64,
// for every v tried: random ones, and the float32s next to each threshold,
// where rounding would show, and ones where F(v) equals a cumulative
// weight. Weights include zeros, inside and last.
func TestChoiceThresholds(t *testing.T) {
	rng := tensor.NewRNG(5)
	for _, kind := range []string{"normal", "uniform"} {
		for _, w := range [][]float64{{0.2, 0, 0.5, 0.3}, {0.3, 0.7, 0}, {1}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.5, 0.5}, {0.25, 0.75}} {
			th, last := choiceThresholds(w, kind)
			pick := func(v float32) int {
				for i, x := range th {
					if v < x && (i == 0 || v >= th[i-1]) && w[i] > 0 {
						return i
					}
				}
				return last
			}
			var vs []float32
			for range 2000 {
				vs = append(vs, float32(rng.Normal(0, 1.5, 1).Data()[0]))
			}
			for _, x := range th {
				if math.IsInf(float64(x), 0) {
					continue
				}
				down, up := x, x
				for range 3 {
					down, up = math.Nextafter32(down, -10), math.Nextafter32(up, 10)
					vs = append(vs, down, up)
				}
				vs = append(vs, x)
			}
			// 0 and -0.5 hit F(v) = 0.5 and 0.25 exactly under the uniform
			// prior: u = c_i chooses component i + 1.
			vs = append(vs, -1, 1, 0, -0.5, -5, 5)
			for _, v := range vs {
				want := mixgan.Choose(mixgan.ChoiceUniform(float64(v), kind), w)
				if got := pick(v); got != want {
					t.Fatalf("%s %v: v = %v picks %d, mixgan.Choose %d (thresholds %v)", kind, w, v, got, want, th)
				}
			}
		}
	}
}
