package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// rows returns rows [from, to) of t along dimension 0, as a copy.
func rows(t *tensor.Tensor, from, to int) *tensor.Tensor {
	return tensor.Slice(t, 0, from, to).Clone()
}

func cat(ts ...*tensor.Tensor) *tensor.Tensor { return tensor.Concat(ts, 0) }

func maxDiff(a, b *tensor.Tensor) float64 {
	d := 0.0
	for i, v := range a.Data() {
		d = math.Max(d, math.Abs(float64(v-b.Data()[i])))
	}
	return d
}

// TestVirtualBatchNormIgnoresBatchmates normalises the same example inside
// two batches of different companions: virtual batch norm gives it the same
// output both times, batch norm does not.
func TestVirtualBatchNormIgnoresBatchmates(t *testing.T) {
	for _, shape := range [][]int{{3}, {2, 3, 2}} {
		rng := tensor.NewRNG(21)
		const r = 5
		c := shape[0]
		ref := rng.Normal(1, 2, append([]int{r}, shape...)...)
		x := rng.Normal(0, 1, append([]int{1}, shape...)...)
		b1 := cat(x, rng.Normal(3, 1, append([]int{2}, shape...)...))
		b2 := cat(x, rng.Normal(-2, 4, append([]int{4}, shape...)...))

		v := NewVirtualBatchNorm(c, r)
		v.Weight.Data().CopyFrom(rng.Normal(1, 0.3, c))
		v.Bias.Data().CopyFrom(rng.Normal(0, 0.3, c))
		y1 := v.Forward(autograd.Const(cat(ref, b1))).Data()
		y2 := v.Forward(autograd.Const(cat(ref, b2))).Data()
		if d := maxDiff(rows(y1, r, r+1), rows(y2, r, r+1)); d > 1e-6 {
			t.Errorf("%v: virtual batch norm output of one example moved by %.3g with its batchmates", shape, d)
		}
		if d := maxDiff(rows(y1, 0, r), rows(y2, 0, r)); d > 1e-6 {
			t.Errorf("%v: reference rows' output moved by %.3g with the live batch", shape, d)
		}

		bn := NewBatchNorm1d(c)
		if len(shape) == 3 {
			bn = NewBatchNorm2d(c)
		}
		z1 := bn.Forward(autograd.Const(b1)).Data()
		z2 := bn.Forward(autograd.Const(b2)).Data()
		if d := maxDiff(rows(z1, 0, 1), rows(z2, 0, 1)); d < 0.1 {
			t.Errorf("%v: batch norm output of the example moved by only %.3g; the test's batches are too alike", shape, d)
		}
	}
}

// TestVirtualBatchNormMatchesBatchNorm checks the paper's definition: a
// live example's output is batch norm (training mode) of the reference
// batch plus that example, at the example's row; the reference rows' output
// is batch norm of the reference batch alone.
func TestVirtualBatchNormMatchesBatchNorm(t *testing.T) {
	cases := []struct {
		name  string
		shape []int // per-example shape [C, ...]
	}{
		{"[N, C]", []int{4}},
		{"[N, C, L]", []int{3, 5}},
		{"[N, C, H, W]", []int{2, 3, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(22)
			const r, n = 6, 3
			c := tc.shape[0]
			ref := rng.Normal(0.5, 2, append([]int{r}, tc.shape...)...)
			live := rng.Normal(-1, 1, append([]int{n}, tc.shape...)...)
			w, b := rng.Normal(1, 0.5, c), rng.Normal(0, 0.5, c)

			v := NewVirtualBatchNorm(c, r)
			v.Weight.Data().CopyFrom(w)
			v.Bias.Data().CopyFrom(b)
			y := v.Forward(autograd.Const(cat(ref, live))).Data()

			bn := NewBatchNorm1d(c)
			if len(tc.shape) == 3 {
				bn = NewBatchNorm2d(c)
			}
			bn.Weight.Data().CopyFrom(w)
			bn.Bias.Data().CopyFrom(b)
			if d := maxDiff(rows(y, 0, r), bn.Forward(autograd.Const(ref)).Data()); d > 1e-5 {
				t.Errorf("reference rows differ from batch norm of the reference batch by %.3g", d)
			}
			for i := range n {
				want := rows(bn.Forward(autograd.Const(cat(ref, rows(live, i, i+1)))).Data(), r, r+1)
				if d := maxDiff(rows(y, r+i, r+i+1), want); d > 1e-5 {
					t.Errorf("example %d differs from batch norm of reference + example by %.3g", i, d)
				}
			}
		})
	}
}

