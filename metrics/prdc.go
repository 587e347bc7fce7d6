package metrics

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/kallima-gan/kallima/tensor"
)

// PRDCConfig fixes the neighbourhood sizes. Zero fields take the papers'
// defaults.
type PRDCConfig struct {
	// K is the neighbour whose distance is a sample's radius for precision
	// and recall; default 3 (Kynkaanniemi et al. 2019).
	K int
	// KDensity is the neighbour whose distance is a real sample's radius
	// for density and coverage; default 5 (Naeem et al. 2020).
	KDensity int
}

func (c PRDCConfig) withDefaults() PRDCConfig {
	if c.K == 0 {
		c.K = 3
	}
	if c.KDensity == 0 {
		c.KDensity = 5
	}
	return c
}

// PRDCScore holds improved precision and recall, density and coverage,
// with what they were computed from.
type PRDCScore struct {
	Precision float64 `json:"precision"` // fraction of fake samples inside the real manifold (k = K)
	Recall    float64 `json:"recall"`    // fraction of real samples inside the fake manifold (k = K)
	Density   float64 `json:"density"`   // mean count of real k-NN balls (k = KDensity) holding a fake sample, over KDensity; can exceed 1
	Coverage  float64 `json:"coverage"`  // fraction of real k-NN balls (k = KDensity) holding at least one fake sample
	K         int     `json:"k"`         // neighbours for precision and recall
	KDensity  int     `json:"k_density"` // neighbours for density and coverage
	NReal     int     `json:"n_real"`    // real samples
	NFake     int     `json:"n_fake"`    // fake samples
	Dim       int     `json:"dim"`       // feature dimension
}

// PRDC returns improved precision and recall (Kynkaanniemi et al. 2019,
// "Improved Precision and Recall Metric for Assessing Generative Models",
// arXiv:1904.06991) and density and coverage (Naeem et al. 2020, "Reliable
// Fidelity and Diversity Metrics for Generative Models", arXiv:2002.09797)
// of generated features Y [m, d] against real features X [n, d]. With
// NND_k(z) the distance from z to its k-th nearest neighbour in its own
// set (itself excluded) and B(z, r) the closed ball of radius r:
//
//	precision = 1/m sum_j 1[exists i: ||Y_j - X_i|| <= NND_K(X_i)]
//	recall    = 1/n sum_i 1[exists j: ||X_i - Y_j|| <= NND_K(Y_j)]
//	density   = 1/(KDensity m) sum_j sum_i 1[||Y_j - X_i|| < NND_KDensity(X_i)]
//	coverage  = 1/n sum_i 1[min_j ||X_i - Y_j|| < NND_KDensity(X_i)]
//
// Precision and recall use <= as in Kynkaanniemi et al.'s definition and
// code; density and coverage use < as in Naeem et al.'s code.
//
// Distances are exact Euclidean distances over all pairs; no approximate
// neighbour search. The cross terms x.y come from float32 GEMMs
// (tensor.MatMul) over blocks of rows, so memory stays at one block
// (about 16 MB of float32) plus O(n + m) whatever n and m. Every
// comparison whose outcome the float32 rounding could change (the
// difference lies within a rigorous bound on the GEMM's rounding error,
// 2 (d+2) 2^-24 ||x|| ||y||) is redone with the distance recomputed in
// float64, and so are the k-NN candidates, so the four numbers are what
// float64 arithmetic gives. Time is O((n^2 + m^2 + nm) d).
//
// It returns an error when a tensor is not [n, d] or has a non-finite
// entry, when the dimensions differ, when there are not more real samples
// than max(K, KDensity) or fake samples than K (wrapping ErrTooFewSamples),
// and for a negative k.
func PRDC(real, fake *tensor.Tensor, cfg PRDCConfig) (PRDCScore, error) {
	const op = "prdc"
	cfg = cfg.withDefaults()
	if cfg.K < 0 || cfg.KDensity < 0 {
		return PRDCScore{}, fmt.Errorf("%s: k = %d and %d: want positive values", op, cfg.K, cfg.KDensity)
	}
	nr, d, err := checkFeatures(op, "real", real)
	if err != nil {
		return PRDCScore{}, err
	}
	nf, df, err := checkFeatures(op, "fake", fake)
	if err != nil {
		return PRDCScore{}, err
	}
	if d != df {
		return PRDCScore{}, fmt.Errorf("%s: real features are %d-D and fake features %d-D", op, d, df)
	}
	kr := max(cfg.K, cfg.KDensity)
	if nr <= kr || nf <= cfg.K {
		return PRDCScore{}, fmt.Errorf("%s: %d real and %d fake samples: the k-NN radii need more than %d real and %d fake: %w",
			op, nr, nf, kr, cfg.K, ErrTooFewSamples)
	}
	xs, ys := newPointSet(real), newPointSet(fake)
	// Squared radii: real for k = K and KDensity, fake for k = K.
	realNN := knnSquared(xs, []int{cfg.K, cfg.KDensity})
	realPR, realDC := realNN[0], realNN[1]
	fakePR := knnSquared(ys, []int{cfg.K})[0]

	w := workerCount()
	inManifold := make([]bool, nf) // fake j inside the real manifold
	inBalls := make([]int, nf)     // real KDensity-balls holding fake j
	recalled := make([][]bool, w)  // per worker: real i inside the fake manifold
	covered := make([][]bool, w)   // per worker: real i's KDensity-ball holds a fake sample
	for t := range recalled {
		recalled[t], covered[t] = make([]bool, nr), make([]bool, nr)
	}
	forEachRow(ys, xs, func(worker, j int, d2, tol []float64) {
		rec, cov := recalled[worker], covered[worker]
		count, in := 0, false
		for i, v := range d2 {
			exact := math.NaN() // computed at most once, and only when needed
			le := func(r2 float64, strict bool) bool {
				switch {
				case v+tol[i] < r2:
					return true
				case v-tol[i] > r2:
					return false
				}
				if math.IsNaN(exact) {
					exact = sqDist(ys, j, xs, i)
				}
				if strict {
					return exact < r2
				}
				return exact <= r2
			}
			if !in && le(realPR[i], false) {
				in = true
			}
			if le(realDC[i], true) {
				count++
				cov[i] = true
			}
			if !rec[i] && le(fakePR[j], false) {
				rec[i] = true
			}
		}
		inManifold[j], inBalls[j] = in, count
	})
	s := PRDCScore{K: cfg.K, KDensity: cfg.KDensity, NReal: nr, NFake: nf, Dim: d}
	for j := range inManifold {
		if inManifold[j] {
			s.Precision++
		}
		s.Density += float64(inBalls[j])
	}
	for i := 0; i < nr; i++ {
		r, c := false, false
		for t := range recalled {
			r, c = r || recalled[t][i], c || covered[t][i]
		}
		if r {
			s.Recall++
		}
		if c {
			s.Coverage++
		}
	}
	s.Precision /= float64(nf)
	s.Density /= float64(cfg.KDensity * nf)
	s.Recall /= float64(nr)
	s.Coverage /= float64(nr)
	return s, nil
}

