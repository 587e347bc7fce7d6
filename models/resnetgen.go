package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// ResNetGeneratorConfig describes CycleGAN's ResNet generator (Zhu et al.
// 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
// Adversarial Networks", arXiv:1703.10593, appendix 7.2; the architecture
// of Johnson et al. 2016, arXiv:1603.08155), scaled down for small images.
type ResNetGeneratorConfig struct {
	// Channels is the image channel count of input and output (1 or 3).
	Channels int
	// Width is the channel count of the first and last hidden layers (64
	// in the paper, "c7s1-64"); the two downsamplings double it twice, so
	// the residual blocks run at 4 Width channels.
	Width int
	// Blocks is the number of residual blocks (9 in the paper at 256x256,
	// 6 at 128x128); at least 1.
	Blocks int
	// Size is the image side the generator is built for; it must be a
	// multiple of 4, at least 8 (the innermost maps, Size/4, are padded
	// by reflection of width 1, which needs at least 2 pixels). 28 maps
	// 28 -> 14 -> 7 and back, 32 maps 32 -> 16 -> 8.
	Size int
}

// Validate reports the first field that no ResNet generator can have,
// naming it.
func (c ResNetGeneratorConfig) Validate() error {
	switch {
	case c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("resnet generator: Channels %d: want 1 or 3", c.Channels)
	case c.Width <= 0:
		return fmt.Errorf("resnet generator: Width %d: must be positive", c.Width)
	case c.Blocks <= 0:
		return fmt.Errorf("resnet generator: Blocks %d: want at least 1 residual block", c.Blocks)
	case c.Size < 8 || c.Size%4 != 0:
		return fmt.Errorf("resnet generator: Size %d: want a multiple of 4, at least 8 (two stride-2 downsamplings and a reflection pad of 1 inside)", c.Size)
	}
	return nil
}

// ResNetGenerator is CycleGAN's image-to-image generator: for x [N, C, S, S]
// in [-1, 1] (W = Width),
//
//	c7s1-W:  reflection pad 3, conv 7x7 C -> W, instance norm, ReLU
//	d2W, d4W: conv 3x3 stride 2 padding 1, instance norm, ReLU (S -> S/2 -> S/4)
//	Blocks x R4W: ResNetBlock at 4W channels, S/4 x S/4
//	u2W, uW: transposed conv 3x3 stride 2 padding 1 output padding 1,
//	         instance norm, ReLU (S/4 -> S/2 -> S)
//	c7s1-C:  reflection pad 3, conv 7x7 W -> C, tanh
//
// giving [N, C, S, S] in (-1, 1). Instance norm is without learnt scale and
// shift and every convolution has a bias (the official code's defaults for
// instance norm). The state is named as the official PyTorch
// ResnetGenerator's state_dict: the layers are "model.0" ... in order
// (padding, ReLU and tanh count as layers without state), a block's
// convolutions "model.K.conv_block.1" and "model.K.conv_block.5".
//
// Weights are initialised as the official code's init_type "normal":
// convolution weights N(0, 0.02), biases 0.
type ResNetGenerator struct {
	Model *nn.Sequential
	cfg   ResNetGeneratorConfig
}

// ResNetBlock is the residual block of CycleGAN's generator at c channels:
// x + IN(conv(pad(ReLU(IN(conv(pad(x))))))) with reflection padding 1, 3x3
// convolutions with bias and instance norm without affine parameters (no
// ReLU after the sum, as in Johnson et al.'s blocks). Its state is
// "conv_block.1.*" and "conv_block.5.*".
type ResNetBlock struct {
	ConvBlock *nn.Sequential
}

// reflectPad returns a stateless layer padding the last two dimensions by
// reflection of p on every side.
func reflectPad(p int) nn.Layer { return nn.ReflectionPad2d{Pad: p} }

// cycleConv returns a convolution initialised N(0, 0.02) with zero bias.
func cycleConv(in, out, kernel int, o nn.ConvOptions, rng *tensor.RNG) *nn.Conv2d {
	c := nn.NewConv2d(in, out, kernel, o, rng)
	nn.InitNormal(c.Weight.Data(), 0, 0.02, rng)
	c.Bias.Data().Fill(0)
	return c
}

