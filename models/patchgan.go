package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Norm kinds of the image-to-image networks (PatchGANConfig.Norm,
// UNetConfig.Norm).
const (
	NormBatch    = "batch"    // nn.BatchNorm2d: batch statistics in training, running ones in evaluation
	NormInstance = "instance" // nn.InstanceNorm2d without affine parameters (pix2pix's and CycleGAN's choice)
	NormNone     = "none"
)

// PatchGANConfig describes a PatchGAN discriminator (Isola et al. 2017,
// "Image-to-Image Translation with Conditional Adversarial Networks",
// arXiv:1611.07004, section 3.2.2; used again by CycleGAN, Zhu et al. 2017,
// arXiv:1703.10593): a fully convolutional D that gives one logit per
// overlapping image patch instead of one per image.
//
// Its receptive field, the side of the patch each logit sees, is
// 9 * 2^Layers - 2 pixels: 16 for Layers 1, 34 for 2, 70 for 3 (the
// paper's 70x70 PatchGAN on 256x256 images, a patch a quarter of the side
// wide). For 28x28 and 32x32 images the default Layers 1 gives 16x16
// patches, about half the side (0.57 of 28, 0.50 of 32), and a 12x12
// (28) or 14x14 (32) map of logits; Layers 2 would see 34x34, more than
// the whole image, and make D an image classifier again.
type PatchGANConfig struct {
	// Channels is the input's channel count: for pix2pix the input and
	// output images concatenated along channels (2 for MNIST pairs).
	Channels int
	// Width is the first layer's channel count (64 in the paper); the
	// count doubles at each further layer up to 8 * Width.
	Width int
	// Layers is the number of stride-2 convolutions, at least 1 (see the
	// receptive field above). 0 means DefaultPatchLayers.
	Layers int
	// Norm is NormBatch (pix2pix), NormInstance (CycleGAN) or NormNone
	// (for a per-sample gradient penalty); "" means NormBatch.
	Norm string
	// NormalInit draws the paper's initialisation: convolution weights
	// N(0, 0.02), batch norm scales N(1, 0.02), biases 0. When false the
	// layers keep PyTorch's default initialisation.
	NormalInit bool
}

// DefaultPatchLayers is PatchGANConfig.Layers' default: 16x16 patches,
// about half a 28x28 or 32x32 image.
const DefaultPatchLayers = 1

// PatchReceptiveField is the side in pixels of the patch each logit of a
// PatchGAN with the given number of stride-2 layers sees: 9 * 2^layers - 2.
// Walking back from one output pixel, the two stride-1 4x4 convolutions
// see 4 then 7 pixels, and each stride-2 4x4 convolution maps r to
// 2r + 2.
func PatchReceptiveField(layers int) int { return 9<<layers - 2 }

func (c PatchGANConfig) layers() int {
	if c.Layers == 0 {
		return DefaultPatchLayers
	}
	return c.Layers
}

// Validate reports the first field of c no PatchGAN can have, naming it.
func (c PatchGANConfig) Validate() error {
	switch {
	case c.Channels <= 0:
		return fmt.Errorf("patchgan: Channels %d: must be positive", c.Channels)
	case c.Width <= 0:
		return fmt.Errorf("patchgan: Width %d: must be positive", c.Width)
	case c.Layers < 0:
		return fmt.Errorf("patchgan: Layers %d: want at least 1 stride-2 layer (0 for the default %d)", c.Layers, DefaultPatchLayers)
	}
	return checkNorm("patchgan", c.Norm)
}

// checkNorm reports a norm kind that is not one of the Norm constants.
func checkNorm(net, norm string) error {
	switch norm {
	case "", NormBatch, NormInstance, NormNone:
		return nil
	}
	return fmt.Errorf("%s: Norm %q: want %s, %s or %s", net, norm, NormBatch, NormInstance, NormNone)
}

// newNorm returns the 2-D norm layer of kind over c channels, or nil for
// NormNone; batch norm scales are drawn from N(1, 0.02) when normal.
func newNorm(kind string, c int, normal bool, rng *tensor.RNG) nn.Layer {
	switch kind {
	case NormInstance:
		return nn.NewInstanceNorm2d(c, false)
	case NormNone:
		return nil
	}
	return newBN(c, true, normal, rng)
}

// NormBlock is a convolution (or transposed convolution), an optional
// norm, and an optional activation. Its state is named "conv" and "norm".
type NormBlock struct {
	Conv nn.Layer // *nn.Conv2d or *nn.ConvTranspose2d
	Norm nn.Layer // *nn.BatchNorm, *nn.InstanceNorm2d or nil
	Act  nn.Layer // nil for none
}

// Forward applies Conv, Norm and Act, skipping those that are nil.
func (b *NormBlock) Forward(x *autograd.Value) *autograd.Value {
	x = b.Conv.Forward(x)
	if b.Norm != nil {
		x = b.Norm.Forward(x)
	}
	if b.Act != nil {
		x = b.Act.Forward(x)
	}
	return x
}

func (b *NormBlock) children() nn.Children {
	return nn.Children{{Name: "conv", Module: b.Conv}, {Name: "norm", Module: b.Norm}}
}

// Params lists the convolution's then the norm's parameters.
func (b *NormBlock) Params(prefix string) []nn.Param { return b.children().Params(prefix) }

// Buffers lists batch norm's running statistics, if any.
func (b *NormBlock) Buffers(prefix string) []nn.Buffer { return b.children().Buffers(prefix) }

// SetTraining sets the mode of the convolution and the norm.
func (b *NormBlock) SetTraining(on bool) { b.children().SetTraining(on) }

// PatchGAN maps images [N, Channels, H, W] to a map of patch logits
// [N, 1, H', W']:
//
//	x -> Conv2d(Channels -> Width, k4 s2 p1) -> LeakyReLU(0.2)
//	  -> (Conv2d k4 s2 p1, channels doubling -> norm -> LeakyReLU(0.2)) x (Layers - 1)
//	  -> Conv2d(k4 s1 p1, channels doubling) -> norm -> LeakyReLU(0.2)
//	  -> Conv2d(-> 1, k4 s1 p1)
//
// with the channel count capped at 8 * Width, as the paper's C64-C128-C256-
// C512 discriminator. Each stride-2 layer halves the side (rounding down)
// and each stride-1 layer takes one pixel off it, so H' = H/2^Layers - 2.
// Convolutions followed by a norm have no bias, which the norm's mean
// subtraction would cancel (the authors' code keeps it before instance
// norm, where it has no effect); the others have one. The logits are
// meant for a loss averaged over every patch, as the paper's D is.
//
// State names: blocks.<i>.conv.{weight,bias}, blocks.<i>.norm.* (batch
// norm only), out.{weight,bias}.
type PatchGAN struct {
	Blocks []*NormBlock
	Out    *nn.Conv2d

	in int
}

// NewPatchGAN builds the PatchGAN c describes, drawing weights from rng. It
// returns an error naming the field if c is invalid.
func NewPatchGAN(c PatchGANConfig, rng *tensor.RNG) (*PatchGAN, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Norm == "" {
		c.Norm = NormBatch
	}
	n := c.layers()
	d := &PatchGAN{in: c.Channels}
	in := c.Channels
	for i := 0; i <= n; i++ {
		out := c.Width << min(i, 3)
		geom := stride2
		if i == n {
			geom = nn.ConvOptions{Stride: 1, Padding: 1}
		}
		conv := nn.NewConv2d(in, out, 4, geom, rng)
		var norm nn.Layer
		if i > 0 {
			norm = newNorm(c.Norm, out, c.NormalInit, rng)
		}
		if norm != nil {
			conv.Bias = nil
		}
		if c.NormalInit {
			normalInit(conv.Weight, conv.Bias, rng)
		}
		d.Blocks = append(d.Blocks, &NormBlock{Conv: conv, Norm: norm, Act: nn.LeakyReLU{Slope: 0.2}})
		in = out
	}
	d.Out = nn.NewConv2d(in, 1, 4, nn.ConvOptions{Stride: 1, Padding: 1}, rng)
	if c.NormalInit {
		normalInit(d.Out.Weight, d.Out.Bias, rng)
	}
	return d, nil
}

// InChannels is the channel count the discriminator takes.
func (d *PatchGAN) InChannels() int { return d.in }

// Forward returns the patch logits [N, 1, H', W'] of x [N, Channels, H, W].
// It panics if x is not 4-D with Channels channels or is too small for the
// map to have a pixel.
func (d *PatchGAN) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != d.in {
		panic(fmt.Sprintf("models.PatchGAN: input shape %v, want [N %d H W]", xs, d.in))
	}
	if side := min(xs[2], xs[3]) >> (len(d.Blocks) - 1); side < 3 {
		panic(fmt.Sprintf("models.PatchGAN: input shape %v is too small for %d stride-2 layers", xs, len(d.Blocks)-1))
	}
	h := x
	for _, b := range d.Blocks {
		h = b.Forward(h)
	}
	return d.Out.Forward(h)
}

func (d *PatchGAN) children() nn.Children {
	c := make(nn.Children, 0, len(d.Blocks)+1)
	for i, b := range d.Blocks {
		c = append(c, nn.Child{Name: fmt.Sprintf("blocks.%d", i), Module: b})
	}
	return append(c, nn.Child{Name: "out", Module: d.Out})
}

// Params lists the parameters in forward order.
func (d *PatchGAN) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists the batch norms' running statistics.
func (d *PatchGAN) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining switches the batch norms between batch and running
// statistics.
func (d *PatchGAN) SetTraining(on bool) { d.children().SetTraining(on) }
