package tensor

import "math"

// Map returns f applied to every element of a. Large tensors are split
// across goroutines, so f may be called concurrently and must not keep state.
func Map(a *Tensor, f func(float32) float32) *Tensor {
	out := empty(a.shape...)
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = f(v)
		}
	})
	return out
}

// Neg returns -a.
func Neg(a *Tensor) *Tensor {
	out := empty(a.shape...)
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = -v
		}
	})
	return out
}

// Scale returns s * a.
func Scale(a *Tensor, s float32) *Tensor {
	out := empty(a.shape...)
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = s * v
		}
	})
	return out
}

// AddScalar returns a + s.
func AddScalar(a *Tensor, s float32) *Tensor {
	out := empty(a.shape...)
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = v + s
		}
	})
	return out
}

// SlopeMask returns 1 where a > 0 and slope elsewhere: the derivative of
// a leaky ReLU, taking slope at 0.
func SlopeMask(a *Tensor, slope float32) *Tensor {
	out := empty(a.shape...)
	one, s := math.Float32bits(1), math.Float32bits(slope)
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = math.Float32frombits(s ^ (one^s)&positiveMask(v))
		}
	})
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
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = max(v, 0) // branch-free; NaN stays NaN
		}
	})
	return out
}

// Step returns 1 where a > 0 and 0 elsewhere: the derivative of Relu, whose
// subgradient at 0 is taken as 0 like PyTorch.
func Step(a *Tensor) *Tensor {
	out := empty(a.shape...)
	one := math.Float32bits(1)
	each(out.data, a.data, func(out, x []float32) {
		out = out[:len(x)]
		for i, v := range x {
			out[i] = math.Float32frombits(one & positiveMask(v))
		}
	})
	return out
}
