package tensor

import (
	"fmt"
	"testing"

	"github.com/kallima-gan/kallima/internal/blas"
)

// naiveMatMul is op(a) @ op(b) for one [rows, cols] matrix each, by index
// arithmetic on the stored layout, accumulated in float64.
func naiveMatMul(a, b []float32, ashape, bshape [2]int, transA, transB bool) (m, n int, out []float64) {
	m, k := ashape[0], ashape[1]
	if transA {
		m, k = k, m
	}
	n = bshape[1]
	if transB {
		n = bshape[0]
	}
	at := func(i, p int) float64 { // op(a)[i, p]
		if transA {
			return float64(a[p*ashape[1]+i])
		}
		return float64(a[i*ashape[1]+p])
	}
	bt := func(p, j int) float64 { // op(b)[p, j]
		if transB {
			return float64(b[j*bshape[1]+p])
		}
		return float64(b[p*bshape[1]+j])
	}
	out = make([]float64, m*n)
	for i := range m {
		for j := range n {
			for p := range k {
				out[i*n+j] += at(i, p) * bt(p, j)
			}
		}
	}
	return m, n, out
}

// stored returns the stored shape of an operand whose op is rows x cols.
func stored(rows, cols int, trans bool) [2]int {
	if trans {
		return [2]int{cols, rows}
	}
	return [2]int{rows, cols}
}

// matmulSizes include sizes large enough for OpenBLAS's blocked kernels,
// ones, and each of m, n, k zero.
var matmulSizes = [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 65, 130}, {2, 300, 3}, {4, 3, 0}, {0, 3, 4}, {3, 0, 4}}

func TestMatMul(t *testing.T) {
	r := newTestRand(16)
	for _, sz := range matmulSizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				as, bs := stored(m, k, ta), stored(k, n, tb)
				a, b := seededTensor(r, as[:]...), seededTensor(r, bs[:]...)
				// Dirty the pool so that a result which is not fully
				// written (k = 0) shows up.
				Release(Full(7, m, n))
				got := MatMul(a, b, ta, tb)
				_, _, want := naiveMatMul(a.Data(), b.Data(), as, bs, ta, tb)
				checkClose(t, fmt.Sprintf("%s MatMul m=%d n=%d k=%d transA=%v transB=%v", blas.Impl, m, n, k, ta, tb), got, []int{m, n}, want, 1e-5, 1e-5)
			}
		}
	}
}

func TestBatchMatMul(t *testing.T) {
	r := newTestRand(17)
	for _, sz := range matmulSizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, batch := range []int{1, 3} {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					as, bs := stored(m, k, ta), stored(k, n, tb)
					a, b := seededTensor(r, batch, as[0], as[1]), seededTensor(r, batch, bs[0], bs[1])
					Release(Full(7, batch, m, n))
					got := BatchMatMul(a, b, ta, tb)
					var want []float64
					for i := range batch {
						sa, sb := as[0]*as[1], bs[0]*bs[1]
						_, _, w := naiveMatMul(a.Data()[i*sa:(i+1)*sa], b.Data()[i*sb:(i+1)*sb], as, bs, ta, tb)
						want = append(want, w...)
					}
					checkClose(t, fmt.Sprintf("%s BatchMatMul batch=%d m=%d n=%d k=%d transA=%v transB=%v", blas.Impl, batch, m, n, k, ta, tb), got, []int{batch, m, n}, want, 1e-5, 1e-5)
				}
			}
		}
	}
	checkExact(t, "BatchMatMul of an empty batch", BatchMatMul(New(0, 2, 3), New(0, 3, 4), false, false), []int{0, 2, 4}, nil)
}

// TestMatMulTransposeFlags checks the flags against explicit transposes.
func TestMatMulTransposeFlags(t *testing.T) {
	r := newTestRand(18)
	a, b := seededTensor(r, 6, 4), seededTensor(r, 4, 5)
	want := MatMul(a, b, false, false)
	at, bt := Transpose(a), Transpose(b)
	for _, c := range []struct {
		a, b   *Tensor
		ta, tb bool
	}{{at, b, true, false}, {a, bt, false, true}, {at, bt, true, true}} {
		got := MatMul(c.a, c.b, c.ta, c.tb)
		w := make([]float64, want.Len())
		for i, v := range want.Data() {
			w[i] = float64(v)
		}
		checkClose(t, fmt.Sprintf("MatMul transA=%v transB=%v", c.ta, c.tb), got, want.Shape(), w, 1e-6, 1e-6)
	}
}

func TestMatMulPanicsOnShape(t *testing.T) {
	wantPanic(t, func() { MatMul(New(2, 3), New(2, 3), false, false) }, "tensor.MatMul", "[2 3]")
	wantPanic(t, func() { MatMul(New(2, 3), New(2, 3), true, true) }, "tensor.MatMul", "[2 3]")
	wantPanic(t, func() { MatMul(New(2, 3), New(3), false, false) }, "tensor.MatMul", "[3]", "2-D")
	wantPanic(t, func() { MatMul(New(1, 2, 3), New(3, 2), false, false) }, "tensor.MatMul", "[1 2 3]")
	wantPanic(t, func() { BatchMatMul(New(2, 2, 3), New(3, 3, 2), false, false) }, "tensor.BatchMatMul", "[2 2 3]", "[3 3 2]")
	wantPanic(t, func() { BatchMatMul(New(2, 2, 3), New(2, 2, 3), false, false) }, "tensor.BatchMatMul", "[2 2 3]")
	wantPanic(t, func() { BatchMatMul(New(2, 3), New(3, 2), false, false) }, "tensor.BatchMatMul", "[2 3]")
}
