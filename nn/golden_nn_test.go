package nn

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// The golden values come from PyTorch (testdata/gen_golden_nn.py), computed
// in float64 from float32 inputs. Go computes in float32, so values agree
// to float32 rounding amplified by the computation: goldenAtol and
// goldenRtol bound |go - torch| <= atol + rtol*|torch|; go test -v logs how
// much of the bound each comparison used.
const (
	goldenAtol = 1e-5
	goldenRtol = 1e-4
)

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (g goldenTensor) tensor() *tensor.Tensor {
	d := make([]float32, len(g.Data))
	for i, v := range g.Data {
		d[i] = float32(v)
	}
	return tensor.FromSlice(d, g.Shape...)
}

type goldenCase map[string]goldenTensor

func loadGolden(t *testing.T) map[string]goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/golden_nn.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	r := map[string]goldenCase{}
	for k, v := range raw {
		if k == "torch_version" {
			continue
		}
		var c goldenCase
		if err := json.Unmarshal(v, &c); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		r[k] = c
	}
	return r
}

func (c goldenCase) get(t *testing.T, name string) *tensor.Tensor {
	t.Helper()
	g, ok := c[name]
	if !ok {
		t.Fatalf("golden entry %q missing", name)
	}
	return g.tensor()
}

// maxErr is the largest ratio |got - want| / (atol + rtol |want|) over the
// elements: at most 1 passes.
func maxErr(got *tensor.Tensor, want goldenTensor) float64 {
	worst := 0.0
	for i, w := range want.Data {
		e := math.Abs(float64(got.Data()[i])-w) / (goldenAtol + goldenRtol*math.Abs(w))
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		worst = math.Max(worst, e)
	}
	return worst
}

func checkGolden(t *testing.T, c goldenCase, name string, got *tensor.Tensor) {
	t.Helper()
	want, ok := c[name]
	if !ok {
		t.Fatalf("golden entry %q missing", name)
	}
	if got == nil {
		t.Fatalf("%s: got nil", name)
	}
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Fatalf("%s: shape %v, torch %v", name, got.Shape(), want.Shape)
	}
	e := maxErr(got, want)
	t.Logf("%s: worst error %.3f of tolerance", name, e)
	if e > 1 {
		for i, w := range want.Data {
			g := float64(got.Data()[i])
			if math.Abs(g-w) > goldenAtol+goldenRtol*math.Abs(w) {
				t.Errorf("%s[%d] = %.7g, torch %.7g (error %.2f x tolerance)", name, i, g, w, e)
				return
			}
		}
	}
}

// gradSum backpropagates sum(y * gradOut).
func gradSum(y *autograd.Value, gradOut *tensor.Tensor) {
	autograd.Backward(autograd.Sum(autograd.Mul(y, autograd.Const(gradOut)), nil, false))
}

func TestGoldenBatchNorm(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range []struct {
		name string
		make func(c int) *BatchNorm
	}{
		{"batchnorm2d", NewBatchNorm2d},
		{"batchnorm1d", NewBatchNorm1d},
		{"batchnorm1d_3d", NewBatchNorm1d},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := g[tc.name]
			x := c.get(t, "x")
			bn := tc.make(x.Size(1))
			bn.Weight.Data().CopyFrom(c.get(t, "weight"))
			bn.Bias.Data().CopyFrom(c.get(t, "bias"))
			bn.RunningMean.CopyFrom(c.get(t, "running_mean"))
			bn.RunningVar.CopyFrom(c.get(t, "running_var"))
			xv := autograd.Param(x)
			y := bn.Forward(xv)
			gradSum(y, c.get(t, "grad_out"))
			checkGolden(t, c, "train_y", y.Data())
			checkGolden(t, c, "train_grad_x", xv.Grad())
			checkGolden(t, c, "train_grad_weight", bn.Weight.Grad())
			checkGolden(t, c, "train_grad_bias", bn.Bias.Grad())
			checkGolden(t, c, "train_running_mean", bn.RunningMean)
			checkGolden(t, c, "train_running_var", bn.RunningVar)

			bn.SetTraining(false)
			xv = autograd.Param(x)
			y = bn.Forward(xv)
			gradSum(y, c.get(t, "grad_out"))
			checkGolden(t, c, "eval_y", y.Data())
			checkGolden(t, c, "eval_grad_x", xv.Grad())
		})
	}
}

func TestGoldenLayerNorm(t *testing.T) {
	c := loadGolden(t)["layernorm"]
	ln := NewLayerNorm(2, 4)
	ln.Weight.Data().CopyFrom(c.get(t, "weight"))
	ln.Bias.Data().CopyFrom(c.get(t, "bias"))
	x := autograd.Param(c.get(t, "x"))
	y := ln.Forward(x)
	gradSum(y, c.get(t, "grad_out"))
	checkGolden(t, c, "y", y.Data())
	checkGolden(t, c, "grad_x", x.Grad())
	checkGolden(t, c, "grad_weight", ln.Weight.Grad())
	checkGolden(t, c, "grad_bias", ln.Bias.Grad())
}

