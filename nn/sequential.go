package nn

import (
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
)

// Sequential chains layers, like torch.nn.Sequential: Forward feeds each
// layer's output to the next, and layer i's state is named under "i"
// ("0.weight", "3.running_mean"), as PyTorch names it.
type Sequential struct {
	Layers []Layer
}

// NewSequential returns a Sequential of the layers in order.
func NewSequential(layers ...Layer) *Sequential { return &Sequential{Layers: layers} }

// Forward applies the layers in order.
func (s *Sequential) Forward(x *autograd.Value) *autograd.Value {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

func (s *Sequential) children() Children {
	c := make(Children, len(s.Layers))
	for i, l := range s.Layers {
		c[i] = Child{Name: strconv.Itoa(i), Module: l}
	}
	return c
}

// Params lists the layers' parameters in order.
func (s *Sequential) Params(prefix string) []Param { return s.children().Params(prefix) }

// Buffers lists the layers' buffers in order.
func (s *Sequential) Buffers(prefix string) []Buffer { return s.children().Buffers(prefix) }

// SetTraining sets every layer's mode.
func (s *Sequential) SetTraining(on bool) { s.children().SetTraining(on) }
