package models

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// DCGANConfig describes a DCGAN generator or discriminator (Radford et al.
// 2016, "Unsupervised Representation Learning with Deep Convolutional
// Generative Adversarial Networks", arXiv:1511.06434): strided convolutions
// in D and transposed convolutions in G (all 4x4, stride 2, padding 1), no
// pooling, batch norm everywhere except G's output and D's input layer, ReLU
// in G with a tanh output, LeakyReLU 0.2 in D, and no dense layers beyond
// G's first projection and D's last linear map to one logit.
//
// The resolution doubles from a base side of 7 (Size 28, as MNIST GANs and
// the bench workload do) or 4 (Size 32 and 64, as the paper) to Size. The
// feature maps at the highest hidden resolution have Width channels, and the
// channel count doubles at each halving of the resolution, so with Width 64
// a 64x64 G has 512, 256, 128, 64 channels at 4, 8, 16, 32 pixels (the
// paper's figure 1 halved; PyTorch's DCGAN example) and a 28x28 pair is the
// bench workload's (less the biases that batch norm cancels).
//
// A generator and a discriminator each read the fields they need, so the
// two may be built from configs that differ in Width.
type DCGANConfig struct {
	Size     int // image side: 28, 32 or 64
	Channels int // image channels: 1 or 3
	Width    int // channels at the highest hidden resolution (the paper's code uses 64); must be positive
	ZDim     int // generator only: the noise dimension (100 in the paper); must be positive

	// Pack (discriminator only) is PacGAN's packing degree m (Lin et al.
	// 2018, arXiv:1712.04086; gan.Pack): D's first convolution takes
	// m*Channels input channels, m images concatenated along channels, and
	// nothing else changes. 0 or 1: no packing.
	Pack int

	// SpectralNorm (discriminator only) wraps every convolution and the
	// final linear map in spectral normalisation (Miyato et al. 2018,
	// arXiv:1802.05957) and drops batch norm.
	SpectralNorm bool
	// NoBatchNorm (discriminator only) drops batch norm from D, as a
	// WGAN-GP critic needs (the penalty is per sample; Gulrajani et al.
	// 2017, arXiv:1704.00028).
	NoBatchNorm bool
	// NormalInit draws the paper's initialisation: convolution and linear
	// weights N(0, 0.02), batch norm scales N(1, 0.02), all biases 0. When
	// false the layers keep PyTorch's default initialisation.
	NormalInit bool
	// Dense, when positive, adds a fully connected layer of this many units
	// to both networks, as InfoGAN's MNIST networks have (Chen et al. 2016,
	// appendix C.1: FC 1024): in G between z and the projection (batch
	// norm, ReLU), in D between the flattened maps and the logit (batch
	// norm unless D has none, LeakyReLU 0.2; spectral norm under
	// SpectralNorm), where it becomes the features phi(x).
	Dense int
	// MinibatchKernels (discriminator only), when positive, puts minibatch
	// discrimination (nn.MinibatchDiscrimination; Salimans et al. 2016,
	// sec. 3.2) with this many kernels between the features phi(x) and the
	// logit, so D sees how alike a batch's images are. MinibatchDim is each
	// kernel's dimension; default 5, the authors'. The features stay phi(x).
	MinibatchKernels int
	MinibatchDim     int
	// DExtra (discriminator only) adds that many stride-2 convolutions
	// (channels doubling, batch norm, LeakyReLU) below the base side, each
	// halving it rounded down (7 -> 3 -> 1, 4 -> 2 -> 1), so D can be as
	// deep as carpedm20's DCGAN behind PacGAN's Stacked MNIST rows (four
	// strided convolutions at 28x28, down to 2x2). 0, 1 or 2.
	DExtra int
	// GExtra (generator only) starts G that many halvings below the base
	// side, rounded up (7 -> 4 -> 2, 4 -> 2 -> 1), with a transposed
	// convolution, batch norm and ReLU for each (channels halving as the
	// side grows; k4 s2 p1 where the side doubles, k3 s2 p1 where it
	// doubles less one, 4 -> 7), so G can be as deep as carpedm20's DCGAN
	// behind PacGAN's Stacked MNIST rows (2x2x512 projected, four
	// up-samplings to 28x28 at Width 64). 0, 1 or 2.
	GExtra int
	// ChannelBN (generator only) normalises the projection per channel of
	// the reshaped [C0, b, b] maps (BatchNorm2d over C0 channels, as
	// PyTorch's DCGAN example and Radford et al.'s face model do) instead
	// of per feature of the flat projection.
	ChannelBN bool
}

