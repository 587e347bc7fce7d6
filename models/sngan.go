package models

import (
	"fmt"
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// SNGANConfig describes the SN-GAN ResNet generator and discriminator
// (Miyato et al. 2018, arXiv:1802.05957, appendix B.4: the CIFAR-10 ResNets
// of their table 4), optionally class-conditional (conditional batch norm
// in G, a projection discriminator: Miyato & Koyama 2018, arXiv:1802.05637)
// and with SAGAN's self-attention (Zhang et al. 2019, arXiv:1805.08318).
//
// The generator projects z to a Base x Base map of GWidth channels and
// doubles the resolution in each of its GBlocks up to Size: Size is halved
// while even and above 4, so 32 starts from 4x4 (three blocks, 4 -> 8 -> 16
// -> 32, the paper's CIFAR-10 generator) and 28 from 7x7 (two blocks,
// 7 -> 14 -> 28); then batch norm, ReLU, a 3x3 convolution to Channels and
// tanh. The discriminator is the optimized block and then DBlocks at DWidth
// channels, downsampling while the side is above 8 (32 -> 16 -> 8 and
// 28 -> 14 -> 7: two downsamplings), then two blocks at that resolution, as
// the paper's CIFAR-10 discriminator; ReLU, a sum over positions, and a
// spectrally normalised linear map to one logit.
//
// With Attention a self-attention block (spectrally normalised when its
// network is) follows G's block at the middle resolution (14 for Size 28,
// 16 for 32) and D's first block (the same resolutions).
type SNGANConfig struct {
	Size     int // image side: 28, 32 or 64
	Channels int // image channels: 1 or 3
	GWidth   int // generator channels (256 in the paper's CIFAR-10 model)
	DWidth   int // discriminator channels (128 in the paper's)
	ZDim     int // noise dimension (128 in the paper's)
	// Classes > 0 makes both networks class-conditional.
	Classes int
	// Attention adds SAGAN's self-attention to both networks.
	Attention bool
	// GSpectralNorm puts spectral norm on every generator layer too (SAGAN
	// does; SN-GAN normalises D only).
	GSpectralNorm bool
}

// Validate reports the first field of c that the networks cannot have.
func (c SNGANConfig) Validate() error {
	switch {
	case c.Size != 28 && c.Size != 32 && c.Size != 64:
		return fmt.Errorf("sngan: Size %d: want 28, 32 or 64", c.Size)
	case c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("sngan: Channels %d: want 1 or 3", c.Channels)
	case c.GWidth <= 0 || c.DWidth <= 0:
		return fmt.Errorf("sngan: GWidth %d, DWidth %d: must be positive", c.GWidth, c.DWidth)
	case c.ZDim <= 0:
		return fmt.Errorf("sngan: ZDim %d: must be positive", c.ZDim)
	case c.Classes < 0 || c.Classes == 1:
		return fmt.Errorf("sngan: Classes %d: want 0 (unconditional) or at least 2", c.Classes)
	}
	return nil
}

// gLevels returns G's base side and its number of upsampling blocks.
func (c SNGANConfig) gLevels() (base, n int) {
	base = c.Size
	for base%2 == 0 && base > 4 {
		base /= 2
		n++
	}
	return base, n
}

// dDowns is the number of D's downsampling blocks (the optimized one
// included): halvings while the side is even and above 8.
func (c SNGANConfig) dDowns() int {
	n, s := 0, c.Size
	for s%2 == 0 && s > 8 {
		s /= 2
		n++
	}
	return n
}

// SNGANGenerator is the SN-GAN ResNet generator of SNGANConfig.
//
// State names: l1.* (the projection of z), blocks.I.*, attn.* (with
// Attention), b_out.* (batch norm), c_out.* (the output convolution).
type SNGANGenerator struct {
	L1     *nn.Linear
	Blocks []*GBlock
	Attn   *nn.SelfAttention // after block AttnAt; nil without attention
	AttnAt int
	BOut   *nn.BatchNorm
	COut   *nn.Conv2d

	base, width, zDim, classes int
}

// NewSNGANGenerator builds the generator c describes, drawing weights from
// rng. It returns an error naming the field if c is invalid.
func NewSNGANGenerator(c SNGANConfig, rng *tensor.RNG) (*SNGANGenerator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	base, n := c.gLevels()
	g := &SNGANGenerator{base: base, width: c.GWidth, zDim: c.ZDim, classes: c.Classes}
	g.L1 = nn.NewLinear(c.ZDim, base*base*c.GWidth, rng)
	nn.XavierUniform(g.L1.Weight.Data(), 1, rng)
	g.L1.Bias.Data().Fill(0)
	for range n {
		g.Blocks = append(g.Blocks, NewGBlock(c.GWidth, c.GWidth, true, c.Classes, rng))
	}
	g.BOut = nn.NewBatchNorm2d(c.GWidth)
	g.COut = resConv(c.GWidth, c.Channels, 3, rng)
	nn.XavierUniform(g.COut.Weight.Data(), 1, rng)
	if c.Attention {
		g.AttnAt = (n - 1) / 2
		g.Attn = nn.NewSelfAttention(c.GWidth, rng)
	}
	if c.GSpectralNorm {
		g.L1.WithSpectralNorm(rng)
		for _, b := range g.Blocks {
			for _, cv := range []*nn.Conv2d{b.C1, b.C2, b.Shortcut} {
				if cv != nil {
					cv.WithSpectralNorm(rng)
				}
			}
		}
		if g.Attn != nil {
			g.Attn.WithSpectralNorm(rng)
		}
		g.COut.WithSpectralNorm(rng)
	}
	return g, nil
}

// ZDim is the noise dimension.
func (g *SNGANGenerator) ZDim() int { return g.zDim }

// Classes is the number of classes (0: unconditional).
func (g *SNGANGenerator) Classes() int { return g.classes }

// Forward maps z [N, ZDim], with one label per sample when the generator
// is conditional (nil otherwise), to images [N, Channels, Size, Size] in
// [-1, 1]. It panics if z is not [N, ZDim], or on labels of the wrong count
// or range (or any labels for an unconditional generator).
func (g *SNGANGenerator) Forward(z *autograd.Value, labels []int) *autograd.Value {
	zs := z.Shape()
	if len(zs) != 2 || zs[1] != g.zDim {
		panic(fmt.Sprintf("models.SNGANGenerator: noise shape %v, want [N %d]", zs, g.zDim))
	}
	if g.classes > 0 {
		checkLabels("models.SNGANGenerator", labels, zs[0], g.classes)
	} else if labels != nil {
		panic("models.SNGANGenerator: labels given to an unconditional generator")
	}
	h := autograd.Reshape(g.L1.Forward(z), zs[0], g.width, g.base, g.base)
	for i, b := range g.Blocks {
		h = b.Forward(h, labels)
		if g.Attn != nil && i == g.AttnAt {
			h = g.Attn.Forward(h)
		}
	}
	h = autograd.Relu(g.BOut.Forward(h))
	return autograd.Tanh(g.COut.Forward(h))
}

func (g *SNGANGenerator) children() nn.Children {
	ch := nn.Children{{Name: "l1", Module: g.L1}}
	for i, b := range g.Blocks {
		ch = append(ch, nn.Child{Name: "blocks." + strconv.Itoa(i), Module: b})
	}
	return append(ch, nn.Child{Name: "attn", Module: g.Attn}, nn.Child{Name: "b_out", Module: g.BOut}, nn.Child{Name: "c_out", Module: g.COut})
}

// Params lists the layers' parameters in order.
func (g *SNGANGenerator) Params(prefix string) []nn.Param { return g.children().Params(prefix) }

// Buffers lists batch norm's statistics and spectral norm's vectors.
func (g *SNGANGenerator) Buffers(prefix string) []nn.Buffer { return g.children().Buffers(prefix) }

// SetTraining sets every layer's mode.
func (g *SNGANGenerator) SetTraining(on bool) { g.children().SetTraining(on) }

// SNGANDiscriminator is the SN-GAN ResNet discriminator of SNGANConfig,
// spectral norm on every layer. Conditional, it is a projection
// discriminator (Miyato & Koyama 2018, arXiv:1802.05637, eq. 3):
//
//	logit(x, y) = LOut(phi(x)) + <Embed[y], phi(x)>
//
// with phi(x) [N, DWidth] the ReLU'd last feature maps summed over
// positions.
//
// State names: blocks.I.*, attn.* (with Attention), l_out.*, embed.*
// (conditional).
type SNGANDiscriminator struct {
	Blocks []*DBlock
	Attn   *nn.SelfAttention // after block 0; nil without attention
	LOut   *nn.Linear
	Embed  *nn.Embedding // [Classes, DWidth]; nil unconditional

	channels, size, classes int
}

// NewSNGANDiscriminator builds the discriminator c describes, drawing
// weights and spectral norm's vectors from rng. It returns an error naming
// the field if c is invalid.
func NewSNGANDiscriminator(c SNGANConfig, rng *tensor.RNG) (*SNGANDiscriminator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d := &SNGANDiscriminator{channels: c.Channels, size: c.Size, classes: c.Classes}
	d.Blocks = append(d.Blocks, NewDOptBlock(c.Channels, c.DWidth, rng))
	for range c.dDowns() - 1 {
		d.Blocks = append(d.Blocks, NewDBlock(c.DWidth, c.DWidth, true, rng))
	}
	for range 2 {
		d.Blocks = append(d.Blocks, NewDBlock(c.DWidth, c.DWidth, false, rng))
	}
	if c.Attention {
		d.Attn = nn.NewSelfAttention(c.DWidth, rng).WithSpectralNorm(rng)
	}
	d.LOut = nn.NewLinear(c.DWidth, 1, rng)
	nn.XavierUniform(d.LOut.Weight.Data(), 1, rng)
	d.LOut.Bias.Data().Fill(0)
	d.LOut.WithSpectralNorm(rng)
	if c.Classes > 0 {
		d.Embed = nn.NewEmbedding(c.Classes, c.DWidth, rng)
		nn.XavierUniform(d.Embed.Weight.Data(), 1, rng)
		d.Embed.WithSpectralNorm(rng)
	}
	return d, nil
}

// Classes is the number of classes (0: unconditional).
func (d *SNGANDiscriminator) Classes() int { return d.classes }

// Forward returns the logits [N, 1] of images x [N, Channels, Size, Size],
// with one label per sample when conditional (nil otherwise). It panics if
// x has the wrong shape, or on labels of the wrong count or range (or any
// labels for an unconditional discriminator).
func (d *SNGANDiscriminator) Forward(x *autograd.Value, labels []int) *autograd.Value {
	d.check(x, labels)
	phi := d.features(x)
	return d.head(phi, d.LOut.Forward(phi), labels)
}

// ForwardRelabel returns the logits of images x under labels and under
// other (gan.Relabeler): one pass through the trunk, two projections. It
// panics as Forward does, for either label set, and on an unconditional
// discriminator.
func (d *SNGANDiscriminator) ForwardRelabel(x *autograd.Value, labels, other []int) (logits, otherLogits *autograd.Value) {
	if d.classes == 0 {
		panic("models.SNGANDiscriminator: ForwardRelabel on an unconditional discriminator")
	}
	d.check(x, labels)
	d.check(x, other)
	phi := d.features(x)
	psi := d.LOut.Forward(phi)
	return d.head(phi, psi, labels), d.head(phi, psi, other)
}

// check panics if x is not [N, Channels, Size, Size] or the labels do not
// suit the discriminator.
func (d *SNGANDiscriminator) check(x *autograd.Value, labels []int) {
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != d.channels || xs[2] != d.size || xs[3] != d.size {
		panic(fmt.Sprintf("models.SNGANDiscriminator: input shape %v, want [N %d %d %d]", xs, d.channels, d.size, d.size))
	}
	if d.classes > 0 {
		checkLabels("models.SNGANDiscriminator", labels, xs[0], d.classes)
	} else if labels != nil {
		panic("models.SNGANDiscriminator: labels given to an unconditional discriminator")
	}
}

// features returns phi [N, DWidth]: the last block's maps, ReLU'd and
// sum-pooled.
func (d *SNGANDiscriminator) features(x *autograd.Value) *autograd.Value {
	h := x
	for i, b := range d.Blocks {
		h = b.Forward(h)
		if d.Attn != nil && i == 0 {
			h = d.Attn.Forward(h)
		}
	}
	return autograd.Sum(autograd.Relu(h), []int{2, 3}, false)
}

// head adds the projection <Embed[y_i], phi_i> to psi = LOut(phi) when
// the discriminator is conditional.
func (d *SNGANDiscriminator) head(phi, psi *autograd.Value, labels []int) *autograd.Value {
	if d.Embed == nil {
		return psi
	}
	return autograd.Add(psi, projection(d.Embed, phi, labels))
}

func (d *SNGANDiscriminator) children() nn.Children {
	var ch nn.Children
	for i, b := range d.Blocks {
		ch = append(ch, nn.Child{Name: "blocks." + strconv.Itoa(i), Module: b})
	}
	return append(ch, nn.Child{Name: "attn", Module: d.Attn}, nn.Child{Name: "l_out", Module: d.LOut}, nn.Child{Name: "embed", Module: d.Embed})
}

// Params lists the layers' parameters in order.
func (d *SNGANDiscriminator) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists spectral norm's vectors.
func (d *SNGANDiscriminator) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining sets spectral norm's mode.
func (d *SNGANDiscriminator) SetTraining(on bool) { d.children().SetTraining(on) }
