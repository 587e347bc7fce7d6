package nn_test

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

func ExampleLinear() {
	rng := tensor.NewRNG(1)
	fc := nn.NewLinear(3, 2, rng) // PyTorch's default init, drawn from rng
	// Set known weights to show the map y = x W^T + b.
	fc.Weight.Data().CopyFrom(tensor.FromSlice([]float32{1, 0, -1, 0.5, 0.5, 0.5}, 2, 3))
	fc.Bias.Data().CopyFrom(tensor.FromSlice([]float32{0, 1}, 2))
	x := autograd.Const(tensor.FromSlice([]float32{1, 2, 3, 0, 0, 2}, 2, 3))
	y := fc.Forward(x)
	fmt.Println(y.Shape(), y.Data().Data())
	for _, p := range fc.Params("fc") {
		fmt.Println(p.Name, p.Value.Shape())
	}
	// Output:
	// [2 2] [-2 4 -2 2]
	// fc.weight [2 3]
	// fc.bias [2]
}

func ExampleSequential() {
	rng := tensor.NewRNG(1)
	// A small critic for 2-D points.
	critic := nn.NewSequential(
		nn.NewLinear(2, 16, rng), nn.LeakyReLU{Slope: 0.2},
		nn.NewLinear(16, 16, rng).WithSpectralNorm(rng), nn.LeakyReLU{Slope: 0.2},
		nn.NewLinear(16, 1, rng),
	)
	x := autograd.Const(rng.Normal(0, 1, 8, 2))
	score := critic.Forward(x)
	fmt.Println("scores:", score.Shape())

	// Gradients reach every parameter.
	autograd.Backward(autograd.Mean(score, nil, false))
	for _, p := range critic.Params("critic") {
		fmt.Println(p.Name, p.Value.Shape(), p.Value.Grad() != nil)
	}
	for _, b := range critic.Buffers("critic") {
		fmt.Println(b.Name, b.Tensor.Shape())
	}
	// Output:
	// scores: [8 1]
	// critic.0.weight [16 2] true
	// critic.0.bias [16] true
	// critic.2.weight_orig [16 16] true
	// critic.2.bias [16] true
	// critic.4.weight [1 16] true
	// critic.4.bias [1] true
	// critic.2.weight_u [16]
	// critic.2.weight_v [16]
}

func ExampleEstimateStatistics() {
	// A batch norm layer whose running statistics are the defaults (mean
	// 0, variance 1), then recomputed over three batches of 4 values:
	// the mean of the batches' means 1, 2, 3 and of their unbiased
	// variances 8/3, 8/3, 40/3.
	bn := nn.NewBatchNorm1d(1)
	bn.SetTraining(false)
	batches := [][]float32{{-1, 1, 1, 3}, {0, 2, 2, 4}, {-1, 1, 5, 7}}
	n, err := nn.EstimateStatistics(bn, len(batches), func(i int) error {
		autograd.NoGrad(func() { bn.Forward(autograd.Const(tensor.FromSlice(batches[i], 4, 1))) })
		return nil
	})
	fmt.Println(n, err)
	fmt.Printf("mean %.3f, variance %.3f\n", bn.RunningMean.Data()[0], bn.RunningVar.Data()[0])
	// Output:
	// 1 <nil>
	// mean 2.000, variance 6.222
}
