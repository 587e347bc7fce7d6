package autograd

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func init() {
	bn := func(x []*Value) *Value {
		y, _, _ := BatchNorm(x[0], x[1], x[2], 1e-5)
		return Mul(y, y)
	}
	addCases(
		gradCase{op: "batch_norm", shapes: [][]int{{4, 3, 2, 2}, {3}, {3}}, f: bn},
		gradCase{op: "batch_norm", shapes: [][]int{{5, 3}, {3}, {3}}, f: bn},
		gradCase{op: "batch_norm", shapes: [][]int{{3, 2, 4}}, f: func(x []*Value) *Value {
			y, _, _ := BatchNorm(x[0], nil, nil, 1e-5)
			return Mul(y, Tanh(y))
		}},
	)
}

// TestBatchNormMatchesComposed: the fused op and the composed formula give
// the same output, statistics and first- and second-order gradients; the
// first order compares the fused backward kernel with the composed
// formula's gradient.
func TestBatchNormMatchesComposed(t *testing.T) {
	rng := tensor.NewRNG(3)
	x := Param(rng.Normal(0.5, 2, 6, 4, 3, 3))
	w := Param(rng.Normal(1, 0.2, 4))
	b := Param(rng.Normal(0, 0.2, 4))
	y, mean, variance := BatchNorm(x, w, b, 1e-5)
	yc := BatchNormComposed(x, w, b, 1e-5)
	close := func(what string, a, c *tensor.Tensor) {
		t.Helper()
		for i, v := range a.Data() {
			if d := math.Abs(float64(v - c.Data()[i])); d > 1e-4*(1+math.Abs(float64(c.Data()[i]))) {
				t.Fatalf("%s[%d]: fused %g, composed %g", what, i, v, c.Data()[i])
			}
		}
	}
	close("y", y.Data(), yc.Data())
	m := Mean(x, []int{0, 2, 3}, false)
	close("mean", mean, m.Data())
	r := Const(rng.Normal(0, 1, y.Shape()...))
	ins := []*Value{x, w, b}
	// First order without createGraph runs the fused backward kernel
	// (tensor.BatchNormBackward); with createGraph BatchNorm differentiates
	// the composed formula instead, so only this comparison tests the kernel.
	g := Grad([]*Value{Sum(Mul(y, r), nil, false)}, ins, nil, false)
	gc := Grad([]*Value{Sum(Mul(yc, r), nil, false)}, ins, nil, false)
	for i := range g {
		close("grad", g[i].Data(), gc[i].Data())
	}
	// Second order: through the fused op it is the composed formula's by
	// construction; this checks the rerouting (and that it keeps w and b).
	g2 := Grad([]*Value{Sum(Mul(y, r), nil, false)}, ins, nil, true)
	gc2 := Grad([]*Value{Sum(Mul(yc, r), nil, false)}, ins, nil, true)
	for i := range g2 {
		close("grad with createGraph", g2[i].Data(), g[i].Data())
	}
	h := Grad([]*Value{Sum(Mul(g2[0], g2[0]), nil, false)}, ins, nil, false)
	hc := Grad([]*Value{Sum(Mul(gc2[0], gc2[0]), nil, false)}, ins, nil, false)
	for i := range h {
		if (h[i] == nil) != (hc[i] == nil) {
			t.Fatalf("second order, input %d: fused nil %v, composed nil %v", i, h[i] == nil, hc[i] == nil)
		}
		if h[i] != nil {
			close("second order", h[i].Data(), hc[i].Data())
		}
	}
	if variance.Len() != 4 {
		t.Fatalf("variance shape %v", variance.Shape())
	}
}
