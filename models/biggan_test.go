package models

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestBigGBlockBackward checks BigGAN's block gradients and Hessian-vector
// products with respect to the input, the vector it is conditioned on, the
// first convolution's weight and the gain map of its first batch norm:
// batch norm in training mode, spectral norm in evaluation mode after its
// power iteration has settled, ReLU swapped for softplus (as
// TestResBlocksBackward; the layers' golden tests check the real ones).
func TestBigGBlockBackward(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := tensor.NewRNG(seed)
			b := NewBigGBlock(2, 3, 4, true, rng)
			b.act = softplus
			x, v := rng.Normal(0, 1, 3, 2, 2, 2), rng.Normal(0, 1, 3, 4)
			settle(b, func() { b.Forward(autograd.Const(x), autograd.Const(v)) })
			b.B1.Norm.SetTraining(true)
			b.B2.Norm.SetTraining(true)
			gradCheck(t, x, []probe{{&b.C1.Weight, true}, {&b.B1.Gain.Weight, false}},
				func(x *autograd.Value) *autograd.Value { return b.Forward(x, autograd.Const(v)) }, checkOpts(seed))
			gradCheck(t, v, nil, func(v *autograd.Value) *autograd.Value { return b.Forward(autograd.Const(x), v) }, checkOpts(seed+50))
		})
	}
}

// TestBigGANGeneratorHierarchy checks the layout (2 blocks and 3 chunks at
// 28x28, 3 and 4 at 32x32), the output shape, that every chunk of z and
// the class reach the output, and the config errors.
func TestBigGANGeneratorHierarchy(t *testing.T) {
	for _, c := range []struct {
		size, blocks int
	}{{28, 2}, {32, 3}} {
		cfg := BigGANConfig{SNGANConfig: SNGANConfig{Size: c.size, Channels: 1, GWidth: 4, DWidth: 4, ZDim: 12, Classes: 3, Attention: true}, SharedDim: 5}
		g, err := NewBigGANGenerator(cfg, tensor.NewRNG(2))
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Blocks) != c.blocks || cfg.Chunks() != c.blocks+1 || g.chunk != 12/(c.blocks+1) {
			t.Fatalf("size %d: %d blocks, %d chunks of %d", c.size, len(g.Blocks), cfg.Chunks(), g.chunk)
		}
		g.SetTraining(false)
		z := tensor.NewRNG(3).Normal(0, 1, 2, 12)
		labels := []int{0, 2}
		var base *tensor.Tensor
		autograd.NoGrad(func() { base = g.Forward(autograd.Const(z), labels).Data().Clone() })
		if sh := base.Shape(); sh[0] != 2 || sh[1] != 1 || sh[2] != c.size || sh[3] != c.size {
			t.Fatalf("size %d: output %v", c.size, sh)
		}
		differs := func(z2 *tensor.Tensor, l2 []int) bool {
			var out *tensor.Tensor
			autograd.NoGrad(func() { out = g.Forward(autograd.Const(z2), l2).Data() })
			for i, v := range out.Data() {
				if v != base.Data()[i] {
					return true
				}
			}
			return false
		}
		for k := range cfg.Chunks() {
			z2 := z.Clone()
			z2.Data()[k*g.chunk] += 1 // first value of chunk k, first sample
			if !differs(z2, labels) {
				t.Errorf("size %d: chunk %d of z does not reach the output", c.size, k)
			}
		}
		if !differs(z, []int{1, 2}) {
			t.Errorf("size %d: the class does not reach the output", c.size)
		}
	}
	for _, c := range []struct {
		cfg  BigGANConfig
		want string
	}{
		{BigGANConfig{SNGANConfig: SNGANConfig{Size: 28, Channels: 1, GWidth: 4, DWidth: 4, ZDim: 12}, SharedDim: 5}, "class-conditional"},
		{BigGANConfig{SNGANConfig: SNGANConfig{Size: 28, Channels: 1, GWidth: 4, DWidth: 4, ZDim: 10, Classes: 3}, SharedDim: 5}, "3 equal chunks"},
		{BigGANConfig{SNGANConfig: SNGANConfig{Size: 28, Channels: 1, GWidth: 4, DWidth: 4, ZDim: 12, Classes: 3}}, "SharedDim 0"},
	} {
		if _, err := NewBigGANGenerator(c.cfg, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", c.cfg, err, c.want)
		}
	}
}
