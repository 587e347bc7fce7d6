package optim

import (
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// optimizerCases covers every optimizer and the options that add state.
// fresh builds the same kind of optimizer with other settings, to show that
// LoadState restores hyperparameters as well as moments.
var optimizerCases = []struct {
	name  string
	make  func([]*autograd.Value) (Optimizer, error)
	fresh func([]*autograd.Value) (Optimizer, error)
}{
	{"sgd", sgdMaker(SGDConfig{LR: 0.05}), sgdMaker(SGDConfig{LR: 1, Momentum: 0.5})},
	{"sgd_momentum", sgdMaker(SGDConfig{LR: 0.05, Momentum: 0.9, Dampening: 0.1}), sgdMaker(SGDConfig{LR: 1})},
	{"sgd_nesterov_wd", sgdMaker(SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-2}), sgdMaker(SGDConfig{LR: 1})},
	{"adam", adamMaker(DefaultAdamConfig()), adamMaker(DefaultAdamWConfig())},
	{"adam_l2", adamMaker(AdamConfig{LR: 2e-3, Beta1: 0.5, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1}), adamMaker(DefaultAdamConfig())},
	{"adamw", adamMaker(AdamConfig{LR: 2e-3, Beta1: 0, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1, Decoupled: true}), adamMaker(DefaultAdamConfig())},
	{"rmsprop", rmspropMaker(DefaultRMSPropConfig()), rmspropMaker(RMSPropConfig{LR: 1, Alpha: 0.5, Momentum: 0.9, Centered: true})},
	{"rmsprop_centered_momentum_wd", rmspropMaker(RMSPropConfig{LR: 1e-3, Alpha: 0.9, Eps: 1e-6, Momentum: 0.5, Centered: true, WeightDecay: 1e-3}), rmspropMaker(DefaultRMSPropConfig())},
}

func sgdMaker(c SGDConfig) func([]*autograd.Value) (Optimizer, error) {
	return func(ps []*autograd.Value) (Optimizer, error) { return NewSGD(ps, c) }
}

func adamMaker(c AdamConfig) func([]*autograd.Value) (Optimizer, error) {
	return func(ps []*autograd.Value) (Optimizer, error) { return NewAdam(ps, c) }
}

func rmspropMaker(c RMSPropConfig) func([]*autograd.Value) (Optimizer, error) {
	return func(ps []*autograd.Value) (Optimizer, error) { return NewRMSProp(ps, c) }
}

// problem is a small regression: loss = mean((tanh(x·W + b) − y)²), plus
// 0.1·sum(u²) on even steps only, so u has no gradient on odd steps.
type problem struct {
	x, y *autograd.Value
}

func newProblem(seed uint64) *problem {
	g := tensor.NewRNG(seed)
	return &problem{
		x: autograd.Const(g.Normal(0, 1, 5, 3)),
		y: autograd.Const(g.Uniform(-0.5, 0.5, 5, 4)),
	}
}

func problemParams(seed uint64) []*autograd.Value {
	g := tensor.NewRNG(seed)
	return []*autograd.Value{
		autograd.Param(g.Normal(0, 0.5, 3, 4)),
		autograd.Param(g.Normal(0, 0.1, 4)),
		autograd.Param(g.Normal(0, 1, 2, 2)),
	}
}

// grads sets the parameters' gradients for the given step.
func (pr *problem) grads(ps []*autograd.Value, step int) {
	ZeroGrad(ps)
	h := autograd.Tanh(autograd.Add(autograd.MatMul(pr.x, ps[0], false, false), ps[1]))
	loss := autograd.Mean(autograd.Square(autograd.Sub(h, pr.y)), nil, false)
	if step%2 == 0 {
		loss = autograd.Add(loss, autograd.Scale(autograd.Sum(autograd.Square(ps[2]), nil, false), 0.1))
	}
	autograd.Backward(loss)
}

func cloneParams(ps []*autograd.Value) []*autograd.Value {
	out := make([]*autograd.Value, len(ps))
	for i, p := range ps {
		out[i] = autograd.Param(p.Data().Clone())
	}
	return out
}

// sameBits reports whether a and b hold the same shape and bit patterns.
func sameBits(a, b *tensor.Tensor) bool {
	if !tensor.SameShape(a.Shape(), b.Shape()) {
		return false
	}
	for i, x := range a.Data() {
		if math.Float32bits(x) != math.Float32bits(b.Data()[i]) {
			return false
		}
	}
	return true
}

func sameState(t *testing.T, got, want map[string]*tensor.Tensor) {
	t.Helper()
	if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
		t.Fatalf("state keys %v, want %v", sortedKeys(got), sortedKeys(want))
	}
	for k, w := range want {
		if !sameBits(got[k], w) {
			t.Fatalf("state %q = %v, want %v", k, got[k], w)
		}
	}
}