// Validate reports the first field of c that no DCGAN can have, naming it.
// ZDim is checked by NewDCGANGenerator only.
func (c DCGANConfig) Validate() error {
	switch {
	case c.Size != 28 && c.Size != 32 && c.Size != 64:
		return fmt.Errorf("dcgan: Size %d: want 28, 32 or 64", c.Size)
	case c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("dcgan: Channels %d: want 1 or 3", c.Channels)
	case c.Width <= 0:
		return fmt.Errorf("dcgan: Width %d: must be positive", c.Width)
	case c.Dense < 0:
		return fmt.Errorf("dcgan: Dense %d: want 0 (none) or a positive width", c.Dense)
	case c.Pack < 0:
		return fmt.Errorf("dcgan: Pack %d: want 0 or 1 (none) or a packing degree", c.Pack)
	case c.MinibatchKernels < 0 || c.MinibatchDim < 0:
		return fmt.Errorf("dcgan: MinibatchKernels %d, MinibatchDim %d: want 0 (none) or positive sizes", c.MinibatchKernels, c.MinibatchDim)
	case c.DExtra < 0 || c.DExtra > 2:
		return fmt.Errorf("dcgan: DExtra %d: want 0, 1 or 2 (the base side halves to 1 after 2)", c.DExtra)
	case c.GExtra < 0 || c.GExtra > 2:
		return fmt.Errorf("dcgan: GExtra %d: want 0, 1 or 2 (the base side halves to 1 after 2)", c.GExtra)
	}
	return nil
}

// levels returns the base side and the number of stride-2 resolution
// doublings from it to c.Size: Size is halved while it is even and above 4
// (28 -> 7 after 2, 32 -> 4 after 3, 64 -> 4 after 4). The builders work
// for any Size of at least 8 that halves to its base this way; Validate
// admits the sizes the package promises (tests use a 16x16 pair, base 4
// after 2 doublings, for cheap gradient checks).
func (c DCGANConfig) levels() (base, n int) {
	base = c.Size
	for base%2 == 0 && base > 4 {
		base /= 2
		n++
	}
	return base, n
}

// widthAt is the channel count at doubling level i (0: the base side,
// negative: GExtra's levels below it):
// Width * 2^(n-1-i).
func (c DCGANConfig) widthAt(i int) int {
	_, n := c.levels()
	return c.Width << (n - 1 - i)
}

// ConvBlock is one level of a DCGAN: a (transposed) convolution, an
// optional batch norm and an activation. Its state is named "conv" and
// "bn".
type ConvBlock struct {
	Conv nn.Layer      // *nn.Conv2d or *nn.ConvTranspose2d
	BN   *nn.BatchNorm // nil for none
	Act  nn.Layer
}

// Forward applies Conv, BN (if any) and Act.
func (b *ConvBlock) Forward(x *autograd.Value) *autograd.Value {
	x = b.Conv.Forward(x)
	if b.BN != nil {
		x = b.BN.Forward(x)
	}
	return b.Act.Forward(x)
}

func (b *ConvBlock) children() nn.Children {
	return nn.Children{{Name: "conv", Module: b.Conv}, {Name: "bn", Module: b.BN}}
}

// Params lists the convolution's then the batch norm's parameters.
func (b *ConvBlock) Params(prefix string) []nn.Param { return b.children().Params(prefix) }

