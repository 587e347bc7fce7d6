package onnx

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestLayerRefuses: a layer type without an exporter, and a spectrally
// normalised layer, are errors naming the layer (its state prefix) and the
// problem, inside a Sequential too.
func TestLayerRefuses(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, tc := range []struct {
		m    nn.Module
		want []string
	}{
		{nn.NewSequential(nn.NewLinear(2, 3, rng), nn.GELU{}), []string{"layer g.1", "nn.GELU", "does not export yet", "ConvTranspose2d"}},
		{nn.NewSequential(nn.NewLinear(2, 3, rng).WithSpectralNorm(rng)), []string{"layer g.0", "spectral norm"}},
		{nn.NewConvTranspose2d(2, 3, 4, nn.ConvOptions{}, rng).WithSpectralNorm(rng), []string{"layer g", "spectral norm"}},
	} {
		_, err := layer(newGraph(), tc.m, "g", "z")
		if err == nil {
			t.Errorf("%T exported", tc.m)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not say %q", err, w)
			}
		}
	}
}

// TestInitializerNamesUnique: two initializers asked for under one name
// get distinct names, as a graph requires.
func TestInitializerNamesUnique(t *testing.T) {
	g := newGraph()
	a := g.float("w", []float32{1}, 1)
	b := g.float("w", []float32{2}, 1)
	if a == b || a != "w" {
		t.Errorf("names %q and %q, want w and another", a, b)
	}
}
