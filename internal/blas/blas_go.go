//go:build !cgo

package blas

// Impl names the implementation compiled in.
const Impl = "go"

// SetThreads is a no-op for the pure-Go GEMM, which is single-threaded;
// callers parallelise above it.
func SetThreads(n int) {}

// sgemm is a cache-blocked pure-Go GEMM: it packs op(B) so the inner loop
// runs over contiguous memory, which lets the compiler keep it tight.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	const kb = 256
	bp := make([]float32, kb*n)
	for k0 := 0; k0 < k; k0 += kb {
		k1 := min(k0+kb, k)
		// Pack rows k0..k1 of op(B) into bp as [k1-k0][n].
		for p := k0; p < k1; p++ {
			row := bp[(p-k0)*n : (p-k0+1)*n]
			if transB {
				for j := 0; j < n; j++ {
					row[j] = b[j*ldb+p]
				}
			} else {
				copy(row, b[p*ldb:p*ldb+n])
			}
		}
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			for p := k0; p < k1; p++ {
				var av float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				av *= alpha
				if av == 0 {
					continue
				}
				row := bp[(p-k0)*n : (p-k0+1)*n]
				for j, bv := range row {
					ci[j] += av * bv
				}
			}
		}
	}
}
