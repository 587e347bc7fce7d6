package models

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// goldenNet is one network of the image-to-image golden files
// (testdata/golden_patchgan.json, golden_unet.json), written by the
// gen_golden_*.py beside them; see there for the quantities.
type goldenNet struct {
	Config  map[string]any          `json:"config"`
	State   map[string]goldenTensor `json:"state"`
	X, R    goldenWave
	Out     goldenTensor            `json:"out"`
	GradX   goldenTensor            `json:"grad_x"`
	Grad    map[string]goldenTensor `json:"grad"`
	PenGrad map[string]goldenTensor `json:"pen_grad"`
	After   map[string]goldenTensor `json:"after"`
}

func (g *goldenNet) int(t *testing.T, key string) int {
	t.Helper()
	v, ok := g.Config[key].(float64)
	if !ok {
		t.Fatalf("golden config has no number %q", key)
	}
	return int(v)
}

func (g *goldenNet) str(t *testing.T, key string) string {
	t.Helper()
	v, ok := g.Config[key].(string)
	if !ok {
		t.Fatalf("golden config has no string %q", key)
	}
	return v
}

func loadGoldenNets(t *testing.T, file string, want int) map[string]*goldenNet {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatalf("reading golden file (regenerate with the testdata/gen_*.py that writes it): %v", err)
	}
	var g struct {
		Cases map[string]*goldenNet `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != want {
		t.Fatalf("%s: %d golden cases, want %d", file, len(g.Cases), want)
	}
	return g.Cases
}

// checkGoldenNet loads c's state into m (the names must be PyTorch's
// state_dict keys), runs forward in training mode on c's input and checks
// the output, the input and parameter gradients of sum(out * r), with
// second the gradient of the squared input-gradient norm with respect to
// every parameter, and the buffers after the pass.
func checkGoldenNet(t *testing.T, m nn.Module, forward func(*autograd.Value) *autograd.Value, c *goldenNet, second bool) {
	t.Helper()
	loadGoldenState(t, m, c.State)
	ps := m.Params("")
	inputs := goldenInputs(c.X.tensor(), ps)
	out := forward(inputs[0])
	checkClose(t, "out", out.Data(), c.Out)
	l := autograd.Sum(autograd.Mul(out, autograd.Const(c.R.tensor())), nil, false)
	grads := autograd.Grad([]*autograd.Value{l}, inputs, nil, second)
	checkClose(t, "grad input", grads[0].Data(), c.GradX)
	checkGoldenGrads(t, "grad", ps, grads[1:], c.Grad, false)
	if second {
		checkPenaltyGrads(t, grads[0], ps, c.PenGrad, false)
	}
	bs := m.Buffers("")
	if len(bs) != len(c.After) {
		t.Fatalf("%d buffers, PyTorch has %d", len(bs), len(c.After))
	}
	for _, b := range bs {
		checkClose(t, "buffer "+b.Name, b.Tensor, c.After[b.Name])
	}
}

// TestGoldenPatchGAN checks PatchGAN (batch, instance and no norm; 1, 2
// and 3 stride-2 layers) against PyTorch twins: logits map, gradients of
// first and second order, running statistics.
func TestGoldenPatchGAN(t *testing.T) {
	for name, c := range loadGoldenNets(t, "golden_patchgan.json", 3) {
		t.Run(name, func(t *testing.T) {
			d, err := NewPatchGAN(PatchGANConfig{Channels: c.int(t, "channels"), Width: c.int(t, "width"),
				Layers: c.int(t, "layers"), Norm: c.str(t, "norm")}, tensor.NewRNG(1))
			if err != nil {
				t.Fatal(err)
			}
			checkGoldenNet(t, d, d.Forward, c, true)
		})
	}
}
