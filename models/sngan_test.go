package models

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

func softplus(x *autograd.Value) *autograd.Value { return nn.Softplus{}.Forward(x) }

// TestResBlocksBackward checks the residual blocks' gradients and
// Hessian-vector products with respect to the input and the first
// convolution's weight (projected) and the shortcut's weight and the class
// gains (element-wise), batch norm in training mode, spectral norm in
// evaluation mode after its power iteration has converged. ReLU is swapped
// for softplus (see smooth); the golden tests check the real blocks.
func TestResBlocksBackward(t *testing.T) {
	checkResBlocksBackward(t, 1)
}

// TestResBlocksBackwardSeeds runs the block checks on 30 seeds. Long.
func TestResBlocksBackwardSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the residual block checks on 30 seeds")
	}
	for seed := uint64(2); seed <= 31; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkResBlocksBackward(t, seed) })
	}
}

func checkResBlocksBackward(t *testing.T, seed uint64) {
	rng := tensor.NewRNG(seed)
	labels := []int{2, 0, 2}
	g := NewGBlock(3, 2, true, 0, rng)
	gc := NewGBlock(2, 2, true, 3, rng)
	gi := NewGBlock(2, 2, false, 0, rng)
	d := NewDBlock(2, 3, true, rng)
	di := NewDBlock(3, 3, false, rng)
	do := NewDOptBlock(1, 2, rng)
	cases := []struct {
		name   string
		x      *tensor.Tensor
		m      nn.Module
		probes []probe
		fwd    func(x *autograd.Value) *autograd.Value
	}{
		{"GBlock", rng.Normal(0, 1, 3, 3, 2, 2), g,
			[]probe{{&g.C1.Weight, true}, {&g.Shortcut.Weight, false}},
			func(x *autograd.Value) *autograd.Value { return g.Forward(x, nil) }},
		{"GBlock/conditional", rng.Normal(0, 1, 3, 2, 2, 2), gc,
			[]probe{{&gc.C1.Weight, true}, {&gc.B1.(*nn.CondBatchNorm2d).Gain.Weight, false}, {&gc.B2.(*nn.CondBatchNorm2d).Bias.Weight, false}},
			func(x *autograd.Value) *autograd.Value { return gc.Forward(x, labels) }},
		{"GBlock/identity shortcut", rng.Normal(0, 1, 2, 2, 3, 3), gi,
			[]probe{{&gi.C2.Weight, true}},
			func(x *autograd.Value) *autograd.Value { return gi.Forward(x, nil) }},
		{"DBlock", rng.Normal(0, 1, 2, 2, 4, 4), d,
			[]probe{{&d.C1.Weight, true}, {&d.Shortcut.Weight, false}},
			func(x *autograd.Value) *autograd.Value { return d.Forward(x) }},
		{"DBlock/identity shortcut", rng.Normal(0, 1, 1, 3, 3, 3), di,
			[]probe{{&di.C2.Weight, true}},
			func(x *autograd.Value) *autograd.Value { return di.Forward(x) }},
		{"DBlock/optimized", rng.Normal(0, 1, 2, 1, 4, 4), do,
			[]probe{{&do.C1.Weight, true}, {&do.Shortcut.Weight, false}},
			func(x *autograd.Value) *autograd.Value { return do.Forward(x) }},
	}
	g.act, gc.act, gi.act, d.act, di.act, do.act = softplus, softplus, softplus, softplus, softplus, softplus
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if strings.HasPrefix(c.name, "DBlock") {
				x := autograd.Const(c.x)
				settle(c.m, func() { c.fwd(x) })
			}
			gradCheck(t, c.x, c.probes, c.fwd, checkOpts(seed*10+uint64(i)))
		})
	}
}

