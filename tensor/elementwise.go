package tensor

import (
	"fmt"
	"math"
)

// BroadcastShapes returns the NumPy broadcast of two shapes, and panics
// naming op if they are incompatible.
func BroadcastShapes(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("tensor.%s: shapes %v and %v do not broadcast", op, a, b))
		}
	}
	return out
}

// bstrides returns the strides with which a tensor of shape s is read when
// broadcast to out: 0 on broadcast dimensions.
func bstrides(s, out []int) []int {
	st := stridesOf(s)
	r := make([]int, len(out))
	for i := range out {
		j := len(s) - len(out) + i
		if j >= 0 && s[j] != 1 {
			r[i] = st[j]
		}
	}
	return r
}

// walk2 calls row for each innermost run of out, giving the starting offsets
// in a and b and their inner strides. out is contiguous. Dimensions that a
// and b both step through as one are merged first, so runs are as long as
// the layouts allow (a bias [1, C, 1, 1] on [N, C, H, W] runs over H*W).
func walk2(out, sa, sb []int, row func(o, ia, ib, n, ja, jb int)) {
	if numel(out) == 0 {
		return
	}
	out, sa, sb = coalesce(out, sa, sb)
	nd := len(out)
	if nd == 0 {
		row(0, 0, 0, 1, 0, 0)
		return
	}
	inner := out[nd-1]
	idx := make([]int, nd-1)
	ia, ib, o := 0, 0, 0
	for {
		row(o, ia, ib, inner, sa[nd-1], sb[nd-1])
		o += inner
		d := nd - 2
		for ; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * out[d]
			ib -= sb[d] * out[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// coalesce drops dimensions of length 1 and merges each dimension into the
// one before it when both a and b step through the pair as one (outer
// stride = inner stride * inner length).
func coalesce(out, sa, sb []int) (co, ca, cb []int) {
	nd := len(out)
	buf := make([]int, 3*nd)
	co, ca, cb = buf[:0:nd], buf[nd:nd:2*nd], buf[2*nd:2*nd:3*nd]
	for d, n := range out {
		if n == 1 {
			continue
		}
		if k := len(co) - 1; k >= 0 && ca[k] == sa[d]*n && cb[k] == sb[d]*n {
			co[k] *= n
			ca[k], cb[k] = sa[d], sb[d]
			continue
		}
		co, ca, cb = append(co, n), append(ca, sa[d]), append(cb, sb[d])
	}
	return co, ca, cb
}

// binary applies f elementwise with broadcasting.
func binary(op string, a, b *Tensor, f func(x, y float32) float32) *Tensor {
	if SameShape(a.shape, b.shape) {
		out := empty(a.shape...)
		bd := b.data[:len(a.data)]
		for i, x := range a.data {
			out.data[i] = f(x, bd[i])
		}
		return out
	}
	shape := BroadcastShapes(op, a.shape, b.shape)
	out := empty(shape...)
	sa, sb := bstrides(a.shape, shape), bstrides(b.shape, shape)
	walk2(shape, sa, sb, func(o, ia, ib, n, ja, jb int) {
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
		bd := b.data[:len(a.data)]
		for i, x := range a.data {
			out.data[i] = x + bd[i]
		}
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
		bd := b.data[:len(a.data)]
		for i, x := range a.data {
			out.data[i] = x - bd[i]
		}
		return out
	}
	return binaryRowsOrdered("Sub", a, b, func(x, y float32) float32 { return x - y },
		func(out, x, y []float32) {
			y = y[:len(x)]
			for i := range out {
				out[i] = x[i] - y[i]
			}
		},
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
	walk2(shape, sa, sb, func(o, ia, ib, n, ja, jb int) {
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
		bd := b.data[:len(a.data)]
		for i, x := range a.data {
			out.data[i] = x * bd[i]
		}
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
		bd := b.data[:len(a.data)]
		for i, x := range a.data {
			out.data[i] = x / bd[i]
		}
		return out
	}
	return binaryRowsOrdered("Div", a, b, func(x, y float32) float32 { return x / y },
		func(out, x, y []float32) {
			y = y[:len(x)]
			for i := range out {
				out[i] = x[i] / y[i]
			}
		},
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

// Map returns f applied to every element of a.
func Map(a *Tensor, f func(float32) float32) *Tensor {
	out := empty(a.shape...)
	for i, x := range a.data {
		out.data[i] = f(x)
	}
	return out
}

// Neg returns -a.
func Neg(a *Tensor) *Tensor {
	out := empty(a.shape...)
	for i, x := range a.data {
		out.data[i] = -x
	}
	return out
}

// Scale returns s * a.
func Scale(a *Tensor, s float32) *Tensor {
	out := empty(a.shape...)
	for i, x := range a.data {
		out.data[i] = s * x
	}
	return out
}

// AddScalar returns a + s.
func AddScalar(a *Tensor, s float32) *Tensor {
	out := empty(a.shape...)
	for i, x := range a.data {
		out.data[i] = x + s
	}
	return out
}

// SlopeMask returns 1 where a > 0 and slope elsewhere: the derivative of
// a leaky ReLU, taking slope at 0.
func SlopeMask(a *Tensor, slope float32) *Tensor {
	out := empty(a.shape...)
	one, s := math.Float32bits(1), math.Float32bits(slope)
	o := out.data[:len(a.data)]
	for i, x := range a.data {
		o[i] = math.Float32frombits(s ^ (one^s)&positiveMask(x))
	}
	return out
}

// positiveMask returns all ones when x > 0 (NaN is not) and zero
// otherwise, without a branch: on activations, whose signs are random, a
// branch mispredicts half the time and makes these loops about 5x slower.
func positiveMask(x float32) uint32 {
	u := int64(math.Float32bits(x))
	a := int64(int32(u)) - 1 // >= 0 iff the sign is clear and x is not +0
	b := 0x7f800000 - u      // >= 0 iff x is not NaN and not negative
	return uint32(^((a | b) >> 63))
}

// Exp returns e^a elementwise.
func Exp(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Exp(float64(x))) })
}

// Log returns the natural logarithm elementwise.
func Log(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Log(float64(x))) })
}

// Log1p returns log(1 + a) elementwise, accurate for small a.
func Log1p(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Log1p(float64(x))) })
}

