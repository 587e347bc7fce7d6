package optim_test

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// ExampleAdam fits y = 2x + 1 with Adam and a cosine learning-rate
// schedule.
func ExampleAdam() {
	x := autograd.Const(tensor.FromSlice([]float32{-1, -0.5, 0, 0.5, 1, 1.5}, 6, 1))
	y := autograd.Const(tensor.FromSlice([]float32{-1, 0, 1, 2, 3, 4}, 6, 1))
	w := autograd.Param(tensor.New(1, 1))
	b := autograd.Param(tensor.New(1))
	params := []*autograd.Value{w, b}

	opt, err := optim.NewAdam(params, optim.DefaultAdamConfig())
	if err != nil {
		panic(err)
	}
	sched := optim.Cosine{Base: 0.1, Warmup: 10, Total: 500}
	for step := range 500 {
		opt.ZeroGrad()
		pred := autograd.Add(autograd.MatMul(x, w, false, false), b)
		loss := autograd.Mean(autograd.Square(autograd.Sub(pred, y)), nil, false)
		autograd.Backward(loss)
		opt.SetLR(sched.LR(step))
		opt.Step()
	}
	fmt.Printf("w = %.3f, b = %.3f\n", w.Data().Item(), b.Data().Item())
	// Output: w = 2.000, b = 1.000
}
