package tensor

import (
	"fmt"

	"github.com/kallima-gan/kallima/internal/blas"
)

// MatMul returns op(a) @ op(b) for 2-D a and b, where op transposes when
// the flag is set: op(a) is [m, k], op(b) is [k, n], the result [m, n]
// (zeros when k is 0). It panics if the shapes do not multiply.
func MatMul(a, b *Tensor, transA, transB bool) *Tensor {
	if a.Dim() != 2 || b.Dim() != 2 {
		panic(fmt.Sprintf("tensor.MatMul: shapes %v and %v are not 2-D", a.shape, b.shape))
	}
	m, k := a.shape[0], a.shape[1]
	if transA {
		m, k = k, m
	}
	k2, n := b.shape[0], b.shape[1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		panic(fmt.Sprintf("tensor.MatMul: shapes %v (trans %v) and %v (trans %v) do not multiply", a.shape, transA, b.shape, transB))
	}
	if k == 0 { // an empty sum: BLAS would reject the zero row stride
		return New(m, n)
	}
	out := empty(m, n)
	blas.Sgemm(transA, transB, m, n, k, 1, a.data, a.shape[1], b.data, b.shape[1], 0, out.data, n)
	return out
}

// BatchMatMul multiplies 3-D tensors batch by batch: op(a[i]) @ op(b[i]).
func BatchMatMul(a, b *Tensor, transA, transB bool) *Tensor {
	if a.Dim() != 3 || b.Dim() != 3 || a.shape[0] != b.shape[0] {
		panic(fmt.Sprintf("tensor.BatchMatMul: shapes %v and %v", a.shape, b.shape))
	}
	bs := a.shape[0]
	m, k := a.shape[1], a.shape[2]
	if transA {
		m, k = k, m
	}
	k2, n := b.shape[1], b.shape[2]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		panic(fmt.Sprintf("tensor.BatchMatMul: shapes %v (trans %v) and %v (trans %v) do not multiply", a.shape, transA, b.shape, transB))
	}
	if k == 0 { // an empty sum: BLAS would reject the zero row stride
		return New(bs, m, n)
	}
	out := empty(bs, m, n)
	sa, sb, so := a.shape[1]*a.shape[2], b.shape[1]*b.shape[2], m*n
	for i := 0; i < bs; i++ {
		blas.Sgemm(transA, transB, m, n, k, 1, a.data[i*sa:(i+1)*sa], a.shape[2], b.data[i*sb:(i+1)*sb], b.shape[2], 0, out.data[i*so:(i+1)*so], n)
	}
	return out
}
