// Package metrics measures how well a generator fits its data: mode
// coverage on mixtures, exact and sliced Wasserstein distances.
package metrics

import (
	"fmt"
	"math"
	"slices"

	"github.com/kallima-gan/kallima/tensor"
)

// MaxExactPoints bounds the exact solver: an n x n assignment costs O(n^3)
// time and O(n^2) memory.
const MaxExactPoints = 2000

// Wasserstein1 returns the exact Wasserstein-1 distance between the
// empirical distributions of two equally sized point sets a and b, [n, d]
// each, under the Euclidean ground metric: the minimum over one-to-one
// matchings of the mean matched distance. It solves the assignment problem
// exactly (shortest augmenting paths with potentials, O(n^3), in float64).
func Wasserstein1(a, b *tensor.Tensor) (float64, error) {
	if a.Dim() != 2 || b.Dim() != 2 || a.Size(1) != b.Size(1) {
		return 0, fmt.Errorf("wasserstein: point sets of shapes %v and %v: want [n, d] and [n, d]", a.Shape(), b.Shape())
	}
	n, d := a.Size(0), a.Size(1)
	if b.Size(0) != n {
		return 0, fmt.Errorf("wasserstein: %d and %d points: the exact solver needs equal sizes", n, b.Size(0))
	}
	if n == 0 {
		return 0, fmt.Errorf("wasserstein: empty point sets")
	}
	if n > MaxExactPoints {
		return 0, fmt.Errorf("wasserstein: %d points is more than the exact solver's %d; subsample or use SlicedWasserstein", n, MaxExactPoints)
	}
	ad, bd := a.Data(), b.Data()
	cost := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for k := 0; k < d; k++ {
				t := float64(ad[i*d+k]) - float64(bd[j*d+k])
				s += t * t
			}
			cost[i*n+j] = math.Sqrt(s)
		}
	}
	match := Assignment(cost, n)
	total := 0.0
	for i, j := range match {
		total += cost[i*n+j]
	}
	return total / float64(n), nil
}

// Assignment solves the square assignment problem for the n x n row-major
// cost matrix: it returns match with row i assigned to column match[i],
// minimising the total cost (the Hungarian method in its O(n^3)
// shortest-augmenting-path form with row and column potentials).
func Assignment(cost []float64, n int) []int {
	if len(cost) != n*n {
		panic(fmt.Sprintf("metrics.Assignment: %d costs for %dx%d", len(cost), n, n))
	}
	inf := math.Inf(1)
	u := make([]float64, n+1) // row potentials
	v := make([]float64, n+1) // column potentials
	p := make([]int, n+1)     // p[j]: row matched to column j (1-based, 0 = none)
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				cur := cost[(i0-1)*n+j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	match := make([]int, n)
	for j := 1; j <= n; j++ {
		match[p[j]-1] = j - 1
	}
	return match
}

// SlicedWasserstein estimates the sliced Wasserstein-1 distance between
// two equally sized point sets [n, d]: the mean over `projections` random
// unit directions of the exact 1-D W1 between the projected sets (sorted
// differences). For sets too large for Wasserstein1.
func SlicedWasserstein(a, b *tensor.Tensor, projections int, rng *tensor.RNG) (float64, error) {
	if a.Dim() != 2 || b.Dim() != 2 || a.Size(1) != b.Size(1) || a.Size(0) != b.Size(0) || a.Size(0) == 0 {
		return 0, fmt.Errorf("sliced wasserstein: point sets of shapes %v and %v: want two non-empty [n, d]", a.Shape(), b.Shape())
	}
	if projections < 1 {
		return 0, fmt.Errorf("sliced wasserstein: %d projections, want at least 1", projections)
	}
	n, d := a.Size(0), a.Size(1)
	pa, pb := make([]float64, n), make([]float64, n)
	dir := make([]float64, d)
	total := 0.0
	for p := 0; p < projections; p++ {
		norm := 0.0
		for k := range dir {
			dir[k] = rng.NormFloat64()
			norm += dir[k] * dir[k]
		}
		norm = math.Sqrt(norm)
		for i := 0; i < n; i++ {
			sa, sb := 0.0, 0.0
			for k := 0; k < d; k++ {
				sa += float64(a.Data()[i*d+k]) * dir[k]
				sb += float64(b.Data()[i*d+k]) * dir[k]
			}
			pa[i], pb[i] = sa/norm, sb/norm
		}
		slices.Sort(pa)
		slices.Sort(pb)
		s := 0.0
		for i := range pa {
			s += math.Abs(pa[i] - pb[i])
		}
		total += s / float64(n)
	}
	return total / float64(projections), nil
}