// Buffers lists the batch norm's running statistics and spectral norm's
// vectors, if any.
func (b *ConvBlock) Buffers(prefix string) []nn.Buffer { return b.children().Buffers(prefix) }

// SetTraining sets the mode of the convolution and the batch norm.
func (b *ConvBlock) SetTraining(on bool) { b.children().SetTraining(on) }

// blockChildren names blocks "blocks.0", "blocks.1", ...
func blockChildren(blocks []*ConvBlock) nn.Children {
	c := make(nn.Children, len(blocks))
	for i, b := range blocks {
		c[i] = nn.Child{Name: "blocks." + strconv.Itoa(i), Module: b}
	}
	return c
}

// denseBlock is the fully connected layer of DCGANConfig.Dense from in to
// out units with activation act, and batch norm when bn (the linear map then
// has no bias), and spectral norm when sn.
func denseBlock(in, out int, bn, sn bool, act nn.Layer, c DCGANConfig, rng *tensor.RNG) *ConvBlock {
	l := nn.NewLinear(in, out, rng)
	b := &ConvBlock{Conv: l, Act: act}
	if bn {
		l.Bias = nil
		b.BN = newBN(out, false, c.NormalInit, rng)
	}
	if c.NormalInit {
		normalInit(l.Weight, l.Bias, rng)
	}
	if sn {
		b.Conv = l.WithSpectralNorm(rng)
	}
	return b
}

// stride2 is the geometry of every DCGAN (transposed) convolution: kernel 4,
// stride 2, padding 1, which halves (doubles) the side exactly.
var stride2 = nn.ConvOptions{Stride: 2, Padding: 1}

// normalInit redraws w from N(0, 0.02) and zeroes b (either may be nil).
func normalInit(w, b *autograd.Value, rng *tensor.RNG) {
	if w != nil {
		nn.InitNormal(w.Data(), 0, 0.02, rng)
	}
	if b != nil {
		b.Data().Fill(0)
	}
}

// newBN returns batch norm over c channels (2-D maps or 1-D features),
// with DCGAN's N(1, 0.02) scales when normal.
func newBN(c int, twoD, normal bool, rng *tensor.RNG) *nn.BatchNorm {
	bn := nn.NewBatchNorm1d(c)
	if twoD {
		bn = nn.NewBatchNorm2d(c)
	}
	if normal {
		nn.InitNormal(bn.Weight.Data(), 1, 0.02, rng)
	}
	return bn
}

// DCGANGenerator maps noise z [N, ZDim] to images [N, Channels, Size, Size]
// in [-1, 1]:
//
//	z -> (Linear(ZDim -> Dense) -> BatchNorm1d -> ReLU, with Dense only)
//	  -> Linear(-> C0*b*b) -> BatchNorm1d -> ReLU -> reshape [C0, b, b]
//	  -> (ConvTranspose2d k4 s2 p1, or k3 to an odd side -> BatchNorm2d -> ReLU) per GExtra level
//	  -> (ConvTranspose2d k4 s2 p1 -> BatchNorm2d -> ReLU) per doubling but the last
//	  -> ConvTranspose2d(Width -> Channels, k4 s2 p1) -> tanh
//
// with b the base side and C0 = Width * 2^(doublings-1) (with GExtra: b
// halved GExtra times, rounded up, and C0 doubled as often). Layers
// followed by batch norm have no bias, which the norm's mean subtraction
// would cancel (as in PyTorch's DCGAN example). The projection is a Linear, the same
// linear map as the paper's "project and reshape" and as a 4x4 transposed
// convolution on a 1x1 input; its batch norm is per feature, or with
// ChannelBN per channel after the reshape.
//
// State names: dense.weight, dense_bn.* (with Dense only), project.weight,
// project_bn.{weight,bias,running_mean, running_var},
// blocks.<i>.conv.weight, blocks.<i>.bn.*, out.{weight,bias}.
type DCGANGenerator struct {
	Dense      *ConvBlock // nil without DCGANConfig.Dense: Conv is an *nn.Linear
	Project    *nn.Linear
	ProjectBN  *nn.BatchNorm
	ProjectAct nn.Layer // ReLU
	Blocks     []*ConvBlock
	Out        *nn.ConvTranspose2d

	zDim, base, c0 int
}

