package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// prdcDirect computes the four scores from their definitions with every
// distance in float64 (no GEMM): the oracle for PRDC.
func prdcDirect(real, fake *tensor.Tensor, k, kd int) PRDCScore {
	xs, ys := newPointSet(real), newPointSet(fake)
	kth := func(p pointSet, k int) []float64 {
		out := make([]float64, p.n)
		row := make([]float64, 0, p.n)
		for i := 0; i < p.n; i++ {
			row = row[:0]
			for j := 0; j < p.n; j++ {
				if j != i {
					row = append(row, sqDist(p, i, p, j))
				}
			}
			slices.Sort(row)
			out[i] = row[k-1]
		}
		return out
	}
	rk, rkd, fk := kth(xs, k), kth(xs, kd), kth(ys, k)
	var s PRDCScore
	for j := 0; j < ys.n; j++ {
		in := false
		for i := 0; i < xs.n; i++ {
			d := sqDist(ys, j, xs, i)
			in = in || d <= rk[i]
			if d < rkd[i] {
				s.Density++
			}
		}
		if in {
			s.Precision++
		}
	}
	for i := 0; i < xs.n; i++ {
		rec, cov := false, false
		for j := 0; j < ys.n; j++ {
			d := sqDist(xs, i, ys, j)
			rec = rec || d <= fk[j]
			cov = cov || d < rkd[i]
		}
		if rec {
			s.Recall++
		}
		if cov {
			s.Coverage++
		}
	}
	s.Precision /= float64(ys.n)
	s.Density /= float64(kd * ys.n)
	s.Recall /= float64(xs.n)
	s.Coverage /= float64(xs.n)
	return s
}

// TestPRDCMatchesDirect compares PRDC with the float64 definition on data
// where float32 GEMM distances are useless on their own: a common offset of
// 300 makes ||x||^2 ~ 1e5 d while neighbour distances are ~1, so the
// cancellation in ||x||^2 + ||y||^2 - 2 x.y loses every digit. The
// refinement must settle all comparisons in float64. Small blocks force
// many GEMMs, and duplicated rows force ties at distance 0.
func TestPRDCMatchesDirect(t *testing.T) {
	saved := blockElems
	defer func() { blockElems = saved }()
	for _, c := range []struct {
		name   string
		offset float32
		block  int
		dups   bool
	}{
		{"centred, one block", 0, 1 << 22, false},
		{"centred, many blocks", 0, 700, false},
		{"offset 300", 300, 1 << 22, false},
		{"offset 300, many blocks, duplicates", 300, 1000, true},
	} {
		blockElems = c.block
		rng := tensor.NewRNG(17)
		real := rng.Normal(c.offset, 1, 180, 12)
		fake := rng.Normal(c.offset+0.3, 0.9, 130, 12)
		if c.dups {
			// Rows 0-9 of real repeated at 10-19, and fake row 5 = real row 7.
			copy(real.Data()[10*12:20*12], real.Data()[:10*12])
			copy(fake.Data()[5*12:6*12], real.Data()[7*12:8*12])
		}
		got, err := PRDC(real, fake, PRDCConfig{})
		if err != nil {
			t.Fatal(err)
		}
		want := prdcDirect(real, fake, 3, 5)
		if got.Precision != want.Precision || got.Recall != want.Recall || got.Density != want.Density || got.Coverage != want.Coverage {
			t.Errorf("%s: PRDC %+v, float64 definition %+v", c.name, got, want)
		}
		if got.K != 3 || got.KDensity != 5 || got.NReal != 180 || got.NFake != 130 || got.Dim != 12 {
			t.Errorf("%s: protocol %+v", c.name, got)
		}
	}
}

func TestKNNSquaredMatchesDirect(t *testing.T) {
	saved := blockElems
	defer func() { blockElems = saved }()
	blockElems = 500
	rng := tensor.NewRNG(23)
	x := rng.Normal(1000, 0.5, 90, 7) // offset 1000: float32 GEMM distances are noise
	p := newPointSet(x)
	got := knnSquared(p, []int{1, 3, 5})
	for i := 0; i < p.n; i++ {
		var row []float64
		for j := 0; j < p.n; j++ {
			if j != i {
				row = append(row, sqDist(p, i, p, j))
			}
		}
		slices.Sort(row)
		for t2, k := range []int{1, 3, 5} {
			if got[t2][i] != row[k-1] {
				t.Fatalf("point %d, k = %d: %g, want %g", i, k, got[t2][i], row[k-1])
			}
		}
	}
}

