package data

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func TestMixtureSampleMoments(t *testing.T) {
	m := Ring8()
	x := m.Sample(tensor.NewRNG(1), 8000)
	// Every sample is near radius 2; the mean is near the origin.
	var mx, my float64
	for i := 0; i < 8000; i++ {
		a, b := float64(x.At(i, 0)), float64(x.At(i, 1))
		if r := math.Hypot(a, b); math.Abs(r-2) > 0.15 {
			t.Fatalf("sample %d at radius %g", i, r)
		}
		mx += a / 8000
		my += b / 8000
	}
	if math.Abs(mx) > 0.1 || math.Abs(my) > 0.1 {
		t.Fatalf("ring mean (%g, %g)", mx, my)
	}
	g := Grid25()
	if len(g.Means) != 25 || g.Means[0][0] != -4 || g.Means[24][1] != 4 || g.Sigmas[3] != 0.05 {
		t.Fatalf("grid25 = %+v", g)
	}
	// Same seed, same samples.
	y := m.Sample(tensor.NewRNG(1), 8000)
	for i, v := range x.Data() {
		if y.Data()[i] != v {
			t.Fatal("same seed gave different samples")
		}
	}
}

func TestMixtureValidate(t *testing.T) {
	bad := []Mixture{
		{},
		{Means: [][]float64{{0, 0}}, Sigmas: []float64{1}},
		{Means: [][]float64{{0, 0}, {1}}, Sigmas: []float64{1, 1}, Weights: []float64{1, 1}},
		{Means: [][]float64{{0, 0}}, Sigmas: []float64{0}, Weights: []float64{1}},
		{Means: [][]float64{{0, 0}}, Sigmas: []float64{1}, Weights: []float64{-1}},
		{Means: [][]float64{{0, 0}}, Sigmas: []float64{1}, Weights: []float64{0}},
		{Means: [][]float64{{math.NaN(), 0}}, Sigmas: []float64{1}, Weights: []float64{1}},
	}
	for i, m := range bad {
		if err := m.Validate(); err == nil {
			t.Errorf("mixture %d accepted: %+v", i, m)
		}
	}
	if err := Ring8().Validate(); err != nil {
		t.Fatal(err)
	}
}
