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

func TestMixtureMoments(t *testing.T) {
	// grid25: means {-4..4}^2 have per-coordinate variance 8, plus sigma^2.
	mean, std := Grid25().Moments()
	if want := math.Sqrt(8 + 0.05*0.05); math.Abs(std-want) > 1e-12 || math.Abs(mean[0]) > 1e-12 || math.Abs(mean[1]) > 1e-12 {
		t.Fatalf("grid25 moments: mean %v std %g, want 0 and %g", mean, std, want)
	}
	// An uneven, off-centre mixture against the moments of many samples.
	m := Mixture{Means: [][]float64{{1, 3}, {-2, 5}}, Sigmas: []float64{0.5, 1}, Weights: []float64{3, 1}}
	mean, std = m.Moments()
	n := 200000
	x := m.Sample(tensor.NewRNG(7), n)
	var s [2]float64
	var ss float64
	for i := 0; i < n; i++ {
		for j := 0; j < 2; j++ {
			s[j] += float64(x.At(i, j)) / float64(n)
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j < 2; j++ {
			d := float64(x.At(i, j)) - s[j]
			ss += d * d / float64(2*n)
		}
	}
	if math.Abs(mean[0]-s[0]) > 0.01 || math.Abs(mean[1]-s[1]) > 0.01 || math.Abs(std-math.Sqrt(ss)) > 0.01 {
		t.Fatalf("moments mean %v std %g; samples give %v and %g", mean, std, s, math.Sqrt(ss))
	}
}
