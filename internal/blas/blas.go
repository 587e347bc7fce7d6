// Package blas is Kallima's narrow window onto single-precision GEMM.
//
// Two implementations share this API: OpenBLAS through cgo (blas_cgo.go) and
// a pure-Go twin (blas_go.go) used when built with CGO_ENABLED=0. Both pass
// the same conformance test. Matrices are row-major.
//
// Threads. One Sgemm call may use up to Threads() cores (GOMAXPROCS by
// default): a large product is split into panels of C computed on that many
// goroutines (twice as many when the panels stay wide, which evens out the
// cores' loads), each calling a single-threaded kernel. All parallelism is
// Go's, so it follows GOMAXPROCS and callers may themselves call Sgemm from
// several goroutines (set SetThreads(1) then). Results are reproducible for
// a given thread count; another count may round differently in the last
// bit.
package blas

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

var threads atomic.Int64

// SetThreads sets how many cores one Sgemm call may use; n <= 0 means
// runtime.GOMAXPROCS(0), the default.
func SetThreads(n int) { threads.Store(int64(max(n, 0))) }

// Threads returns how many cores one Sgemm call may use.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where
// op(X) is X or its transpose. op(A) is m x k, op(B) is k x n and C is m x n;
// lda, ldb and ldc are the row strides of A, B and C as stored.
//
// It panics if a slice is too short for the given sizes (a programmer error).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, s []float32, rows, cols, ld int) {
		if ld < max(cols, 1) || (rows > 0 && len(s) < (rows-1)*ld+cols) {
			panic(fmt.Sprintf("blas.Sgemm: %s is %d long, needs %dx%d with stride %d", name, len(s), rows, cols, ld))
		}
	}
	check("A", a, ar, ac, lda)
	check("B", b, br, bc, ldb)
	check("C", c, m, n, ldc)
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// flops is 2*m*n*k, the work of one product.
func flops(m, n, k int) int64 { return 2 * int64(m) * int64(n) * int64(k) }

// splitParts returns how many panels to split an m x n product into.
func splitParts(m, n int) int {
	t := Threads()
	if max(m, n) >= 2*t*128 {
		return 2 * t
	}
	return t
}

// splitGemm computes the product in parts panels along the longer side of
// C, on parts goroutines (the caller's among them), each calling kernel.
// Panel edges fall on multiples of 16 so vector loops stay full.
func splitGemm(parts int, kernel func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int),
	transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const align = 16
	long := max(m, n)
	parts = min(parts, long/align)
	if parts <= 1 {
		kernel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for p := parts - 1; p >= 0; p-- {
		lo := p * long / parts / align * align
		hi := long
		if p < parts-1 {
			hi = (p + 1) * long / parts / align * align
		}
		run := func() {
			if n >= m { // columns lo..hi of op(B) and C
				bo := lo
				if transB {
					bo = lo * ldb
				}
				kernel(transA, transB, m, hi-lo, k, alpha, a, lda, b[bo:], ldb, beta, c[lo:], ldc)
				return
			}
			ao := lo * lda // rows lo..hi of op(A) and C
			if transA {
				ao = lo
			}
			kernel(transA, transB, hi-lo, n, k, alpha, a[ao:], lda, b, ldb, beta, c[lo*ldc:], ldc)
		}
		if p == 0 {
			run()
			break
		}
		go func() {
			defer wg.Done()
			run()
		}()
	}
	wg.Wait()
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
