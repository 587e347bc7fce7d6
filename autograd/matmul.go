package autograd

import "github.com/kallima-gan/kallima/tensor"

var (
	opMatMul      = register("matmul")
	opBatchMatMul = register("batch_matmul")
)

// MatMul returns op(a) @ op(b) for 2-D a, b, op transposing when its flag
// is set. With C = A B: dA = g B^T and dB = A^T g, the transposes folded
// into the flags so no copy is made.
func MatMul(a, b *Value, transA, transB bool) *Value {
	return record(opMatMul, tensor.MatMul(a.data, b.data, transA, transB), []*Value{a, b}, func(g *Value) []*Value {
		return matmulGrads(MatMul, g, a, b, transA, transB)
	})
}

// BatchMatMul multiplies 3-D values batch by batch, with MatMul's rules.
func BatchMatMul(a, b *Value, transA, transB bool) *Value {
	return record(opBatchMatMul, tensor.BatchMatMul(a.data, b.data, transA, transB), []*Value{a, b}, func(g *Value) []*Value {
		return matmulGrads(BatchMatMul, g, a, b, transA, transB)
	})
}

func matmulGrads(mm func(a, b *Value, ta, tb bool) *Value, g, a, b *Value, ta, tb bool) []*Value {
	var ga, gb *Value
	switch {
	case !ta && !tb: // C = A B
		if a.requiresGrad {
			ga = mm(g, b, false, true)
		}
		if b.requiresGrad {
			gb = mm(a, g, true, false)
		}
	case ta && !tb: // C = A^T B
		if a.requiresGrad {
			ga = mm(b, g, false, true)
		}
		if b.requiresGrad {
			gb = mm(a, g, false, false)
		}
	case !ta && tb: // C = A B^T
		if a.requiresGrad {
			ga = mm(g, b, false, false)
		}
		if b.requiresGrad {
			gb = mm(g, a, true, false)
		}
	default: // C = A^T B^T
		if a.requiresGrad {
			ga = mm(b, g, true, true)
		}
		if b.requiresGrad {
			gb = mm(g, a, true, true)
		}
	}
	return []*Value{ga, gb}
}
