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
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {64, 65, 300}, {5, 9, 0}} {
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

func TestSgemmPanicsOnShortSlice(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short A")
		}
	}()
	Sgemm(false, false, 4, 4, 4, 1, make([]float32, 3), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

func BenchmarkSgemm(b *testing.B) {
	// Shapes of the dcgan workload (../shared/bench/WORKLOAD.md): the
	// projection Linear and the im2col GEMMs of its convolutions.
	for _, s := range [][3]int{{64, 6272, 100}, {64, 1, 6272}, {128, 49, 1024}, {64, 196, 16}, {1024, 49, 128}} {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			x, y, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