func sortedKeys(m map[string]*tensor.Tensor) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestResumeBitExact trains k steps, saves the state, restores it into a
// fresh optimizer built with other settings over fresh copies of the
// parameters, and checks that the following steps match an optimizer that
// never stopped bit for bit, with the learning rate set from a schedule.
func TestResumeBitExact(t *testing.T) {
	const k, more = 7, 6
	sched := Cosine{Base: 1, Warmup: 3, Total: k + more, Final: 0.1}
	for _, tc := range optimizerCases {
		t.Run(tc.name, func(t *testing.T) {
			pr := newProblem(1)
			live := problemParams(2)
			opt, err := tc.make(live)
			if err != nil {
				t.Fatal(err)
			}
			base := opt.LR()
			step := func(o Optimizer, ps []*autograd.Value, s int) {
				pr.grads(ps, s)
				o.SetLR(base * sched.LR(s))
				o.Step()
			}
			for s := 0; s < k; s++ {
				step(opt, live, s)
			}
			saved := opt.State()
			resumed := cloneParams(live)
			opt2, err := tc.fresh(resumed)
			if err != nil {
				t.Fatal(err)
			}
			if err := opt2.LoadState(saved); err != nil {
				t.Fatal(err)
			}
			sameState(t, opt2.State(), saved)
			start := slices.Clone(live[0].Data().Data())
			for s := k; s < k+more; s++ {
				step(opt, live, s)
				step(opt2, resumed, s)
				for i := range live {
					if !sameBits(live[i].Data(), resumed[i].Data()) {
						t.Fatalf("step %d: param %d differs after resume:\n%v\n%v", s, i, live[i].Data(), resumed[i].Data())
					}
				}
			}
			sameState(t, opt2.State(), opt.State())
			if slices.Equal(start, live[0].Data().Data()) {
				t.Fatal("parameters did not move")
			}
		})
	}
}

// TestStepAllocatesNothing checks that Step allocates nothing after the
// first steps.
func TestStepAllocatesNothing(t *testing.T) {
	for _, tc := range optimizerCases {
		t.Run(tc.name, func(t *testing.T) {
			pr := newProblem(3)
			ps := problemParams(4)
			opt, err := tc.make(ps)
			if err != nil {
				t.Fatal(err)
			}
			pr.grads(ps, 0)
			opt.Step()
			opt.Step()
			if n := testing.AllocsPerRun(50, func() { opt.SetLR(opt.LR()); opt.Step() }); n != 0 {
				t.Fatalf("Step allocates %v times per call", n)
			}
		})
	}
}

// TestStepSkipsNilGrad checks that a parameter without a gradient is left
// untouched, its counters too, while the others move.
func TestStepSkipsNilGrad(t *testing.T) {
	for _, tc := range optimizerCases {
		t.Run(tc.name, func(t *testing.T) {
			pr := newProblem(5)
			ps := problemParams(6)
			opt, err := tc.make(ps)
			if err != nil {
				t.Fatal(err)
			}
			before := []*tensor.Tensor{ps[0].Data().Clone(), ps[2].Data().Clone()}
			pr.grads(ps, 1) // odd step: ps[2] gets no gradient
			if ps[2].Grad() != nil {
				t.Fatal("problem gave u a gradient on an odd step")
			}
			opt.Step()
			if !sameBits(ps[2].Data(), before[1]) {
				t.Fatalf("parameter without gradient moved: %v -> %v", before[1], ps[2].Data())
			}
			if sameBits(ps[0].Data(), before[0]) {
				t.Fatal("parameter with gradient did not move")
			}
			for k, v := range opt.State() {
				if strings.HasSuffix(k, ".step") && !slices.Equal(v.Data(), []float32{1, 1, 0}) {
					t.Fatalf("%s = %v, want [1 1 0]", k, v.Data())
				}
			}
		})
	}
}

// TestStateIsACopy checks that changing a returned state leaves the
// optimizer alone.
func TestStateIsACopy(t *testing.T) {
	for _, tc := range optimizerCases {
		t.Run(tc.name, func(t *testing.T) {
			pr := newProblem(7)
			ps := problemParams(8)
			opt, _ := tc.make(ps)
			pr.grads(ps, 0)
			opt.Step()
			st := opt.State()
			want := opt.State()
			for _, v := range st {
				v.Fill(42)
			}
			sameState(t, opt.State(), want)
		})
	}
}

