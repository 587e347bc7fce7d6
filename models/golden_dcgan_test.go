package models

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// goldenRtol is the golden tests' tolerance: element i of a result passes
// if |got - want| <= goldenRtol * (|want_i| + rms(want)). The references
// are PyTorch's, computed in float64 from the same float32 weights, so this
// bounds Kallima's float32 error relative to each element and, for elements
// near 0 (where sums cancel), relative to the tensor's typical size.
const goldenRtol = 2e-4

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

// goldenWave is an input the generator script does not store:
// sin(0.731 i + Phase) over the row-major index i, rounded to float32.
type goldenWave struct {
	Shape []int   `json:"shape"`
	Phase float64 `json:"phase"`
}

func (w goldenWave) tensor() *tensor.Tensor {
	t := tensor.New(w.Shape...)
	for i := range t.Data() {
		t.Data()[i] = float32(math.Sin(float64(i)*0.731 + w.Phase))
	}
	return t
}

// goldenCase is one network of testdata/golden_dcgan.json, written by
// testdata/gen_golden_dcgan.py; see there for the quantities.
type goldenCase struct {
	Config struct {
		Size     int    `json:"size"`
		Channels int    `json:"channels"`
		Width    int    `json:"width"`
		ZDim     int    `json:"zdim"`
		BN       bool   `json:"bn"`
		SN       bool   `json:"sn"`
		Classes  int    `json:"classes"`
		Embed    int    `json:"embed"`
		Cond     string `json:"cond"`
		Kernels  int    `json:"kernels"`
		KDim     int    `json:"kdim"`
	} `json:"config"`
	State   map[string]goldenTensor `json:"state"`
	X, Z, R goldenWave
	Labels  []int                   `json:"labels"`
	Out     goldenTensor            `json:"out"`
	GradX   goldenTensor            `json:"grad_x"`
	GradZ   goldenTensor            `json:"grad_z"`
	Grad    map[string]goldenTensor `json:"grad"`
	PenGrad map[string]goldenTensor `json:"pen_grad"`
	After   map[string]goldenTensor `json:"after"`
}

func (c *goldenCase) config() CGANConfig {
	k := c.Config
	return CGANConfig{
		DCGANConfig: DCGANConfig{Size: k.Size, Channels: k.Channels, Width: k.Width, ZDim: k.ZDim,
			NoBatchNorm: !k.BN, SpectralNorm: k.SN, MinibatchKernels: k.Kernels, MinibatchDim: k.KDim},
		Classes: k.Classes, EmbedDim: k.Embed, Conditioning: k.Cond,
	}
}

func loadGoldenDCGAN(t *testing.T) map[string]*goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/golden_dcgan.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with testdata/gen_golden_dcgan.py): %v", err)
	}
	var g struct {
		Cases map[string]*goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 7 {
		t.Fatalf("only %d golden cases", len(g.Cases))
	}
	return g.Cases
}

// checkClose compares got with PyTorch's want (see goldenRtol) and logs
// how much of the tolerance the worst element used when it is over a
// tenth. A nil got stands for zeros (a parameter the output does not
// depend on).
func checkClose(t *testing.T, name string, got *tensor.Tensor, want goldenTensor) {
	t.Helper()
	if got == nil {
		got = tensor.New(want.Shape...)
	}
	if !tensor.SameShape(got.Shape(), want.Shape) {
		t.Errorf("%s: shape %v, torch %v", name, got.Shape(), want.Shape)
		return
	}
	var ss float64
	for _, w := range want.Data {
		ss += w * w
	}
	rms := math.Sqrt(ss / float64(max(len(want.Data), 1)))
	if rms == 0 {
		// All zero (a bias the penalty does not reach): so must got be,
		// up to rounding.
		if m := tensor.Max(tensor.Abs(got), nil, false).Item(); m > 1e-6 {
			t.Errorf("%s: PyTorch has all zeros, got entries up to %g", name, m)
		}
		return
	}
	worst, at := 0.0, 0
	for i, w := range want.Data {
		e := math.Abs(float64(got.Data()[i])-w) / (goldenRtol * (math.Abs(w) + rms))
		if math.IsNaN(e) || e > worst {
			worst, at = e, i
		}
	}
	if worst > 1 || math.IsNaN(worst) {
		t.Errorf("%s[%d] = %.7g, torch %.7g (%.2f x tolerance)", name, at, got.Data()[at], want.Data[at], worst)
	} else if worst > 0.1 {
		t.Logf("%s: worst error %.2f of tolerance", name, worst)
	}
}

