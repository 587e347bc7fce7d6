package metrics

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/kallima-gan/kallima/tensor"
)

// correlated returns n rows of d-D features x = z A + offset with z standard
// normal and A a fixed random d x d matrix, so the covariance is full and
// not diagonal.
func correlated(rng *tensor.RNG, n, d int, offset float64) *tensor.Tensor {
	a := make([]float64, d*d)
	for i := range a {
		a[i] = rng.NormFloat64() / math.Sqrt(float64(d))
	}
	x := tensor.New(n, d)
	z := make([]float64, d)
	for i := 0; i < n; i++ {
		for k := range z {
			z[k] = rng.NormFloat64()
		}
		for j := 0; j < d; j++ {
			s := offset
			for k := 0; k < d; k++ {
				s += z[k] * a[k*d+j]
			}
			x.Set(float32(s), i, j)
		}
	}
	return x
}

func fit(t *testing.T, x *tensor.Tensor) Gaussian {
	t.Helper()
	g, err := FitGaussian(x)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestFIDSelfIsZero(t *testing.T) {
	for _, c := range []struct{ n, d int }{{50, 4}, {500, 16}, {300, 64}} {
		x := correlated(tensor.NewRNG(uint64(c.d)), c.n, c.d, 3)
		g := fit(t, x)
		s, err := FID(g, g)
		if err != nil {
			t.Fatal(err)
		}
		if s.FID < 0 || s.FID > 1e-9 {
			t.Errorf("%dx%d: FID(x, x) = %g, want ~0", c.n, c.d, s.FID)
		}
	}
}

func TestFIDMeanShift(t *testing.T) {
	x := correlated(tensor.NewRNG(1), 1000, 8, 0)
	gx := fit(t, x)
	for _, shift := range []float64{0.1, 0.5, 1, 3, 10} {
		// Shift every coordinate by `shift`: ||delta||^2 = 8 shift^2 and
		// the covariance is unchanged, up to float32 rounding of x+shift.
		y := x.Clone()
		for i, v := range y.Data() {
			y.Data()[i] = float32(float64(v) + shift)
		}
		want := 8 * shift * shift
		s, err := FID(gx, fit(t, y))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(s.FID-want) > 1e-5*want+1e-5 {
			t.Errorf("shift %g: FID = %.9g, want ||shift||^2 = %g", shift, s.FID, want)
		}
		// The same with the covariance exactly shared: exact to rounding.
		shifted := Gaussian{N: gx.N, Mean: append([]float64(nil), gx.Mean...), Cov: gx.Cov}
		for j := range shifted.Mean {
			shifted.Mean[j] += shift
		}
		d, err := FrechetDistance(gx, shifted)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(d-want) > 1e-9*want {
			t.Errorf("shift %g, shared covariance: %.15g, want %g", shift, d, want)
		}
	}
}

// TestFrechetDistanceClosedForms checks cases with known traces:
// commuting (diagonal) covariances give sum (sqrt(a_i) - sqrt(b_i))^2;
// for 2x2 covariances Tr((S1 S2)^{1/2}) = sqrt(tr(S1 S2) + 2 sqrt(det(S1 S2)));
// singular covariances give the limit.
func TestFrechetDistanceClosedForms(t *testing.T) {
	diag := func(v ...float64) []float64 {
		out := make([]float64, len(v)*len(v))
		for i, x := range v {
			out[i*len(v)+i] = x
		}
		return out
	}
	rng := tensor.NewRNG(5)
	spd2 := func() []float64 {
		a, b, c, e := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		// A A^T for A = [[a, b], [c, e]].
		return []float64{a*a + b*b, a*c + b*e, a*c + b*e, c*c + e*e}
	}
	type pair struct {
		name string
		a, b Gaussian
		want float64
	}
	cases := []pair{
		{"diagonal", Gaussian{Mean: []float64{1, 2, 3}, Cov: diag(1, 4, 9)}, Gaussian{Mean: []float64{0, 2, 5}, Cov: diag(4, 4, 1)},
			1 + 0 + 4 + 1 + 0 + 4},
		{"orthogonal singular", Gaussian{Mean: []float64{0, 0}, Cov: diag(1, 0)}, Gaussian{Mean: []float64{0, 0}, Cov: diag(0, 1)}, 2},
		{"zero covariance", Gaussian{Mean: []float64{1, 1}, Cov: diag(0, 0)}, Gaussian{Mean: []float64{0, 0}, Cov: diag(2, 3)}, 2 + 5},
	}
	for k := 0; k < 5; k++ {
		s1, s2 := spd2(), spd2()
		p := []float64{ // S1 S2
			s1[0]*s2[0] + s1[1]*s2[2], s1[0]*s2[1] + s1[1]*s2[3],
			s1[2]*s2[0] + s1[3]*s2[2], s1[2]*s2[1] + s1[3]*s2[3],
		}
		tr := math.Sqrt(p[0] + p[3] + 2*math.Sqrt(p[0]*p[3]-p[1]*p[2]))
		cases = append(cases, pair{"random 2x2", Gaussian{Mean: []float64{0.5, -1}, Cov: s1}, Gaussian{Mean: []float64{0, 0}, Cov: s2},
			0.25 + 1 + s1[0] + s1[3] + s2[0] + s2[3] - 2*tr})
	}
	for _, c := range cases {
		got, err := FrechetDistance(c.a, c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		back, err := FrechetDistance(c.b, c.a)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(got-c.want) > 1e-9*math.Max(1, c.want) || math.Abs(back-c.want) > 1e-9*math.Max(1, c.want) {
			t.Errorf("%s: d(a, b) = %.15g, d(b, a) = %.15g, want %.15g", c.name, got, back, c.want)
		}
	}
}

// TestTraceSqrtProductRoutes checks that the Cholesky route (default) and
// the eigenvector route give the same Tr((S1 S2)^{1/2}), in either order,
// for well-conditioned, ill-conditioned and singular covariances. With a
// singular covariance, rounding noise of size eps ||S|| in its zero
// eigenvalues enters the trace through a square root, as sqrt(eps ||S||)
// (scipy's sqrtm shares this): the routes then agree to ~1e-8 relative.
func TestTraceSqrtProductRoutes(t *testing.T) {
	rng := tensor.NewRNG(77)
	// cov returns A A^T + eps I for a random d x r matrix A.
	cov := func(d, r int, eps float64) *mat.SymDense {
		a := mat.NewDense(d, r, nil)
		for i := 0; i < d; i++ {
			for j := 0; j < r; j++ {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		s := mat.NewSymDense(d, nil)
		s.SymOuterK(1, a)
		for i := 0; i < d; i++ {
			s.SetSym(i, i, s.At(i, i)+eps)
		}
		return s
	}
	for _, c := range []struct {
		name       string
		d, r1, r2  int
		eps1, eps2 float64
		rel        float64
	}{
		{"well conditioned", 16, 32, 32, 0.1, 0.1, 1e-11},
		{"ill conditioned", 40, 10, 40, 1e-9, 0, 1e-9},
		{"first singular", 20, 5, 30, 0, 0, 1e-7},
		{"both singular", 20, 5, 7, 0, 0, 1e-7},
	} {
		s1, s2 := cov(c.d, c.r1, c.eps1), cov(c.d, c.r2, c.eps2)
		fast, err := traceSqrtProduct(s1, s2, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range []struct {
			name  string
			a, b  *mat.SymDense
			eigen bool
		}{{"eigen", s1, s2, true}, {"swapped eigen", s2, s1, true}, {"swapped", s2, s1, false}} {
			v, err := traceSqrtProduct(other.a, other.b, other.eigen)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(v-fast) > c.rel*math.Abs(fast) {
				t.Errorf("%s: default route %.15g, %s route %.15g", c.name, fast, other.name, v)
			}
		}
	}
}

func TestFitGaussianMatchesDefinition(t *testing.T) {
	// More rows than one covariance block, so the blocks must add up.
	x := correlated(tensor.NewRNG(9), covBlockRows*2+37, 5, 2)
	g := fit(t, x)
	n, d := x.Size(0), x.Size(1)
	for i := 0; i < d; i++ {
		mi := 0.0
		for r := 0; r < n; r++ {
			mi += float64(x.At(r, i))
		}
		mi /= float64(n)
		if math.Abs(g.Mean[i]-mi) > 1e-12 {
			t.Errorf("mean[%d] = %g, want %g", i, g.Mean[i], mi)
		}
		for j := 0; j < d; j++ {
			mj := g.Mean[j]
			c := 0.0
			for r := 0; r < n; r++ {
				c += (float64(x.At(r, i)) - mi) * (float64(x.At(r, j)) - mj)
			}
			c /= float64(n - 1)
			if math.Abs(g.Cov[i*d+j]-c) > 1e-12*math.Max(1, math.Abs(c)) {
				t.Errorf("cov[%d,%d] = %g, want %g", i, j, g.Cov[i*d+j], c)
			}
		}
	}
}

func TestFIDErrors(t *testing.T) {
	rng := tensor.NewRNG(3)
	g16 := fit(t, correlated(rng, 100, 16, 0))
	g8 := fit(t, correlated(rng, 100, 8, 0))
	small := fit(t, correlated(rng, 16, 16, 0)) // n = d: one short of d+1
	if _, err := FID(g16, small); !errors.Is(err, ErrTooFewSamples) || !strings.Contains(err.Error(), "d+1 = 17") {
		t.Errorf("n = d accepted or unclear: %v", err)
	}
	if _, err := FID(g16, g8); err == nil || !strings.Contains(err.Error(), "16-D") {
		t.Errorf("mismatched dimensions: %v", err)
	}
	if _, err := FID(g16, Gaussian{N: 100, Mean: make([]float64, 16), Cov: make([]float64, 15)}); err == nil {
		t.Error("malformed covariance accepted")
	}
	if _, err := FrechetDistance(g16, Gaussian{Mean: make([]float64, 16), Cov: append(make([]float64, 255), math.NaN())}); err == nil {
		t.Error("NaN covariance accepted")
	}
	nan := correlated(rng, 40, 4, 0)
	nan.Set(float32(math.NaN()), 7, 2)
	if _, err := FitGaussian(nan); err == nil || !strings.Contains(err.Error(), "[7, 2]") {
		t.Errorf("NaN feature: %v", err)
	}
	if _, err := FitGaussian(tensor.New(1, 4)); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("one row: %v", err)
	}
	if _, err := FitGaussian(tensor.New(10)); err == nil {
		t.Error("1-D features accepted")
	}
}

func BenchmarkFID(b *testing.B) {
	for _, c := range []struct{ n, d int }{{2000, 256}, {3000, 1024}, {5000, 2048}} {
		x := tensor.NewRNG(1).Normal(0, 1, c.n, c.d)
		y := tensor.NewRNG(2).Normal(0.1, 1, c.n, c.d)
		b.Run(fmt.Sprintf("%dx%d", c.n, c.d), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				gx, err := FitGaussian(x)
				if err != nil {
					b.Fatal(err)
				}
				gy, err := FitGaussian(y)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := FID(gx, gy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