// Sqrt returns the square root elementwise.
func Sqrt(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Sqrt(float64(x))) })
}

// Pow returns a^p elementwise for a constant exponent p.
func Pow(a *Tensor, p float32) *Tensor {
	switch p {
	case 2:
		return Map(a, func(x float32) float32 { return x * x })
	case 1:
		return a.Clone()
	}
	return Map(a, func(x float32) float32 { return float32(math.Pow(float64(x), float64(p))) })
}

// Abs returns |a| elementwise.
func Abs(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Abs(float64(x))) })
}

// Sign returns -1, 0 or 1 elementwise.
func Sign(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	})
}

// Tanh returns the hyperbolic tangent elementwise.
func Tanh(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Tanh(float64(x))) })
}

// Sigmoid returns 1/(1+e^-a) elementwise, computed without overflow.
func Sigmoid(a *Tensor) *Tensor { return Map(a, sigmoid) }

func sigmoid(x float32) float32 {
	if x >= 0 {
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	e := math.Exp(float64(x))
	return float32(e / (1 + e))
}

// Softplus returns log(1+e^a) elementwise, computed without overflow.
func Softplus(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 {
		v := float64(x)
		return float32(math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v))))
	})
}

// Erf returns the error function elementwise.
func Erf(a *Tensor) *Tensor {
	return Map(a, func(x float32) float32 { return float32(math.Erf(float64(x))) })
}

// Relu returns max(a, 0) elementwise.
func Relu(a *Tensor) *Tensor {
	out := empty(a.shape...)
	o := out.data[:len(a.data)]
	for i, x := range a.data {
		o[i] = max(x, 0) // branch-free; NaN stays NaN
	}
	return out
}

// Step returns 1 where a > 0 and 0 elsewhere: the derivative of Relu, whose
// subgradient at 0 is taken as 0 like PyTorch.
func Step(a *Tensor) *Tensor {
	out := empty(a.shape...)
	one := math.Float32bits(1)
	o := out.data[:len(a.data)]
	for i, x := range a.data {
		o[i] = math.Float32frombits(one & positiveMask(x))
	}
	return out
}

// AddInPlace adds b (same shape) into a.
func AddInPlace(a, b *Tensor) {
	if len(a.data) != len(b.data) {
		panic(fmt.Sprintf("tensor.AddInPlace: shapes %v and %v", a.shape, b.shape))
	}
	bd := b.data[:len(a.data)]
	for i := range a.data {
		a.data[i] += bd[i]
	}
}

// Axpy computes a += alpha*b in place (same shape).
func Axpy(alpha float32, b, a *Tensor) {
	if len(a.data) != len(b.data) {
		panic(fmt.Sprintf("tensor.Axpy: shapes %v and %v", a.shape, b.shape))
	}
	bd := b.data[:len(a.data)]
	for i := range a.data {
		a.data[i] += alpha * bd[i]
	}
}

// ScaleInPlace multiplies a by s in place.
func ScaleInPlace(a *Tensor, s float32) {
	for i := range a.data {
		a.data[i] *= s
	}
}