// NewDCGANGenerator builds the generator c describes, drawing weights from
// rng. It returns an error naming the field if c is invalid (see
// DCGANConfig.Validate; ZDim must be positive too).
func NewDCGANGenerator(c DCGANConfig, rng *tensor.RNG) (*DCGANGenerator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.ZDim <= 0 {
		return nil, fmt.Errorf("dcgan: ZDim %d: must be positive", c.ZDim)
	}
	return newDCGANGenerator(c, rng), nil
}

// newDCGANGenerator builds the generator of a valid c.
func newDCGANGenerator(c DCGANConfig, rng *tensor.RNG) *DCGANGenerator {
	base, n := c.levels()
	sides := []int{base} // the sides from the smallest up to base
	for range c.GExtra {
		sides = append([]int{(sides[0] + 1) / 2}, sides...)
	}
	width := func(i int) int { return c.widthAt(i - c.GExtra) } // channels at sides[i]
	g := &DCGANGenerator{ProjectAct: nn.ReLU{}, zDim: c.ZDim, base: sides[0], c0: width(0)}
	in := c.ZDim
	if c.Dense > 0 {
		g.Dense = denseBlock(in, c.Dense, true, false, nn.ReLU{}, c, rng)
		in = c.Dense
	}
	g.Project = nn.NewLinear(in, g.c0*g.base*g.base, rng)
	g.Project.Bias = nil
	g.ProjectBN = newBN(g.c0*g.base*g.base, false, c.NormalInit, rng)
	if c.ChannelBN {
		g.ProjectBN = newBN(g.c0, true, c.NormalInit, rng)
	}
	if c.NormalInit {
		normalInit(g.Project.Weight, nil, rng)
	}
	for i := 0; i < n-1+c.GExtra; i++ {
		in, out := width(i), width(i+1)
		kernel := 4
		if i < c.GExtra && sides[i+1] == 2*sides[i]-1 {
			kernel = 3 // (s-1)*2 - 2 + 3 = 2s-1: 4 -> 7
		}
		conv := nn.NewConvTranspose2d(in, out, kernel, stride2, rng)
		conv.Bias = nil
		if c.NormalInit {
			normalInit(conv.Weight, nil, rng)
		}
		g.Blocks = append(g.Blocks, &ConvBlock{Conv: conv, BN: newBN(out, true, c.NormalInit, rng), Act: nn.ReLU{}})
	}
	g.Out = nn.NewConvTranspose2d(c.Width, c.Channels, 4, stride2, rng)
	if c.NormalInit {
		normalInit(g.Out.Weight, g.Out.Bias, rng)
	}
	return g
}

// ZDim is the noise dimension the generator takes.
func (g *DCGANGenerator) ZDim() int { return g.zDim }

// Forward maps z [N, ZDim] to images [N, Channels, Size, Size]. It panics if
// z is not [N, ZDim].
func (g *DCGANGenerator) Forward(z *autograd.Value) *autograd.Value {
	if zs := z.Shape(); len(zs) != 2 || zs[1] != g.zDim {
		panic(fmt.Sprintf("models.DCGANGenerator: noise shape %v, want [N %d]", zs, g.zDim))
	}
	h := z
	if g.Dense != nil {
		h = g.Dense.Forward(h)
	}
	h = g.Project.Forward(h)
	maps := []int{z.Shape()[0], g.c0, g.base, g.base}
	if g.ProjectBN.TwoD() { // ChannelBN: the norm is over the maps
		h = autograd.Reshape(h, maps...)
	}
	h = g.ProjectAct.Forward(g.ProjectBN.Forward(h))
	if !g.ProjectBN.TwoD() {
		h = autograd.Reshape(h, maps...)
	}
	for _, b := range g.Blocks {
		h = b.Forward(h)
	}
	return autograd.Tanh(g.Out.Forward(h))
}

