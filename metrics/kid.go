package metrics

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// KIDConfig fixes how KID samples its subsets. Zero fields take the
// defaults of Binkowski et al.'s code: 100 subsets of 1000 rows, seed 0.
type KIDConfig struct {
	Subsets    int    // subsets averaged over; default 100
	SubsetSize int    // rows drawn from each set per subset; default 1000, capped at min(n_real, n_fake)
	Seed       uint64 // seed of the tensor.RNG that draws the subsets; 0 is a valid seed
}

func (c KIDConfig) withDefaults() KIDConfig {
	if c.Subsets == 0 {
		c.Subsets = 100
	}
	if c.SubsetSize == 0 {
		c.SubsetSize = 1000
	}
	return c
}

// KIDScore is a Kernel Inception Distance with what it was computed from.
type KIDScore struct {
	Mean       float64 // mean of the per-subset unbiased MMD^2
	Std        float64 // their standard deviation over subsets (ddof 0)
	Subsets    int     // subsets drawn
	SubsetSize int     // rows per set in each subset (after capping)
	Seed       uint64  // subset sampling seed
	NReal      int     // real rows available
	NFake      int     // generated rows available
	Dim        int     // feature dimension
}

// KID returns the Kernel Inception Distance of Binkowski et al. 2018,
// "Demystifying MMD GANs" (arXiv:1801.01401) between real and generated
// features, [n_real, d] and [n_fake, d]: the unbiased estimate of the
// squared maximum mean discrepancy with the cubic polynomial kernel
//
//	k(x, y) = (x.y / d + 1)^3
//	MMD^2_u = sum_{i!=j} k(x_i, x_j) / (m(m-1)) + sum_{i!=j} k(y_i, y_j) / (m(m-1))
//	          - 2 sum_{i,j} k(x_i, y_j) / m^2
//
// averaged over cfg.Subsets subsets, each m = min(SubsetSize, n_real,
// n_fake) real and m generated rows drawn without replacement; it reports
// the mean and the standard deviation (ddof 0) over subsets. The estimate
// is unbiased, so it can be slightly negative when the sets match. Subset
// s draws, from tensor.NewRNG(cfg.Seed), first the real rows
// (rng.Perm(n_real)[:m]) then the generated rows (rng.Perm(n_fake)[:m]).
// The dot products run as float32 GEMMs (tensor.MatMul); the kernel and
// all sums are evaluated in float64.
//
// It returns an error when a tensor is not [n, d] or has a non-finite
// entry, when the dimensions differ, when m < 2 (wrapping
// ErrTooFewSamples) and for a negative config field.
func KID(real, fake *tensor.Tensor, cfg KIDConfig) (KIDScore, error) {
	const op = "kid"
	cfg = cfg.withDefaults()
	if cfg.Subsets < 0 || cfg.SubsetSize < 0 {
		return KIDScore{}, fmt.Errorf("%s: %d subsets of size %d: want positive values", op, cfg.Subsets, cfg.SubsetSize)
	}
	nr, d, err := checkFeatures(op, "real", real)
	if err != nil {
		return KIDScore{}, err
	}
	nf, df, err := checkFeatures(op, "fake", fake)
	if err != nil {
		return KIDScore{}, err
	}
	if d != df {
		return KIDScore{}, fmt.Errorf("%s: real features are %d-D and fake features %d-D", op, d, df)
	}
	m := min(cfg.SubsetSize, nr, nf)
	if m < 2 {
		return KIDScore{}, fmt.Errorf("%s: subsets of %d rows (%d real, %d fake): the unbiased MMD needs at least 2: %w", op, m, nr, nf, ErrTooFewSamples)
	}
	rng := tensor.NewRNG(cfg.Seed)
	realIdx := make([][]int, cfg.Subsets)
	fakeIdx := make([][]int, cfg.Subsets)
	for s := range realIdx {
		realIdx[s] = rng.Perm(nr)[:m]
		fakeIdx[s] = rng.Perm(nf)[:m]
	}
	mean, std := meanStd(kidSubsets(real, fake, realIdx, fakeIdx))
	return KIDScore{Mean: mean, Std: std, Subsets: cfg.Subsets, SubsetSize: m, Seed: cfg.Seed, NReal: nr, NFake: nf, Dim: d}, nil
}

// kidSubsets returns the unbiased polynomial-kernel MMD^2 of each subset
// pair (real rows realIdx[s], fake rows fakeIdx[s], equally many).
func kidSubsets(real, fake *tensor.Tensor, realIdx, fakeIdx [][]int) []float64 {
	out := make([]float64, len(realIdx))
	for s := range realIdx {
		x := tensor.IndexSelect(real, 0, realIdx[s])
		y := tensor.IndexSelect(fake, 0, fakeIdx[s])
		out[s] = polynomialMMD2(x, y)
	}
	return out
}

// polynomialMMD2 is the unbiased MMD^2 with the cubic polynomial kernel
// between x and y, both [m, d] with m >= 2.
func polynomialMMD2(x, y *tensor.Tensor) float64 {
	m, d := x.Size(0), x.Size(1)
	inv := 1 / float64(d)
	k := func(dot float32) float64 {
		t := float64(dot)*inv + 1
		return t * t * t
	}
	// offDiag sums k over i != j of the symmetric Gram matrix g [m, m].
	offDiag := func(g []float32) float64 {
		s := 0.0
		for i := 0; i < m; i++ {
			for j := i + 1; j < m; j++ {
				s += k(g[i*m+j])
			}
		}
		return 2 * s
	}
	kxx := offDiag(tensor.MatMul(x, x, false, true).Data())
	kyy := offDiag(tensor.MatMul(y, y, false, true).Data())
	kxy := 0.0
	for _, v := range tensor.MatMul(x, y, false, true).Data() {
		kxy += k(v)
	}
	mf := float64(m)
	return (kxx+kyy)/(mf*(mf-1)) - 2*kxy/(mf*mf)
}

// meanStd returns the mean and the population standard deviation (ddof 0,
// numpy.std's default) of v.
func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

// Result reports the score with where its features came from.
func (s KIDScore) Result(p Provenance) Result {
	return Result{
		Metric:     "KID",
		Provenance: p,
		NReal:      s.NReal,
		NFake:      s.NFake,
		Dim:        s.Dim,
		Protocol: fmt.Sprintf("unbiased MMD^2, kernel (x.y/d+1)^3, mean±std (ddof 0) over %d subsets of %d real and %d fake rows, seed %d",
			s.Subsets, s.SubsetSize, s.SubsetSize, s.Seed),
		Values: []Value{{Name: "kid", Value: s.Mean, Std: s.Std, Runs: s.Subsets}},
	}
}
