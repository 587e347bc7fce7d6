package autograd

import (
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// The ops in this file are compositions of primitives: they need no backward
// of their own, and gradients of any order come from the primitives'.

// count returns how many elements axes (nil: all) cover in a.
func count(a *Value, axes []int) int {
	n := a.data.Len()
	k := tensor.ReducedShape(a.data, axes, true)
	m := 1
	for _, d := range k {
		m *= d
	}
	if m == 0 {
		return 0
	}
	return n / m
}

// Mean averages a over axes (nil: all).
func Mean(a *Value, axes []int, keep bool) *Value {
	return Scale(Sum(a, axes, keep), 1/float32(count(a, axes)))
}

// Var is the biased (divide by n) variance over axes, as batch norm uses.
func Var(a *Value, axes []int, keep bool) *Value {
	d := Sub(a, Mean(a, axes, true))
	return Mean(Mul(d, d), axes, keep)
}

// Square returns a*a.
func Square(a *Value) *Value { return Mul(a, a) }

// Min takes the minimum over axes (nil: all), as -Max(-a).
func Min(a *Value, axes []int, keep bool) *Value { return Neg(Max(Neg(a), axes, keep)) }

// LogSumExp returns log(sum(exp(a))) over axes, stabilised by subtracting the
// (detached) maximum.
func LogSumExp(a *Value, axes []int, keep bool) *Value {
	m := Max(a, axes, true).Detach()
	// A row of -Inf would give NaN from -Inf - -Inf; shift by 0 there.
	m = Const(tensor.Map(m.data, func(x float32) float32 {
		if math.IsInf(float64(x), 0) {
			return 0
		}
		return x
	}))
	s := Log(Sum(Exp(Sub(a, m)), axes, true))
	out := Add(s, m)
	if keep {
		return out
	}
	return Reshape(out, tensor.ReducedShape(a.data, axes, false)...)
}

// Softmax over axis: exp(a - max) / sum(exp(a - max)).
func Softmax(a *Value, axis int) *Value {
	e := Exp(Sub(a, Max(a, []int{axis}, true).Detach()))
	return Div(e, Sum(e, []int{axis}, true))
}

// LogSoftmax over axis: a - logsumexp(a).
func LogSoftmax(a *Value, axis int) *Value {
	return Sub(a, LogSumExp(a, []int{axis}, true))
}

// Stack joins same-shaped values along a new axis.
func Stack(vs []*Value, axis int) *Value {
	r := make([]*Value, len(vs))
	for i, v := range vs {
		s := shapeOf(v)
		ax := axis
		if ax < 0 {
			ax += len(s) + 1
		}
		ns := append(append(append([]int{}, s[:ax]...), 1), s[ax:]...)
		r[i] = Reshape(v, ns...)
	}
	return Concat(r, axis)
}

// ReflectPad2d pads the last two dimensions by reflection (top, bottom,
// left, right), like torch.nn.ReflectionPad2d, through Gather.
func ReflectPad2d(a *Value, top, bottom, left, right int) *Value {
	idx, shape := tensor.ReflectIndex(a.Shape(), top, bottom, left, right)
	return Gather(a, idx, shape...)
}

// Transpose swaps the last two dimensions.
func Transpose(a *Value) *Value {
	n := len(a.Shape())
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	perm[n-1], perm[n-2] = n-2, n-1
	return Permute(a, perm...)
}

// Flatten reshapes [N, ...] to [N, prod(...)].
func Flatten(a *Value) *Value { return Reshape(a, a.Shape()[0], -1) }

// ELU returns a where a > 0 and alpha(e^a - 1) elsewhere.
func ELU(a *Value, alpha float32) *Value {
	pos := Relu(a)
	neg := Scale(AddScalar(Exp(Neg(Relu(Neg(a)))), -1), alpha)
	return Add(pos, neg)
}

// GELU returns a * Phi(a) with the exact normal CDF, like PyTorch's default.
func GELU(a *Value) *Value {
	phi := Scale(AddScalar(Erf(Scale(a, float32(1/math.Sqrt2))), 1), 0.5)
	return Mul(a, phi)
}

// Clamp limits a to [lo, hi]; the gradient is 0 outside.
func Clamp(a *Value, lo, hi float32) *Value {
	return Minimum(Maximum(a, Scalar(lo)), Scalar(hi))
}

// Norm returns the Euclidean norm of each row of a after flattening all but
// the first dimension: the per-sample norm of a gradient penalty. eps keeps
// the derivative finite at 0.
func Norm(a *Value, eps float32) *Value {
	f := Flatten(a)
	return Sqrt(AddScalar(Sum(Mul(f, f), []int{1}, false), eps))
}
