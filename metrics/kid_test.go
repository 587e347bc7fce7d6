package metrics

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// mmd2Direct is the unbiased polynomial-kernel MMD^2 from its definition,
// every dot product in float64: the oracle for polynomialMMD2.
func mmd2Direct(x, y *tensor.Tensor) float64 {
	m, d := x.Size(0), x.Size(1)
	k := func(a *tensor.Tensor, i int, b *tensor.Tensor, j int) float64 {
		s := 0.0
		for c := 0; c < d; c++ {
			s += float64(a.At(i, c)) * float64(b.At(j, c))
		}
		t := s/float64(d) + 1
		return t * t * t
	}
	var xx, yy, xy float64
	for i := 0; i < m; i++ {
		for j := 0; j < m; j++ {
			if i != j {
				xx += k(x, i, x, j)
				yy += k(y, i, y, j)
			}
			xy += k(x, i, y, j)
		}
	}
	mf := float64(m)
	return (xx+yy)/(mf*(mf-1)) - 2*xy/(mf*mf)
}

func TestPolynomialMMD2MatchesDefinition(t *testing.T) {
	for _, c := range []struct {
		m, d  int
		shift float32
	}{{2, 1, 0}, {5, 3, 0.5}, {40, 16, 0}, {40, 16, 1}, {64, 100, 0.2}} {
		rng := tensor.NewRNG(uint64(c.m*1000 + c.d))
		x := rng.Normal(0, 1, c.m, c.d)
		y := rng.Normal(c.shift, 1, c.m, c.d)
		got, want := polynomialMMD2(x, y), mmd2Direct(x, y)
		if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("m=%d d=%d shift %g: %.10g, definition %.10g", c.m, c.d, c.shift, got, want)
		}
	}
}

func TestKIDSeparatesDistributions(t *testing.T) {
	rng := tensor.NewRNG(4)
	const n, d = 1500, 8
	real := rng.Normal(0, 1, n, d)
	cfg := KIDConfig{Subsets: 20, SubsetSize: 500, Seed: 1}
	prev := math.Inf(-1)
	for _, shift := range []float32{0, 0.25, 0.5, 1} {
		s, err := KID(real, rng.Normal(shift, 1, n, d), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("shift %g: KID %.5g ± %.2g", shift, s.Mean, s.Std)
		if shift == 0 {
			// Unbiased: the same distribution gives ~0 (noise ~0.005 here,
			// against 0.25 for the smallest shift).
			if math.Abs(s.Mean) > 0.02 {
				t.Errorf("same distribution: KID %g ± %g, want ~0", s.Mean, s.Std)
			}
		} else if s.Mean <= prev || s.Mean < 0.01 {
			t.Errorf("shift %g: KID %g, want > %g (the smaller shift's) and clearly positive", shift, s.Mean, prev)
		}
		prev = s.Mean
		if s.Subsets != 20 || s.SubsetSize != 500 || s.Seed != 1 || s.NReal != n || s.NFake != n || s.Dim != d {
			t.Errorf("shift %g: protocol %+v", shift, s)
		}
	}
}

func TestKIDSeeded(t *testing.T) {
	rng := tensor.NewRNG(8)
	real, fake := rng.Normal(0, 1, 300, 4), rng.Normal(0.3, 1.2, 250, 4)
	cfg := KIDConfig{Subsets: 7, SubsetSize: 50, Seed: 42}
	a, err := KID(real, fake, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := KID(real, fake, cfg)
	cfg.Seed = 43
	c, _ := KID(real, fake, cfg)
	if a != b {
		t.Errorf("same seed: %+v and %+v", a, b)
	}
	if a.Mean == c.Mean {
		t.Errorf("seeds 42 and 43 gave the same KID %g", a.Mean)
	}
	// The documented draw order: real rows, then fake rows, per subset.
	r := tensor.NewRNG(42)
	var ri, fi [][]int
	for s := 0; s < 7; s++ {
		ri = append(ri, r.Perm(300)[:50])
		fi = append(fi, r.Perm(250)[:50])
	}
	mean, std := meanStd(kidSubsets(real, fake, ri, fi))
	if mean != a.Mean || std != a.Std {
		t.Errorf("KID %g ± %g, documented subsets give %g ± %g", a.Mean, a.Std, mean, std)
	}
	// The subset size is capped by the smaller set.
	s, err := KID(real, fake, KIDConfig{Subsets: 2})
	if err != nil || s.SubsetSize != 250 {
		t.Errorf("default size with 300 and 250 rows: %+v, %v", s, err)
	}
}

func TestKIDErrors(t *testing.T) {
	rng := tensor.NewRNG(2)
	x := rng.Normal(0, 1, 20, 3)
	nan := x.Clone()
	nan.Set(float32(math.Inf(1)), 3, 1)
	for _, c := range []struct {
		name       string
		real, fake *tensor.Tensor
		cfg        KIDConfig
		want       string
	}{
		{"dimensions", x, rng.Normal(0, 1, 20, 4), KIDConfig{}, "3-D"},
		{"one row", x, rng.Normal(0, 1, 1, 3), KIDConfig{}, "at least 2"},
		{"subset of one", x, x, KIDConfig{SubsetSize: 1}, "at least 2"},
		{"inf", x, nan, KIDConfig{}, "[3, 1]"},
		{"negative subsets", x, x, KIDConfig{Subsets: -1}, "positive"},
		{"not 2-D", tensor.New(20), x, KIDConfig{}, "[n, d]"},
	} {
		_, err := KID(c.real, c.fake, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := KID(x, rng.Normal(0, 1, 1, 3), KIDConfig{}); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("one row: %v does not wrap ErrTooFewSamples", err)
	}
}

func BenchmarkKID(b *testing.B) {
	for _, c := range []struct{ subsets, size, d int }{{10, 1000, 2048}} {
		rng := tensor.NewRNG(1)
		real, fake := rng.Normal(0, 1, c.size, c.d), rng.Normal(0.1, 1, c.size, c.d)
		b.Run(fmt.Sprintf("%dx%dx%d", c.subsets, c.size, c.d), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := KID(real, fake, KIDConfig{Subsets: c.subsets, SubsetSize: c.size}); err != nil {
					b.Fatal(err)
				}
			}
			flops := float64(3*2*c.size*c.size*c.d*c.subsets) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
