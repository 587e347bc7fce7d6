package tensor

import (
	"fmt"
)

func binary(op string, a, b *Tensor, f func(x, y float32) float32) *Tensor {
	if SameShape(a.shape, b.shape) {
		out := empty(a.shape...)
		zip(out.data, a.data, b.data, func(out, x, y []float32) {
			y = y[:len(x)]
			for i := range out {
				out[i] = f(x[i], y[i])
			}
		})
		return out
	}
	shape := BroadcastShapes(op, a.shape, b.shape)
	out := empty(shape...)
	sa, sb := bstrides(a.shape, shape), bstrides(b.shape, shape)
	walk2Par(shape, sa, sb, func(o, ia, ib, n, ja, jb int) {
		od := out.data[o : o+n]
		for i := range od {
			od[i] = f(a.data[ia+i*ja], b.data[ib+i*jb])
		}
	})
	return out
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor {
	if SameShape(a.shape, b.shape) {
		out := empty(a.shape...)
		zip(out.data, a.data, b.data, addRow)
		return out
	}
	return binaryRows("Add", a, b, func(x, y float32) float32 { return x + y }, addRow, addScalarRow)
}

func addRow(out, x, y []float32) {
	y = y[:len(x)]
	for i := range out {
		out[i] = x[i] + y[i]
	}
}

func addScalarRow(out, x []float32, y float32) {
	for i := range out {
		out[i] = x[i] + y
	}
}

// binaryRows is binary for a commutative op whose inner loops are written
// out, so that nothing is called per element: vv for two contiguous runs,
// vs for a run against one broadcast value (from either side).
func binaryRows(op string, a, b *Tensor, f func(x, y float32) float32,
	vv func(out, x, y []float32), vs func(out, x []float32, y float32)) *Tensor {
	return binaryRowsOrdered(op, a, b, f, vv, vs, func(out []float32, x float32, y []float32) { vs(out, y, x) })
}

// Sub returns a - b with broadcasting.
func Sub(a, b *Tensor) *Tensor {
	if SameShape(a.shape, b.shape) {
		out := empty(a.shape...)
		zip(out.data, a.data, b.data, subRow)
		return out
	}
	return binaryRowsOrdered("Sub", a, b, func(x, y float32) float32 { return x - y }, subRow,
		func(out, x []float32, y float32) {
			for i := range out {
				out[i] = x[i] - y
			}
		},
		func(out []float32, x float32, y []float32) {
			for i := range out {
				out[i] = x - y[i]
			}
		})
}

// binaryRowsOrdered is binaryRows for an op that does not commute: vs is
// a run against a broadcast right operand, sv a broadcast left operand
// against a run.
func binaryRowsOrdered(op string, a, b *Tensor, f func(x, y float32) float32,
	vv func(out, x, y []float32), vs func(out, x []float32, y float32), sv func(out []float32, x float32, y []float32)) *Tensor {
	shape := BroadcastShapes(op, a.shape, b.shape)
	out := empty(shape...)
	sa, sb := bstrides(a.shape, shape), bstrides(b.shape, shape)
	walk2Par(shape, sa, sb, func(o, ia, ib, n, ja, jb int) {
		od := out.data[o : o+n]
		switch {
		case ja == 1 && jb == 1:
			vv(od, a.data[ia:ia+n], b.data[ib:ib+n])
		case ja == 1 && jb == 0:
			vs(od, a.data[ia:ia+n], b.data[ib])
		case ja == 0 && jb == 1:
			sv(od, a.data[ia], b.data[ib:ib+n])
		default:
			for i := range od {
				od[i] = f(a.data[ia+i*ja], b.data[ib+i*jb])
			}
		}
	})
	return out
}

// Mul returns a * b elementwise with broadcasting.
func Mul(a, b *Tensor) *Tensor {
	if SameShape(a.shape, b.shape) {
		out := empty(a.shape...)
		zip(out.data, a.data, b.data, mulRow)
		return out
	}
	return binaryRows("Mul", a, b, func(x, y float32) float32 { return x * y }, mulRow, mulScalarRow)
}

func mulRow(out, x, y []float32) {
	y = y[:len(x)]
	for i := range out {
		out[i] = x[i] * y[i]
	}
}

func mulScalarRow(out, x []float32, y float32) {
	for i := range out {
		out[i] = x[i] * y
	}
}

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Tensor) *Tensor {
	if SameShape(a.shape, b.shape) {
		out := empty(a.shape...)
		zip(out.data, a.data, b.data, divRow)
		return out
	}
	return binaryRowsOrdered("Div", a, b, func(x, y float32) float32 { return x / y }, divRow,
		func(out, x []float32, y float32) {
			// x / y, not x * (1/y): the two can differ in the last bit.
			for i := range out {
				out[i] = x[i] / y
			}
		},
		func(out []float32, x float32, y []float32) {
			for i := range out {
				out[i] = x / y[i]
			}
		})
}