func TestGoldenInstanceNorm2d(t *testing.T) {
	c := loadGolden(t)["instancenorm2d"]
	in := NewInstanceNorm2d(3, true)
	in.Weight.Data().CopyFrom(c.get(t, "weight"))
	in.Bias.Data().CopyFrom(c.get(t, "bias"))
	x := autograd.Param(c.get(t, "x"))
	y := in.Forward(x)
	gradSum(y, c.get(t, "grad_out"))
	checkGolden(t, c, "y", y.Data())
	checkGolden(t, c, "grad_x", x.Grad())
	checkGolden(t, c, "grad_weight", in.Weight.Grad())
	checkGolden(t, c, "grad_bias", in.Bias.Grad())
}

// snLayer is a layer with spectral norm whose parts the golden test sets.
type snLayer interface {
	Layer
	parts() (w, b *autograd.Value, sn *SpectralNorm)
}

func (l *Linear) parts() (w, b *autograd.Value, sn *SpectralNorm) { return l.Weight, l.Bias, l.SN }
func (c *ConvTranspose2d) parts() (w, b *autograd.Value, sn *SpectralNorm) {
	return c.Weight, c.Bias, c.SN
}

func TestGoldenSpectralNorm(t *testing.T) {
	g := loadGolden(t)
	rng := tensor.NewRNG(1)
	for _, tc := range []struct {
		name  string
		layer snLayer
	}{
		{"sn_linear", NewLinear(4, 5, rng).WithSpectralNorm(rng)},
		{"sn_conv_transpose2d", NewConvTranspose2d(3, 2, 3, ConvOptions{Stride: 2, Padding: 1, OutputPadding: 1}, rng).WithSpectralNorm(rng)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := g[tc.name]
			w, b, sn := tc.layer.parts()
			w.Data().CopyFrom(c.get(t, "weight"))
			b.Data().CopyFrom(c.get(t, "bias"))
			sn.U.CopyFrom(c.get(t, "u"))
			sn.V.CopyFrom(c.get(t, "v"))
			x := autograd.Param(c.get(t, "x"))
			y := tc.layer.Forward(x)
			gradSum(y, c.get(t, "grad_out"))
			checkGolden(t, c, "train_y", y.Data())
			checkGolden(t, c, "train_grad_x", x.Grad())
			checkGolden(t, c, "train_grad_weight", w.Grad())
			checkGolden(t, c, "train_grad_bias", b.Grad())
			checkGolden(t, c, "train_u", sn.U)
			checkGolden(t, c, "train_v", sn.V)
			tc.layer.SetTraining(false)
			var ye *autograd.Value
			autograd.NoGrad(func() { ye = tc.layer.Forward(autograd.Const(c.get(t, "x"))) })
			checkGolden(t, c, "eval_y", ye.Data())
			checkGolden(t, c, "train_u", sn.U) // evaluation does not iterate
		})
	}
}

// TestGoldenWGANGP checks the gradient penalty of Gulrajani et al. 2017
// ("Improved Training of Wasserstein GANs", arXiv:1704.00028),
// 10 * mean((||grad_x D(x_hat)||_2 - 1)^2), and its gradient with respect to
// the critic's weights, which needs the double backward of every layer of
// the critic.
func TestGoldenWGANGP(t *testing.T) {
	c := loadGolden(t)["wgan_gp"]
	rng := tensor.NewRNG(1)
	critic := NewSequential(
		NewConv2d(1, 4, 4, ConvOptions{Stride: 2, Padding: 1}, rng), LeakyReLU{Slope: 0.2},
		NewConv2d(4, 8, 4, ConvOptions{Stride: 2, Padding: 1}, rng), LeakyReLU{Slope: 0.2},
		Flatten{}, NewLinear(8*2*2, 1, rng))
	ps := critic.Params("")
	if len(ps) != 6 {
		t.Fatalf("critic has %d params, want 6", len(ps))
	}
	for _, p := range ps {
		p.Value.Data().CopyFrom(c.get(t, "param."+p.Name))
	}
	xh := autograd.Param(c.get(t, "x_hat"))
	d := critic.Forward(xh)
	gx := autograd.Grad([]*autograd.Value{d}, []*autograd.Value{xh}, nil, true)[0]
	nrm := autograd.Norm(gx, 0)
	pen := autograd.Scale(autograd.Mean(autograd.Square(autograd.AddScalar(nrm, -1)), nil, false), 10)
	autograd.Backward(pen)
	checkGolden(t, c, "critic_out", d.Data())
	checkGolden(t, c, "grad_x", gx.Data())
	checkGolden(t, c, "penalty", pen.Data())
	for _, p := range ps {
		g := p.Value.Grad()
		if g == nil { // the last bias does not reach the penalty
			g = tensor.New(p.Value.Shape()...)
		}
		checkGolden(t, c, "grad."+p.Name, g)
	}
}
