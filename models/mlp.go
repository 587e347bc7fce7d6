// Package models is Kallima's architecture zoo, built from nn layers.
package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// MLPConfig describes a multilayer perceptron: the fully connected
// generators and discriminators of the original GAN paper's style, used for
// the 2-D mixture benchmark.
type MLPConfig struct {
	In, Out   int     // input and output widths
	Hidden    []int   // hidden layer widths
	Act       string  // hidden activation: "relu", "leaky_relu", "tanh", "elu" or "softplus"
	Slope     float32 // LeakyReLU slope; default 0.2
	BatchNorm bool    // batch norm after each hidden linear layer
	OutAct    string  // output activation: "" (none), "tanh" or "sigmoid"
	SpecNorm  bool    // spectral normalisation on every linear layer
}

// NewMLP builds the perceptron as a Sequential: Linear [-> BatchNorm] ->
// activation for each hidden width, then Linear to Out and OutAct.
func NewMLP(c MLPConfig, rng *tensor.RNG) (*nn.Sequential, error) {
	if c.In <= 0 || c.Out <= 0 {
		return nil, fmt.Errorf("mlp: input width %d and output width %d must be positive", c.In, c.Out)
	}
	act, err := activation(c.Act, c.Slope)
	if err != nil {
		return nil, err
	}
	var layers []nn.Layer
	in := c.In
	lin := func(i, o int) nn.Layer {
		l := nn.NewLinear(i, o, rng)
		if c.SpecNorm {
			l = l.WithSpectralNorm(rng)
		}
		return l
	}
	for _, h := range c.Hidden {
		if h <= 0 {
			return nil, fmt.Errorf("mlp: hidden width %d must be positive", h)
		}
		layers = append(layers, lin(in, h))
		if c.BatchNorm {
			layers = append(layers, nn.NewBatchNorm1d(h))
		}
		layers = append(layers, act)
		in = h
	}
	layers = append(layers, lin(in, c.Out))
	switch c.OutAct {
	case "":
	case "tanh":
		layers = append(layers, nn.Tanh{})
	case "sigmoid":
		layers = append(layers, nn.Sigmoid{})
	default:
		return nil, fmt.Errorf("mlp: output activation %q (want none, tanh or sigmoid)", c.OutAct)
	}
	return nn.NewSequential(layers...), nil
}

func activation(name string, slope float32) (nn.Layer, error) {
	switch name {
	case "relu", "":
		return nn.ReLU{}, nil
	case "leaky_relu":
		if slope == 0 {
			slope = 0.2
		}
		return nn.LeakyReLU{Slope: slope}, nil
	case "tanh":
		return nn.Tanh{}, nil
	case "elu":
		return nn.ELU{Alpha: 1}, nil
	case "softplus":
		return nn.Softplus{}, nil
	}
	return nil, fmt.Errorf("unknown activation %q (want relu, leaky_relu, tanh, elu or softplus)", name)
}
