package models

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// resnetGenCase is one module of testdata/golden_resnetgen.json, written
// by testdata/gen_golden_resnetgen.py; see there for the quantities.
type resnetGenCase struct {
	Config struct {
		Channels int `json:"channels"`
		Width    int `json:"width"`
		Blocks   int `json:"blocks"`
		Size     int `json:"size"`
	} `json:"config"`
	State   map[string]goldenTensor `json:"state"`
	X, R    goldenWave
	Out     goldenTensor            `json:"out"`
	GradX   goldenTensor            `json:"grad_x"`
	Grad    map[string]goldenTensor `json:"grad"`
	PenGrad map[string]goldenTensor `json:"pen_grad"`
}

// TestGoldenResNetGenerator runs CycleGAN's residual block and whole ResNet
// generators (reflection padding, instance norm, strided and transposed
// convolutions) on PyTorch-built twins' weights: the state names must be
// PyTorch's; the output, the input and parameter gradients and, for the
// block, the second-order gradient of the squared input-gradient norm must
// match PyTorch's (the biases before instance norm, whose gradients are
// zero in exact arithmetic, up to rounding: checkCloseOrZero).
func TestGoldenResNetGenerator(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_resnetgen.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with testdata/gen_golden_resnetgen.py): %v", err)
	}
	var g struct {
		Cases map[string]*resnetGenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 3 {
		t.Fatalf("%d golden cases, want 3", len(g.Cases))
	}
	for name, c := range g.Cases {
		t.Run(name, func(t *testing.T) {
			rng := tensor.NewRNG(1)
			var m nn.Layer
			if name == "block" {
				m = NewResNetBlock(c.Config.Channels, rng)
			} else {
				k := c.Config
				gen, err := NewResNetGenerator(ResNetGeneratorConfig{Channels: k.Channels, Width: k.Width, Blocks: k.Blocks, Size: k.Size}, rng)
				if err != nil {
					t.Fatal(err)
				}
				m = gen
			}
			loadGoldenState(t, m, c.State)
			ps := m.Params("")
			inputs := goldenInputs(c.X.tensor(), ps)
			out := m.Forward(inputs[0])
			checkClose(t, "out", out.Data(), c.Out)
			l := autograd.Sum(autograd.Mul(out, autograd.Const(c.R.tensor())), nil, false)
			second := c.PenGrad != nil
			grads := autograd.Grad([]*autograd.Value{l}, inputs, nil, second)
			checkClose(t, "grad x", grads[0].Data(), c.GradX)
			checkGoldenGrads(t, "grad", ps, grads[1:], c.Grad, true)
			if second {
				checkPenaltyGrads(t, grads[0], ps, c.PenGrad, true)
			}
		})
	}
}

// TestResNetGeneratorConfig checks the shapes the generator keeps and the
// configurations it refuses, by field.
func TestResNetGeneratorConfig(t *testing.T) {
	rng := tensor.NewRNG(2)
	for _, size := range []int{28, 32} {
		g, err := NewResNetGenerator(ResNetGeneratorConfig{Channels: 1, Width: 2, Blocks: 1, Size: size}, rng)
		if err != nil {
			t.Fatal(err)
		}
		var y *autograd.Value
		autograd.NoGrad(func() { y = g.Forward(autograd.Const(rng.Normal(0, 1, 3, 1, size, size))) })
		if s := y.Shape(); s[0] != 3 || s[1] != 1 || s[2] != size || s[3] != size {
			t.Errorf("size %d: output %v", size, s)
		}
		for _, v := range y.Data().Data() {
			if v <= -1 || v >= 1 {
				t.Fatalf("size %d: output %v outside tanh's range", size, v)
			}
		}
	}
	for _, c := range []ResNetGeneratorConfig{
		{Channels: 2, Width: 2, Blocks: 1, Size: 28},
		{Channels: 1, Width: 0, Blocks: 1, Size: 28},
		{Channels: 1, Width: 2, Blocks: 0, Size: 28},
		{Channels: 1, Width: 2, Blocks: 1, Size: 30},
		{Channels: 1, Width: 2, Blocks: 1, Size: 4},
	} {
		if _, err := NewResNetGenerator(c, rng); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
