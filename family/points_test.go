package family

import (
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/tensor"
)

func TestStandardiseRoundTrip(t *testing.T) {
	m := data.Mixtures["ring8"]()
	mean, std := m.Moments()
	x := m.Sample(tensor.NewRNG(3), 50)
	orig := x.Clone()
	Unstandardise(Standardise(x, mean, std), mean, std)
	for i, v := range x.Data() {
		if d := v - orig.Data()[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("value %d: %g after the round trip, want %g", i, v, orig.Data()[i])
		}
	}
}
