package vae

import (
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
)

// BenchmarkIWAE estimates log p(x) of 4 MNIST-shaped observations with
// k = 5000 under the vae-mnist model (untrained).
func BenchmarkIWAE(b *testing.B) {
	b.Run("4x784px/k5000", benchIWAE)
}

func benchIWAE(b *testing.B) {
	c, _ := config.Preset("vae-mnist")
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28})
	if err != nil {
		b.Fatal(err)
	}
	v := m.Generator.(*variational)
	x := v.Observe(tensor.NewRNG(1).Uniform(-1, 1, 4, 1, 28, 28), tensor.NewRNG(2))
	b.ResetTimer()
	b.ReportAllocs()
	for range b.N {
		if _, err := v.LogLikelihood(x, 5000, tensor.NewRNG(3)); err != nil {
			b.Fatal(err)
		}
	}
}
