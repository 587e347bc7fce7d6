package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// golden is testdata/golden_optim.json, written by gen_golden_optim.py.
type golden struct {
	Steps  int           `json:"steps"`
	Skip   [2]int        `json:"skip"`
	Shapes [][]int       `json:"shapes"`
	Init   [][]float32   `json:"init"`
	A      [][]float32   `json:"a"`
	C      [][]float32   `json:"c"`
	Noise  [][][]float32 `json:"noise"`
	Cases  []struct {
		Name      string                 `json:"name"`
		Optimizer string                 `json:"optimizer"`
		Config    map[string]any         `json:"config"`
		Params    [][][]float32          `json:"params"`
		State     []map[string]jsonFloat `json:"state"`
	} `json:"cases"`
	Clip struct {
		Grads [][]float32 `json:"grads"`
		Cases []struct {
			MaxNorm   float32     `json:"max_norm"`
			NormType  any         `json:"norm_type"`
			TotalNorm float32     `json:"total_norm"`
			Grads     [][]float32 `json:"grads"`
		} `json:"cases"`
	} `json:"clip"`
}

// jsonFloat is a state entry: a number (a step count) or a flat tensor.
type jsonFloat []float32

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	var x float32
	if err := json.Unmarshal(b, &x); err == nil {
		*f = []float32{x}
		return nil
	}
	var xs []float32
	if err := json.Unmarshal(b, &xs); err != nil {
		return err
	}
	*f = xs
	return nil
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden_optim.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("parsing golden_optim.json: %v", err)
	}
	if len(g.Cases) < 9 || g.Steps != 5 || len(g.Clip.Cases) < 4 {
		t.Fatalf("golden_optim.json holds %d cases, %d steps, %d clip cases", len(g.Cases), g.Steps, len(g.Clip.Cases))
	}
	return &g
}

