package models

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

func TestCGANShapes(t *testing.T) {
	rng := tensor.NewRNG(1)
	for _, size := range []int{28, 32, 64} {
		for _, ch := range []int{1, 3} {
			for _, embed := range []int{0, 5} {
				for _, cond := range []string{"", ConditionProjection, ConditionChannels} {
					for _, sn := range []bool{false, true} {
						c := CGANConfig{DCGANConfig: DCGANConfig{Size: size, Channels: ch, Width: 2, ZDim: 4, SpectralNorm: sn},
							Classes: 3, EmbedDim: embed, Conditioning: cond}
						name := fmt.Sprintf("%dx%dx%d/embed%d/%q/sn=%v", ch, size, size, embed, cond, sn)
						g, err := NewCondGenerator(c, rng)
						if err != nil {
							t.Fatal(name, err)
						}
						d, err := NewCondDiscriminator(c, rng)
						if err != nil {
							t.Fatal(name, err)
						}
						labels := []int{2, 0}
						x := g.Forward(autograd.Const(rng.Normal(0, 1, 2, 4)), labels)
						if want := []int{2, ch, size, size}; !slices.Equal(x.Shape(), want) {
							t.Fatalf("%s: G output %v, want %v", name, x.Shape(), want)
						}
						f, l := d.Features(x, labels)
						if !slices.Equal(l.Shape(), []int{2, 1}) || f.Shape()[0] != 2 || f.Shape()[1] != d.Net.FeatureDim() {
							t.Fatalf("%s: logits %v, features %v", name, l.Shape(), f.Shape())
						}
						if (d.Embed != nil) != (cond != ConditionChannels) || (g.Embed != nil) != (embed > 0) {
							t.Fatalf("%s: embeddings G %v D %v", name, g.Embed != nil, d.Embed != nil)
						}
					}
				}
			}
		}
	}
}

func TestCGANConfigErrors(t *testing.T) {
	good := CGANConfig{DCGANConfig: DCGANConfig{Size: 28, Channels: 1, Width: 2, ZDim: 4}, Classes: 10, EmbedDim: 8}
	for _, c := range []struct {
		edit  func(c *CGANConfig)
		field string
	}{
		{func(c *CGANConfig) { c.Size = 16 }, "Size 16"},
		{func(c *CGANConfig) { c.Width = 0 }, "Width 0"},
		{func(c *CGANConfig) { c.Classes = 1 }, "Classes 1"},
		{func(c *CGANConfig) { c.EmbedDim = -1 }, "EmbedDim -1"},
		{func(c *CGANConfig) { c.Conditioning = "concat" }, `Conditioning "concat"`},
	} {
		bad := good
		c.edit(&bad)
		if _, err := NewCondGenerator(bad, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("generator: error %v, want one naming %q", err, c.field)
		}
		if _, err := NewCondDiscriminator(bad, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("discriminator: error %v, want one naming %q", err, c.field)
		}
	}
	noZ := good
	noZ.ZDim = 0
	if _, err := NewCondGenerator(noZ, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "ZDim 0") {
		t.Errorf("generator without ZDim: error %v", err)
	}
}

