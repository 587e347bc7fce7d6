package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
)

// stateless provides the Module methods of a layer with no parameters,
// buffers or mode.
type stateless struct{}

// Params lists nothing.
func (stateless) Params(string) []Param { return nil }

// Buffers lists nothing.
func (stateless) Buffers(string) []Buffer { return nil }

// SetTraining does nothing.
func (stateless) SetTraining(bool) {}

// ReLU is the layer max(x, 0); see autograd.Relu.
type ReLU struct{ stateless }

// Forward returns max(x, 0).
func (ReLU) Forward(x *autograd.Value) *autograd.Value { return autograd.Relu(x) }

// LeakyReLU is the layer x for x > 0, Slope*x elsewhere (Maas et al. 2013,
// "Rectifier Nonlinearities Improve Neural Network Acoustic Models"). GANs
// commonly use Slope 0.2; PyTorch's default is 0.01, and Slope 0 is a ReLU.
type LeakyReLU struct {
	stateless
	Slope float32
}

// Forward returns x where x > 0 and Slope*x elsewhere.
func (l LeakyReLU) Forward(x *autograd.Value) *autograd.Value { return autograd.LeakyRelu(x, l.Slope) }

// Tanh is the layer tanh(x), a generator's usual last layer for images in
// [-1, 1].
type Tanh struct{ stateless }

// Forward returns tanh(x).
func (Tanh) Forward(x *autograd.Value) *autograd.Value { return autograd.Tanh(x) }

// Sigmoid is the layer 1 / (1 + e^-x).
type Sigmoid struct{ stateless }

// Forward returns 1 / (1 + e^-x).
func (Sigmoid) Forward(x *autograd.Value) *autograd.Value { return autograd.Sigmoid(x) }

// Softplus is the layer log(1 + e^x) (PyTorch's with beta 1).
type Softplus struct{ stateless }

// Forward returns log(1 + e^x).
func (Softplus) Forward(x *autograd.Value) *autograd.Value { return autograd.Softplus(x) }

// ELU is the layer x for x > 0, Alpha (e^x - 1) elsewhere (Clevert et al.
// 2015, arXiv:1511.07289); PyTorch's default Alpha is 1.
type ELU struct {
	stateless
	Alpha float32
}

// Forward returns x where x > 0 and Alpha (e^x - 1) elsewhere.
func (e ELU) Forward(x *autograd.Value) *autograd.Value { return autograd.ELU(x, e.Alpha) }

// GELU is the layer x Phi(x) with the exact normal CDF Phi (Hendrycks &
// Gimpel 2016, arXiv:1606.08415), PyTorch's default.
type GELU struct{ stateless }

// Forward returns x Phi(x).
func (GELU) Forward(x *autograd.Value) *autograd.Value { return autograd.GELU(x) }

// Flatten is the layer [N, ...] -> [N, prod(...)].
type Flatten struct{ stateless }

// Forward flattens all but the first dimension. It panics on a 0-D x.
func (Flatten) Forward(x *autograd.Value) *autograd.Value {
	if len(x.Shape()) == 0 {
		panic("nn.Flatten: scalar input")
	}
	return autograd.Flatten(x)
}

// Reshape is the layer [N, ...] -> [N, Shape...] that keeps the batch
// dimension: Reshape{Shape: []int{64, 4, 4}} turns a Linear's [N, 1024]
// into feature maps, like torch.nn.Unflatten(1, (64, 4, 4)). One entry may
// be -1.
type Reshape struct {
	stateless
	Shape []int
}

// Forward reshapes x to [N, Shape...]. It panics if the sizes disagree.
func (r Reshape) Forward(x *autograd.Value) *autograd.Value {
	if len(x.Shape()) == 0 {
		panic(fmt.Sprintf("nn.Reshape: scalar input to shape %v", r.Shape))
	}
	return autograd.Reshape(x, append([]int{x.Shape()[0]}, r.Shape...)...)
}

// ReflectionPad2d is the layer that pads the last two dimensions of x
// [N, C, H, W] by Pad on every side, reflecting the image at its border
// (the border row itself not repeated), like torch.nn.ReflectionPad2d(Pad);
// see autograd.ReflectPad2d. Pad must be less than H and W.
type ReflectionPad2d struct {
	stateless
	Pad int
}

// Forward returns x padded by reflection.
func (r ReflectionPad2d) Forward(x *autograd.Value) *autograd.Value {
	return autograd.ReflectPad2d(x, r.Pad, r.Pad, r.Pad, r.Pad)
}

// Func is a layer without state made from a function, for one-off steps in
// a Sequential: Func(func(x *autograd.Value) *autograd.Value { ... }).
type Func func(x *autograd.Value) *autograd.Value

// Forward returns f(x).
func (f Func) Forward(x *autograd.Value) *autograd.Value { return f(x) }

// Params lists nothing.
func (Func) Params(string) []Param { return nil }

// Buffers lists nothing.
func (Func) Buffers(string) []Buffer { return nil }

// SetTraining does nothing.
func (Func) SetTraining(bool) {}