func (g *DCGANGenerator) children() nn.Children {
	var c nn.Children
	if g.Dense != nil {
		c = nn.Children{{Name: "dense", Module: g.Dense.Conv}, {Name: "dense_bn", Module: g.Dense.BN}}
	}
	c = append(c, nn.Child{Name: "project", Module: g.Project}, nn.Child{Name: "project_bn", Module: g.ProjectBN})
	c = append(c, blockChildren(g.Blocks)...)
	return append(c, nn.Child{Name: "out", Module: g.Out})
}

// Params lists the parameters in forward order.
func (g *DCGANGenerator) Params(prefix string) []nn.Param { return g.children().Params(prefix) }

// Buffers lists the batch norms' running statistics.
func (g *DCGANGenerator) Buffers(prefix string) []nn.Buffer { return g.children().Buffers(prefix) }

// SetTraining switches the batch norms between batch and running
// statistics.
func (g *DCGANGenerator) SetTraining(on bool) { g.children().SetTraining(on) }

// DCGANDiscriminator maps images [N, Channels, Size, Size] to one logit
// each, [N, 1]:
//
//	x -> Conv2d(Channels -> Width, k4 s2 p1) -> LeakyReLU(0.2)
//	  -> (Conv2d k4 s2 p1, channels doubling -> BatchNorm2d -> LeakyReLU(0.2)) per further halving
//	  -> (the same, DExtra times more, below the base side)
//	  -> flatten (the features phi(x))
//	  -> (Linear(-> Dense) -> BatchNorm1d -> LeakyReLU(0.2), with Dense only: then the features phi(x))
//	  -> (with MinibatchKernels: concat(phi(x), o(phi(x))), minibatch discrimination)
//	  -> Linear(-> 1)
//
// down to the base side (7 for Size 28, 4 otherwise), or DExtra halvings
// below it (7 -> 3 -> 1, 4 -> 2 -> 1). Without batch norm
// (NoBatchNorm or SpectralNorm) every convolution has a bias; with it, the
// convolutions it follows have none. The last linear map over the flattened
// b x b maps is the paper's final 4x4 convolution to one output.
//
// State names: blocks.<i>.conv.weight (weight_orig, weight_u, weight_v under
// spectral norm), blocks.<i>.conv.bias, blocks.<i>.bn.*, dense.*,
// dense_bn.* (with Dense only), minibatch.T (with MinibatchKernels only),
// head.weight, head.bias.
type DCGANDiscriminator struct {
	Blocks    []*ConvBlock
	Dense     *ConvBlock                  // nil without DCGANConfig.Dense: Conv is an *nn.Linear
	Minibatch *nn.MinibatchDiscrimination // nil without DCGANConfig.MinibatchKernels
	Head      *nn.Linear

	inChannels, size, features int
}

// NewDCGANDiscriminator builds the discriminator c describes, drawing
// weights (and spectral norm's vectors) from rng. It returns an error naming
// the field if c is invalid (see DCGANConfig.Validate).
func NewDCGANDiscriminator(c DCGANConfig, rng *tensor.RNG) (*DCGANDiscriminator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return newDCGANDiscriminator(c, c.Channels*max(c.Pack, 1), rng), nil
}

