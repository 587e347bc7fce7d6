package autograd

import (
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

var (
	opExp       = register("exp")
	opLog       = register("log")
	opLog1p     = register("log1p")
	opSqrt      = register("sqrt")
	opPow       = register("pow")
	opAbs       = register("abs")
	opTanh      = register("tanh")
	opSigmoid   = register("sigmoid")
	opSoftplus  = register("softplus")
	opErf       = register("erf")
	opRelu      = register("relu")
	opLeakyRelu = register("leaky_relu")
	// opLeakyReluGrad is the backward of relu and leaky_relu as one op.
	opLeakyReluGrad = register("leaky_relu_grad")
	opMaximum       = register("maximum")
	opMinimum       = register("minimum")
)

// Exp returns e^a. d/da = e^a (the saved output).
func Exp(a *Value) *Value {
	var out *Value
	out = record(opExp, tensor.Exp(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Mul(g, out)}
	})
	return out
}

// Log returns the natural log of a. d/da = 1/a.
func Log(a *Value) *Value {
	return record(opLog, tensor.Log(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Div(g, a)}
	})
}

// Log1p returns log(1+a), accurate near 0. d/da = 1/(1+a).
func Log1p(a *Value) *Value {
	return record(opLog1p, tensor.Log1p(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Div(g, AddScalar(a, 1))}
	})
}

// Sqrt returns the square root of a. d/da = 1/(2 sqrt a).
func Sqrt(a *Value) *Value {
	var out *Value
	out = record(opSqrt, tensor.Sqrt(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Div(Scale(g, 0.5), out)}
	})
	return out
}

// Pow returns a^p for a constant p. d/da = p a^(p-1).
func Pow(a *Value, p float32) *Value {
	return record(opPow, tensor.Pow(a.data, p), []*Value{a}, func(g *Value) []*Value {
		if p == 1 {
			return []*Value{g}
		}
		return []*Value{Mul(g, Scale(Pow(a, p-1), p))}
	})
}

// Abs returns |a|. d/da = sign(a), taking 0 at a = 0 like PyTorch.
func Abs(a *Value) *Value {
	return record(opAbs, tensor.Abs(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Mul(g, Const(tensor.Sign(a.data)))}
	})
}

// Tanh returns tanh(a). d/da = 1 - tanh(a)^2 (the saved output).
func Tanh(a *Value) *Value {
	var out *Value
	out = record(opTanh, tensor.Tanh(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Mul(g, Neg(AddScalar(Mul(out, out), -1)))}
	})
	return out
}

// Sigmoid returns 1/(1+e^-a). d/da = s(1-s) with s the saved output.
func Sigmoid(a *Value) *Value {
	var out *Value
	out = record(opSigmoid, tensor.Sigmoid(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Mul(g, Mul(out, AddScalar(Neg(out), 1)))}
	})
	return out
}

// Softplus returns log(1+e^a), without overflow. d/da = sigmoid(a).
func Softplus(a *Value) *Value {
	return record(opSoftplus, tensor.Softplus(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Mul(g, Sigmoid(a))}
	})
}

// Erf returns the error function of a. d/da = 2/sqrt(pi) e^(-a^2).
func Erf(a *Value) *Value {
	return record(opErf, tensor.Erf(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Mul(g, Scale(Exp(Neg(Mul(a, a))), float32(2/math.Sqrt(math.Pi))))}
	})
}

// Relu returns max(a, 0). d/da = 1 where a > 0, else 0 (0 at a = 0).
func Relu(a *Value) *Value {
	return record(opRelu, tensor.Relu(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{leakyReluGrad(g, a.data, 0)} // g times Step(a), in one pass
	})
}

// LeakyRelu returns a where a > 0 and slope*a elsewhere. d/da = 1 or slope
// (slope at a = 0).
func LeakyRelu(a *Value, slope float32) *Value {
	return record(opLeakyRelu, tensor.LeakyRelu(a.data, slope), []*Value{a}, func(g *Value) []*Value {
		return []*Value{leakyReluGrad(g, a.data, slope)}
	})
}

// leakyReluGrad is g times the leaky ReLU's derivative at x (1 where x > 0,
// slope elsewhere; slope 0 for ReLU): the same products as g times a mask
// of those values, without making the mask. It is linear in g and its own
// adjoint, so every order of gradient stays available; x gets none (the
// derivative is constant almost everywhere), as with a constant mask.
func leakyReluGrad(g *Value, x *tensor.Tensor, slope float32) *Value {
	return record(opLeakyReluGrad, tensor.LeakyReluGrad(g.data, x, slope), []*Value{g}, func(gg *Value) []*Value {
		return []*Value{leakyReluGrad(gg, x, slope)}
	})
}

// Maximum returns the elementwise larger of a and b with broadcasting. The
// gradient goes to a where a >= b and to b elsewhere.
func Maximum(a, b *Value) *Value {
	return record(opMaximum, tensor.Maximum(a.data, b.data), []*Value{a, b}, func(g *Value) []*Value {
		m := tensor.GreaterEqual(a.data, b.data)
		return []*Value{Mul(g, Const(m)), Mul(g, Const(tensor.AddScalar(tensor.Neg(m), 1)))}
	})
}

// Minimum returns the elementwise smaller of a and b with broadcasting. The
// gradient goes to a where a <= b and to b elsewhere.
func Minimum(a, b *Value) *Value {
	return record(opMinimum, tensor.Minimum(a.data, b.data), []*Value{a, b}, func(g *Value) []*Value {
		m := tensor.GreaterEqual(b.data, a.data)
		return []*Value{Mul(g, Const(m)), Mul(g, Const(tensor.AddScalar(tensor.Neg(m), 1)))}
	})
}