// pointSet is a feature matrix with its float64 row norms.
type pointSet struct {
	t     *tensor.Tensor
	x     []float32
	n, d  int
	norm2 []float64 // squared Euclidean norm of each row, in float64
	norm  []float64 // Euclidean norm of each row
}

func newPointSet(t *tensor.Tensor) pointSet {
	p := pointSet{t: t, x: t.Data(), n: t.Size(0), d: t.Size(1)}
	p.norm2, p.norm = make([]float64, p.n), make([]float64, p.n)
	for i := range p.norm2 {
		s := 0.0
		for _, v := range p.x[i*p.d : (i+1)*p.d] {
			s += float64(v) * float64(v)
		}
		p.norm2[i], p.norm[i] = s, math.Sqrt(s)
	}
	return p
}

// sqDist returns ||a_i - b_j||^2 computed directly in float64.
func sqDist(a pointSet, i int, b pointSet, j int) float64 {
	ra, rb := a.x[i*a.d:(i+1)*a.d], b.x[j*b.d:(j+1)*b.d]
	s := 0.0
	for k, v := range ra {
		t := float64(v) - float64(rb[k])
		s += t * t
	}
	return s
}

// blockElems bounds the float32 GEMM output held at once by forEachRow
// (16 MB); a variable so tests can force many blocks.
var blockElems = 1 << 22

func workerCount() int { return max(runtime.GOMAXPROCS(0), 1) }

