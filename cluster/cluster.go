// Package cluster scores a clustering against true classes, as
// unsupervised representation learning is scored (InfoGAN's categorical
// code against MNIST's digits): the best one-to-one matching of clusters to
// classes by the Hungarian algorithm, the accuracy under it, and the
// normalised mutual information.
package cluster

import (
	"fmt"
	"math"
)

// Assign solves the assignment problem for a cost matrix of r rows and c
// columns (r <= c): it returns col, with col[i] the column of row i, each
// column used at most once, minimising the sum of cost[i][col[i]]. It is
// the Hungarian algorithm (Kuhn 1955, with Munkres' potentials and the
// shortest augmenting path of Jonker and Volgenant), O(r^2 c). It returns
// an error for ragged rows, more rows than columns, or a value that is not
// finite.
func Assign(cost [][]float64) ([]int, error) {
	r := len(cost)
	if r == 0 {
		return nil, nil
	}
	c := len(cost[0])
	for i, row := range cost {
		if len(row) != c {
			return nil, fmt.Errorf("cluster.Assign: row %d has %d columns, row 0 has %d", i, len(row), c)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("cluster.Assign: cost[%d][%d] is %v", i, j, v)
			}
		}
	}
	if r > c {
		return nil, fmt.Errorf("cluster.Assign: %d rows and %d columns: want no more rows than columns (transpose the matrix)", r, c)
	}
	// Potentials u (rows) and v (columns), 1-based with column 0 a
	// sentinel; match[j] is the row matched to column j (0: none).
	u := make([]float64, r+1)
	v := make([]float64, c+1)
	match := make([]int, c+1)
	way := make([]int, c+1)
	for i := 1; i <= r; i++ {
		match[0] = i
		j0 := 0
		minv := make([]float64, c+1)
		used := make([]bool, c+1)
		for j := range minv {
			minv[j] = math.Inf(1)
		}
		for {
			used[j0] = true
			i0, delta, j1 := match[j0], math.Inf(1), 0
			for j := 1; j <= c; j++ {
				if used[j] {
					continue
				}
				cur := cost[i0-1][j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= c; j++ {
				if used[j] {
					u[match[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if match[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			match[j0] = match[j1]
			j0 = j1
		}
	}
	col := make([]int, r)
	for j := 1; j <= c; j++ {
		if match[j] > 0 {
			col[match[j]-1] = j - 1
		}
	}
	return col, nil
}

// Contingency counts pairs: n[k][y] is the number of i with
// clusters[i] == k and classes[i] == y, for k < nc and y < ny. It returns
// an error for slices of different lengths or a value out of range.
func Contingency(clusters, classes []int, nc, ny int) ([][]int, error) {
	if len(clusters) != len(classes) {
		return nil, fmt.Errorf("cluster: %d cluster ids for %d classes", len(clusters), len(classes))
	}
	n := make([][]int, nc)
	for k := range n {
		n[k] = make([]int, ny)
	}
	for i, k := range clusters {
		y := classes[i]
		if k < 0 || k >= nc || y < 0 || y >= ny {
			return nil, fmt.Errorf("cluster: pair %d is (cluster %d, class %d), outside %d clusters x %d classes", i, k, y, nc, ny)
		}
		n[k][y]++
	}
	return n, nil
}

// Match returns the one-to-one map from clusters to classes (match[k] is
// cluster k's class) that agrees with the most pairs of the contingency
// table n (rows clusters, columns classes; no more clusters than classes),
// and the accuracy under it: the matched pairs over all pairs.
func Match(n [][]int) (match []int, accuracy float64, err error) {
	cost := make([][]float64, len(n))
	total := 0
	for k, row := range n {
		cost[k] = make([]float64, len(row))
		for y, v := range row {
			cost[k][y] = -float64(v)
			total += v
		}
	}
	match, err = Assign(cost)
	if err != nil {
		return nil, 0, err
	}
	hit := 0
	for k, y := range match {
		hit += n[k][y]
	}
	if total == 0 {
		return match, 0, nil
	}
	return match, float64(hit) / float64(total), nil
}

// NMI is the normalised mutual information of the contingency table n:
// I(K; Y) / sqrt(H(K) H(Y)) in nats over nats (Strehl and Ghosh 2002; the
// geometric normalisation), 1 when one labelling determines the other, 0
// when they are independent. When either entropy is 0 it returns 1 if both
// are (one cluster, one class) and 0 otherwise.
func NMI(n [][]int) float64 {
	total := 0.0
	rows := make([]float64, len(n))
	var cols []float64
	for k, row := range n {
		if cols == nil {
			cols = make([]float64, len(row))
		}
		for y, v := range row {
			rows[k] += float64(v)
			cols[y] += float64(v)
			total += float64(v)
		}
	}
	if total == 0 {
		return 0
	}
	entropy := func(p []float64) float64 {
		h := 0.0
		for _, v := range p {
			if v > 0 {
				h -= v / total * math.Log(v/total)
			}
		}
		return h
	}
	hk, hy := entropy(rows), entropy(cols)
	mi := 0.0
	for k, row := range n {
		for y, v := range row {
			if v > 0 {
				f := float64(v)
				mi += f / total * math.Log(f*total/(rows[k]*cols[y]))
			}
		}
	}
	if hk == 0 || hy == 0 {
		if hk == 0 && hy == 0 {
			return 1
		}
		return 0
	}
	return mi / math.Sqrt(hk*hy)
}