// TestLoadStateMissingKey removes each key of a saved state in turn: every
// one is needed, LoadState says which is missing, and a failed load leaves
// the optimizer unchanged. Extra keys are ignored.
func TestLoadStateMissingKey(t *testing.T) {
	for _, tc := range optimizerCases {
		t.Run(tc.name, func(t *testing.T) {
			pr := newProblem(9)
			ps := problemParams(10)
			opt, _ := tc.make(ps)
			for s := range 3 {
				pr.grads(ps, s)
				opt.Step()
			}
			saved := opt.State()
			target, _ := tc.fresh(cloneParams(ps))
			before := target.State()
			for key := range saved {
				partial := map[string]*tensor.Tensor{}
				for k, v := range saved {
					if k != key {
						partial[k] = v
					}
				}
				err := target.LoadState(partial)
				if err == nil || !strings.Contains(err.Error(), key) {
					t.Fatalf("without %q: error %v, want one naming the key", key, err)
				}
				sameState(t, target.State(), before)
			}
			withExtra := map[string]*tensor.Tensor{"generator/w": tensor.New(3), "adam": tensor.New(1)}
			for k, v := range saved {
				withExtra[k] = v
			}
			if err := target.LoadState(withExtra); err != nil {
				t.Fatalf("extra keys: %v", err)
			}
			sameState(t, target.State(), saved)
		})
	}
}

// TestLoadStateBadValues checks the errors for wrong shapes and values.
func TestLoadStateBadValues(t *testing.T) {
	ps := problemParams(11)
	pr := newProblem(12)
	opt, _ := NewAdam(ps, DefaultAdamConfig())
	pr.grads(ps, 0)
	opt.Step()
	saved := opt.State()
	cases := []struct {
		name, key string
		value     *tensor.Tensor
		want      string
	}{
		{"moment shape", "adam.m.0", tensor.New(4, 3), "shape"},
		{"moment size", "adam.v.1", tensor.New(5), "shape"},
		{"step count", "adam.step", tensor.New(2), "one counter per parameter"},
		{"step negative", "adam.step", tensor.FromSlice([]float32{1, -1, 0}, 3), "non-negative integer"},
		{"step fraction", "adam.step", tensor.FromSlice([]float32{1, 1.5, 0}, 3), "non-negative integer"},
		{"lr not scalar", "adam.lr", tensor.New(2), "scalar"},
		{"lr NaN", "adam.lr", tensor.Scalar(float32(math.NaN())), "NaN"},
		{"lr negative", "adam.lr", tensor.Scalar(-1), "learning rate"},
		{"beta1 one", "adam.beta1", tensor.Scalar(1), "beta1"},
		{"flag", "adam.decoupled", tensor.Scalar(0.5), "0 or 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target, _ := NewAdam(cloneParams(ps), DefaultAdamWConfig())
			before := target.State()
			bad := map[string]*tensor.Tensor{}
			for k, v := range saved {
				bad[k] = v
			}
			bad[tc.key] = tc.value
			err := target.LoadState(bad)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			sameState(t, target.State(), before)
		})
	}
	// A one-element [1] tensor is accepted for a scalar.
	ok := map[string]*tensor.Tensor{}
	for k, v := range saved {
		ok[k] = v
	}
	ok["adam.lr"] = tensor.FromSlice([]float32{0.5}, 1)
	target, _ := NewAdam(cloneParams(ps), DefaultAdamConfig())
	if err := target.LoadState(ok); err != nil || target.LR() != 0.5 {
		t.Fatalf("lr of shape [1]: err %v, lr %v", err, target.LR())
	}
}

func TestNewErrors(t *testing.T) {
	p := autograd.Param(tensor.New(2))
	ps := []*autograd.Value{p}
	nan := float32(math.NaN())
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"empty", func() error { _, err := NewAdam(nil, DefaultAdamConfig()); return err }, "empty"},
		{"nil", func() error { _, err := NewSGD([]*autograd.Value{p, nil}, SGDConfig{}); return err }, "nil"},
		{"duplicate", func() error { _, err := NewRMSProp([]*autograd.Value{p, p}, DefaultRMSPropConfig()); return err }, "same Value"},
		{"sgd lr", func() error { _, err := NewSGD(ps, SGDConfig{LR: -1}); return err }, "learning rate"},
		{"sgd momentum", func() error { _, err := NewSGD(ps, SGDConfig{Momentum: -0.1}); return err }, "momentum"},
		{"sgd wd", func() error { _, err := NewSGD(ps, SGDConfig{WeightDecay: nan}); return err }, "weight decay"},
		{"nesterov no momentum", func() error { _, err := NewSGD(ps, SGDConfig{Nesterov: true}); return err }, "Nesterov"},
		{"nesterov dampening", func() error {
			_, err := NewSGD(ps, SGDConfig{Nesterov: true, Momentum: 0.9, Dampening: 0.1})
			return err
		}, "Nesterov"},
		{"adam beta2", func() error { _, err := NewAdam(ps, AdamConfig{Beta2: 1}); return err }, "beta2"},
		{"adam beta1", func() error { _, err := NewAdam(ps, AdamConfig{Beta1: -0.1}); return err }, "beta1"},
		{"adam eps", func() error { _, err := NewAdam(ps, AdamConfig{Eps: -1}); return err }, "eps"},
		{"rmsprop alpha", func() error { _, err := NewRMSProp(ps, RMSPropConfig{Alpha: nan}); return err }, "alpha"},
		{"rmsprop momentum", func() error { _, err := NewRMSProp(ps, RMSPropConfig{Momentum: -1}); return err }, "momentum"},
		{"ema decay", func() error { _, err := NewEMA(ps, nil, EMAConfig{Decay: 1.5}); return err }, "decay"},
		{"ema empty", func() error { _, err := NewEMA(nil, nil, EMAConfig{Decay: 0.9}); return err }, "no parameters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDefaultConfigs(t *testing.T) {
	if c := DefaultAdamConfig(); c != (AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}) {
		t.Errorf("DefaultAdamConfig = %+v", c)
	}
	if c := DefaultAdamWConfig(); c != (AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2, Decoupled: true}) {
		t.Errorf("DefaultAdamWConfig = %+v", c)
	}
	if c := DefaultRMSPropConfig(); c != (RMSPropConfig{LR: 1e-2, Alpha: 0.99, Eps: 1e-8}) {
		t.Errorf("DefaultRMSPropConfig = %+v", c)
	}
}

