package nn

import (
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// layerCase is a gradient check of one layer's forward pass with respect to
// its input and its parameters: f builds the layer around xs (input first,
// then parameters) and returns its output, squared so the second-order
// check also exercises the backward of every op's backward.
type layerCase struct {
	name   string
	inputs []*tensor.Tensor
	f      func(xs []*autograd.Value) *autograd.Value
}

func randn(rng *tensor.RNG, shape ...int) *tensor.Tensor { return rng.Normal(0, 1, shape...) }

// away moves t's entries at least d from 0, for layers with a kink there.
func away(t *tensor.Tensor, d float32) *tensor.Tensor {
	for i, v := range t.Data() {
		if v >= 0 && v < d {
			t.Data()[i] = v + d
		} else if v < 0 && v > -d {
			t.Data()[i] = v - d
		}
	}
	return t
}

// convergedSN returns a spectral norm for w in evaluation mode after
// enough power iterations that sigma is w's top singular value: in
// evaluation mode u and v stay fixed, so W / (u^T W v) is a fixed function
// of W whose gradient includes the path through sigma, the function that
// PyTorch differentiates in training mode.
func convergedSN(w *tensor.Tensor, dim int, rng *tensor.RNG) *SpectralNorm {
	sn := NewSpectralNorm(w.Shape(), dim, rng)
	sn.Iters = 50
	autograd.NoGrad(func() { sn.Apply(autograd.Const(w)) })
	sn.SetTraining(false)
	return sn
}

// layerCases draws the cases' inputs and parameters from seed.
func layerCases(seed uint64) []layerCase {
	rng := tensor.NewRNG(seed)
	sq := autograd.Square
	convOpt := ConvOptions{Stride: 2, Padding: 1}
	lw := randn(rng, 5, 4)
	snLin := convergedSN(lw, 0, rng)
	cw := randn(rng, 4, 3, 3, 3)
	snConv := convergedSN(cw, 0, rng)
	tw := randn(rng, 3, 2, 4, 4)
	snConvT := convergedSN(tw, 1, rng)
	ew := randn(rng, 6, 3)
	snEmb := convergedSN(ew, 0, rng)
	attn := NewSelfAttention(8, rng)
	var attnIn []*tensor.Tensor
	attnIn = append(attnIn, randn(rng, 2, 8, 2, 3))
	for _, p := range attn.Params("") {
		attnIn = append(attnIn, p.Value.Data())
	}
	attnIn[len(attnIn)-1] = tensor.FromSlice([]float32{0.7}, 1) // gamma != 0

	return []layerCase{
		{"Linear", []*tensor.Tensor{randn(rng, 3, 4), randn(rng, 5, 4), randn(rng, 5)},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&Linear{Weight: x[1], Bias: x[2]}).Forward(x[0]))
			}},
		{"Linear/3-D input, no bias", []*tensor.Tensor{randn(rng, 2, 3, 4), randn(rng, 2, 4)},
			func(x []*autograd.Value) *autograd.Value { return sq((&Linear{Weight: x[1]}).Forward(x[0])) }},
		{"Linear/spectral norm", []*tensor.Tensor{randn(rng, 3, 4), lw, randn(rng, 5)},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&Linear{Weight: x[1], Bias: x[2], SN: snLin}).Forward(x[0]))
			}},
		{"Conv2d", []*tensor.Tensor{randn(rng, 2, 3, 5, 5), randn(rng, 4, 3, 3, 3), randn(rng, 4)},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&Conv2d{Weight: x[1], Bias: x[2], Geom: convOpt.params()}).Forward(x[0]))
			}},
		{"Conv2d/spectral norm", []*tensor.Tensor{randn(rng, 1, 3, 4, 4), cw, randn(rng, 4)},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&Conv2d{Weight: x[1], Bias: x[2], Geom: convOpt.params(), SN: snConv}).Forward(x[0]))
			}},
		{"ConvTranspose2d", []*tensor.Tensor{randn(rng, 2, 3, 3, 3), randn(rng, 3, 2, 4, 4), randn(rng, 2)},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&ConvTranspose2d{Weight: x[1], Bias: x[2], Geom: convOpt.params()}).Forward(x[0]))
			}},
		{"ConvTranspose2d/output padding", []*tensor.Tensor{randn(rng, 1, 2, 3, 2), randn(rng, 2, 3, 3, 3), randn(rng, 3)},
			func(x []*autograd.Value) *autograd.Value {
				c := &ConvTranspose2d{Weight: x[1], Bias: x[2], Geom: convOpt.params(), OutPad: [2]int{1, 1}}
				return sq(c.Forward(x[0]))
			}},
		{"ConvTranspose2d/spectral norm", []*tensor.Tensor{randn(rng, 1, 3, 2, 2), tw, randn(rng, 2)},
			func(x []*autograd.Value) *autograd.Value {
				c := &ConvTranspose2d{Weight: x[1], Bias: x[2], Geom: convOpt.params(), SN: snConvT}
				return sq(c.Forward(x[0]))
			}},
		{"BatchNorm1d/train", []*tensor.Tensor{randn(rng, 6, 3), randn(rng, 3), randn(rng, 3)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewBatchNorm1d(3)
				b.Weight, b.Bias = x[1], x[2]
				return sq(b.Forward(x[0]))
			}},
		{"BatchNorm1d/train 3-D", []*tensor.Tensor{randn(rng, 3, 2, 3), randn(rng, 2), randn(rng, 2)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewBatchNorm1d(2)
				b.Weight, b.Bias = x[1], x[2]
				return sq(b.Forward(x[0]))
			}},
		{"BatchNorm2d/train", []*tensor.Tensor{randn(rng, 3, 2, 2, 3), randn(rng, 2), randn(rng, 2)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewBatchNorm2d(2)
				b.Weight, b.Bias = x[1], x[2]
				return sq(b.Forward(x[0]))
			}},
		{"BatchNorm2d/eval", []*tensor.Tensor{randn(rng, 2, 2, 2, 2), randn(rng, 2), randn(rng, 2)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewBatchNorm2d(2)
				b.Weight, b.Bias = x[1], x[2]
				b.RunningMean.CopyFrom(tensor.FromSlice([]float32{0.3, -0.2}, 2))
				b.RunningVar.CopyFrom(tensor.FromSlice([]float32{0.5, 2}, 2))
				b.SetTraining(false)
				return sq(b.Forward(x[0]))
			}},
		{"CondBatchNorm2d/train", []*tensor.Tensor{randn(rng, 4, 2, 2, 2), randn(rng, 3, 2), randn(rng, 3, 2)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewCondBatchNorm2d(2, 3)
				b.Gain.Weight, b.Bias.Weight = x[1], x[2]
				return sq(b.Forward(x[0], []int{2, 0, 2, 1}))
			}},
		{"CondBatchNorm2d/eval", []*tensor.Tensor{randn(rng, 3, 2, 2, 2), randn(rng, 3, 2), randn(rng, 3, 2)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewCondBatchNorm2d(2, 3)
				b.Gain.Weight, b.Bias.Weight = x[1], x[2]
				b.Norm.RunningMean.CopyFrom(tensor.FromSlice([]float32{0.3, -0.2}, 2))
				b.Norm.RunningVar.CopyFrom(tensor.FromSlice([]float32{0.5, 2}, 2))
				b.SetTraining(false)
				return sq(b.Forward(x[0], []int{1, 1, 0}))
			}},
		{"LinearCondBatchNorm2d/train", []*tensor.Tensor{randn(rng, 3, 2, 2, 2), randn(rng, 3, 4), randn(rng, 2, 4), randn(rng, 2, 4)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewLinearCondBatchNorm2d(2, 4, tensor.NewRNG(1))
				b.Gain.Weight, b.Bias.Weight = x[2], x[3]
				return sq(b.Forward(x[0], x[1]))
			}},
		{"LinearCondBatchNorm2d/eval", []*tensor.Tensor{randn(rng, 2, 2, 2, 2), randn(rng, 2, 4), randn(rng, 2, 4), randn(rng, 2, 4)},
			func(x []*autograd.Value) *autograd.Value {
				b := NewLinearCondBatchNorm2d(2, 4, tensor.NewRNG(1))
				b.Gain.Weight, b.Bias.Weight = x[2], x[3]
				b.Norm.RunningMean.CopyFrom(tensor.FromSlice([]float32{0.3, -0.2}, 2))
				b.Norm.RunningVar.CopyFrom(tensor.FromSlice([]float32{0.5, 2}, 2))
				b.SetTraining(false)
				return sq(b.Forward(x[0], x[1]))
			}},
		{"LayerNorm", []*tensor.Tensor{randn(rng, 3, 2, 4), randn(rng, 2, 4), randn(rng, 2, 4)},
			func(x []*autograd.Value) *autograd.Value {
				l := NewLayerNorm(2, 4)
				l.Weight, l.Bias = x[1], x[2]
				return sq(l.Forward(x[0]))
			}},
		{"InstanceNorm2d/affine", []*tensor.Tensor{randn(rng, 2, 3, 3, 2), randn(rng, 3), randn(rng, 3)},
			func(x []*autograd.Value) *autograd.Value {
				n := NewInstanceNorm2d(3, true)
				n.Weight, n.Bias = x[1], x[2]
				return sq(n.Forward(x[0]))
			}},
		{"InstanceNorm2d", []*tensor.Tensor{randn(rng, 1, 2, 3, 3)},
			func(x []*autograd.Value) *autograd.Value { return sq(NewInstanceNorm2d(2, false).Forward(x[0])) }},
		{"Embedding", []*tensor.Tensor{randn(rng, 6, 3)},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&Embedding{Weight: x[0]}).Forward([]int{4, 0, 4, 2}))
			}},
		{"Embedding/spectral norm", []*tensor.Tensor{ew},
			func(x []*autograd.Value) *autograd.Value {
				return sq((&Embedding{Weight: x[0], SN: snEmb}).Forward([]int{1, 5, 1}))
			}},
		{"Dropout", []*tensor.Tensor{randn(rng, 4, 5)},
			func(x []*autograd.Value) *autograd.Value {
				return sq(NewDropout(0.3, tensor.NewRNG(3)).Forward(x[0]))
			}},
		{"ReLU", []*tensor.Tensor{away(randn(rng, 3, 4), 0.1)},
			func(x []*autograd.Value) *autograd.Value { return sq(ReLU{}.Forward(x[0])) }},
		{"LeakyReLU", []*tensor.Tensor{away(randn(rng, 3, 4), 0.1)},
			func(x []*autograd.Value) *autograd.Value { return sq(LeakyReLU{Slope: 0.2}.Forward(x[0])) }},
		{"Tanh", []*tensor.Tensor{randn(rng, 3, 4)},
			func(x []*autograd.Value) *autograd.Value { return Tanh{}.Forward(x[0]) }},
		{"Sigmoid", []*tensor.Tensor{randn(rng, 3, 4)},
			func(x []*autograd.Value) *autograd.Value { return Sigmoid{}.Forward(x[0]) }},
		{"Softplus", []*tensor.Tensor{randn(rng, 3, 4)},
			func(x []*autograd.Value) *autograd.Value { return Softplus{}.Forward(x[0]) }},
		{"ELU", []*tensor.Tensor{away(randn(rng, 3, 4), 0.1)},
			func(x []*autograd.Value) *autograd.Value { return ELU{Alpha: 1.5}.Forward(x[0]) }},
		{"GELU", []*tensor.Tensor{randn(rng, 3, 4)},
			func(x []*autograd.Value) *autograd.Value { return GELU{}.Forward(x[0]) }},
		{"Flatten", []*tensor.Tensor{randn(rng, 2, 3, 2)},
			func(x []*autograd.Value) *autograd.Value { return sq(Flatten{}.Forward(x[0])) }},
		{"Reshape", []*tensor.Tensor{randn(rng, 2, 6)},
			func(x []*autograd.Value) *autograd.Value { return sq(Reshape{Shape: []int{3, -1}}.Forward(x[0])) }},
		{"SelfAttention", attnIn,
			func(x []*autograd.Value) *autograd.Value {
				a := &SelfAttention{
					F: &Conv2d{Weight: x[1], Bias: x[2]}, G: &Conv2d{Weight: x[3], Bias: x[4]},
					H: &Conv2d{Weight: x[5], Bias: x[6]}, Gamma: x[7],
				}
				return a.Forward(x[0])
			}},
		{"Sequential", []*tensor.Tensor{randn(rng, 4, 3), randn(rng, 5, 3), randn(rng, 5), randn(rng, 2, 5), randn(rng, 2)},
			func(x []*autograd.Value) *autograd.Value {
				s := NewSequential(&Linear{Weight: x[1], Bias: x[2]}, Tanh{}, &Linear{Weight: x[3], Bias: x[4]})
				return s.Forward(x[0])
			}},
	}
}

