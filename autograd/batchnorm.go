package autograd

import "github.com/kallima-gan/kallima/tensor"

var opBatchNorm = register("batch_norm")

// BatchNorm normalises x [N, C, ...] per channel (dimension 1) with its own
// batch statistics and applies the optional per-channel scale w and shift b
// ([C] each, nil for none):
//
//	y = (x - mean) / sqrt(var + eps) * w + b
//
// with the biased variance, as batch norm does in training mode (Ioffe &
// Szegedy 2015, arXiv:1502.03167); the gradient flows through the
// statistics. It also returns the batch mean and biased variance [C], for
// running statistics. The forward pass and the first-order backward are the
// fused kernels of tensor/fused.go; when the backward is itself recorded
// (createGraph), it differentiates BatchNormComposed instead, so gradients
// of every order are those of the composed formula, which is also the
// test oracle.
func BatchNorm(x, w, b *Value, eps float64) (y *Value, mean, variance *tensor.Tensor) {
	mean, variance = tensor.BatchNormStats(x.data)
	invstd := tensor.BatchNormInvStd(variance, eps)
	var wd, bd *tensor.Tensor
	inputs := []*Value{x}
	if w != nil {
		wd = w.data
		inputs = append(inputs, w)
	}
	if b != nil {
		bd = b.data
		inputs = append(inputs, b)
	}
	out := tensor.BatchNormNormalize(x.data, mean, invstd, wd, bd)
	y = record(opBatchNorm, out, inputs, func(g *Value) []*Value {
		if gradEnabled {
			// Higher order: differentiate the composition.
			return Grad([]*Value{BatchNormComposed(x, w, b, eps)}, inputs, []*Value{g}, true)
		}
		dx, dw, db := tensor.BatchNormBackward(g.data, x.data, mean, invstd, wd)
		r := []*Value{Const(dx)}
		if w != nil {
			r = append(r, Const(dw))
		}
		if b != nil {
			r = append(r, Const(db))
		}
		return r
	})
	return y, mean, variance
}

// BatchNormComposed is BatchNorm's formula written with primitive ops: the
// oracle for the fused version and its higher-order gradients.
func BatchNormComposed(x, w, b *Value, eps float64) *Value {
	s := x.Shape()
	axes := []int{0}
	for i := 2; i < len(s); i++ {
		axes = append(axes, i)
	}
	mean := Mean(x, axes, true)
	d := Sub(x, mean)
	v := Mean(Mul(d, d), axes, true)
	y := Div(d, Sqrt(AddScalar(v, float32(eps))))
	cs := make([]int, len(s))
	for i := range cs {
		cs[i] = 1
	}
	cs[1] = s[1]
	if w != nil {
		y = Mul(y, Reshape(w, cs...))
	}
	if b != nil {
		y = Add(y, Reshape(b, cs...))
	}
	return y
}