func loadState(t *testing.T, m nn.Module, c *goldenCase) {
	t.Helper()
	state := map[string]*tensor.Tensor{}
	for name, g := range c.State {
		state[name] = g.tensor()
	}
	if err := nn.LoadState(m, state); err != nil {
		t.Fatalf("PyTorch's state_dict names should load: %v", err)
	}
}

// TestGoldenDCGAN runs the DCGAN and conditional DCGAN networks with their
// real activations, in training mode, on PyTorch-built twins' weights: the
// names must match PyTorch's state_dict keys; the outputs, the input and
// parameter gradients, the gradient of the squared input-gradient norm
// with respect to every parameter (the second-order path of WGAN-GP and
// R1) and the updated buffers (running statistics, spectral norm's u and v)
// must match PyTorch's.
func TestGoldenDCGAN(t *testing.T) {
	for name, c := range loadGoldenDCGAN(t) {
		t.Run(name, func(t *testing.T) {
			cfg := c.config()
			rng := tensor.NewRNG(1)
			var m nn.Module
			var forward func(x *autograd.Value) *autograd.Value
			switch {
			case strings.HasPrefix(name, "d"):
				d := newDCGANDiscriminator(cfg.DCGANConfig, cfg.Channels, rng)
				m, forward = d, d.Forward
			case strings.HasPrefix(name, "g"):
				g := newDCGANGenerator(cfg.DCGANConfig, rng)
				m, forward = g, g.Forward
			case strings.HasPrefix(name, "cd"):
				d := newCondDiscriminator(cfg, rng)
				m, forward = d, func(x *autograd.Value) *autograd.Value { return d.Forward(x, c.Labels) }
			case strings.HasPrefix(name, "cg"):
				g := newCondGenerator(cfg, rng)
				m, forward = g, func(z *autograd.Value) *autograd.Value { return g.Forward(z, c.Labels) }
			default:
				t.Fatalf("unknown case kind %q", name)
			}
			loadState(t, m, c)
			ps := m.Params("")
			inputs := make([]*autograd.Value, len(ps)+1)
			for i, p := range ps {
				inputs[i+1] = p.Value
			}
			generator := strings.Contains(name, "g")
			in, wantIn := c.X, c.GradX
			if generator {
				in, wantIn = c.Z, c.GradZ
			}
			inputs[0] = autograd.Param(in.tensor())
			out := forward(inputs[0])
			checkClose(t, "out", out.Data(), c.Out)
			l := autograd.Sum(autograd.Mul(out, autograd.Const(c.R.tensor())), nil, false)
			grads := autograd.Grad([]*autograd.Value{l}, inputs, nil, !generator)
			checkClose(t, "grad input", grads[0].Data(), wantIn)
			for i, p := range ps {
				want, ok := c.Grad[p.Name]
				if !ok {
					t.Fatalf("no PyTorch gradient for %s", p.Name)
				}
				var g *tensor.Tensor
				if grads[i+1] != nil {
					g = grads[i+1].Data()
				}
				checkClose(t, "grad "+p.Name, g, want)
			}
			if !generator {
				gx := grads[0]
				pen := autograd.Sum(autograd.Mul(gx, gx), nil, false)
				pg := autograd.Grad([]*autograd.Value{pen}, inputs[1:], nil, false)
				for i, p := range ps {
					var g *tensor.Tensor
					if pg[i] != nil {
						g = pg[i].Data()
					}
					checkClose(t, "penalty grad "+p.Name, g, c.PenGrad[p.Name])
				}
			}
			bs := m.Buffers("")
			if len(bs) != len(c.After) {
				t.Fatalf("%d buffers, PyTorch has %d", len(bs), len(c.After))
			}
			for _, b := range bs {
				checkClose(t, "buffer "+b.Name, b.Tensor, c.After[b.Name])
			}
		})
	}
}
