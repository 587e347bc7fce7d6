package autograd

import "github.com/kallima-gan/kallima/tensor"

var (
	opAdd       = register("add")
	opSub       = register("sub")
	opMul       = register("mul")
	opDiv       = register("div")
	opNeg       = register("neg")
	opScale     = register("scale")
	opAddScalar = register("add_scalar")
)

// Add returns a + b with NumPy broadcasting. d/da = 1, d/db = 1.
func Add(a, b *Value) *Value {
	return record(opAdd, tensor.Add(a.data, b.data), []*Value{a, b}, func(g *Value) []*Value {
		return []*Value{g, g}
	})
}

// Sub returns a - b with broadcasting. d/da = 1, d/db = -1.
func Sub(a, b *Value) *Value {
	return record(opSub, tensor.Sub(a.data, b.data), []*Value{a, b}, func(g *Value) []*Value {
		return []*Value{g, Neg(g)}
	})
}

// Mul returns a * b elementwise with broadcasting. d/da = b, d/db = a.
func Mul(a, b *Value) *Value {
	return record(opMul, tensor.Mul(a.data, b.data), []*Value{a, b}, func(g *Value) []*Value {
		var ga, gb *Value
		if a.requiresGrad {
			ga = Mul(g, b)
		}
		if b.requiresGrad {
			gb = Mul(g, a)
		}
		return []*Value{ga, gb}
	})
}

// Div returns a / b elementwise with broadcasting. d/da = 1/b,
// d/db = -a/b^2.
func Div(a, b *Value) *Value {
	return record(opDiv, tensor.Div(a.data, b.data), []*Value{a, b}, func(g *Value) []*Value {
		ga := Div(g, b)
		var gb *Value
		if b.requiresGrad {
			gb = Neg(Div(Mul(ga, a), b))
		}
		return []*Value{ga, gb}
	})
}

// Neg returns -a.
func Neg(a *Value) *Value {
	return record(opNeg, tensor.Neg(a.data), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Neg(g)}
	})
}

// Scale returns s * a for a constant s.
func Scale(a *Value, s float32) *Value {
	return record(opScale, tensor.Scale(a.data, s), []*Value{a}, func(g *Value) []*Value {
		return []*Value{Scale(g, s)}
	})
}

// AddScalar returns a + s for a constant s.
func AddScalar(a *Value, s float32) *Value {
	return record(opAddScalar, tensor.AddScalar(a.data, s), []*Value{a}, func(g *Value) []*Value {
		return []*Value{g}
	})
}