// Maximum returns the elementwise larger of a and b, with broadcasting.
func Maximum(a, b *Tensor) *Tensor {
	return binary("Maximum", a, b, func(x, y float32) float32 { return max(x, y) })
}

// Minimum returns the elementwise smaller of a and b, with broadcasting.
func Minimum(a, b *Tensor) *Tensor {
	return binary("Minimum", a, b, func(x, y float32) float32 { return min(x, y) })
}

// Greater returns 1 where a > b and 0 elsewhere, with broadcasting.
func Greater(a, b *Tensor) *Tensor {
	return binary("Greater", a, b, func(x, y float32) float32 { return b2f(x > y) })
}

// GreaterEqual returns 1 where a >= b and 0 elsewhere, with broadcasting.
func GreaterEqual(a, b *Tensor) *Tensor {
	return binary("GreaterEqual", a, b, func(x, y float32) float32 { return b2f(x >= y) })
}

// Equal returns 1 where a == b and 0 elsewhere, with broadcasting.
func Equal(a, b *Tensor) *Tensor {
	return binary("Equal", a, b, func(x, y float32) float32 { return b2f(x == y) })
}

// Where returns a where cond is non-zero and b elsewhere; all three must
// have the same shape.
func Where(cond, a, b *Tensor) *Tensor {
	if !SameShape(cond.shape, a.shape) || !SameShape(a.shape, b.shape) {
		panic(fmt.Sprintf("tensor.Where: shapes %v, %v, %v differ", cond.shape, a.shape, b.shape))
	}
	out := empty(a.shape...)
	for i, c := range cond.data {
		if c != 0 {
			out.data[i] = a.data[i]
		} else {
			out.data[i] = b.data[i]
		}
	}
	return out
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// AddInPlace adds b into a, element by element in storage order. Only the
// element counts are checked (it panics naming the shapes if they differ),
// so a and b may be two shapes of one size.
func AddInPlace(a, b *Tensor) {
	if len(a.data) != len(b.data) {
		panic(fmt.Sprintf("tensor.AddInPlace: shapes %v and %v", a.shape, b.shape))
	}
	zip(a.data, a.data, b.data, addRow)
}

// Axpy computes a += alpha*b in place (same shape).
func Axpy(alpha float32, b, a *Tensor) {
	if len(a.data) != len(b.data) {
		panic(fmt.Sprintf("tensor.Axpy: shapes %v and %v", a.shape, b.shape))
	}
	zip(a.data, a.data, b.data, func(out, x, y []float32) {
		y = y[:len(x)]
		for i := range out {
			out[i] = x[i] + alpha*y[i]
		}
	})
}

// ScaleInPlace multiplies a by s in place.
func ScaleInPlace(a *Tensor, s float32) {
	each(a.data, a.data, func(out, x []float32) {
		for i := range out {
			out[i] = x[i] * s
		}
	})
}

func subRow(out, x, y []float32) {
	y = y[:len(x)]
	for i := range out {
		out[i] = x[i] - y[i]
	}
}

func divRow(out, x, y []float32) {
	y = y[:len(x)]
	for i := range out {
		out[i] = x[i] / y[i]
	}
}
