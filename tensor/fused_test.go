package tensor_test

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// The fused kernels against their composed oracles: autograd compositions
// of primitive ops (values and gradients), run on the same inputs.

var fusedShapes = [][]int{
	{4, 3},          // BatchNorm1d input
	{5, 3, 7},       // [N, C, L]
	{3, 4, 5, 6},    // BatchNorm2d input
	{6, 40, 9, 9},   // large enough to run on several goroutines
	{2, 7000},       // wide [N, C]: parallel over channels
	{1, 1, 1, 1000}, // one channel
}

func closeTo(t *testing.T, what string, got *tensor.Tensor, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	g, w := got.Data(), want.Data()
	for i := range g {
		if d := math.Abs(float64(g[i]) - float64(w[i])); d > tol*(1+math.Abs(float64(w[i]))) || math.IsNaN(float64(g[i])) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, g[i], w[i])
		}
	}
}

func TestLeakyRelu(t *testing.T) {
	for si, shape := range fusedShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			rng := tensor.NewRNG(uint64(si + 1))
			x := rng.Normal(0, 1, shape...)
			x.Data()[0] = 0 // the kink: slope, like autograd.LeakyRelu
			r := rng.Normal(0, 1, shape...)
			xv := autograd.Param(x)
			y := autograd.LeakyRelu(xv, 0.2)
			gx := autograd.Grad([]*autograd.Value{autograd.Sum(autograd.Mul(y, autograd.Const(r)), nil, false)}, []*autograd.Value{xv}, nil, false)[0]
			closeTo(t, "LeakyRelu", tensor.LeakyRelu(x, 0.2), y.Data(), 0)
			closeTo(t, "LeakyReluGrad", tensor.LeakyReluGrad(r, x, 0.2), gx.Data(), 0)
		})
	}
}

func TestLeakyReluGradPanicsOnShape(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	tensor.LeakyReluGrad(tensor.New(2, 3), tensor.New(3, 2), 0.2)
}

// composedBatchNorm is batch norm in training mode from primitive ops:
// (x - mean) / sqrt(var + eps) * w + b over every axis but 1.
func composedBatchNorm(x, w, b *autograd.Value, eps float32) (y, mean, variance *autograd.Value) {
	shape := x.Shape()
	axes := []int{0}
	for i := 2; i < len(shape); i++ {
		axes = append(axes, i)
	}
	cs := make([]int, len(shape))
	for i := range cs {
		cs[i] = 1
	}
	cs[1] = shape[1]
	mean = autograd.Mean(x, axes, true)
	d := autograd.Sub(x, mean)
	variance = autograd.Mean(autograd.Mul(d, d), axes, true)
	y = autograd.Div(d, autograd.Sqrt(autograd.AddScalar(variance, eps)))
	y = autograd.Add(autograd.Mul(y, autograd.Reshape(w, cs...)), autograd.Reshape(b, cs...))
	return y, mean, variance
}

func TestBatchNormAgainstComposed(t *testing.T) {
	const eps = 1e-5
	for si, shape := range fusedShapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			rng := tensor.NewRNG(uint64(10 + si))
			c := shape[1]
			x := rng.Normal(0.5, 2, shape...)
			w := rng.Normal(1, 0.5, c)
			b := rng.Normal(0, 1, c)
			r := rng.Normal(0, 1, shape...)
			xv, wv, bv := autograd.Param(x), autograd.Param(w), autograd.Param(b)
			y, mean, variance := composedBatchNorm(xv, wv, bv, eps)
			grads := autograd.Grad([]*autograd.Value{autograd.Sum(autograd.Mul(y, autograd.Const(r)), nil, false)},
				[]*autograd.Value{xv, wv, bv}, nil, false)

			fm, fv := tensor.BatchNormStats(x)
			closeTo(t, "mean", fm, tensor.Reshape(mean.Data(), c), 1e-5)
			closeTo(t, "variance", fv, tensor.Reshape(variance.Data(), c), 1e-4)
			inv := tensor.BatchNormInvStd(fv, eps)
			closeTo(t, "BatchNormNormalize", tensor.BatchNormNormalize(x, fm, inv, w, b), y.Data(), 1e-4)
			dx, dw, db := tensor.BatchNormBackward(r, x, fm, inv, w)
			closeTo(t, "dx", dx, grads[0].Data(), 2e-3)
			closeTo(t, "dw", dw, grads[1].Data(), 2e-3)
			closeTo(t, "db", db, grads[2].Data(), 1e-4)

			// Without affine parameters: scale 1, shift 0.
			one, zero := tensor.Ones(c), tensor.New(c)
			closeTo(t, "BatchNormNormalize(nil, nil)", tensor.BatchNormNormalize(x, fm, inv, nil, nil), tensor.BatchNormNormalize(x, fm, inv, one, zero), 0)
			dx1, _, _ := tensor.BatchNormBackward(r, x, fm, inv, nil)
			dx2, _, _ := tensor.BatchNormBackward(r, x, fm, inv, one)
			closeTo(t, "BatchNormBackward(nil)", dx1, dx2, 0)
		})
	}
}