// NewResNetBlock returns a residual block at c channels, its weights drawn
// from rng.
func NewResNetBlock(c int, rng *tensor.RNG) *ResNetBlock {
	return &ResNetBlock{ConvBlock: nn.NewSequential(
		reflectPad(1), cycleConv(c, c, 3, nn.ConvOptions{}, rng), nn.NewInstanceNorm2d(c, false), nn.ReLU{},
		reflectPad(1), cycleConv(c, c, 3, nn.ConvOptions{}, rng), nn.NewInstanceNorm2d(c, false),
	)}
}

// Forward returns x + block(x) for x [N, c, H, W] (H, W >= 2). It panics
// on another channel count.
func (b *ResNetBlock) Forward(x *autograd.Value) *autograd.Value {
	return autograd.Add(x, b.ConvBlock.Forward(x))
}

func (b *ResNetBlock) children() nn.Children {
	return nn.Children{{Name: "conv_block", Module: b.ConvBlock}}
}

// Params lists the two convolutions' weights and biases.
func (b *ResNetBlock) Params(p string) []nn.Param { return b.children().Params(p) }

// Buffers lists nothing: instance norm keeps no statistics.
func (b *ResNetBlock) Buffers(p string) []nn.Buffer { return b.children().Buffers(p) }

// SetTraining does nothing that matters: the block acts alike in both modes.
func (b *ResNetBlock) SetTraining(on bool) { b.children().SetTraining(on) }

// NewResNetGenerator returns the generator of c, its weights drawn from
// rng, or an error naming a field c cannot have.
func NewResNetGenerator(c ResNetGeneratorConfig, rng *tensor.RNG) (*ResNetGenerator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	w := c.Width
	layers := []nn.Layer{reflectPad(3), cycleConv(c.Channels, w, 7, nn.ConvOptions{}, rng), nn.NewInstanceNorm2d(w, false), nn.ReLU{}}
	for _, m := range []int{1, 2} {
		layers = append(layers, cycleConv(w*m, w*m*2, 3, nn.ConvOptions{Stride: 2, Padding: 1}, rng), nn.NewInstanceNorm2d(w*m*2, false), nn.ReLU{})
	}
	for range c.Blocks {
		layers = append(layers, NewResNetBlock(4*w, rng))
	}
	for _, m := range []int{4, 2} {
		up := nn.NewConvTranspose2d(w*m, w*m/2, 3, nn.ConvOptions{Stride: 2, Padding: 1, OutputPadding: 1}, rng)
		nn.InitNormal(up.Weight.Data(), 0, 0.02, rng)
		up.Bias.Data().Fill(0)
		layers = append(layers, up, nn.NewInstanceNorm2d(w*m/2, false), nn.ReLU{})
	}
	layers = append(layers, reflectPad(3), cycleConv(w, c.Channels, 7, nn.ConvOptions{}, rng), nn.Tanh{})
	return &ResNetGenerator{Model: nn.NewSequential(layers...), cfg: c}, nil
}

// Config returns the generator's configuration.
func (g *ResNetGenerator) Config() ResNetGeneratorConfig { return g.cfg }

// Forward maps x [N, Channels, Size, Size] to an image of the same shape.
// It panics on another shape.
func (g *ResNetGenerator) Forward(x *autograd.Value) *autograd.Value {
	if xs := x.Shape(); len(xs) != 4 || xs[1] != g.cfg.Channels || xs[2] != g.cfg.Size || xs[3] != g.cfg.Size {
		panic(fmt.Sprintf("models.ResNetGenerator: input shape %v, want [N, %d, %d, %d]", xs, g.cfg.Channels, g.cfg.Size, g.cfg.Size))
	}
	return g.Model.Forward(x)
}

func (g *ResNetGenerator) children() nn.Children {
	return nn.Children{{Name: "model", Module: g.Model}}
}

// Params lists the parameters under "model.K.*", PyTorch's names.
func (g *ResNetGenerator) Params(p string) []nn.Param { return g.children().Params(p) }

// Buffers lists nothing: instance norm keeps no statistics.
func (g *ResNetGenerator) Buffers(p string) []nn.Buffer { return g.children().Buffers(p) }

// SetTraining sets the layers' mode (the network acts alike in both).
func (g *ResNetGenerator) SetTraining(on bool) { g.children().SetTraining(on) }
