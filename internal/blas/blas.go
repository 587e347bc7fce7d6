// Package blas is Kallima's narrow window onto single-precision GEMM.
//
// Two implementations share this API: OpenBLAS through cgo (blas_cgo.go) and
// a pure-Go twin (blas_go.go) used when built with CGO_ENABLED=0. Both pass
// the same conformance test. Matrices are row-major.
package blas

import "fmt"

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

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}