func TestCGANStateNames(t *testing.T) {
	rng := tensor.NewRNG(1)
	c := CGANConfig{DCGANConfig: DCGANConfig{Size: 28, Channels: 1, Width: 1, ZDim: 4, SpectralNorm: true},
		Classes: 10, EmbedDim: 6}
	g, _ := NewCondGenerator(c, rng)
	d, _ := NewCondDiscriminator(c, rng)
	c.Conditioning, c.EmbedDim, c.SpectralNorm = ConditionChannels, 0, false
	dc, _ := NewCondDiscriminator(c, rng)
	gOneHot, _ := NewCondGenerator(c, rng)
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"G/embed", shapes(g)[:3], []string{"embed.weight [10 6]", "net.project.weight [98 10]", "net.project_bn.weight [98]"}},
		{"G/one-hot", shapes(gOneHot)[:2], []string{"net.project.weight [98 14]", "net.project_bn.weight [98]"}},
		{"D/projection", shapes(d), []string{
			"embed.weight_orig [10 98]",
			"net.blocks.0.conv.weight_orig [1 1 4 4]", "net.blocks.0.conv.bias [1]",
			"net.blocks.1.conv.weight_orig [2 1 4 4]", "net.blocks.1.conv.bias [2]",
			"net.head.weight_orig [1 98]", "net.head.bias [1]", "--",
			"embed.weight_u [10]", "embed.weight_v [98]",
			"net.blocks.0.conv.weight_u [1]", "net.blocks.0.conv.weight_v [16]",
			"net.blocks.1.conv.weight_u [2]", "net.blocks.1.conv.weight_v [16]",
			"net.head.weight_u [1]", "net.head.weight_v [98]"}},
		{"D/channels", shapes(dc)[:2], []string{"net.blocks.0.conv.weight [1 11 4 4]", "net.blocks.0.conv.bias [1]"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s state:\n%s\nwant\n%s", tc.name, strings.Join(tc.got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestProjectionLogit checks the projection discriminator's formula,
// logit(x, y) = psi(phi(x)) + <embed(y), phi(x)>, and that the logit moves
// with the label by exactly <embed(y) - embed(y'), phi(x)>.
func TestProjectionLogit(t *testing.T) {
	rng := tensor.NewRNG(4)
	c := CGANConfig{DCGANConfig: DCGANConfig{Size: 28, Channels: 1, Width: 2, NoBatchNorm: true}, Classes: 3}
	d, _ := NewCondDiscriminator(c, rng)
	x := autograd.Const(rng.Normal(0, 1, 2, 1, 28, 28))
	phi, psi := d.Net.Features(x)
	emb := d.Embed.Weight.Data()
	f := phi.Data().Data()
	fd := d.Net.FeatureDim()
	for _, labels := range [][]int{{0, 0}, {1, 2}, {2, 1}} {
		l := d.Forward(x, labels).Data().Data()
		for i, y := range labels {
			want := float64(psi.Data().Data()[i])
			for j := range fd {
				want += float64(emb.Data()[y*fd+j]) * float64(f[i*fd+j])
			}
			if math.Abs(float64(l[i])-want) > 1e-4*(1+math.Abs(want)) {
				t.Errorf("labels %v, sample %d: logit %g, want psi + <embed, phi> = %g", labels, i, l[i], want)
			}
		}
	}
	a, b := d.Forward(x, []int{0, 0}).Data().Data(), d.Forward(x, []int{1, 1}).Data().Data()
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) < 1e-3 {
			t.Errorf("sample %d: the logit does not change with the label (%g, %g)", i, a[i], b[i])
		}
	}
}

// TestConditioningUsesLabel checks that every conditional network's output
// changes with the label alone, and (in evaluation mode, where batch norm
// does not mix samples) only for the sample whose label changed.
func TestConditioningUsesLabel(t *testing.T) {
	rng := tensor.NewRNG(6)
	base := DCGANConfig{Size: 32, Channels: 3, Width: 2, ZDim: 4}
	z := autograd.Const(rng.Normal(0, 1, 3, 4))
	x := autograd.Const(rng.Normal(0, 1, 3, 3, 32, 32))
	for _, c := range []CGANConfig{
		{DCGANConfig: base, Classes: 4, EmbedDim: 3},
		{DCGANConfig: base, Classes: 4, Conditioning: ConditionChannels},
	} {
		g, _ := NewCondGenerator(c, rng)
		d, _ := NewCondDiscriminator(c, rng)
		g.SetTraining(false)
		d.SetTraining(false)
		for name, out := range map[string]func([]int) *tensor.Tensor{
			"G": func(y []int) *tensor.Tensor { return g.Forward(z, y).Data() },
			"D": func(y []int) *tensor.Tensor { return d.Forward(x, y).Data() },
		} {
			a, b := out([]int{0, 1, 2}), out([]int{3, 1, 2})
			if d0 := tensor.Sub(tensor.Slice(a, 0, 0, 1), tensor.Slice(b, 0, 0, 1)); tensor.Max(tensor.Abs(d0), nil, false).Item() < 1e-4 {
				t.Errorf("%s (embed %d, %q): sample 0 ignores its label", name, c.EmbedDim, c.Conditioning)
			}
			if !slices.Equal(tensor.Slice(a, 0, 1, 3).Data(), tensor.Slice(b, 0, 1, 3).Data()) {
				t.Errorf("%s (embed %d, %q): samples 1, 2 changed with sample 0's label", name, c.EmbedDim, c.Conditioning)
			}
		}
	}
}

