package autograd_test

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Backward fills the gradients of the leaves a scalar depends on.
func ExampleBackward() {
	w := autograd.Param(tensor.FromSlice([]float32{1, 2, 3}, 3))
	x := autograd.Const(tensor.FromSlice([]float32{4, 5, 6}, 3))
	loss := autograd.Sum(autograd.Mul(w, x), nil, false) // w . x
	autograd.Backward(loss)
	fmt.Println(loss.Item(), w.Grad().Data())
	// Output: 32 [4 5 6]
}

// Grad with createGraph returns gradients that can be differentiated again:
// here the second derivative of x^3 at x = 2, 6x = 12.
func ExampleGrad() {
	x := autograd.Param(tensor.Scalar(2))
	y := autograd.Pow(x, 3)
	dy := autograd.Grad([]*autograd.Value{y}, []*autograd.Value{x}, nil, true)[0]    // 3x^2
	d2y := autograd.Grad([]*autograd.Value{dy}, []*autograd.Value{x}, nil, false)[0] // 6x
	fmt.Println(dy.Item(), d2y.Item())
	// Output: 12 12
}

// NoGrad runs inference without recording a graph.
func ExampleNoGrad() {
	w := autograd.Param(tensor.FromSlice([]float32{2}, 1))
	var y *autograd.Value
	autograd.NoGrad(func() { y = autograd.Mul(w, w) })
	fmt.Println(y.Item(), y.RequiresGrad())
	// Output: 4 false
}
