package models

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// goldenStarCase is one network of testdata/golden_stargan.json, written
// by testdata/gen_golden_stargan.py; see there for the quantities.
type goldenStarCase struct {
	Config struct {
		Size     int `json:"size"`
		Channels int `json:"channels"`
		Domains  int `json:"domains"`
		GWidth   int `json:"gwidth"`
		Blocks   int `json:"blocks"`
		DWidth   int `json:"dwidth"`
		DLayers  int `json:"dlayers"`
	} `json:"config"`
	State   map[string]goldenTensor `json:"state"`
	To      []int                   `json:"to"`
	X, R    goldenWave
	R2      goldenWave              `json:"r2"`
	Out     goldenTensor            `json:"out"`
	Src     goldenTensor            `json:"src"`
	Cls     goldenTensor            `json:"cls"`
	GradX   goldenTensor            `json:"grad_x"`
	Grad    map[string]goldenTensor `json:"grad"`
	PenGrad map[string]goldenTensor `json:"pen_grad"`
}

func (c *goldenStarCase) config() StarGANConfig {
	k := c.Config
	return StarGANConfig{Size: k.Size, Channels: k.Channels, Domains: k.Domains, GWidth: k.GWidth, Blocks: k.Blocks, DWidth: k.DWidth, DLayers: k.DLayers}
}

func loadGoldenStarGAN(t *testing.T) map[string]*goldenStarCase {
	t.Helper()
	b, err := os.ReadFile("testdata/golden_stargan.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with testdata/gen_golden_stargan.py): %v", err)
	}
	var g struct {
		Cases map[string]*goldenStarCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Cases["g28"] == nil || g.Cases["d28"] == nil {
		t.Fatalf("golden file lacks g28 or d28")
	}
	return g.Cases
}

// TestGoldenStarGenerator runs StarGAN's generator at 28x28 (3 domains,
// width 2, 2 residual blocks) on its PyTorch twin's weights: the output
// and the gradients of sum(out * r) with respect to the input image and
// every parameter must match PyTorch's.
func TestGoldenStarGenerator(t *testing.T) {
	c := loadGoldenStarGAN(t)["g28"]
	g, err := NewStarGenerator(c.config(), tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	loadGoldenState(t, g, c.State)
	ps := g.Params("")
	in := goldenInputs(c.X.tensor(), ps)
	out := g.Forward(in[0], c.To)
	checkClose(t, "out", out.Data(), c.Out)
	l := autograd.Sum(autograd.Mul(out, autograd.Const(c.R.tensor())), nil, false)
	grads := autograd.Grad([]*autograd.Value{l}, in, nil, false)
	checkClose(t, "grad x", grads[0].Data(), c.GradX)
	checkGoldenGrads(t, "grad", ps, grads[1:], c.Grad, false)
}

// TestGoldenStarDiscriminator runs StarGAN's discriminator at 28x28 (3
// layers to 3x3 maps, 3 domains) on its PyTorch twin's weights: both
// heads' outputs, the input and parameter gradients of sum(src * r) +
// sum(cls * r2), and the parameter gradients of the squared input-gradient
// norm (WGAN-GP's second-order path) must match PyTorch's.
func TestGoldenStarDiscriminator(t *testing.T) {
	c := loadGoldenStarGAN(t)["d28"]
	d, err := NewStarDiscriminator(c.config(), tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	loadGoldenState(t, d, c.State)
	ps := d.Params("")
	in := goldenInputs(c.X.tensor(), ps)
	src, cls := d.Forward(in[0])
	checkClose(t, "src", src.Data(), c.Src)
	checkClose(t, "cls", cls.Data(), c.Cls)
	l := autograd.Add(autograd.Sum(autograd.Mul(src, autograd.Const(c.R.tensor())), nil, false),
		autograd.Sum(autograd.Mul(cls, autograd.Const(c.R2.tensor())), nil, false))
	grads := autograd.Grad([]*autograd.Value{l}, in, nil, true)
	checkClose(t, "grad x", grads[0].Data(), c.GradX)
	checkGoldenGrads(t, "grad", ps, grads[1:], c.Grad, false)
	checkPenaltyGrads(t, grads[0], ps, c.PenGrad, false)
}