func TestSetLR(t *testing.T) {
	for _, tc := range optimizerCases {
		t.Run(tc.name, func(t *testing.T) {
			opt, _ := tc.make(problemParams(13))
			opt.SetLR(0.25)
			if opt.LR() != 0.25 || opt.State()[stateLRKey(opt)].Item() != 0.25 {
				t.Fatalf("LR %v after SetLR(0.25)", opt.LR())
			}
			for _, bad := range []float32{-1, float32(math.NaN())} {
				func() {
					defer func() {
						if r := recover(); r == nil || !strings.Contains(r.(string), "SetLR") {
							t.Errorf("SetLR(%v): panic %v", bad, r)
						}
					}()
					opt.SetLR(bad)
				}()
			}
		})
	}
}

func stateLRKey(o Optimizer) string {
	for k := range o.State() {
		if strings.HasSuffix(k, ".lr") {
			return k
		}
	}
	return ""
}

// TestSGDHandComputed checks one momentum and one Nesterov trajectory
// worked out by hand.
func TestSGDHandComputed(t *testing.T) {
	cases := []struct {
		name string
		cfg  SGDConfig
		want []float32 // θ after steps 1, 2 with gradient 1 each time, θ₀ = 1
	}{
		// b = 1, θ = 1 − 0.1 = 0.9; b = 0.5 + 1 = 1.5, θ = 0.9 − 0.15 = 0.75
		{"momentum", SGDConfig{LR: 0.1, Momentum: 0.5}, []float32{0.9, 0.75}},
		// b = 1, step 1 + 0.5 = 1.5, θ = 0.85; b = 1.5, step 1 + 0.75 = 1.75, θ = 0.675
		{"nesterov", SGDConfig{LR: 0.1, Momentum: 0.5, Nesterov: true}, []float32{0.85, 0.675}},
		// b = 1, θ = 0.9; b = 0.5 + 0.5·1 = 1, θ = 0.8
		{"dampening", SGDConfig{LR: 0.1, Momentum: 0.5, Dampening: 0.5}, []float32{0.9, 0.8}},
		// g = 1 + 0.5·1 = 1.5, θ = 0.85; g = 1 + 0.425 = 1.425, θ = 0.7075
		{"weight decay", SGDConfig{LR: 0.1, WeightDecay: 0.5}, []float32{0.85, 0.7075}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := autograd.Param(tensor.Ones(1))
			opt, err := NewSGD([]*autograd.Value{p}, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				setGrad(p, tensor.Ones(1))
				opt.Step()
				if got := p.Data().Item(); math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("step %d: θ = %v, want %v", i+1, got, want)
				}
			}
		})
	}
}

func TestZeroGrad(t *testing.T) {
	ps := problemParams(14)
	newProblem(15).grads(ps, 0)
	for i, p := range ps {
		if p.Grad() == nil {
			t.Fatalf("param %d has no gradient", i)
		}
	}
	opt, _ := NewAdam(ps, DefaultAdamConfig())
	opt.ZeroGrad()
	for i, p := range ps {
		if p.Grad() != nil {
			t.Fatalf("param %d still has a gradient", i)
		}
	}
	before := ps[0].Data().Clone()
	opt.Step()
	if !sameBits(ps[0].Data(), before) {
		t.Fatal("Step with no gradients moved a parameter")
	}
}
