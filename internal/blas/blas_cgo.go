//go:build cgo

package blas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>

// OpenBLAS's own, not in cblas.h: stops its worker threads.
int blas_thread_shutdown_(void);
*/
import "C"

import (
	"os"
	"unsafe"
)

// Impl names the implementation compiled in.
const Impl = "openblas"

// OpenBLAS always runs single-threaded here and Sgemm splits large
// products across goroutines itself. Measured on the dcgan workload
// (docs/PERFORMANCE.md): OpenBLAS's own threads are faster on one large
// GEMM in isolation (~235 against ~200 GFLOP/s on two cores), but after each
// threaded call its idle workers spin in sched_yield for about 0.1 s,
// taking a core from the Go code that runs between GEMMs (im2col, the
// elementwise ops), and the whole iteration was 10-15% slower. The
// workers OpenBLAS starts when it loads are stopped too: even idle, they
// were seen spinning while Go's goroutines parked and woke (about 5% of an
// iteration). OpenBLAS starts them again by itself if it ever needs them.
func init() {
	C.openblas_set_num_threads(1)
	C.blas_thread_shutdown_()
}

// minSplitFlops is the least work split across goroutines (each part still
// runs for tens of microseconds), and minSplitDim the least size of every
// dimension: products with a dimension below it (the 16-wide GEMMs of
// single-channel convolutions) are memory-bound and measured slower split.
const (
	minSplitFlops = 1 << 23
	minSplitDim   = 32
)

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parts := 1
	if min(m, n, k) >= minSplitDim && flops(m, n, k) >= minSplitFlops {
		parts = splitParts(m, n)
	}
	splitGemm(parts, sgemm1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemm1 is one single-threaded OpenBLAS call.
func sgemm1(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var ta, tb uint32 = C.CblasNoTrans, C.CblasNoTrans
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k), C.float(alpha),
		(*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb), C.float(beta),
		(*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// CoreType is OPENBLAS_CORETYPE, the variable that makes OpenBLAS run
// another CPU's kernels than the ones it picks; empty when unset.
func CoreType() string { return os.Getenv("OPENBLAS_CORETYPE") }