func TestOneHot(t *testing.T) {
	got := OneHot([]int{2, 0, 1}, 3).Data()
	want := []float32{0, 0, 1, 1, 0, 0, 0, 1, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("OneHot = %v, want %v", got, want)
	}
	m := oneHotMaps([]int{1, 0}, 2, 2).Data()
	if want := []float32{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}; !slices.Equal(m, want) {
		t.Fatalf("oneHotMaps = %v, want %v", m, want)
	}
}

// TestCGANBackward checks the conditional networks' gradients and
// Hessian-vector products on tiny versions (see TestDCGANDiscriminator-
// Backward): the projection discriminator with respect to x, its first
// convolution (projected) and its class embedding (element-wise); the
// label-channel discriminator with respect to x and its first convolution;
// the generator with respect to z, its projection (projected) and its
// label embedding (element-wise).
func TestCGANBackward(t *testing.T) {
	labels := []int{2, 0, 1, 2}
	for i, tc := range []struct {
		name string
		cond string
		sn   bool
	}{{"projection", ConditionProjection, false}, {"projection/sn", ConditionProjection, true}, {"channels", ConditionChannels, false}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(uint64(30 + i))
			c := CGANConfig{DCGANConfig: tiny, Classes: 3, Conditioning: tc.cond}
			c.SpectralNorm = tc.sn
			d := newCondDiscriminator(c, rng)
			x := rng.Normal(0, 1, 4, 1, 16, 16)
			f := func(x *autograd.Value) *autograd.Value { return d.Forward(x, labels) }
			if tc.sn {
				settle(d, func() { f(autograd.Const(x)) })
			}
			smooth(d.Net.Blocks)
			probes := []probe{{&d.Net.Blocks[0].Conv.(*nn.Conv2d).Weight, true}}
			if d.Embed != nil {
				probes = append(probes, probe{&d.Embed.Weight, false})
			}
			gradCheck(t, x, probes, f, checkOpts(uint64(i)))
		})
	}
	t.Run("generator", func(t *testing.T) {
		rng := tensor.NewRNG(40)
		g := newCondGenerator(CGANConfig{DCGANConfig: tiny, Classes: 3, EmbedDim: 2}, rng)
		smooth(g.Net.Blocks)
		g.Net.ProjectAct = nn.Softplus{}
		f := func(z *autograd.Value) *autograd.Value { return g.Forward(z, labels) }
		probes := []probe{{&g.Net.Project.Weight, true}, {&g.Embed.Weight, false}}
		gradCheck(t, rng.Normal(0, 1, 4, 3), probes, f, checkOpts(9))
	})
}

func TestCGANPanics(t *testing.T) {
	rng := tensor.NewRNG(1)
	c := CGANConfig{DCGANConfig: DCGANConfig{Size: 28, Channels: 1, Width: 1, ZDim: 3}, Classes: 3}
	g, _ := NewCondGenerator(c, rng)
	d, _ := NewCondDiscriminator(c, rng)
	c.Conditioning = ConditionChannels
	dc, _ := NewCondDiscriminator(c, rng)
	v := func(shape ...int) *autograd.Value { return autograd.Const(tensor.New(shape...)) }
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"G/labels", func() { g.Forward(v(2, 3), []int{1}) }, "models.CondGenerator: 1 labels for a batch of 2"},
		{"G/range", func() { g.Forward(v(2, 3), []int{1, 3}) }, "models.CondGenerator: label 3 out of range for 3 classes"},
		{"G/noise", func() { g.Forward(v(2, 4), []int{1, 0}) }, "models.CondGenerator: noise shape [2 4], want [N 3]"},
		{"D/labels", func() { d.Forward(v(2, 1, 28, 28), []int{0, 1, 2}) }, "models.CondDiscriminator: 3 labels for a batch of 2"},
		{"D/range", func() { dc.Forward(v(1, 1, 28, 28), []int{-1}) }, "models.CondDiscriminator: label -1 out of range"},
		{"D/shape", func() { d.Forward(v(2, 3, 28, 28), []int{0, 1}) }, "models.CondDiscriminator: input shape [2 3 28 28], want [N 1 28 28]"},
		{"OneHot", func() { OneHot([]int{5}, 3) }, "models.OneHot: label 5 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectPanic(t, tc.f, tc.want) })
	}
}

