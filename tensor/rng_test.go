package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// draws takes n mixed draws from g (every kind of call, so that a state
// restore must cover them all) and returns them as float64s.
func draws(g *RNG, n int) []float64 {
	out := make([]float64, 0, n)
	for i := 0; len(out) < n; i++ {
		switch i % 7 {
		case 0:
			out = append(out, g.Float64())
		case 1:
			out = append(out, g.NormFloat64())
		case 2:
			out = append(out, float64(g.Intn(1000)))
		case 3:
			out = append(out, float64(g.Normal(1, 2, 1).Item()))
		case 4:
			out = append(out, float64(g.Uniform(-1, 1, 1).Item()))
		case 5:
			out = append(out, float64(g.Bernoulli(0.5, 1).Item()))
		case 6:
			out = append(out, float64(g.Categorical([]float32{1, 2, 3}, 1)[0]))
		}
	}
	return out
}

// differ reports whether two streams differ in more than a handful of
// places (discrete draws of independent streams coincide sometimes).
func differ(a, b []float64) bool {
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return same < len(a)/4
}

func equalStreams(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

func TestRNGSameSeedSameStream(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, math.MaxUint64} {
		a, b := draws(NewRNG(seed), 1000), draws(NewRNG(seed), 1000)
		if !equalStreams(a, b) {
			t.Fatalf("seed %d: two generators gave different streams", seed)
		}
		pa, pb := NewRNG(seed).Perm(50), NewRNG(seed).Perm(50)
		for i := range pa {
			if pa[i] != pb[i] {
				t.Fatalf("seed %d: Perm differs: %v vs %v", seed, pa, pb)
			}
		}
	}
	if !differ(draws(NewRNG(1), 1000), draws(NewRNG(2), 1000)) {
		t.Fatal("seeds 1 and 2 gave the same stream")
	}
}

// TestRNGSplit checks that split streams differ from their parent and from
// each other, are reproducible from the parent's seed, and are not
// correlated with each other.
func TestRNGSplit(t *testing.T) {
	const n = 2000
	run := func() (parent, c1, c2, c11 []float64) {
		p := NewRNG(7)
		a := p.Split()
		b := p.Split()
		aa := a.Split()
		return draws(p, n), draws(a, n), draws(b, n), draws(aa, n)
	}
	p, c1, c2, c11 := run()
	fresh := draws(NewRNG(7), n)
	streams := map[string][]float64{"parent after splits": p, "first split": c1, "second split": c2, "split of a split": c11, "unsplit parent": fresh}
	for na, a := range streams {
		for nb, b := range streams {
			if na < nb && !differ(a, b) {
				t.Fatalf("%s and %s give the same stream", na, nb)
			}
		}
	}
	p2, d1, d2, d11 := run()
	for _, c := range []struct {
		name string
		a, b []float64
	}{{"parent", p, p2}, {"first split", c1, d1}, {"second split", c2, d2}, {"split of a split", c11, d11}} {
		if !equalStreams(c.a, c.b) {
			t.Fatalf("%s is not reproducible from the seed", c.name)
		}
	}
	// Normal draws of two splits: correlation ~ N(0, 1/n), bound at 5 sigma.
	x, y := NewRNG(8).Split().Normal(0, 1, 20000), NewRNG(8)
	y.Split()
	z := y.Split().Normal(0, 1, 20000)
	if c := innerProduct(x, z) / 20000; math.Abs(c) > 5/math.Sqrt(20000) {
		t.Fatalf("splits correlate: %g", c)
	}
}

