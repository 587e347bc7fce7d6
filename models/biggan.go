package models

import (
	"fmt"
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// BigGANConfig describes BigGAN's generator (Brock et al. 2019, "Large
// Scale GAN Training for High Fidelity Natural Image Synthesis",
// arXiv:1809.11096, section 3 and appendix B), scaled to small images on
// the SN-GAN layout of SNGANConfig: the same resolutions, blocks and
// discriminator (a projection discriminator with spectral norm, optional
// self-attention), with BigGAN's generator changes:
//
//   - a shared class embedding (Classes -> SharedDim) in place of one
//     embedding per batch norm;
//   - a hierarchical latent: z is split into one chunk for the input
//     projection and one per block, and each block's batch norms are
//     conditioned on [shared embedding, its chunk] through linear maps
//     (nn.LinearCondBatchNorm2d);
//   - spectral norm on every generator layer, as on the discriminator's.
//
// ZDim must divide into len(blocks)+1 equal chunks (BigGAN: 120 in 6 of 20
// at 128x128; here 28x28 has 2 blocks, 3 chunks; 32x32 has 3, 4 chunks).
type BigGANConfig struct {
	SNGANConfig
	// SharedDim is the shared class embedding's size (BigGAN: 128).
	SharedDim int
}

// Chunks is the number of pieces z is split into: one for the input
// projection and one per generator block.
func (c BigGANConfig) Chunks() int {
	_, n := c.gLevels()
	return n + 1
}

// Validate reports the first field of c the networks cannot have.
func (c BigGANConfig) Validate() error {
	if err := c.SNGANConfig.Validate(); err != nil {
		return err
	}
	switch {
	case c.Classes < 2:
		return fmt.Errorf("biggan: Classes %d: BigGAN is class-conditional (want at least 2)", c.Classes)
	case c.SharedDim <= 0:
		return fmt.Errorf("biggan: SharedDim %d: must be positive", c.SharedDim)
	case c.ZDim%c.Chunks() != 0:
		return fmt.Errorf("biggan: ZDim %d: must split into %d equal chunks (one for the input and one per block at size %d)", c.ZDim, c.Chunks(), c.Size)
	}
	return nil
}

// BigGBlock is BigGAN's generator block: the SN-GAN GBlock with its batch
// norms conditioned on a vector v through linear maps and spectral norm on
// every convolution:
//
//	h   = Conv2(ReLU(B2(Conv1(Up(ReLU(B1(x, v)))), v)))
//	out = h + Shortcut(Up(x))
//
// State names: b1.*, c1.*, b2.*, c2.*, c_sc.*.
type BigGBlock struct {
	B1, B2   *nn.LinearCondBatchNorm2d
	C1, C2   *nn.Conv2d
	Shortcut *nn.Conv2d // nil for the identity
	Upsample bool
	in, dim  int
	act      func(*autograd.Value) *autograd.Value // nil: ReLU; tests swap in a smooth one
}

// NewBigGBlock returns a block from in to out channels conditioned on
// vectors of size dim, upsampling when up is set.
func NewBigGBlock(in, out, dim int, up bool, rng *tensor.RNG) *BigGBlock {
	b := &BigGBlock{B1: nn.NewLinearCondBatchNorm2d(in, dim, rng).WithSpectralNorm(rng), C1: resConv(in, out, 3, rng).WithSpectralNorm(rng),
		B2: nn.NewLinearCondBatchNorm2d(out, dim, rng).WithSpectralNorm(rng), C2: resConv(out, out, 3, rng).WithSpectralNorm(rng),
		Upsample: up, in: in, dim: dim}
	if in != out || up {
		b.Shortcut = resConv(in, out, 1, rng).WithSpectralNorm(rng)
	}
	return b
}

// Forward maps x [N, In, H, W] and v [N, dim] to the block's output. It
// panics on other shapes.
func (b *BigGBlock) Forward(x, v *autograd.Value) *autograd.Value {
	if xs, vs := x.Shape(), v.Shape(); len(xs) != 4 || xs[1] != b.in || len(vs) != 2 || vs[0] != xs[0] || vs[1] != b.dim {
		panic(fmt.Sprintf("models.BigGBlock: input shape %v and vector %v for %d channels and %d-vectors", xs, vs, b.in, b.dim))
	}
	up := func(h *autograd.Value) *autograd.Value {
		if b.Upsample {
			return autograd.UpsampleNearest(h, 2)
		}
		return h
	}
	relu := reluOr(b.act)
	h := relu(b.B1.Forward(x, v))
	h = b.C1.Forward(up(h))
	h = b.C2.Forward(relu(b.B2.Forward(h, v)))
	sc := up(x)
	if b.Shortcut != nil {
		sc = b.Shortcut.Forward(sc)
	}
	return autograd.Add(h, sc)
}

func (b *BigGBlock) children() nn.Children {
	return nn.Children{{Name: "b1", Module: b.B1}, {Name: "c1", Module: b.C1}, {Name: "b2", Module: b.B2},
		{Name: "c2", Module: b.C2}, {Name: "c_sc", Module: b.Shortcut}}
}

// Params lists b1, c1, b2, c2 and c_sc's parameters.
func (b *BigGBlock) Params(prefix string) []nn.Param { return b.children().Params(prefix) }

// Buffers lists spectral norm's vectors and the batch norms' statistics.
func (b *BigGBlock) Buffers(prefix string) []nn.Buffer { return b.children().Buffers(prefix) }

// SetTraining sets the batch norms' and spectral norm's mode.
func (b *BigGBlock) SetTraining(on bool) { b.children().SetTraining(on) }

// BigGANGenerator is the generator of BigGANConfig.
//
// State names: shared.* (the class embedding), l1.*, blocks.I.*, attn.*,
// b_out.*, c_out.*.
type BigGANGenerator struct {
	Shared *nn.Embedding // [Classes, SharedDim], not spectrally normalised (as BigGAN's)
	L1     *nn.Linear    // first chunk -> Base*Base*GWidth
	Blocks []*BigGBlock
	Attn   *nn.SelfAttention // after block AttnAt; nil without attention
	AttnAt int
	BOut   *nn.BatchNorm
	COut   *nn.Conv2d

	base, width, zDim, chunk, classes int
}

// NewBigGANGenerator builds the generator c describes, drawing weights from
// rng. It returns an error naming the field if c is invalid.
func NewBigGANGenerator(c BigGANConfig, rng *tensor.RNG) (*BigGANGenerator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	base, n := c.gLevels()
	chunk := c.ZDim / c.Chunks()
	g := &BigGANGenerator{base: base, width: c.GWidth, zDim: c.ZDim, chunk: chunk, classes: c.Classes}
	g.Shared = nn.NewEmbedding(c.Classes, c.SharedDim, rng)
	nn.XavierUniform(g.Shared.Weight.Data(), 1, rng)
	g.L1 = nn.NewLinear(chunk, base*base*c.GWidth, rng)
	nn.XavierUniform(g.L1.Weight.Data(), 1, rng)
	g.L1.Bias.Data().Fill(0)
	g.L1.WithSpectralNorm(rng)
	for range n {
		g.Blocks = append(g.Blocks, NewBigGBlock(c.GWidth, c.GWidth, c.SharedDim+chunk, true, rng))
	}
	if c.Attention {
		g.AttnAt = (n - 1) / 2
		g.Attn = nn.NewSelfAttention(c.GWidth, rng).WithSpectralNorm(rng)
	}
	g.BOut = nn.NewBatchNorm2d(c.GWidth)
	g.COut = resConv(c.GWidth, c.Channels, 3, rng)
	nn.XavierUniform(g.COut.Weight.Data(), 1, rng)
	g.COut.WithSpectralNorm(rng)
	return g, nil
}

// ZDim is the noise dimension (all chunks).
func (g *BigGANGenerator) ZDim() int { return g.zDim }

// Classes is the number of classes.
func (g *BigGANGenerator) Classes() int { return g.classes }

// Forward maps z [N, ZDim] and one label per sample to images [N,
// Channels, Size, Size] in [-1, 1]. It panics if z is not [N, ZDim] or on
// labels of the wrong count or range.
func (g *BigGANGenerator) Forward(z *autograd.Value, labels []int) *autograd.Value {
	zs := z.Shape()
	if len(zs) != 2 || zs[1] != g.zDim {
		panic(fmt.Sprintf("models.BigGANGenerator: noise shape %v, want [N %d]", zs, g.zDim))
	}
	checkLabels("models.BigGANGenerator", labels, zs[0], g.classes)
	shared := g.Shared.Forward(labels)
	chunk := func(i int) *autograd.Value { return autograd.Slice(z, 1, i*g.chunk, (i+1)*g.chunk) }
	h := autograd.Reshape(g.L1.Forward(chunk(0)), zs[0], g.width, g.base, g.base)
	for i, b := range g.Blocks {
		h = b.Forward(h, autograd.Concat([]*autograd.Value{shared, chunk(i + 1)}, 1))
		if g.Attn != nil && i == g.AttnAt {
			h = g.Attn.Forward(h)
		}
	}
	h = autograd.Relu(g.BOut.Forward(h))
	return autograd.Tanh(g.COut.Forward(h))
}

func (g *BigGANGenerator) children() nn.Children {
	ch := nn.Children{{Name: "shared", Module: g.Shared}, {Name: "l1", Module: g.L1}}
	for i, b := range g.Blocks {
		ch = append(ch, nn.Child{Name: "blocks." + strconv.Itoa(i), Module: b})
	}
	return append(ch, nn.Child{Name: "attn", Module: g.Attn}, nn.Child{Name: "b_out", Module: g.BOut}, nn.Child{Name: "c_out", Module: g.COut})
}

// Params lists the layers' parameters in order.
func (g *BigGANGenerator) Params(prefix string) []nn.Param { return g.children().Params(prefix) }

// Buffers lists spectral norm's vectors and batch norm's statistics.
func (g *BigGANGenerator) Buffers(prefix string) []nn.Buffer { return g.children().Buffers(prefix) }

// SetTraining sets batch norm's and spectral norm's mode.
func (g *BigGANGenerator) SetTraining(on bool) { g.children().SetTraining(on) }
