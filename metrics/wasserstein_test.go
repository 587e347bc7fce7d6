package metrics

import (
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func pts(n, d int, xs ...float32) *tensor.Tensor { return tensor.FromSlice(xs, n, d) }

// TestWasserstein1TwoPoints is the example of the GAN notes: A=(0,0) and
// B=(1,0) against C=(0,1) and D=(1,1)... arranged so the optimal pairs cost 1
// and sqrt 2 would be the crossed matching. W1 is an expectation over the
// uniform distributions, so it is the mean matched cost, not the sum.
func TestWasserstein1TwoPoints(t *testing.T) {
	a := pts(2, 2, 0, 0, 1, 0)
	b := pts(2, 2, 0, 1, 1, 1)
	w, err := Wasserstein1(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(w-1) > 1e-12 {
		t.Fatalf("W1 = %g, want 1 (each point moves distance 1; the sum 2 is not an expectation)", w)
	}
}

// bruteAssignment tries every permutation.
func bruteAssignment(cost []float64, n int) float64 {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(1)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			s := 0.0
			for i, j := range perm {
				s += cost[i*n+j]
			}
			best = math.Min(best, s)
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

func TestAssignmentMatchesBruteForce(t *testing.T) {
	rng := tensor.NewRNG(5)
	for n := 1; n <= 7; n++ {
		for trial := 0; trial < 20; trial++ {
			cost := make([]float64, n*n)
			for i := range cost {
				cost[i] = math.Floor(rng.Float64() * 10) // ties on purpose
			}
			m := Assignment(cost, n)
			got := 0.0
			seen := make([]bool, n)
			for i, j := range m {
				if seen[j] {
					t.Fatalf("column %d assigned twice: %v", j, m)
				}
				seen[j] = true
				got += cost[i*n+j]
			}
			if want := bruteAssignment(cost, n); math.Abs(got-want) > 1e-9 {
				t.Fatalf("n=%d: cost %g, brute force %g", n, got, want)
			}
		}
	}
}

func TestWasserstein1Properties(t *testing.T) {
	rng := tensor.NewRNG(7)
	a := rng.Normal(0, 1, 200, 3)
	if w, _ := Wasserstein1(a, a); w != 0 {
		t.Fatalf("W1(a, a) = %g", w)
	}
	// A shift by vector s moves every point by |s|: W1 = |s| exactly.
	shift := tensor.FromSlice([]float32{3, 0, 4}, 1, 3)
	if w, _ := Wasserstein1(a, tensor.Add(a, shift)); math.Abs(w-5) > 1e-5 {
		t.Fatalf("W1 of a shift by 5 = %g", w)
	}
	// In 1-D, W1 is the mean absolute difference of sorted samples.
	x, y := rng.Normal(0, 1, 300, 1), rng.Normal(1, 2, 300, 1)
	xs, ys := slices.Clone(x.Data()), slices.Clone(y.Data())
	slices.Sort(xs)
	slices.Sort(ys)
	want := 0.0
	for i := range xs {
		want += math.Abs(float64(xs[i] - ys[i]))
	}
	want /= 300
	if w, _ := Wasserstein1(x, y); math.Abs(w-want) > 1e-5 {
		t.Fatalf("1-D W1 = %g, sorted formula %g", w, want)
	}
	if sw, _ := SlicedWasserstein(x, y, 3, rng); math.Abs(sw-want) > 1e-5 {
		t.Fatalf("sliced W1 in 1-D = %g, want %g", sw, want)
	}
}

func TestWasserstein1Errors(t *testing.T) {
	for _, c := range []struct{ a, b *tensor.Tensor }{
		{tensor.New(3, 2), tensor.New(4, 2)},
		{tensor.New(3, 2), tensor.New(3, 3)},
		{tensor.New(0, 2), tensor.New(0, 2)},
		{tensor.New(6), tensor.New(6)},
		{tensor.New(MaxExactPoints+1, 1), tensor.New(MaxExactPoints+1, 1)},
	} {
		if _, err := Wasserstein1(c.a, c.b); err == nil {
			t.Errorf("shapes %v and %v: no error", c.a.Shape(), c.b.Shape())
		}
	}
}
