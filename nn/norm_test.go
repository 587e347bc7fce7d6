package nn

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestBatchNormRunningStats feeds the same batch k times: the running mean
// must be (1 - 0.9^k) times the batch mean and the running variance
// 0.9^k + (1 - 0.9^k) times the unbiased batch variance, per channel.
func TestBatchNormRunningStats(t *testing.T) {
	rng := tensor.NewRNG(1)
	x := rng.Normal(0.5, 2, 4, 3, 2, 2)
	bn := NewBatchNorm2d(3)
	const k = 5
	for range k {
		bn.Forward(autograd.Const(x))
	}
	decay := math.Pow(0.9, k)
	for ch := range 3 {
		var vals []float64
		for i := range 4 {
			for q := range 4 {
				vals = append(vals, float64(x.Data()[(i*3+ch)*4+q]))
			}
		}
		mean, m2 := 0.0, 0.0
		for _, v := range vals {
			mean += v
		}
		mean /= float64(len(vals))
		for _, v := range vals {
			m2 += (v - mean) * (v - mean)
		}
		unbiased := m2 / float64(len(vals)-1)
		if got, want := float64(bn.RunningMean.Data()[ch]), (1-decay)*mean; math.Abs(got-want) > 1e-5 {
			t.Errorf("channel %d running mean %.6g, want %.6g", ch, got, want)
		}
		if got, want := float64(bn.RunningVar.Data()[ch]), decay+(1-decay)*unbiased; math.Abs(got-want) > 1e-4 {
			t.Errorf("channel %d running var %.6g, want %.6g", ch, got, want)
		}
	}
}

// TestBatchNormTrainEval checks that training mode normalises with the
// batch's statistics (each channel of the output has mean 0 and biased
// variance 1 before the affine map) and evaluation mode with the running
// ones, which it leaves alone.
func TestBatchNormTrainEval(t *testing.T) {
	rng := tensor.NewRNG(2)
	x := rng.Normal(3, 2, 6, 2, 3, 3)
	bn := NewBatchNorm2d(2)
	y := bn.Forward(autograd.Const(x)).Data()
	for ch := range 2 {
		mean, sq := 0.0, 0.0
		for i := range 6 {
			for q := range 9 {
				v := float64(y.Data()[(i*2+ch)*9+q])
				mean += v
				sq += v * v
			}
		}
		mean /= 54
		if v := sq/54 - mean*mean; math.Abs(mean) > 1e-5 || math.Abs(v-1) > 1e-3 {
			t.Errorf("training output channel %d: mean %.3g, variance %.5g", ch, mean, v)
		}
	}
	bn.RunningMean.CopyFrom(tensor.FromSlice([]float32{1, -1}, 2))
	bn.RunningVar.CopyFrom(tensor.FromSlice([]float32{4, 0.25}, 2))
	bn.Weight.Data().CopyFrom(tensor.FromSlice([]float32{2, 3}, 2))
	bn.Bias.Data().CopyFrom(tensor.FromSlice([]float32{0.5, -0.5}, 2))
	bn.SetTraining(false)
	y = bn.Forward(autograd.Const(x)).Data()
	rm, rv := []float64{1, -1}, []float64{4, 0.25}
	wt, bs := []float64{2, 3}, []float64{0.5, -0.5}
	for i := range 6 {
		for ch := range 2 {
			for q := range 9 {
				k := (i*2+ch)*9 + q
				want := (float64(x.Data()[k])-rm[ch])/math.Sqrt(rv[ch]+1e-5)*wt[ch] + bs[ch]
				if math.Abs(float64(y.Data()[k])-want) > 1e-5*math.Max(1, math.Abs(want)) {
					t.Fatalf("eval output %d = %.6g, want %.6g", k, y.Data()[k], want)
				}
			}
		}
	}
	if bn.RunningMean.Data()[0] != 1 || bn.RunningVar.Data()[1] != 0.25 {
		t.Fatal("evaluation mode changed the running statistics")
	}
}

func TestBatchNormWithoutAffine(t *testing.T) {
	bn := NewBatchNorm1d(3)
	bn.Weight, bn.Bias = nil, nil
	if n := len(bn.Params("")); n != 0 {
		t.Fatalf("affine-free batch norm lists %d params", n)
	}
	x := tensor.NewRNG(1).Normal(0, 1, 4, 3)
	xv := autograd.Param(x)
	y := bn.Forward(xv)
	autograd.Backward(autograd.Sum(autograd.Mul(y, autograd.Const(x)), nil, false))
	if xv.Grad() == nil {
		t.Fatal("no gradient to the input")
	}
}

// TestInstanceAndLayerNormIgnoreMode: neither has running statistics, so
// evaluation mode gives the training output.
func TestInstanceAndLayerNormIgnoreMode(t *testing.T) {
	rng := tensor.NewRNG(3)
	x := autograd.Const(rng.Normal(1, 2, 2, 3, 4, 4))
	for _, l := range []Layer{NewInstanceNorm2d(3, true), NewLayerNorm(4, 4)} {
		a := l.Forward(x).Data().Clone()
		l.SetTraining(false)
		b := l.Forward(x).Data()
		for i := range a.Data() {
			if a.Data()[i] != b.Data()[i] {
				t.Fatalf("%T: evaluation output differs", l)
			}
		}
		if n := len(l.Buffers("")); n != 0 {
			t.Fatalf("%T lists %d buffers", l, n)
		}
	}
}

