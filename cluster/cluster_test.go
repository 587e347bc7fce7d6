package cluster

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// permutations calls f with every injective map of r rows into c columns.
func permutations(r, c int, f func([]int)) {
	cur := make([]int, r)
	used := make([]bool, c)
	var rec func(i int)
	rec = func(i int) {
		if i == r {
			f(cur)
			return
		}
		for j := range c {
			if !used[j] {
				used[j], cur[i] = true, j
				rec(i + 1)
				used[j] = false
			}
		}
	}
	rec(0)
}

func total(cost [][]float64, col []int) float64 {
	s := 0.0
	for i, j := range col {
		s += cost[i][j]
	}
	return s
}

// TestAssignMatchesBruteForce compares the Hungarian algorithm's cost with
// the minimum over every assignment, on random square and wide matrices,
// some with ties (small integer costs).
func TestAssignMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		r := 1 + rng.IntN(6)
		c := r + rng.IntN(3)
		cost := make([][]float64, r)
		for i := range cost {
			cost[i] = make([]float64, c)
			for j := range cost[i] {
				if trial%2 == 0 {
					cost[i][j] = float64(rng.IntN(4))
				} else {
					cost[i][j] = rng.NormFloat64() * 10
				}
			}
		}
		col, err := Assign(cost)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, j := range col {
			if j < 0 || j >= c || seen[j] {
				t.Fatalf("trial %d: assignment %v is not injective into %d columns", trial, col, c)
			}
			seen[j] = true
		}
		best := math.Inf(1)
		permutations(r, c, func(p []int) { best = min(best, total(cost, p)) })
		if got := total(cost, col); math.Abs(got-best) > 1e-9 {
			t.Fatalf("trial %d (%dx%d): Hungarian cost %v, brute force %v (%v)", trial, r, c, got, best, cost)
		}
	}
}

func TestAssignErrors(t *testing.T) {
	for _, tc := range []struct {
		cost [][]float64
		want string
	}{
		{[][]float64{{1, 2}, {3}}, "row 1 has 1 columns"},
		{[][]float64{{1}, {2}}, "no more rows than columns"},
		{[][]float64{{1, math.NaN()}}, "cost[0][1] is NaN"},
	} {
		if _, err := Assign(tc.cost); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Assign(%v) = %v, want an error with %q", tc.cost, err, tc.want)
		}
	}
}

// TestMatchRelabelled: a clustering that is the classes under a
// permutation, with a few mistakes, is matched back to that permutation.
func TestMatchRelabelled(t *testing.T) {
	perm := []int{3, 0, 2, 1}
	var clusters, classes []int
	for i := range 400 {
		y := i % 4
		k := perm[y]
		if i%40 == 0 {
			k = (k + 1) % 4 // 10 mistakes
		}
		clusters, classes = append(clusters, k), append(classes, y)
	}
	n, err := Contingency(clusters, classes, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	match, acc, err := Match(n)
	if err != nil {
		t.Fatal(err)
	}
	for y, k := range perm {
		if match[k] != y {
			t.Fatalf("match %v, want cluster %d -> class %d", match, k, y)
		}
	}
	if acc != 390.0/400 {
		t.Fatalf("accuracy %v, want %v", acc, 390.0/400)
	}
	if _, err := Contingency([]int{0, 4}, []int{0, 1}, 4, 4); err == nil {
		t.Fatal("a cluster id out of range was accepted")
	}
}

// TestNMI checks hand-computed values: a perfect relabelling is 1,
// independence 0, and the table [[2 1] [0 1]] (4 pairs) has
// H(K) = -(3/4 ln 3/4 + 1/4 ln 1/4) = 0.562335, H(Y) = ln 2 and
// I = 1/2 ln(4/3) + 1/4 ln(2/3) + 1/4 ln 2 = 0.215762, so
// NMI = I / sqrt(H(K) H(Y)) = 0.345592.
func TestNMI(t *testing.T) {
	for _, tc := range []struct {
		n    [][]int
		want float64
	}{
		{[][]int{{0, 5}, {5, 0}}, 1},
		{[][]int{{3, 3}, {2, 2}}, 0},
		{[][]int{{2, 1}, {0, 1}}, 0.3455920299442113},
		{[][]int{{4, 0}, {0, 0}}, 1},
		{[][]int{{2, 2}}, 0},
	} {
		if got := NMI(tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("NMI(%v) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