// forEachRow calls fn(worker, i, d2, tol) for every row i of a, where
// d2[j] approximates ||a_i - b_j||^2 as ||a_i||^2 + ||b_j||^2 - 2 a_i.b_j
// with the dot product from a float32 GEMM, and |d2[j] - exact| <= tol[j]
// (the exact value being the float64 one up to float64 rounding). The
// bound: a float32 dot product of length d, in any summation order, is
// within gamma_d ||x|| ||y|| of the true one, gamma_d = d u/(1 - d u) with
// u = 2^-24 (Higham, Accuracy and Stability of Numerical Algorithms, 3.1);
// the float64 norms add a float64 rounding term. Rows of a are processed
// in blocks, one GEMM each; the rows of a block are split over workers, fn
// being called with the worker's index (in [0, workerCount())) and
// slices it must not keep. Calls for different rows may run concurrently.
func forEachRow(a, b pointSet, fn func(worker, i int, d2, tol []float64)) {
	du := float64(a.d+2) * 0x1p-24
	g32 := 2 * du / (1 - du)
	g64 := float64(a.d+4) * 0x1p-52
	rows := max(1, min(a.n, blockElems/max(b.n, 1)))
	w := workerCount()
	bufs := make([][2][]float64, w)
	for t := range bufs {
		bufs[t] = [2][]float64{make([]float64, b.n), make([]float64, b.n)}
	}
	for lo := 0; lo < a.n; lo += rows {
		hi := min(lo+rows, a.n)
		dots := tensor.MatMul(tensor.Slice(a.t, 0, lo, hi), b.t, false, true).Data()
		var wg sync.WaitGroup
		per := (hi - lo + w - 1) / w
		for t := 0; t < w; t++ {
			tlo, thi := lo+t*per, min(lo+(t+1)*per, hi)
			if tlo >= thi {
				break
			}
			wg.Add(1)
			go func(t, tlo, thi int) {
				defer wg.Done()
				d2, tol := bufs[t][0], bufs[t][1]
				for i := tlo; i < thi; i++ {
					row := dots[(i-lo)*b.n : (i-lo+1)*b.n]
					ni, n2i := a.norm[i], a.norm2[i]
					for j, dot := range row {
						d2[j] = n2i + b.norm2[j] - 2*float64(dot)
						tol[j] = g32*ni*b.norm[j] + g64*(n2i+b.norm2[j])
					}
					fn(t, i, d2, tol)
				}
			}(t, tlo, thi)
		}
		wg.Wait()
	}
}

// knnSquared returns, for each k in ks, the squared distance from every
// point of p to its k-th nearest other point of p (itself excluded by
// index, so a duplicate point counts at distance 0). Each row's candidates
// are found from the float32 distances and their error bounds and then
// measured in float64, so the result is the float64 k-NN distance.
func knnSquared(p pointSet, ks []int) [][]float64 {
	kmax := slices.Max(ks)
	out := make([][]float64, len(ks))
	for t := range out {
		out[t] = make([]float64, p.n)
	}
	w := workerCount()
	upper := make([][]float64, w) // the kmax smallest upper bounds so far, ascending
	cand := make([][]float64, w)  // exact squared distances of the candidates
	for t := range upper {
		upper[t] = make([]float64, 0, kmax)
	}
	forEachRow(p, p, func(worker, i int, d2, tol []float64) {
		// u: the kmax-th smallest upper bound d2+tol over j != i; the true
		// kmax-th distance is at most u, so every point that can be among
		// the kmax nearest has d2 - tol <= u.
		up := upper[worker][:0]
		for j, v := range d2 {
			if j == i {
				continue
			}
			b := v + tol[j]
			if len(up) < kmax {
				up = append(up, b)
				slices.Sort(up)
				continue
			}
			if b >= up[kmax-1] {
				continue
			}
			k := kmax - 1
			for k > 0 && up[k-1] > b {
				up[k] = up[k-1]
				k--
			}
			up[k] = b
		}
		upper[worker] = up
		u := up[kmax-1]
		c := cand[worker][:0]
		for j, v := range d2 {
			if j != i && v-tol[j] <= u {
				c = append(c, sqDist(p, i, p, j))
			}
		}
		slices.Sort(c)
		cand[worker] = c
		for t, k := range ks {
			out[t][i] = c[k-1]
		}
	})
	return out
}

// Result reports the scores with where their features came from.
func (s PRDCScore) Result(p Provenance) Result {
	return Result{
		Metric:     "PRDC",
		Provenance: p,
		NReal:      s.NReal,
		NFake:      s.NFake,
		Dim:        s.Dim,
		Protocol: fmt.Sprintf("improved precision/recall (k=%d, Kynkaanniemi et al. 2019), density/coverage (k=%d, Naeem et al. 2020), exact Euclidean k-NN",
			s.K, s.KDensity),
		Values: []Value{
			{Name: "precision", Value: s.Precision},
			{Name: "recall", Value: s.Recall},
			{Name: "density", Value: s.Density},
			{Name: "coverage", Value: s.Coverage},
		},
	}
}