// TestBatchNormEvalFused: in evaluation mode without gradients batch norm
// runs as one fused pass; it must give the composed ops' result bit for
// bit, for 2-, 3- and 4-D inputs (the 4-D one large enough to split across
// goroutines), with and without scale and shift, and with nonzero running
// statistics and parameters.
func TestBatchNormEvalFused(t *testing.T) {
	rng := tensor.NewRNG(7)
	for _, shape := range [][]int{{5, 3}, {4, 3, 7}, {2, 3, 5, 6}, {8, 3, 64, 64}, {16384, 3}} {
		for _, scale := range []bool{true, false} {
			for _, shift := range []bool{true, false} {
				var bn *BatchNorm
				if len(shape) == 4 {
					bn = NewBatchNorm2d(3)
				} else {
					bn = NewBatchNorm1d(3)
				}
				copy(bn.RunningMean.Data(), []float32{0.3, -1.7, 0.01})
				copy(bn.RunningVar.Data(), []float32{0.5, 2.3, 1e-3})
				copy(bn.Weight.Data().Data(), []float32{1.3, -0.4, 2.2})
				copy(bn.Bias.Data().Data(), []float32{-0.2, 0.9, 0.05})
				if !scale {
					bn.Weight = nil
				}
				if !shift {
					bn.Bias = nil
				}
				bn.SetTraining(false)
				x := rng.Normal(0.2, 1.5, shape...)
				composed := bn.Forward(autograd.Const(x)).Data()
				var fused *tensor.Tensor
				autograd.NoGrad(func() { fused = bn.Forward(autograd.Const(x)).Data() })
				for i, v := range composed.Data() {
					if math.Float32bits(v) != math.Float32bits(fused.Data()[i]) {
						t.Fatalf("shape %v, scale %v, shift %v: value %d fused %g, composed %g", shape, scale, shift, i, fused.Data()[i], v)
					}
				}
			}
		}
	}
}

// BenchmarkBatchNormEval: the composed evaluation ops (with gradients on)
// against the fused pass (NoGrad), on a DCGAN generator's projection
// ([64, 6272], BatchNorm1d) and its middle map ([64, 128, 7, 7]).
func BenchmarkBatchNormEval(b *testing.B) {
	for _, c := range []struct {
		name  string
		bn    *BatchNorm
		shape []int
	}{{"1d", NewBatchNorm1d(6272), []int{64, 6272}}, {"2d", NewBatchNorm2d(128), []int{64, 128, 7, 7}}} {
		c.bn.SetTraining(false)
		x := autograd.Const(tensor.NewRNG(1).Normal(0, 1, c.shape...))
		b.Run(c.name+"/composed", func(b *testing.B) {
			for b.Loop() {
				c.bn.Forward(x)
			}
		})
		b.Run(c.name+"/fused", func(b *testing.B) {
			autograd.NoGrad(func() {
				for b.Loop() {
					c.bn.Forward(x)
				}
			})
		})
	}
}

// TestInstanceNormMatchesComposed: instance norm runs as the fused batch
// norm over [1, N*C, H*W]; its output and its gradients with respect to the
// input, the scale and the shift must be the composed formula's
// (standardize over H and W, then the affine map) to float32 rounding,
// with and without the affine map.
func TestInstanceNormMatchesComposed(t *testing.T) {
	rng := tensor.NewRNG(11)
	for _, scaled := range []bool{true, false} {
		n := NewInstanceNorm2d(4, scaled)
		if scaled {
			n.Weight.Data().CopyFrom(rng.Normal(1, 0.5, 4))
			n.Bias.Data().CopyFrom(rng.Normal(0, 0.5, 4))
		}
		x := autograd.Param(rng.Normal(0.5, 2, 3, 4, 5, 6))
		g := autograd.Const(rng.Normal(0, 1, 3, 4, 5, 6))
		ps := []*autograd.Value{x}
		if scaled {
			ps = append(ps, n.Weight, n.Bias)
		}
		loss := func(y *autograd.Value) *autograd.Value { return autograd.Sum(autograd.Mul(y, g), nil, false) }
		fused := n.Forward(x)
		y0, _, _ := standardize(x, []int{2, 3}, n.Eps)
		composed := affine(y0, n.Weight, n.Bias)
		gf := autograd.Grad([]*autograd.Value{loss(fused)}, ps, nil, false)
		gc := autograd.Grad([]*autograd.Value{loss(composed)}, ps, nil, false)
		near := func(what string, a, b *tensor.Tensor) {
			for i, v := range a.Data() {
				if d := math.Abs(float64(v - b.Data()[i])); d > 1e-4*math.Max(1, math.Abs(float64(v))) {
					t.Fatalf("affine %v: %s element %d: fused %g, composed %g", scaled, what, i, v, b.Data()[i])
				}
			}
		}
		near("output", fused.Data(), composed.Data())
		for i, name := range []string{"dx", "dweight", "dbias"}[:len(ps)] {
			near(name, gf[i].Data(), gc[i].Data())
		}
	}
}
