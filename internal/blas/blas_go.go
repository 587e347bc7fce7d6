//go:build !cgo

package blas

import "sync"

// Impl names the implementation compiled in.
const Impl = "go"

// CoreType is empty: the pure-Go build does not use OpenBLAS, whatever
// OPENBLAS_CORETYPE says.
func CoreType() string { return "" }

// minPartFlops is the least work worth one more goroutine in the pure-Go
// GEMM: a goroutine's start and join cost about a microsecond, and the
// kernel runs at a few GFLOP/s.
const minPartFlops = 1 << 21

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parts := int(min(int64(splitParts(m, n)), flops(m, n, k)/minPartFlops))
	splitGemm(parts, gemmSerial, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Blocking of the pure-Go GEMM (Goto's scheme): op(B) is packed kc x nc at
// a time into column panels nr wide, op(A) mc x kc at a time into row
// panels mr tall (times alpha), and a register-blocked micro-kernel
// computes each mr x nr block of C from a pair of panels with its
// accumulators in registers.
// With no vector instructions in pure Go, 2x4 is the block whose eight
// accumulators and six operands fit the 15 float registers Go uses on amd64
// without spilling (measured: 2x4 5-6 GFLOP/s per core, 4x4 4.5).
const (
	mr, nr = 2, 4
	kc     = 256
	mc     = 64
	nc     = 512
)

// packBufs recycles the packing buffers between calls.
var packBufs = sync.Pool{New: func() any { return new([]float32) }}

func getBuf(n int) *[]float32 {
	b := packBufs.Get().(*[]float32)
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return b
}

// gemmSerial is the single-goroutine pure-Go GEMM.
func gemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if alpha == 0 {
		return
	}
	if m < mr || n < nr {
		gemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		return
	}
	kcb, mcb, ncb := min(kc, k), min(mc, m), min(nc, n)
	bpb := getBuf(kcb * (ncb + nr - 1) / nr * nr)
	apb := getBuf(kcb * (mcb + mr - 1) / mr * mr)
	defer packBufs.Put(bpb)
	defer packBufs.Put(apb)
	bp, ap := *bpb, *apb
	for j0 := 0; j0 < n; j0 += nc {
		nb := min(nc, n-j0)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			packB(transB, b, ldb, p0, kb, j0, nb, bp)
			for i0 := 0; i0 < m; i0 += mc {
				mb := min(mc, m-i0)
				packA(transA, a, lda, alpha, i0, mb, p0, kb, ap)
				for jr := 0; jr < nb; jr += nr {
					bpan := bp[jr*kb : (jr+nr)*kb]
					for ir := 0; ir < mb; ir += mr {
						apan := ap[ir*kb : (ir+mr)*kb]
						cc := c[(i0+ir)*ldc+j0+jr:]
						if ir+mr <= mb && jr+nr <= nb {
							kernel2x4(kb, apan, bpan, cc, ldc)
						} else {
							kernelEdge(kb, apan, bpan, cc, ldc, min(mr, mb-ir), min(nr, nb-jr))
						}
					}
				}
			}
		}
	}
}

// packB copies rows p0..p0+kb, columns j0..j0+nb of op(B) into bp as
// panels of nr columns, each stored k-major ([kb][nr]), zero-padding the
// last panel.
func packB(transB bool, b []float32, ldb, p0, kb, j0, nb int, bp []float32) {
	for jr := 0; jr < nb; jr += nr {
		pan := bp[jr*kb : (jr+nr)*kb]
		w := min(nr, nb-jr)
		for p := 0; p < kb; p++ {
			dst := pan[p*nr : p*nr+nr]
			for j := 0; j < nr; j++ {
				var v float32
				if j < w {
					if transB {
						v = b[(j0+jr+j)*ldb+p0+p]
					} else {
						v = b[(p0+p)*ldb+j0+jr+j]
					}
				}
				dst[j] = v
			}
		}
	}
}

// packA copies alpha times rows i0..i0+mb, columns p0..p0+kb of op(A)
// into ap as panels of mr rows, each stored k-major ([kb][mr]),
// zero-padding the last panel.
func packA(transA bool, a []float32, lda int, alpha float32, i0, mb, p0, kb int, ap []float32) {
	for ir := 0; ir < mb; ir += mr {
		pan := ap[ir*kb : (ir+mr)*kb]
		h := min(mr, mb-ir)
		for p := 0; p < kb; p++ {
			dst := pan[p*mr : p*mr+mr]
			for i := 0; i < mr; i++ {
				var v float32
				if i < h {
					if transA {
						v = a[(p0+p)*lda+i0+ir+i]
					} else {
						v = a[(i0+ir+i)*lda+p0+p]
					}
				}
				dst[i] = alpha * v
			}
		}
	}
}

// kernel2x4 adds the product of an A panel [kb][2] and a B panel [kb][4]
// into the 2x4 block of C at c (row stride ldc).
func kernel2x4(kb int, a, b []float32, c []float32, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	a = a[:kb*2]
	b = b[:kb*4]
	for p := 0; p < kb; p++ {
		aa := a[2*p : 2*p+2 : 2*p+2]
		bb := b[4*p : 4*p+4 : 4*p+4]
		a0, a1 := aa[0], aa[1]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	r := c[0:4:4]
	r[0] += c00
	r[1] += c01
	r[2] += c02
	r[3] += c03
	r = c[ldc : ldc+4 : ldc+4]
	r[0] += c10
	r[1] += c11
	r[2] += c12
	r[3] += c13
}

// gemmSmall computes C += alpha*op(A)*op(B) with plain loops, for products
// with fewer than mr rows or nr columns (matrix-vector products), where
// packing would cost more than it saves. Each C element is one dot product
// over k.
func gemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			switch {
			case !transA && transB:
				ar, br := a[i*lda:i*lda+k], b[j*ldb:j*ldb+k]
				for p, v := range ar {
					s += v * br[p]
				}
			default:
				ai, as, bj, bs := i*lda, 1, j, ldb // where op(A)[i, 0] and op(B)[0, j] are, and their steps along k
				if transA {
					ai, as = i, lda
				}
				if transB {
					bj, bs = j*ldb, 1
				}
				for p := 0; p < k; p++ {
					s += a[ai+p*as] * b[bj+p*bs]
				}
			}
			c[i*ldc+j] += alpha * s
		}
	}
}

// kernelEdge is kernel2x4 for a partial block of h rows and w columns at
// the bottom or right edge of C.
func kernelEdge(kb int, a, b []float32, c []float32, ldc, h, w int) {
	var acc [mr * nr]float32
	for p := 0; p < kb; p++ {
		for i := 0; i < mr; i++ {
			av := a[p*mr+i]
			for j := 0; j < nr; j++ {
				acc[i*nr+j] += av * b[p*nr+j]
			}
		}
	}
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			c[i*ldc+j] += acc[i*nr+j]
		}
	}
}