// TestRNGStateRestoresMidStream saves the state after some draws and checks
// that the next 1000 draws come out the same from a restored generator, and
// again from the original rewound.
func TestRNGStateRestoresMidStream(t *testing.T) {
	g := NewRNG(3)
	draws(g, 517)
	s := g.State()
	want := draws(g, 1000)
	h := NewRNG(12345)
	draws(h, 10)
	if err := h.SetState(s); err != nil {
		t.Fatal(err)
	}
	if got := draws(h, 1000); !equalStreams(got, want) {
		t.Fatal("a generator restored from State did not repeat the next 1000 draws")
	}
	if err := g.SetState(s); err != nil {
		t.Fatal(err)
	}
	if got := draws(g, 1000); !equalStreams(got, want) {
		t.Fatal("rewinding with SetState did not repeat the next 1000 draws")
	}
	// The saved state is a snapshot, not a live view.
	s2 := g.State()
	draws(g, 5)
	if string(s2) == string(g.State()) {
		t.Fatal("State did not change after drawing")
	}
}

func TestRNGSetStateRejectsGarbage(t *testing.T) {
	good := NewRNG(4).State()
	bad := append([]byte(nil), good...)
	bad[0] ^= 0xff
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"text", []byte("not an rng state")},
		{"truncated", good[:len(good)-1]},
		{"too long", append(append([]byte(nil), good...), 0)},
		{"wrong tag", bad},
	} {
		g := NewRNG(5)
		draws(g, 3)
		ref := NewRNG(5)
		draws(ref, 3)
		err := g.SetState(c.b)
		if err == nil {
			t.Fatalf("SetState(%s) accepted garbage", c.name)
		}
		if !strings.Contains(err.Error(), "rng state") {
			t.Fatalf("SetState(%s) error %q lacks context", c.name, err)
		}
		if !equalStreams(draws(g, 50), draws(ref, 50)) {
			t.Fatalf("a failed SetState(%s) changed the generator", c.name)
		}
	}
}

// moments returns the sample mean, variance, skewness and excess kurtosis.
func moments(x *Tensor) (mean, variance, skew, kurt float64) {
	n := float64(x.Len())
	for _, v := range x.Data() {
		mean += float64(v)
	}
	mean /= n
	var m2, m3, m4 float64
	for _, v := range x.Data() {
		d := float64(v) - mean
		m2 += d * d
		m3 += d * d * d
		m4 += d * d * d * d
	}
	m2, m3, m4 = m2/n, m3/n, m4/n
	return mean, m2, m3 / math.Pow(m2, 1.5), m4/(m2*m2) - 3
}

// TestRNGMoments compares sample moments with the distributions' at five
// standard errors. The generator is seeded, so the test is deterministic;
// the bounds say a correct sampler passes for almost every seed.
func TestRNGMoments(t *testing.T) {
	const n = 200000
	g := NewRNG(11)
	se := func(sd float64) float64 { return 5 * sd / math.Sqrt(n) }
	check := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Fatalf("%s = %g, want %g within %g", what, got, want, tol)
		}
	}

	x := g.Normal(2, 3, n)
	mean, v, skew, kurt := moments(x)
	check("Normal(2, 3) mean", mean, 2, se(3))
	check("Normal(2, 3) variance", v, 9, se(9*math.Sqrt2))
	check("Normal(2, 3) skewness", skew, 0, se(math.Sqrt(6)))
	check("Normal(2, 3) excess kurtosis", kurt, 0, se(math.Sqrt(24)))

	lo, hi := float32(-1), float32(3)
	u := g.Uniform(lo, hi, n)
	mean, v, skew, kurt = moments(u)
	check("Uniform(-1, 3) mean", mean, 1, se(4/math.Sqrt(12)))
	check("Uniform(-1, 3) variance", v, 16.0/12, se(16*math.Sqrt(1.0/180)))
	check("Uniform(-1, 3) skewness", skew, 0, 0.05)
	check("Uniform(-1, 3) excess kurtosis", kurt, -1.2, 0.05)
	for _, x := range u.Data() {
		if x < lo || x >= hi {
			t.Fatalf("Uniform(-1, 3) gave %g", x)
		}
	}

	for _, p := range []float64{0, 0.03, 0.3, 0.5, 1} {
		b := g.Bernoulli(p, n)
		mean, _, _, _ := moments(b)
		check(fmt.Sprintf("Bernoulli(%g) mean", p), mean, p, se(math.Sqrt(p*(1-p))))
		for _, x := range b.Data() {
			if x != 0 && x != 1 {
				t.Fatalf("Bernoulli(%g) gave %g", p, x)
			}
		}
	}

	counts := make([]float64, 10)
	for range n {
		counts[g.Intn(10)]++
	}
	if chi := chiSquare(counts, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}); chi > 40 {
		t.Fatalf("Intn(10) counts %v: chi-square %g on 9 degrees of freedom", counts, chi)
	}
	seen := make([]bool, 100)
	for _, v := range g.Perm(100) {
		if seen[v] {
			t.Fatalf("Perm repeated %d", v)
		}
		seen[v] = true
	}
}