// TestSNGANShapes checks the networks' layouts for 28x28 (G from 7x7 in
// two blocks; D down to 7x7 in two) and 32x32 images (G from 4x4 in three
// blocks, the paper's; D down to 8x8), the attention's place, the state
// names, and the output shapes.
func TestSNGANShapes(t *testing.T) {
	for _, c := range []struct {
		cfg                   SNGANConfig
		gBlocks, base, attnAt int
		dDown                 []bool
	}{
		{SNGANConfig{Size: 28, Channels: 1, GWidth: 8, DWidth: 4, ZDim: 5}, 2, 7, 0, []bool{true, true, false, false}},
		{SNGANConfig{Size: 32, Channels: 3, GWidth: 8, DWidth: 4, ZDim: 5, Classes: 3, Attention: true}, 3, 4, 1, []bool{true, true, false, false}},
		{SNGANConfig{Size: 64, Channels: 3, GWidth: 8, DWidth: 4, ZDim: 5, Attention: true, GSpectralNorm: true}, 4, 4, 1, []bool{true, true, true, false, false}},
	} {
		t.Run(fmt.Sprint(c.cfg.Size), func(t *testing.T) {
			rng := tensor.NewRNG(1)
			g, err := NewSNGANGenerator(c.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewSNGANDiscriminator(c.cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Blocks) != c.gBlocks || g.base != c.base || (c.cfg.Attention && g.AttnAt != c.attnAt) {
				t.Errorf("G: %d blocks from %dx%d, attention after %d; want %d from %d, after %d", len(g.Blocks), g.base, g.base, g.AttnAt, c.gBlocks, c.base, c.attnAt)
			}
			var down []bool
			for _, b := range d.Blocks {
				down = append(down, b.Downsample)
			}
			if !slices.Equal(down, c.dDown) || !d.Blocks[0].Optimized {
				t.Errorf("D blocks downsample %v, want %v after an optimized first block", down, c.dDown)
			}
			var labels []int
			if c.cfg.Classes > 0 {
				labels = []int{2, 0}
			}
			var img, logit *autograd.Value
			autograd.NoGrad(func() {
				img = g.Forward(autograd.Const(tensor.New(2, c.cfg.ZDim)), labels)
				logit = d.Forward(img, labels)
			})
			if want := []int{2, c.cfg.Channels, c.cfg.Size, c.cfg.Size}; !slices.Equal(img.Shape(), want) || !slices.Equal(logit.Shape(), []int{2, 1}) {
				t.Errorf("shapes %v and %v, want %v and [2 1]", img.Shape(), logit.Shape(), want)
			}
			// Spectral norm on every D layer (and G's under GSpectralNorm):
			// no plain "weight" among the convolutions and linear maps.
			for _, m := range []struct {
				name string
				m    nn.Module
				sn   bool
			}{{"D", d, true}, {"G", g, c.cfg.GSpectralNorm}} {
				sn := 0
				for _, p := range m.m.Params("") {
					if strings.HasSuffix(p.Name, "weight_orig") {
						sn++
					} else if strings.HasSuffix(p.Name, ".weight") && m.sn && p.Value.Data().Dim() > 1 &&
						!strings.Contains(p.Name, "gain.") && !strings.Contains(p.Name, "bias.") {
						t.Errorf("%s: %s has no spectral norm", m.name, p.Name)
					}
				}
				if m.sn && sn == 0 || !m.sn && sn != 0 {
					t.Errorf("%s: %d spectrally normalised weights", m.name, sn)
				}
			}
			nn.State(g) // panics on a duplicate name
			nn.State(d)
		})
	}
}

// TestSNGANConfigErrors checks that invalid configs are errors naming the
// field.
func TestSNGANConfigErrors(t *testing.T) {
	ok := SNGANConfig{Size: 28, Channels: 1, GWidth: 8, DWidth: 4, ZDim: 5}
	for _, c := range []struct {
		set  func(*SNGANConfig)
		want string
	}{
		{func(c *SNGANConfig) { c.Size = 48 }, "Size"},
		{func(c *SNGANConfig) { c.Channels = 2 }, "Channels"},
		{func(c *SNGANConfig) { c.DWidth = 0 }, "DWidth"},
		{func(c *SNGANConfig) { c.ZDim = 0 }, "ZDim"},
		{func(c *SNGANConfig) { c.Classes = 1 }, "Classes"},
	} {
		cfg := ok
		c.set(&cfg)
		if _, err := NewSNGANGenerator(cfg, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, c.want)
		}
		if _, err := NewSNGANDiscriminator(cfg, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, c.want)
		}
	}
}