// TestLayersGradCheck checks every layer's gradient and Hessian-vector
// product with respect to its input and parameters against finite
// differences.
func TestLayersGradCheck(t *testing.T) {
	runLayerCases(t, layerCases(7), 0)
}

// runLayerCases gradient-checks every case, first and second order.
func runLayerCases(t *testing.T, cases []layerCase, seed uint64) {
	t.Helper()
	runLayerCasesEps(t, cases, seed, nil)
}

// runLayerCasesEps is runLayerCases with the steps of cases near kinks
// (zero: GradCheck's default).
func runLayerCasesEps(t *testing.T, cases []layerCase, seed uint64, eps map[string]float64) {
	t.Helper()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := autograd.GradCheck(c.f, c.inputs, autograd.CheckOptions{SecondOrder: true, Seed: seed*100 + uint64(i), Eps: eps[c.name]})
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		})
	}
}

// TestLayersGradCheckDetectsBug makes sure the harness as used here fails on
// a wrong gradient: a batch norm whose mean is detached has the right
// value but misses the gradient through the batch mean.
func TestLayersGradCheckDetectsBug(t *testing.T) {
	rng := tensor.NewRNG(1)
	f := func(x []*autograd.Value) *autograd.Value {
		m := autograd.Mean(x[0], []int{0}, true).Detach()
		d := autograd.Sub(x[0], m)
		v := autograd.Mean(autograd.Mul(d, d), []int{0}, true)
		return autograd.Square(autograd.Div(d, autograd.Sqrt(autograd.AddScalar(v, 1e-5))))
	}
	if err := autograd.GradCheck(f, []*tensor.Tensor{randn(rng, 5, 2)}, autograd.CheckOptions{}); err == nil {
		t.Fatal("GradCheck accepted batch norm without the gradient through the mean")
	}
}
