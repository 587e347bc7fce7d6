package models

import (
	"fmt"
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// StarGANConfig describes StarGAN's generator and discriminator (Choi et
// al. 2018, "StarGAN: Unified Generative Adversarial Networks for
// Multi-Domain Image-to-Image Translation", arXiv:1711.09020, appendix
// 7.2, table 4), scaled from 128x128 faces to small images:
//
//	G: [image, one-hot target domain replicated over the plane]
//	   conv 7x7 (GWidth) + instance norm + ReLU
//	   2 x conv 4x4 stride 2 (doubling the channels) + IN + ReLU   Size -> Size/4
//	   Blocks x residual block (conv 3x3 + IN + ReLU + conv 3x3 + IN, plus x)
//	   2 x transposed conv 4x4 stride 2 (halving) + IN + ReLU       Size/4 -> Size
//	   conv 7x7 to Channels + tanh
//	D: DLayers x conv 4x4 stride 2 (DWidth, doubling) + LeakyReLU 0.01, no norm
//	   src: conv 3x3 padding 1 to one channel (a PatchGAN map of scores)
//	   cls: conv with kernel the remaining side to Domains logits
//
// At 28x28 G works at 28, 14 and 7 pixels and D's maps go 28 -> 14 -> 7 ->
// 3 with DLayers 3. G's convolutions have no bias (instance norm removes
// it), D's stride-2 convolutions have one and its heads none, as in the
// authors' code; every layer keeps PyTorch's default initialisation, and
// every instance norm is affine. The authors' instance norms also track
// running statistics, used only in evaluation mode, which their code never
// enters: Kallima's nn.InstanceNorm2d always normalises by the instance's
// own statistics, which is what their training and test passes compute.
type StarGANConfig struct {
	Size     int // image side; a multiple of 4 (G halves it twice)
	Channels int // image channels
	Domains  int // number of domains K (at least 2)
	// GWidth is G's first layer's channels (64 in the paper); G has 4
	// GWidth channels in its residual blocks. Blocks is their number (6 in
	// the paper).
	GWidth, Blocks int
	// DWidth is D's first layer's channels (64 in the paper), doubling at
	// each of its DLayers stride-2 layers (6 at 128x128 in the paper, 3 at
	// 28x28); Size / 2^DLayers (rounded down at each layer) must stay at
	// least 1.
	DWidth, DLayers int
}

// Validate reports the first field no StarGAN network can have, naming it.
func (c StarGANConfig) Validate() error {
	switch {
	case c.Size < 4 || c.Size%4 != 0:
		return fmt.Errorf("stargan: Size %d: want a positive multiple of 4 (G halves the side twice)", c.Size)
	case c.Channels <= 0:
		return fmt.Errorf("stargan: Channels %d: must be positive", c.Channels)
	case c.Domains < 2:
		return fmt.Errorf("stargan: Domains %d: want at least 2", c.Domains)
	case c.GWidth <= 0 || c.DWidth <= 0:
		return fmt.Errorf("stargan: GWidth %d, DWidth %d: must be positive", c.GWidth, c.DWidth)
	case c.Blocks < 0:
		return fmt.Errorf("stargan: Blocks %d: must not be negative", c.Blocks)
	case c.DLayers < 1 || c.Size>>c.DLayers < 1:
		return fmt.Errorf("stargan: DLayers %d: want at least 1 and at most %d for %dx%d images (each layer halves the side)", c.DLayers, maxHalvings(c.Size), c.Size, c.Size)
	}
	return nil
}

// maxHalvings is the number of times n can be halved, rounding down,
// while it stays at least 1 (4 for 28: 14, 7, 3, 1).
func maxHalvings(n int) int {
	k := 0
	for n > 1 {
		n /= 2
		k++
	}
	return k
}

// DSide is the side of D's last maps: Size halved DLayers times, rounding
// down (the kernel of D's domain head).
func (c StarGANConfig) DSide() int { return c.Size >> c.DLayers }

// newNormConv returns conv (its bias dropped) followed by an affine
// instance norm of out channels and, when relu, a ReLU. Its state is named
// "conv" and "norm".
func newNormConv(conv nn.Layer, out int, relu bool) *NormBlock {
	switch c := conv.(type) {
	case *nn.Conv2d:
		c.Bias = nil
	case *nn.ConvTranspose2d:
		c.Bias = nil
	}
	b := &NormBlock{Conv: conv, Norm: nn.NewInstanceNorm2d(out, true)}
	if relu {
		b.Act = nn.ReLU{}
	}
	return b
}

// StarResBlock is the generator's residual block: for x [N, C, H, W],
// x + IN2(Conv2(ReLU(IN1(Conv1(x))))) with 3x3 convolutions (padding 1,
// no bias) and affine instance norms. State: "a" (conv, norm) and "b".
type StarResBlock struct {
	A, B *NormBlock
}

// Forward applies the block to x [N, C, H, W].
func (r *StarResBlock) Forward(x *autograd.Value) *autograd.Value {
	return autograd.Add(x, r.B.Forward(r.A.Forward(x)))
}

func (r *StarResBlock) children() nn.Children {
	return nn.Children{{Name: "a", Module: r.A}, {Name: "b", Module: r.B}}
}

// Params lists the first convolution and norm's parameters, then the
// second's.
func (r *StarResBlock) Params(prefix string) []nn.Param { return r.children().Params(prefix) }

// Buffers lists nothing: instance norm keeps no statistics.
func (r *StarResBlock) Buffers(prefix string) []nn.Buffer { return r.children().Buffers(prefix) }

// SetTraining does nothing visible: no layer depends on the mode.
func (r *StarResBlock) SetTraining(on bool) { r.children().SetTraining(on) }

// StarGenerator is StarGAN's generator (see StarGANConfig): images
// [N, Channels, Size, Size] and one target domain per image to images of
// the same shape in (-1, 1). State names: in.{conv,norm}.*, down.0.*,
// down.1.*, res.I.{a,b}.*, up.0.*, up.1.*, out.weight.
type StarGenerator struct {
	In   *NormBlock
	Down [2]*NormBlock
	Res  []*StarResBlock
	Up   [2]*NormBlock
	Out  *nn.Conv2d // 7x7, no bias, then tanh
	cfg  StarGANConfig
}

// NewStarGenerator returns the generator of c with PyTorch's default
// initialisation drawn from rng, or an error naming the field if c is
// invalid.
func NewStarGenerator(c StarGANConfig, rng *tensor.RNG) (*StarGenerator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w := c.GWidth
	g := &StarGenerator{cfg: c}
	g.In = newNormConv(nn.NewConv2d(c.Channels+c.Domains, w, 7, nn.ConvOptions{Padding: 3}, rng), w, true)
	for i := range g.Down {
		g.Down[i] = newNormConv(nn.NewConv2d(w, 2*w, 4, stride2, rng), 2*w, true)
		w *= 2
	}
	for range c.Blocks {
		g.Res = append(g.Res, &StarResBlock{
			A: newNormConv(nn.NewConv2d(w, w, 3, nn.ConvOptions{Padding: 1}, rng), w, true),
			B: newNormConv(nn.NewConv2d(w, w, 3, nn.ConvOptions{Padding: 1}, rng), w, false),
		})
	}
	for i := range g.Up {
		g.Up[i] = newNormConv(nn.NewConvTranspose2d(w, w/2, 4, stride2, rng), w/2, true)
		w /= 2
	}
	g.Out = nn.NewConv2d(w, c.Channels, 7, nn.ConvOptions{Padding: 3}, rng)
	g.Out.Bias = nil
	return g, nil
}

// Config returns the generator's config.
func (g *StarGenerator) Config() StarGANConfig { return g.cfg }

// DomainMaps returns the one-hot codes of domains as constant maps
// [N, k, size, size]: channel d of sample i is 1 where d = domains[i] and
// 0 elsewhere. It panics on a domain outside 0 .. k-1.
func DomainMaps(domains []int, k, size int) *tensor.Tensor {
	m := tensor.New(len(domains), k, size, size)
	d, px := m.Data(), size*size
	for i, y := range domains {
		if y < 0 || y >= k {
			panic(fmt.Sprintf("models.DomainMaps: domain %d out of range [0, %d)", y, k))
		}
		plane := d[(i*k+y)*px : (i*k+y+1)*px]
		for j := range plane {
			plane[j] = 1
		}
	}
	return m
}

// Forward translates x [N, Channels, Size, Size] to the domains to (one
// per image): G(concat(x, DomainMaps(to))). It panics if x has another
// shape, len(to) != N or a domain is out of range.
func (g *StarGenerator) Forward(x *autograd.Value, to []int) *autograd.Value {
	c := g.cfg
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != c.Channels || xs[2] != c.Size || xs[3] != c.Size || len(to) != xs[0] {
		panic(fmt.Sprintf("models.StarGenerator: input shape %v with %d domains, want [N %d %d %d] and N domains", xs, len(to), c.Channels, c.Size, c.Size))
	}
	h := autograd.Concat([]*autograd.Value{x, autograd.Const(DomainMaps(to, c.Domains, c.Size))}, 1)
	h = g.In.Forward(h)
	for _, b := range g.Down {
		h = b.Forward(h)
	}
	for _, r := range g.Res {
		h = r.Forward(h)
	}
	for _, b := range g.Up {
		h = b.Forward(h)
	}
	return autograd.Tanh(g.Out.Forward(h))
}

func (g *StarGenerator) children() nn.Children {
	c := nn.Children{{Name: "in", Module: g.In}, {Name: "down.0", Module: g.Down[0]}, {Name: "down.1", Module: g.Down[1]}}
	for i, r := range g.Res {
		c = append(c, nn.Child{Name: "res." + strconv.Itoa(i), Module: r})
	}
	return append(c, nn.Child{Name: "up.0", Module: g.Up[0]}, nn.Child{Name: "up.1", Module: g.Up[1]}, nn.Child{Name: "out", Module: g.Out})
}

// Params lists the parameters in forward order.
func (g *StarGenerator) Params(prefix string) []nn.Param { return g.children().Params(prefix) }

// Buffers lists nothing: the generator has no buffers.
func (g *StarGenerator) Buffers(prefix string) []nn.Buffer { return g.children().Buffers(prefix) }

// SetTraining does nothing visible: no layer depends on the mode.
func (g *StarGenerator) SetTraining(on bool) { g.children().SetTraining(on) }

// StarDiscriminator is StarGAN's discriminator (see StarGANConfig): a
// shared trunk of stride-2 convolutions with two heads, a PatchGAN
// real/fake map and a domain classifier. State names: main.I.weight,
// main.I.bias, src.weight, cls.weight.
type StarDiscriminator struct {
	Main []*nn.Conv2d
	Src  *nn.Conv2d // 3x3, padding 1, to 1 channel, no bias
	Cls  *nn.Conv2d // DSide x DSide, to Domains channels, no bias
	cfg  StarGANConfig
}

// NewStarDiscriminator returns the discriminator of c with PyTorch's
// default initialisation drawn from rng, or an error naming the field if c
// is invalid.
func NewStarDiscriminator(c StarGANConfig, rng *tensor.RNG) (*StarDiscriminator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d := &StarDiscriminator{cfg: c}
	in, out := c.Channels, c.DWidth
	for range c.DLayers {
		d.Main = append(d.Main, nn.NewConv2d(in, out, 4, stride2, rng))
		in, out = out, 2*out
	}
	d.Src = nn.NewConv2d(in, 1, 3, nn.ConvOptions{Padding: 1}, rng)
	d.Src.Bias = nil
	d.Cls = nn.NewConv2d(in, c.Domains, c.DSide(), nn.ConvOptions{}, rng)
	d.Cls.Bias = nil
	return d, nil
}

// Forward returns D's real/fake map src [N, 1, DSide, DSide] (higher for
// real, a WGAN critic's scores) and its domain logits cls [N, Domains] for
// images x [N, Channels, Size, Size]. It panics on another shape.
func (d *StarDiscriminator) Forward(x *autograd.Value) (src, cls *autograd.Value) {
	c := d.cfg
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != c.Channels || xs[2] != c.Size || xs[3] != c.Size {
		panic(fmt.Sprintf("models.StarDiscriminator: input shape %v, want [N %d %d %d]", xs, c.Channels, c.Size, c.Size))
	}
	h := x
	for _, conv := range d.Main {
		h = autograd.LeakyRelu(conv.Forward(h), 0.01)
	}
	return d.Src.Forward(h), autograd.Reshape(d.Cls.Forward(h), xs[0], c.Domains)
}

func (d *StarDiscriminator) children() nn.Children {
	var c nn.Children
	for i, conv := range d.Main {
		c = append(c, nn.Child{Name: "main." + strconv.Itoa(i), Module: conv})
	}
	return append(c, nn.Child{Name: "src", Module: d.Src}, nn.Child{Name: "cls", Module: d.Cls})
}

// Params lists the trunk's parameters, then the heads'.
func (d *StarDiscriminator) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists nothing: the discriminator has no buffers.
func (d *StarDiscriminator) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining does nothing visible: no layer depends on the mode.
func (d *StarDiscriminator) SetTraining(on bool) { d.children().SetTraining(on) }