func TestPRDCSelf(t *testing.T) {
	x := tensor.NewRNG(31).Normal(0, 1, 400, 10)
	s, err := PRDC(x, x, PRDCConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// Every point is in its own ball (precision, recall, coverage 1), and
	// each ball holds exactly its centre and its 4 nearer neighbours, so
	// density = 5 n / (5 n) = 1 (no ties in continuous data).
	if s.Precision != 1 || s.Recall != 1 || s.Coverage != 1 || s.Density != 1 {
		t.Errorf("PRDC(x, x) = %+v, want all 1", s)
	}
}

// clusters returns n points in d dimensions around `centres` well-separated
// centres (20 c on the first axis, unit noise), all from centre `only` when
// only >= 0, else cycling through the centres.
func clusters(rng *tensor.RNG, n, d, centres, only int) *tensor.Tensor {
	x := tensor.New(n, d)
	for i := 0; i < n; i++ {
		c := i % centres
		if only >= 0 {
			c = only
		}
		for j := 0; j < d; j++ {
			v := rng.NormFloat64()
			if j == 0 {
				v += 20 * float64(c)
			}
			x.Set(float32(v), i, j)
		}
	}
	return x
}

func TestPRDCModeCollapse(t *testing.T) {
	rng := tensor.NewRNG(5)
	// Low dimension, so that k = 3 balls estimate the support well and
	// samples of the data itself score precision and recall near 1.
	const d, centres = 2, 10
	real := clusters(rng, 2000, d, centres, -1)
	for _, c := range []struct {
		name                         string
		fake                         *tensor.Tensor
		minP, maxR, maxC, minR, minC float64
	}{
		// Fresh samples of the same mixture: all four high (coverage's
		// expectation is 1 - (1/2)^5 = 0.97 for equal set sizes, Naeem et
		// al. 2020, section 4).
		{"same mixture", clusters(rng, 2000, d, centres, -1), 0.9, 1, 1, 0.9, 0.9},
		// All samples in one cluster: still realistic (precision ~1), but
		// they cover one tenth of the real data.
		{"collapsed on one cluster", clusters(rng, 2000, d, centres, 0), 0.9, 0.15, 0.15, 0, 0},
	} {
		s, err := PRDC(real, c.fake, PRDCConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %+v", c.name, s)
		if s.Precision < c.minP || s.Recall > c.maxR || s.Coverage > c.maxC || s.Recall < c.minR || s.Coverage < c.minC {
			t.Errorf("%s: precision %.3f recall %.3f coverage %.3f, want precision >= %g, recall in [%g, %g], coverage in [%g, %g]",
				c.name, s.Precision, s.Recall, s.Coverage, c.minP, c.minR, c.maxR, c.minC, c.maxC)
		}
		if s.Density < 0.8 || s.Density > 1.3 {
			t.Errorf("%s: density %.3f, want ~1 for samples from the real distribution's support", c.name, s.Density)
		}
	}
	// Far from the data: nothing realistic, nothing covered.
	far := rng.Normal(100, 1, 500, d)
	s, err := PRDC(real, far, PRDCConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Precision != 0 || s.Density != 0 || s.Coverage != 0 || s.Recall != 0 {
		t.Errorf("far samples: %+v, want all 0", s)
	}
}

func TestPRDCErrors(t *testing.T) {
	rng := tensor.NewRNG(2)
	x := rng.Normal(0, 1, 20, 3)
	nan := x.Clone()
	nan.Set(float32(math.NaN()), 4, 0)
	for _, c := range []struct {
		name       string
		real, fake *tensor.Tensor
		cfg        PRDCConfig
		want       string
	}{
		{"dimensions", x, rng.Normal(0, 1, 20, 4), PRDCConfig{}, "3-D"},
		{"too few real for k=5", rng.Normal(0, 1, 5, 3), x, PRDCConfig{}, "more than 5 real"},
		{"too few fake for k=3", x, rng.Normal(0, 1, 3, 3), PRDCConfig{}, "3 fake"},
		{"NaN", nan, x, PRDCConfig{}, "[4, 0]"},
		{"negative k", x, x, PRDCConfig{K: -1}, "positive"},
		{"not 2-D", x, tensor.New(3, 3, 3), PRDCConfig{}, "[n, d]"},
	} {
		_, err := PRDC(c.real, c.fake, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := PRDC(x, rng.Normal(0, 1, 3, 3), PRDCConfig{}); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("too few: %v does not wrap ErrTooFewSamples", err)
	}
}

func BenchmarkPRDC(b *testing.B) {
	for _, c := range []struct{ n, d int }{{2000, 64}, {5000, 2048}} {
		rng := tensor.NewRNG(1)
		real, fake := rng.Normal(0, 1, c.n, c.d), rng.Normal(0.1, 1, c.n, c.d)
		b.Run(fmt.Sprintf("%dx%d", c.n, c.d), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := PRDC(real, fake, PRDCConfig{}); err != nil {
					b.Fatal(err)
				}
			}
			flops := float64(3*2*c.n*c.n*c.d) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GEMM-GFLOP/s")
		})
	}
}
