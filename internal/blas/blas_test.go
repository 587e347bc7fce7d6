package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naive is the conformance oracle, accumulating in float64.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			c[i*ldc+j] = float32(float64(alpha)*s + float64(beta)*float64(c[i*ldc+j]))
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestSgemmConformance runs against whichever implementation is built
// (OpenBLAS with cgo, pure Go without) and compares with the naive oracle.
func TestSgemmConformance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Sizes cover vector shapes, partial blocks, several blocks along every
	// dimension of the pure-Go kernel (mc 64, nc 512, kc 256) and products
	// large enough to be split across threads.
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {1, 40, 9}, {64, 65, 300}, {5, 9, 0}, {70, 530, 260}, {131, 37, 515}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				m, n, k := sz[0], sz[1], sz[2]
				lda, ldb := k+2, n+1
				if ta {
					lda = m + 2
				}
				if tb {
					ldb = k + 1
				}
				arows, brows := m, k
				if ta {
					arows = k
				}
				if tb {
					brows = n
				}
				a := randSlice(r, max(arows*lda, 1))
				b := randSlice(r, max(brows*ldb, 1))
				ldc := n + 3
				c := randSlice(r, m*ldc)
				want := append([]float32(nil), c...)
				Sgemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, c, ldc)
				naive(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, ldc)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-3*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v: c[%d]=%g want %g", Impl, m, n, k, ta, tb, i, c[i], want[i])
					}
				}
			}
		}
	}
}

// TestSgemmThreadsAgree checks that one and several threads give the same
// product (up to rounding) and that SetThreads round-trips.
func TestSgemmThreadsAgree(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(3, 4))
	m, n, k := 96, 700, 300
	a, b := randSlice(r, m*k), randSlice(r, k*n)
	var ref []float32
	for _, th := range []int{1, 2, 3} {
		SetThreads(th)
		if Threads() != th {
			t.Fatalf("Threads() = %d after SetThreads(%d)", Threads(), th)
		}
		c := make([]float32, m*n)
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		if ref == nil {
			ref = c
			continue
		}
		for i := range c {
			if d := math.Abs(float64(c[i] - ref[i])); d > 1e-4*(1+math.Abs(float64(ref[i]))) {
				t.Fatalf("%d threads: c[%d] = %g, one thread gives %g", th, i, c[i], ref[i])
			}
		}
	}
	SetThreads(0)
	if Threads() < 1 {
		t.Fatalf("default Threads() = %d", Threads())
	}
}

// TestSgemmBetaZeroIgnoresC checks that with beta = 0 the old contents of
// C do not matter, NaN included (C is often a reused buffer), on every path:
// GEMM, matrix-vector (m or n = 1), rank-1 (k = 1) and split products.
func TestSgemmBetaZeroIgnoresC(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	for _, sz := range [][3]int{{7, 9, 5}, {1, 40, 9}, {40, 1, 9}, {13, 11, 1}, {1, 1, 1}, {96, 700, 300}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				m, n, k := sz[0], sz[1], sz[2]
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				a, b := randSlice(r, m*k), randSlice(r, k*n)
				c := make([]float32, m*n)
				for i := range c {
					c[i] = nan
				}
				want := make([]float32, m*n)
				naive(ta, tb, m, n, k, 2, a, lda, b, ldb, 0, want, n)
				Sgemm(ta, tb, m, n, k, 2, a, lda, b, ldb, 0, c, n)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); !(d <= 1e-3*(1+math.Abs(float64(want[i])))) {
						t.Fatalf("%s %dx%dx%d tA=%v tB=%v: c[%d] = %g, want %g", Impl, m, n, k, ta, tb, i, c[i], want[i])
					}
				}
			}
		}
	}
}

func TestSgemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short A")
		}
	}()
	Sgemm(false, false, 4, 4, 4, 1, make([]float32, 3), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

// BenchmarkSgemm times the GEMMs of the dcgan and wgangp workloads
// (../shared/bench/WORKLOAD.md, batch 64), named by op flags and m x n x k:
// the generator's Linear (x W^T), and the batched im2col GEMMs of the
// convolutions (tensor/conv.go): D's second convolution forward, its
// weight gradient and its input gradient (also G's first transposed
// convolution), and the same three for D's first convolution.
func BenchmarkSgemm(b *testing.B) {
	shapes := []struct {
		ta, tb  bool
		m, n, k int
	}{
		{false, true, 64, 6272, 100},
		{false, false, 128, 3136, 1024},
		{false, true, 128, 1024, 3136},
		{true, false, 1024, 3136, 128},
		{false, false, 64, 12544, 16},
		{false, true, 64, 16, 12544},
		{true, false, 16, 12544, 64},
	}
	flag := func(t bool) string {
		if t {
			return "T"
		}
		return "N"
	}
	for _, s := range shapes {
		b.Run(fmt.Sprintf("%s%s/%dx%dx%d", flag(s.ta), flag(s.tb), s.m, s.n, s.k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			lda, ldb := s.k, s.n
			if s.ta {
				lda = s.m
			}
			if s.tb {
				ldb = s.k
			}
			x, y, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Sgemm(s.ta, s.tb, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, c, s.n)
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
