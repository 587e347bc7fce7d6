package optim

import (
	"math"
	"runtime"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/internal/parallel"
	"github.com/kallima-gan/kallima/tensor"
)

// TestWorkersAgree checks that Adam (each form) and the EMA, which update
// large parameters in blocks on several goroutines, give the same bits as
// on one goroutine.
func TestWorkersAgree(t *testing.T) {
	configs := map[string]AdamConfig{
		"adam":    DefaultAdamConfig(),
		"adam_l2": {LR: 2e-3, Beta1: 0.5, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1},
		"adamw":   {LR: 2e-3, Beta1: 0, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.1, Decoupled: true},
	}
	// run takes three Adam steps and three EMA updates of two parameters
	// (one of them large enough to split at the default grain) and returns
	// their values and shadows.
	run := func(c AdamConfig) []*tensor.Tensor {
		g := tensor.NewRNG(5)
		ps := []*autograd.Value{autograd.Param(g.Normal(0, 1, 101, 103)), autograd.Param(g.Normal(0, 1, 7))}
		opt, err := NewAdam(ps, c)
		if err != nil {
			t.Fatal(err)
		}
		ema, err := NewEMA(ps, nil, EMAConfig{Decay: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			ZeroGrad(ps)
			loss := autograd.Add(
				autograd.Sum(autograd.Mul(ps[0], autograd.Mul(ps[0], autograd.Const(g.Normal(0, 1, 101, 103)))), nil, false),
				autograd.Sum(autograd.Mul(ps[1], autograd.Const(g.Normal(0, 1, 7))), nil, false))
			autograd.Backward(loss)
			opt.Step()
			ema.Update()
		}
		shadows, _ := ema.Shadows()
		return []*tensor.Tensor{ps[0].Data(), ps[1].Data(), shadows[0], shadows[1]}
	}
	prevGrain, prevProcs := parallel.Grain, runtime.GOMAXPROCS(1)
	defer func() { parallel.Grain = prevGrain; runtime.GOMAXPROCS(prevProcs) }()
	for name, c := range configs {
		runtime.GOMAXPROCS(1)
		parallel.Grain = prevGrain
		want := run(c)
		for _, grain := range []int{prevGrain, 1} {
			parallel.Grain = grain
			runtime.GOMAXPROCS(3)
			got := run(c)
			for k := range want {
				w, g := want[k].Data(), got[k].Data()
				for i := range w {
					if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
						t.Fatalf("%s, grain %d, 3 goroutines: tensor %d element %d = %v, want %v", name, grain, k, i, g[i], w[i])
					}
				}
			}
		}
	}
}
