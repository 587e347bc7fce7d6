package onnx

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestLayerRefuses: a layer type without an exporter is an error naming
// the layer (its state prefix) and the problem, inside a Sequential too.
func TestLayerRefuses(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, tc := range []struct {
		m    nn.Module
		want []string
	}{
		{nn.NewSequential(nn.NewLinear(2, 3, rng), nn.GELU{}), []string{"layer g.1", "nn.GELU", "does not export yet", "ConvTranspose2d"}},
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

// TestSpectralNormWeight: a spectrally normalised weight is written as
// W / sigma with sigma = u^T W v from the stored vectors, computed here in
// float64 on the matrix that puts the output dimension first (0 for
// Linear, 1 for ConvTranspose2d), and exporting a layer in training mode
// runs no power iteration: u and v stay as they were.
func TestSpectralNormWeight(t *testing.T) {
	rng := tensor.NewRNG(1)
	lin := nn.NewLinear(3, 5, rng).WithSpectralNorm(rng)
	ct := nn.NewConvTranspose2d(2, 3, 2, nn.ConvOptions{}, rng).WithSpectralNorm(rng)
	// A few power iterations, so u and v are not their random start.
	for range 3 {
		lin.Forward(autograd.Const(rng.Normal(0, 1, 2, 3)))
		ct.Forward(autograd.Const(rng.Normal(0, 1, 1, 2, 3, 3)))
	}
	for _, tc := range []struct {
		name string
		w    *autograd.Value
		sn   *nn.SpectralNorm
		// at maps the matrix entry (row, col) to the weight's flat index.
		at func(r, c int) int
	}{
		{"linear", lin.Weight, lin.SN, func(r, c int) int { return r*3 + c }},
		// [in 2, out 3, 2, 2]: row o, column (i, kh, kw).
		{"conv_transpose", ct.Weight, ct.SN, func(r, c int) int { return (c/4*3+r)*4 + c%4 }},
	} {
		u, v := tc.sn.U.Clone(), tc.sn.V.Clone()
		w := tc.w.Data().Data()
		sigma := 0.0
		for r, ur := range u.Data() {
			for c, vc := range v.Data() {
				sigma += float64(ur) * float64(w[tc.at(r, c)]) * float64(vc)
			}
		}
		got := normalised(tc.w, tc.sn).Data()
		for i, x := range w {
			if want := float64(x) / sigma; math.Abs(float64(got[i])-want) > 1e-6*math.Abs(want)+1e-7 {
				t.Fatalf("%s: weight[%d] = %v, want W / sigma = %v (sigma %v)", tc.name, i, got[i], want, sigma)
			}
		}
		if !slices.Equal(u.Data(), tc.sn.U.Data()) || !slices.Equal(v.Data(), tc.sn.V.Data()) {
			t.Errorf("%s: exporting changed u or v", tc.name)
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