// TestVirtualBatch runs a small generator with virtual batch norm through
// the wrapper: a sample's output does not depend on the rest of its batch,
// the reference batch is part of the checkpointed state, and the gradient
// reaches the first layer's weights through the reference statistics too.
func TestVirtualBatch(t *testing.T) {
	rng := tensor.NewRNG(23)
	const r = 8
	net := NewSequential(NewLinear(3, 5, rng), NewVirtualBatchNorm(5, r), ReLU{}, NewLinear(5, 4, rng), NewVirtualBatchNorm(4, r), Tanh{})
	g := NewVirtualBatch(net, rng.Normal(0, 1, r, 3))

	z := rng.Normal(0, 1, 1, 3)
	y1 := g.Forward(autograd.Const(cat(z, rng.Normal(0, 1, 5, 3)))).Data()
	y2 := g.Forward(autograd.Const(cat(z, rng.Normal(2, 3, 2, 3)))).Data()
	if y1.Size(0) != 6 || y2.Size(0) != 3 || y1.Size(1) != 4 {
		t.Fatalf("output shapes %v, %v; want [6 4], [3 4]", y1.Shape(), y2.Shape())
	}
	if d := maxDiff(rows(y1, 0, 1), rows(y2, 0, 1)); d > 1e-6 {
		t.Fatalf("a sample's output moved by %.3g with its batchmates", d)
	}

	st := State(g)
	last := st[len(st)-1]
	if last.Name != "reference_batch" || last.Tensor != g.Ref {
		t.Fatalf("last state entry %q, want reference_batch", last.Name)
	}
	if len(g.Params("gen")) != len(net.Params("gen")) || g.Params("gen")[0].Name != "gen.0.weight" {
		t.Fatalf("params %v should be the network's, under its names", g.Params("gen"))
	}

	// The reference rows alone decide the statistics' gradient: with the
	// live sample's loss only, the first Linear still gets the part that
	// flows through mu_ref and var_ref. Check it against the same loss with
	// the reference statistics detached.
	lin := net.Layers[0].(*Linear)
	loss := func(detachRef bool) *tensor.Tensor {
		lin.Weight.ZeroGrad()
		x := autograd.Concat([]*autograd.Value{autograd.Const(g.Ref), autograd.Const(z)}, 0)
		h := lin.Forward(x)
		if detachRef {
			h = autograd.Concat([]*autograd.Value{autograd.Slice(h, 0, 0, r).Detach(), autograd.Slice(h, 0, r, r+1)}, 0)
		}
		out := net.Layers[1].Forward(h)
		autograd.Backward(autograd.Sum(autograd.Square(autograd.Slice(out, 0, r, r+1)), nil, false))
		return lin.Weight.Grad().Clone()
	}
	if d := maxDiff(loss(false), loss(true)); d < 1e-3 {
		t.Fatalf("no gradient flows through the reference statistics (difference %.3g)", d)
	}
}

// TestVirtualBatchNormGradCheck checks first and second derivatives with
// respect to the input (reference rows included) and the affine
// parameters, and through the wrapper with respect to a Linear's weights.
func TestVirtualBatchNormGradCheck(t *testing.T) {
	runLayerCases(t, virtualBatchNormCases(24), 0)
}

// virtualBatchNormCases draws the virtual batch norm's gradient checks
// from seed.
func virtualBatchNormCases(seed uint64) []layerCase {
	rng := tensor.NewRNG(seed)
	vbn := func(r int) func(x []*autograd.Value) *autograd.Value {
		return func(x []*autograd.Value) *autograd.Value {
			v := &VirtualBatchNorm{Weight: x[1], Bias: x[2], Ref: r, Eps: 1e-5}
			return autograd.Square(v.Forward(x[0]))
		}
	}
	ref := randn(rng, 3, 2)
	return []layerCase{
		{"VirtualBatchNorm/[N, C]", []*tensor.Tensor{randn(rng, 5, 3), randn(rng, 3), randn(rng, 3)}, vbn(3)},
		{"VirtualBatchNorm/[N, C, H, W]", []*tensor.Tensor{randn(rng, 4, 2, 2, 3), randn(rng, 2), randn(rng, 2)}, vbn(2)},
		{"VirtualBatchNorm/[N, C, L]", []*tensor.Tensor{randn(rng, 3, 2, 3), randn(rng, 2), randn(rng, 2)}, vbn(1)},
		{"VirtualBatch", []*tensor.Tensor{randn(rng, 2, 2), randn(rng, 4, 2), randn(rng, 4), randn(rng, 4), randn(rng, 4)},
			func(x []*autograd.Value) *autograd.Value {
				net := NewSequential(&Linear{Weight: x[1], Bias: x[2]}, &VirtualBatchNorm{Weight: x[3], Bias: x[4], Ref: 3, Eps: 1e-5}, Tanh{})
				return NewVirtualBatch(net, ref).Forward(x[0])
			}},
	}
}

func TestVirtualBatchNormPanicsOnShape(t *testing.T) {
	v := NewVirtualBatchNorm(3, 4)
	g := NewVirtualBatch(NewSequential(NewLinear(2, 3, tensor.NewRNG(1)), v), tensor.New(4, 2))
	cases := []struct {
		name, want string
		f          func()
	}{
		{"channels", "nn.VirtualBatchNorm", func() { v.Forward(autograd.Const(tensor.New(6, 2))) }},
		{"no live rows", "nn.VirtualBatchNorm", func() { v.Forward(autograd.Const(tensor.New(4, 3))) }},
		{"rank", "nn.VirtualBatchNorm", func() { v.Forward(autograd.Const(tensor.New(6, 3, 1, 1, 1))) }},
		{"constructor", "nn.NewVirtualBatchNorm", func() { NewVirtualBatchNorm(3, 0) }},
		{"wrapper", "nn.VirtualBatch", func() { g.Forward(autograd.Const(tensor.New(2, 3))) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, c.want) {
					t.Fatalf("panic %v, want one naming %s", r, c.want)
				}
			}()
			c.f()
		})
	}
}