// TestFusedWorkersAgree checks the kernels give bit-identical results on one
// goroutine and on several.
func TestFusedWorkersAgree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for si, shape := range fusedShapes {
		rng := tensor.NewRNG(uint64(20 + si))
		c := shape[1]
		x, g := rng.Normal(0, 1, shape...), rng.Normal(0, 1, shape...)
		w, b := rng.Normal(1, 0.5, c), rng.Normal(0, 1, c)
		run := func(procs int) []*tensor.Tensor {
			runtime.GOMAXPROCS(procs)
			m, v := tensor.BatchNormStats(x)
			inv := tensor.BatchNormInvStd(v, 1e-5)
			dx, dw, db := tensor.BatchNormBackward(g, x, m, inv, w)
			return []*tensor.Tensor{m, v, tensor.BatchNormNormalize(x, m, inv, w, b), dx, dw, db, tensor.LeakyRelu(x, 0.2), tensor.LeakyReluGrad(g, x, 0.2)}
		}
		ref := run(1)
		for _, procs := range []int{2, 3} {
			for k, got := range run(procs) {
				closeTo(t, fmt.Sprintf("%v output %d with %d goroutines", shape, k, procs), got, ref[k], 0)
			}
		}
	}
}

func TestBatchNormPanicsOnShape(t *testing.T) {
	x := tensor.New(2, 3, 4)
	cases := []struct {
		name string
		f    func()
	}{
		{"stats of a vector", func() { tensor.BatchNormStats(tensor.New(5)) }},
		{"stats without values", func() { tensor.BatchNormStats(tensor.New(0, 3)) }},
		{"normalize with wrong channels", func() { tensor.BatchNormNormalize(x, tensor.New(2), tensor.New(3), nil, nil) }},
		{"backward with wrong gradient", func() { tensor.BatchNormBackward(tensor.New(2, 3, 5), x, tensor.New(3), tensor.New(3), nil) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			c.f()
		})
	}
}

// The workloads' batch-norm and activation shapes (batch 64): G's
// BatchNorm1d(6272), G's BatchNorm2d(64) at 14x14, D's BatchNorm2d(128) at
// 7x7. GB/s counts the float32s each kernel reads and writes.
var fusedBenchShapes = [][]int{{64, 6272}, {64, 64, 14, 14}, {64, 128, 7, 7}}

func benchName(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}

func benchFused(b *testing.B, floatsPerElem int, f func(x, g, w, bias *tensor.Tensor) []*tensor.Tensor) {
	for _, shape := range fusedBenchShapes {
		b.Run(benchName(shape), func(b *testing.B) {
			rng := tensor.NewRNG(1)
			x, g := rng.Normal(0, 1, shape...), rng.Normal(0, 1, shape...)
			w, bias := rng.Normal(1, 0.1, shape[1]), rng.Normal(0, 0.1, shape[1])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, t := range f(x, g, w, bias) {
					tensor.Release(t)
				}
			}
			b.ReportMetric(float64(floatsPerElem*4*x.Len())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

func BenchmarkLeakyRelu(b *testing.B) {
	benchFused(b, 2, func(x, _, _, _ *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{tensor.LeakyRelu(x, 0.2)} })
}

func BenchmarkLeakyReluGrad(b *testing.B) {
	benchFused(b, 3, func(x, g, _, _ *tensor.Tensor) []*tensor.Tensor {
		return []*tensor.Tensor{tensor.LeakyReluGrad(g, x, 0.2)}
	})
}

// BenchmarkBatchNorm is the training-mode forward: statistics (two reads)
// and the normalisation (a read and a write).
func BenchmarkBatchNorm(b *testing.B) {
	benchFused(b, 4, func(x, _, w, bias *tensor.Tensor) []*tensor.Tensor {
		m, v := tensor.BatchNormStats(x)
		y := tensor.BatchNormNormalize(x, m, tensor.BatchNormInvStd(v, 1e-5), w, bias)
		return []*tensor.Tensor{m, v, y}
	})
}

// BenchmarkBatchNormBackward reads x and g twice and writes dx.
func BenchmarkBatchNormBackward(b *testing.B) {
	rng := tensor.NewRNG(2)
	benchFused(b, 5, func(x, g, w, _ *tensor.Tensor) []*tensor.Tensor {
		m, v := rng.Normal(0, 0.1, x.Shape()[1]), rng.Uniform(0.5, 1.5, x.Shape()[1])
		dx, dw, db := tensor.BatchNormBackward(g, x, m, tensor.BatchNormInvStd(v, 1e-5), w)
		return []*tensor.Tensor{dx, dw, db}
	})
}