func cfgNum(t *testing.T, cfg map[string]any, key string, def float32) float32 {
	t.Helper()
	v, ok := cfg[key]
	if !ok {
		return def
	}
	switch x := v.(type) {
	case float64:
		return float32(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	t.Fatalf("config %q: unexpected %T", key, v)
	return 0
}

func cfgBetas(t *testing.T, cfg map[string]any) (float32, float32) {
	t.Helper()
	b, ok := cfg["betas"].([]any)
	if !ok || len(b) != 2 {
		t.Fatalf("config betas: %v", cfg["betas"])
	}
	return float32(b[0].(float64)), float32(b[1].(float64))
}

// newGoldenOptimizer builds the optimizer a golden case describes, with
// torch's defaults for the settings it leaves out.
func newGoldenOptimizer(t *testing.T, kind string, cfg map[string]any, params []*autograd.Value) (Optimizer, error) {
	t.Helper()
	switch kind {
	case "sgd":
		return NewSGD(params, SGDConfig{
			LR:          cfgNum(t, cfg, "lr", 0),
			Momentum:    cfgNum(t, cfg, "momentum", 0),
			Dampening:   cfgNum(t, cfg, "dampening", 0),
			Nesterov:    cfgNum(t, cfg, "nesterov", 0) == 1,
			WeightDecay: cfgNum(t, cfg, "weight_decay", 0),
		})
	case "adam", "adamw":
		c := DefaultAdamConfig()
		if kind == "adamw" {
			c = DefaultAdamWConfig()
		}
		c.LR = cfgNum(t, cfg, "lr", c.LR)
		c.Beta1, c.Beta2 = cfgBetas(t, cfg)
		c.Eps = cfgNum(t, cfg, "eps", c.Eps)
		c.WeightDecay = cfgNum(t, cfg, "weight_decay", c.WeightDecay)
		return NewAdam(params, c)
	case "rmsprop":
		c := DefaultRMSPropConfig()
		c.LR = cfgNum(t, cfg, "lr", c.LR)
		c.Alpha = cfgNum(t, cfg, "alpha", c.Alpha)
		c.Eps = cfgNum(t, cfg, "eps", c.Eps)
		c.Momentum = cfgNum(t, cfg, "momentum", 0)
		c.Centered = cfgNum(t, cfg, "centered", 0) == 1
		c.WeightDecay = cfgNum(t, cfg, "weight_decay", 0)
		return NewRMSProp(params, c)
	}
	return nil, fmt.Errorf("unknown optimizer %q", kind)
}

// stateKeys maps torch's per-parameter state names to ours.
var stateKeys = map[string]map[string]string{
	"sgd":     {"momentum_buffer": "sgd.momentum_buffer"},
	"adam":    {"step": "adam.step", "exp_avg": "adam.m", "exp_avg_sq": "adam.v"},
	"adamw":   {"step": "adam.step", "exp_avg": "adam.m", "exp_avg_sq": "adam.v"},
	"rmsprop": {"step": "rmsprop.step", "square_avg": "rmsprop.square_avg", "momentum_buffer": "rmsprop.momentum_buffer", "grad_avg": "rmsprop.grad_avg"},
}

// closeTo reports whether got is within a relative 1e-6 of want (with an
// absolute floor of 1e-7 for values near zero).
func closeTo(got, want float32) bool {
	return math.Abs(float64(got)-float64(want)) <= 1e-6*math.Abs(float64(want))+1e-7
}

// goldenGrads sets each parameter's gradient to a⊙(θ−c) + noise[step],
// computed one float32 op at a time as the script does, except for the
// skipped (step, parameter) pair, which gets none.
func goldenGrads(g *golden, params []*autograd.Value, step int) {
	for i, p := range params {
		p.ZeroGrad()
		if step == g.Skip[0] && i == g.Skip[1] {
			continue
		}
		theta := p.Data().Data()
		gr := make([]float32, len(theta))
		for j := range gr {
			d := theta[j] - g.C[i][j]
			d = g.A[i][j] * d
			gr[j] = d + g.Noise[step][i][j]
		}
		setGrad(p, tensor.FromSlice(gr, p.Shape()...))
	}
}

// setGrad gives p exactly the gradient g through autograd.Backward on
// sum(θ ⊙ g) with g constant.
func setGrad(p *autograd.Value, g *tensor.Tensor) {
	p.ZeroGrad()
	autograd.Backward(autograd.Sum(autograd.Mul(p, autograd.Const(g)), nil, false))
}

func newParams(shapes [][]int, init [][]float32) []*autograd.Value {
	ps := make([]*autograd.Value, len(shapes))
	for i, s := range shapes {
		ps[i] = autograd.Param(tensor.FromSlice(append([]float32(nil), init[i]...), s...))
	}
	return ps
}

func TestGoldenOptim(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range g.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			params := newParams(g.Shapes, g.Init)
			opt, err := newGoldenOptimizer(t, tc.Optimizer, tc.Config, params)
			if err != nil {
				t.Fatal(err)
			}
			for step := 0; step < g.Steps; step++ {
				goldenGrads(g, params, step)
				opt.Step()
				for i, p := range params {
					for j, got := range p.Data().Data() {
						if want := tc.Params[step][i][j]; !closeTo(got, want) {
							t.Fatalf("step %d: param %d[%d] = %.9g, torch %.9g", step, i, j, got, want)
						}
					}
				}
			}
			st := opt.State()
			checked := 0
			for i, ts := range tc.State {
				for name, want := range ts {
					key, ok := stateKeys[tc.Optimizer][name]
					if !ok {
						t.Fatalf("torch state %q has no counterpart", name)
					}
					var got []float32
					if name == "step" {
						got = []float32{st[key].Data()[i]}
					} else {
						got = st[fmt.Sprintf("%s.%d", key, i)].Data()
					}
					if len(got) != len(want) {
						t.Fatalf("%s of param %d: %d values, torch %d", key, i, len(got), len(want))
					}
					for j := range want {
						if !closeTo(got[j], want[j]) {
							t.Errorf("%s of param %d [%d] = %.9g, torch %.9g", key, i, j, got[j], want[j])
						}
						checked++
					}
				}
			}
			if tc.Optimizer != "sgd" || cfgNum(t, tc.Config, "momentum", 0) != 0 {
				if checked == 0 {
					t.Fatal("no state compared")
				}
			}
		})
	}
}

func TestGoldenClipGradNorm(t *testing.T) {
	g := loadGolden(t)
	for _, tc := range g.Clip.Cases {
		norm := math.Inf(1)
		if f, ok := tc.NormType.(float64); ok {
			norm = f
		}
		t.Run(fmt.Sprintf("max%v_p%v", tc.MaxNorm, norm), func(t *testing.T) {
			params := newParams(g.Shapes, [][]float32{make([]float32, 6), make([]float32, 3)})
			for i, p := range params {
				setGrad(p, tensor.FromSlice(append([]float32(nil), g.Clip.Grads[i]...), p.Shape()...))
			}
			total := ClipGradNorm(params, tc.MaxNorm, norm)
			if !closeTo(total, tc.TotalNorm) {
				t.Errorf("total norm %.9g, torch %.9g", total, tc.TotalNorm)
			}
			for i, p := range params {
				for j, got := range p.Grad().Data() {
					if want := tc.Grads[i][j]; !closeTo(got, want) {
						t.Errorf("grad %d[%d] = %.9g, torch %.9g", i, j, got, want)
					}
				}
			}
		})
	}
}