// TestUniformExcludesHi uses intervals one float32 wide, where
// lo + (hi-lo)*u rounds to hi for about half of all u: every sample must
// then be lo.
func TestUniformExcludesHi(t *testing.T) {
	g := NewRNG(12)
	for _, c := range [][2]float32{{1, math.Nextafter32(1, 2)}, {-3, math.Nextafter32(-3, 0)}, {0, 1}} {
		lows := 0
		for _, x := range g.Uniform(c[0], c[1], 10000).Data() {
			if x < c[0] || x >= c[1] {
				t.Fatalf("Uniform(%g, %g) gave %g", c[0], c[1], x)
			}
			if x == c[0] {
				lows++
			}
		}
		if lows == 0 && c[1] == math.Nextafter32(c[0], c[1]) {
			t.Fatalf("Uniform(%g, %g) never gave lo", c[0], c[1])
		}
	}
	checkExact(t, "Uniform(2, 2)", g.Uniform(2, 2, 3), []int{3}, []float32{2, 2, 2})
}

// chiSquare is Pearson's statistic of counts against expected proportions
// given by weights (categories of zero weight must have zero counts).
func chiSquare(counts, weights []float64) float64 {
	var total, wsum, chi float64
	for i := range counts {
		total += counts[i]
		wsum += weights[i]
	}
	for i, c := range counts {
		if weights[i] == 0 {
			continue
		}
		e := total * weights[i] / wsum
		chi += (c - e) * (c - e) / e
	}
	return chi
}

// TestCategorical compares frequencies with weights by a chi-square bound
// (at 3 degrees of freedom, P(chi > 30) < 2e-6) and checks that zero
// weights, including leading and trailing ones, are never drawn.
func TestCategorical(t *testing.T) {
	g := NewRNG(13)
	for _, w := range [][]float32{{0, 1, 0, 3, 6, 0, 0.5}, {5}, {0, 0, 2}, {1e-3, 1e3, 1}} {
		const n = 100000
		counts := make([]float64, len(w))
		for _, k := range g.Categorical(w, n) {
			if k < 0 || k >= len(w) {
				t.Fatalf("Categorical(%v) gave index %d", w, k)
			}
			counts[k]++
		}
		ws := make([]float64, len(w))
		for i, v := range w {
			ws[i] = float64(v)
			if v == 0 && counts[i] != 0 {
				t.Fatalf("Categorical(%v) drew zero-weight index %d %g times", w, i, counts[i])
			}
		}
		if chi := chiSquare(counts, ws); chi > 30 {
			t.Fatalf("Categorical(%v) counts %v: chi-square %g", w, counts, chi)
		}
	}
	if got := g.Categorical([]float32{1, 2}, 0); len(got) != 0 {
		t.Fatalf("Categorical of 0 draws = %v", got)
	}
}

func TestCategoricalPanics(t *testing.T) {
	g := NewRNG(14)
	for _, w := range [][]float32{
		{1, -1, 2}, {0, 0, 0}, nil, {1, float32(math.NaN())}, {float32(math.Inf(1)), 1},
	} {
		wantPanic(t, func() { g.Categorical(w, 3) }, "tensor.Categorical")
	}
	wantPanic(t, func() { g.Categorical([]float32{1, -0.5}, 1) }, "weight 1", "-0.5")
	wantPanic(t, func() { g.Categorical([]float32{0, 0}, 1) }, "sum to 0")
}