// newDCGANDiscriminator builds the discriminator of a valid c with in input
// channels (more than c.Channels when labels come in as extra channels).
func newDCGANDiscriminator(c DCGANConfig, in int, rng *tensor.RNG) *DCGANDiscriminator {
	base, n := c.levels()
	useBN := !c.NoBatchNorm && !c.SpectralNorm
	d := &DCGANDiscriminator{inChannels: in, size: c.Size}
	side := base
	for i := 0; i < n+c.DExtra; i++ {
		out := c.Width << i // widthAt(n-1-i), doubling on below the base
		if i >= n {
			side /= 2 // k4 s2 p1 on an odd side rounds down: 7 -> 3 -> 1
		}
		conv := nn.NewConv2d(in, out, 4, stride2, rng)
		bn := i > 0 && useBN
		if bn {
			conv.Bias = nil
		}
		if c.NormalInit {
			normalInit(conv.Weight, conv.Bias, rng)
		}
		if c.SpectralNorm {
			conv = conv.WithSpectralNorm(rng)
		}
		b := &ConvBlock{Conv: conv, Act: nn.LeakyReLU{Slope: 0.2}}
		if bn {
			b.BN = newBN(out, true, c.NormalInit, rng)
		}
		d.Blocks = append(d.Blocks, b)
		in = out
	}
	d.features = in * side * side
	if c.Dense > 0 {
		d.Dense = denseBlock(d.features, c.Dense, useBN, c.SpectralNorm, nn.LeakyReLU{Slope: 0.2}, c, rng)
		d.features = c.Dense
	}
	headIn := d.features
	if c.MinibatchKernels > 0 {
		d.Minibatch = nn.NewMinibatchDiscrimination(d.features, c.MinibatchKernels, cmp.Or(c.MinibatchDim, 5), rng)
		headIn += c.MinibatchKernels
	}
	d.Head = nn.NewLinear(headIn, 1, rng)
	if c.NormalInit {
		normalInit(d.Head.Weight, d.Head.Bias, rng)
	}
	if c.SpectralNorm {
		d.Head = d.Head.WithSpectralNorm(rng)
	}
	return d
}

// FeatureDim is the size of the features Features returns.
func (d *DCGANDiscriminator) FeatureDim() int { return d.features }

// Features returns the penultimate features phi(x) [N, FeatureDim] (the
// last block's maps, flattened), for feature matching and projection
// discriminators, and the logits [N, 1] computed from them. It panics if x
// is not [N, Channels, Size, Size].
func (d *DCGANDiscriminator) Features(x *autograd.Value) (features, logits *autograd.Value) {
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != d.inChannels || xs[2] != d.size || xs[3] != d.size {
		panic(fmt.Sprintf("models.DCGANDiscriminator: input shape %v, want [N %d %d %d]", xs, d.inChannels, d.size, d.size))
	}
	h := x
	for _, b := range d.Blocks {
		h = b.Forward(h)
	}
	features = autograd.Flatten(h)
	if d.Dense != nil {
		features = d.Dense.Forward(features)
	}
	if d.Minibatch != nil {
		return features, d.Head.Forward(d.Minibatch.Forward(features))
	}
	return features, d.Head.Forward(features)
}

// Forward returns the logits [N, 1] of images x [N, Channels, Size, Size].
func (d *DCGANDiscriminator) Forward(x *autograd.Value) *autograd.Value {
	_, l := d.Features(x)
	return l
}

func (d *DCGANDiscriminator) children() nn.Children {
	c := blockChildren(d.Blocks)
	if d.Dense != nil {
		c = append(c, nn.Child{Name: "dense", Module: d.Dense.Conv}, nn.Child{Name: "dense_bn", Module: d.Dense.BN})
	}
	if d.Minibatch != nil {
		c = append(c, nn.Child{Name: "minibatch", Module: d.Minibatch})
	}
	return append(c, nn.Child{Name: "head", Module: d.Head})
}

// Params lists the parameters in forward order.
func (d *DCGANDiscriminator) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists the batch norms' running statistics and spectral norm's
// vectors.
func (d *DCGANDiscriminator) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining switches batch norm and spectral norm's power iteration.
func (d *DCGANDiscriminator) SetTraining(on bool) { d.children().SetTraining(on) }