// relabeler is a discriminator that scores one batch under two label sets
// in one pass (gan.Relabeler, which this package cannot import).
type relabeler interface {
	nn.Module
	Forward(x *autograd.Value, labels []int) *autograd.Value
	ForwardRelabel(x *autograd.Value, labels, other []int) (logits, otherLogits *autograd.Value)
}

// TestForwardRelabel checks that one ForwardRelabel call gives the logits
// and the input and parameter gradients of two Forward calls: the cGAN's
// projection D and label-channel D with batch norm in training mode (both
// passes normalise the same batch), and the conditional SN-GAN D in
// evaluation mode, its power iterations settled first (in training mode
// each pass would step them).
func TestForwardRelabel(t *testing.T) {
	labels, other := []int{2, 0, 1, 2}, []int{0, 1, 2, 1}
	for i, tc := range []struct {
		name string
		make func(*tensor.RNG) (relabeler, *autograd.Value, int)
	}{
		{"cgan/" + ConditionProjection, func(rng *tensor.RNG) (relabeler, *autograd.Value, int) {
			d := newCondDiscriminator(CGANConfig{DCGANConfig: tiny, Classes: 3, Conditioning: ConditionProjection}, rng)
			return d, d.Net.Blocks[0].Conv.(*nn.Conv2d).Weight, 16
		}},
		{"cgan/" + ConditionChannels, func(rng *tensor.RNG) (relabeler, *autograd.Value, int) {
			d := newCondDiscriminator(CGANConfig{DCGANConfig: tiny, Classes: 3, Conditioning: ConditionChannels}, rng)
			return d, d.Net.Blocks[0].Conv.(*nn.Conv2d).Weight, 16
		}},
		{"sngan", func(rng *tensor.RNG) (relabeler, *autograd.Value, int) {
			d, err := NewSNGANDiscriminator(SNGANConfig{Size: 28, Channels: 1, GWidth: 4, DWidth: 4, ZDim: 3, Classes: 3, Attention: true}, rng)
			if err != nil {
				t.Fatal(err)
			}
			x := autograd.Const(rng.Normal(0, 1, 4, 1, 28, 28))
			settle(d, func() { d.Forward(x, []int{0, 1, 2, 0}) }) // converge the power iterations, then evaluation mode
			return d, nn.Parameters(d)[0], 28
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(uint64(50 + i))
			d, w, size := tc.make(rng)
			x := rng.Normal(0, 1, 4, 1, size, size)
			// loss = sum(a) + 2 sum(b), so a swap of the two outputs shows.
			grads := func(two bool) (a, b []float32, gx, gw []float32) {
				xv := autograd.Param(x.Clone())
				var la, lb *autograd.Value
				if two {
					la, lb = d.Forward(xv, labels), d.Forward(xv, other)
				} else {
					la, lb = d.ForwardRelabel(xv, labels, other)
				}
				loss := autograd.Add(autograd.Sum(la, nil, false), autograd.Scale(autograd.Sum(lb, nil, false), 2))
				g := autograd.Grad([]*autograd.Value{loss}, []*autograd.Value{xv, w}, nil, false)
				return la.Data().Data(), lb.Data().Data(), g[0].Data().Data(), g[1].Data().Data()
			}
			a1, b1, gx1, gw1 := grads(false)
			a2, b2, gx2, gw2 := grads(true)
			for _, c := range []struct {
				name      string
				got, want []float32
			}{{"logits", a1, a2}, {"other logits", b1, b2}, {"d/dx", gx1, gx2}, {"d/dw", gw1, gw2}} {
				for j := range c.want {
					if math.Abs(float64(c.got[j]-c.want[j])) > 1e-5*(1+math.Abs(float64(c.want[j]))) {
						t.Fatalf("%s[%d]: one pass %g, two passes %g", c.name, j, c.got[j], c.want[j])
					}
				}
			}
			if slices.Equal(a1, b1) {
				t.Errorf("the two label sets gave the same logits %v", a1)
			}
		})
	}
}
