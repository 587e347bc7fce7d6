package models

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// resnetCase is one module of testdata/golden_resnet.json, written by
// testdata/gen_golden_resnet.py; see there for the quantities.
type resnetCase struct {
	State   map[string]goldenTensor `json:"state"`
	X, V, R goldenWave
	Labels  []int                   `json:"labels"`
	Out     goldenTensor            `json:"out"`
	EvalOut goldenTensor            `json:"eval_out"`
	GradX   goldenTensor            `json:"grad_x"`
	GradV   goldenTensor            `json:"grad_v"`
	Grad    map[string]goldenTensor `json:"grad"`
	PenGrad map[string]goldenTensor `json:"pen_grad"`
	After   map[string]goldenTensor `json:"after"`
}

// resnetModule builds the Go module of a golden case (its weights are
// loaded from the case) and its forward pass from the input x and, for
// nn.LinearCondBatchNorm2d, the vector v.
func resnetModule(t *testing.T, name string, labels []int) (nn.Module, func(x, v *autograd.Value) *autograd.Value) {
	t.Helper()
	rng := tensor.NewRNG(1)
	gen := func(c SNGANConfig) *SNGANGenerator {
		g, err := NewSNGANGenerator(c, rng)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	dis := func(c SNGANConfig) *SNGANDiscriminator {
		d, err := NewSNGANDiscriminator(c, rng)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	gblock := func(b *GBlock) (nn.Module, func(x, v *autograd.Value) *autograd.Value) {
		return b, func(x, _ *autograd.Value) *autograd.Value { return b.Forward(x, labels) }
	}
	dblock := func(b *DBlock) (nn.Module, func(x, v *autograd.Value) *autograd.Value) {
		return b, func(x, _ *autograd.Value) *autograd.Value { return b.Forward(x) }
	}
	switch name {
	case "cbn":
		b := nn.NewCondBatchNorm2d(2, 3)
		return b, func(x, _ *autograd.Value) *autograd.Value { return b.Forward(x, labels) }
	case "lcbn":
		b := nn.NewLinearCondBatchNorm2d(2, 4, rng).WithSpectralNorm(rng)
		return b, func(x, v *autograd.Value) *autograd.Value { return b.Forward(x, v) }
	case "attn":
		a := nn.NewSelfAttention(8, rng).WithSpectralNorm(rng)
		return a, func(x, _ *autograd.Value) *autograd.Value { return a.Forward(x) }
	case "gblock":
		return gblock(NewGBlock(3, 2, true, 0, rng))
	case "gblock_cond":
		return gblock(NewGBlock(2, 2, true, 3, rng))
	case "gblock_noup":
		return gblock(NewGBlock(2, 2, false, 0, rng))
	case "dblock":
		return dblock(NewDBlock(2, 3, true, rng))
	case "dblock_id":
		return dblock(NewDBlock(3, 3, false, rng))
	case "dopt":
		return dblock(NewDOptBlock(1, 2, rng))
	case "g28":
		g := gen(SNGANConfig{Size: 28, Channels: 1, GWidth: 2, DWidth: 1, ZDim: 3})
		return g, func(z, _ *autograd.Value) *autograd.Value { return g.Forward(z, labels) }
	case "cg32_attn_sn":
		g := gen(SNGANConfig{Size: 32, Channels: 1, GWidth: 4, DWidth: 1, ZDim: 3, Classes: 3, Attention: true, GSpectralNorm: true})
		return g, func(z, _ *autograd.Value) *autograd.Value { return g.Forward(z, labels) }
	case "d28":
		d := dis(SNGANConfig{Size: 28, Channels: 1, GWidth: 1, DWidth: 2, ZDim: 1})
		return d, func(x, _ *autograd.Value) *autograd.Value { return d.Forward(x, labels) }
	case "cd32_attn":
		d := dis(SNGANConfig{Size: 32, Channels: 1, GWidth: 1, DWidth: 4, ZDim: 1, Classes: 3, Attention: true})
		return d, func(x, _ *autograd.Value) *autograd.Value { return d.Forward(x, labels) }
	}
	t.Fatalf("unknown golden case %q", name)
	return nil, nil
}

// TestGoldenResNet checks the SN-GAN and SAGAN layers, blocks and networks
// (nn.CondBatchNorm2d, nn.LinearCondBatchNorm2d, nn.SelfAttention,
// GBlock, DBlock and the optimized block, SNGANGenerator and
// SNGANDiscriminator) against PyTorch twins with the same weights, in
// training mode: state names, outputs, input and parameter gradients, the
// gradient of the squared input-gradient norm with respect to every
// parameter (second order, as WGAN-GP and R1 need), the updated buffers,
// and the output in evaluation mode afterwards.
func TestGoldenResNet(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_resnet.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with testdata/gen_golden_resnet.py): %v", err)
	}
	var g struct {
		Cases map[string]*resnetCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 13 {
		t.Fatalf("%d golden cases, want 13", len(g.Cases))
	}
	for name, c := range g.Cases {
		t.Run(name, func(t *testing.T) {
			m, forward := resnetModule(t, name, c.Labels)
			checkGolden(t, c, m, forward)
		})
	}
}

// checkGolden checks module m (built with other weights) and its forward
// pass against a golden case: it loads the case's state and compares the
// quantities gen_golden_resnet.py's case() records.
func checkGolden(t *testing.T, c *resnetCase, m nn.Module, forward func(x, v *autograd.Value) *autograd.Value) {
	t.Helper()
	state := map[string]*tensor.Tensor{}
	for n, s := range c.State {
		state[n] = s.tensor()
	}
	if err := nn.LoadState(m, state); err != nil {
		t.Fatalf("PyTorch's state_dict names should load: %v", err)
	}
	ps := m.Params("")
	x := autograd.Param(c.X.tensor())
	inputs := []*autograd.Value{x}
	var v *autograd.Value
	if c.V.Shape != nil {
		v = autograd.Param(c.V.tensor())
		inputs = append(inputs, v)
	}
	np := len(inputs)
	for _, p := range ps {
		inputs = append(inputs, p.Value)
	}
	out := forward(x, v)
	checkClose(t, "out", out.Data(), c.Out)
	l := autograd.Sum(autograd.Mul(out, autograd.Const(c.R.tensor())), nil, false)
	grads := autograd.Grad([]*autograd.Value{l}, inputs, nil, true)
	checkClose(t, "grad x", grads[0].Data(), c.GradX)
	if v != nil {
		checkClose(t, "grad v", grads[1].Data(), c.GradV)
	}
	data := func(v *autograd.Value) *tensor.Tensor {
		if v == nil {
			return nil
		}
		return v.Data()
	}
	for i, p := range ps {
		want, ok := c.Grad[p.Name]
		if !ok {
			t.Fatalf("no PyTorch gradient for %s", p.Name)
		}
		checkCloseOrZero(t, "grad "+p.Name, data(grads[np+i]), want, scale(c.Grad))
	}
	gx := grads[0]
	pen := autograd.Sum(autograd.Mul(gx, gx), nil, false)
	pg := autograd.Grad([]*autograd.Value{pen}, inputs[np:], nil, false)
	for i, p := range ps {
		checkCloseOrZero(t, "penalty grad "+p.Name, data(pg[i]), c.PenGrad[p.Name], scale(c.PenGrad))
	}
	bs := m.Buffers("")
	if len(bs) != len(c.After) {
		t.Fatalf("%d buffers, PyTorch has %d", len(bs), len(c.After))
	}
	for _, b := range bs {
		checkClose(t, "buffer "+b.Name, b.Tensor, c.After[b.Name])
	}
	m.SetTraining(false)
	var eo *autograd.Value
	autograd.NoGrad(func() {
		var vc *autograd.Value
		if v != nil {
			vc = autograd.Const(v.Data())
		}
		eo = forward(autograd.Const(x.Data()), vc)
	})
	checkClose(t, "eval out", eo.Data(), c.EvalOut)
}

// scale is the largest root mean square of the tensors of gs: the size of
// a case's gradients.
func scale(gs map[string]goldenTensor) float64 {
	r := 0.0
	for _, g := range gs {
		r = math.Max(r, rms(g.Data))
	}
	return r
}

func rms(d []float64) float64 {
	var ss float64
	for _, w := range d {
		ss += w * w
	}
	return math.Sqrt(ss / float64(max(len(d), 1)))
}

// checkCloseOrZero is checkClose, except for a tensor that is zero in
// exact arithmetic (a bias that batch norm or the softmax cancels: PyTorch
// has it below 1e-9 of the case's gradient scale), which float32 sums leave
// at rounding level: each of its entries must then be within goldenRtol of
// the case's scale.
func checkCloseOrZero(t *testing.T, name string, got *tensor.Tensor, want goldenTensor, scale float64) {
	t.Helper()
	if got == nil || rms(want.Data) >= 1e-9*scale {
		checkClose(t, name, got, want)
		return
	}
	for i, g := range got.Data() {
		if math.Abs(float64(g)) > goldenRtol*scale {
			t.Errorf("%s[%d] = %.7g: PyTorch's is zero up to rounding, and this is above %g x the gradients' scale %g", name, i, g, goldenRtol, scale)
			return
		}
	}
}
