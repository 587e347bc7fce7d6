package models

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestAutoencoderShapes builds both nets, stochastic and not, and checks
// the code and output shapes, the parameter names and the output bias.
func TestAutoencoderShapes(t *testing.T) {
	for _, c := range []AutoencoderConfig{
		{Net: "mlp", Channels: 1, Size: 28, ZDim: 5, Hidden: []int{12, 7}, Stochastic: true},
		{Net: "mlp", Channels: 1, Size: 28, ZDim: 5, Hidden: []int{12}},
		{Net: "conv", Channels: 3, Size: 32, ZDim: 6, Width: 4, Stochastic: true},
		{Net: "conv", Channels: 1, Size: 28, ZDim: 3, Width: 2},
	} {
		a, err := NewAutoencoder(c, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		a.WithLogSigma(-1)
		h := a.Encode(autograd.Const(tensor.NewRNG(2).Uniform(0, 1, 3, c.Channels, c.Size, c.Size)))
		code := c.ZDim
		if c.Stochastic {
			code *= 2
		}
		if s := h.Shape(); len(s) != 2 || s[0] != 3 || s[1] != code {
			t.Errorf("%+v: code shape %v, want [3 %d]", c, s, code)
		}
		px := c.Channels * c.Size * c.Size
		out := a.Decode(autograd.Const(tensor.New(3, c.ZDim)))
		if s := out.Shape(); len(s) != 2 || s[0] != 3 || s[1] != px {
			t.Errorf("%+v: output shape %v, want [3 %d]", c, s, px)
		}
		ps := a.Params("")
		if !strings.HasPrefix(ps[0].Name, "enc.") || ps[len(ps)-1].Name != "log_sigma" || len(nn.Parameters(a)) != len(ps) {
			t.Errorf("%+v: parameters %v ... %v", c, ps[0].Name, ps[len(ps)-1].Name)
		}
		bias := make([]float32, px)
		if c.Net == "conv" {
			bias = make([]float32, c.Channels)
		}
		for i := range bias {
			bias[i] = float32(i%5) - 2
		}
		if err := a.SetOutputBias(bias); err != nil {
			t.Fatal(err)
		}
		if c.Net == "mlp" {
			// Zero the last layer's weights: the output is the bias.
			last := a.Decoder.(*nn.Sequential).Layers
			last[len(last)-1].(*nn.Linear).Weight.Data().Fill(0)
			if got := a.Decode(autograd.Const(tensor.New(1, c.ZDim))).Data().Data(); got[3] != bias[3] || got[7] != bias[7] {
				t.Errorf("%+v: output %v, want the bias %v", c, got[:8], bias[:8])
			}
		}
		if err := a.SetOutputBias(make([]float32, 2)); err == nil {
			t.Errorf("%+v: a bias of the wrong length accepted", c)
		}
	}
	for _, c := range []AutoencoderConfig{
		{Net: "rnn", Channels: 1, Size: 28, ZDim: 5},
		{Net: "conv", Channels: 1, Size: 30, ZDim: 5, Width: 4},
		{Net: "mlp", Channels: 1, Size: 28, ZDim: 0, Hidden: []int{4}},
	} {
		if _, err := NewAutoencoder(c, tensor.NewRNG(1)); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
