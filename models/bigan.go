package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// BiGANConfig describes the fully connected networks of BiGAN's
// permutation-invariant MNIST model (Donahue et al. 2017, "Adversarial
// Feature Learning", arXiv:1605.09782, section 4.1), as the authors' code
// builds them (github.com/jeffdonahue/bigan, net.py: deconvnet_mnist_mlp for
// G, convnet arch mnist_mlp for E and D, run by train_mnist.sh with
// --nogain --nobias): every linear layer without bias, every batch norm
// without scale or shift, weights N(0, 0.02).
type BiGANConfig struct {
	// Channels and Size are the images' shape [Channels, Size, Size].
	Channels, Size int
	// ZDim is the latent dimension (50 in the authors' MNIST run).
	ZDim int
	// Hidden is the width of every hidden layer (1024, the code's
	// size*16 with size 64).
	Hidden int
	// Stochastic makes E output a mean and a scale per latent dimension
	// (ALI's Gaussian encoder), 2*ZDim outputs, instead of ZDim.
	Stochastic bool
	// CodeAfterNorm makes D add its code path after the second layer's
	// batch norm instead of before it (the authors'), so the norm cannot
	// rescale the codes: a code distribution of the wrong scale stays
	// visible to D.
	CodeAfterNorm bool
}

// pixels is the flattened image width.
func (c BiGANConfig) pixels() int { return c.Channels * c.Size * c.Size }

func (c BiGANConfig) validate() error {
	switch {
	case c.Channels <= 0 || c.Size <= 0:
		return fmt.Errorf("bigan: image shape [%d %d %d]: want positive channels and side", c.Channels, c.Size, c.Size)
	case c.ZDim <= 0:
		return fmt.Errorf("bigan: latent dimension %d must be positive", c.ZDim)
	case c.Hidden <= 0:
		return fmt.Errorf("bigan: hidden width %d must be positive", c.Hidden)
	}
	return nil
}

// linear returns a Linear without bias whose weight is N(0, std) (zero for
// std 0), the authors' FC layer.
func linear(in, out int, std float64, rng *tensor.RNG) *nn.Linear {
	l := nn.NewLinear(in, out, rng)
	l.Bias = nil
	if std == 0 {
		l.Weight.Data().Fill(0)
	} else {
		nn.InitNormal(l.Weight.Data(), 0, std, rng)
	}
	return l
}

// plainBN returns batch norm over c features without scale or shift
// (affine=False), the authors' --nogain --nobias.
func plainBN(c int) *nn.BatchNorm {
	bn := nn.NewBatchNorm1d(c)
	bn.Weight, bn.Bias = nil, nil
	return bn
}

// toUnit maps images [N, C, H, W] in [-1, 1] to flat rows [N, C*H*W] in
// [0, 1], the range the authors' MNIST networks read.
func toUnit(x *autograd.Value) *autograd.Value {
	n := x.Shape()[0]
	return autograd.Reshape(autograd.AddScalar(autograd.Scale(x, 0.5), 0.5), n, -1)
}

// BiGANGenerator is BiGAN's MNIST generator G: z [N, ZDim] to images
// [N, C, S, S] in [-1, 1]:
//
//	h1 = ReLU(BN(W1 z))
//	h2 = ReLU(BN(W2 h1 + Wz z))
//	x  = 2 sigmoid(Wout h2) - 1
//
// The second layer sees z again (the code's apply_cond, added before the
// batch norm); the code's sigmoid gives [0, 1] images, mapped here to
// Kallima's [-1, 1].
//
// State names: fc1.weight, bn1.*, fc2.weight, z2.weight, bn2.*, out.weight.
type BiGANGenerator struct {
	FC1, FC2, Z2, Out *nn.Linear
	BN1, BN2          *nn.BatchNorm
	Config            BiGANConfig
}

// NewBiGANGenerator builds G, drawing weights from rng.
func NewBiGANGenerator(c BiGANConfig, rng *tensor.RNG) (*BiGANGenerator, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &BiGANGenerator{
		FC1: linear(c.ZDim, c.Hidden, 0.02, rng), BN1: plainBN(c.Hidden),
		FC2: linear(c.Hidden, c.Hidden, 0.02, rng), Z2: linear(c.ZDim, c.Hidden, 0.02, rng), BN2: plainBN(c.Hidden),
		Out: linear(c.Hidden, c.pixels(), 0.02, rng), Config: c,
	}, nil
}

// Forward maps z [N, ZDim] to images [N, C, S, S] in [-1, 1].
func (g *BiGANGenerator) Forward(z *autograd.Value) *autograd.Value {
	h := autograd.Relu(g.BN1.Forward(g.FC1.Forward(z)))
	h = autograd.Relu(g.BN2.Forward(autograd.Add(g.FC2.Forward(h), g.Z2.Forward(z))))
	x := autograd.AddScalar(autograd.Scale(autograd.Sigmoid(g.Out.Forward(h)), 2), -1)
	c := g.Config
	return autograd.Reshape(x, z.Shape()[0], c.Channels, c.Size, c.Size)
}

func (g *BiGANGenerator) children() nn.Children {
	return nn.Children{{Name: "fc1", Module: g.FC1}, {Name: "bn1", Module: g.BN1}, {Name: "fc2", Module: g.FC2},
		{Name: "z2", Module: g.Z2}, {Name: "bn2", Module: g.BN2}, {Name: "out", Module: g.Out}}
}

// Params lists the weights (see the type's state names).
func (g *BiGANGenerator) Params(prefix string) []nn.Param { return g.children().Params(prefix) }

// Buffers lists the batch norms' running statistics.
func (g *BiGANGenerator) Buffers(prefix string) []nn.Buffer { return g.children().Buffers(prefix) }

// SetTraining sets the batch norms' mode.
func (g *BiGANGenerator) SetTraining(on bool) { g.children().SetTraining(on) }

// BiGANEncoder is BiGAN's MNIST encoder E: images [N, C, S, S] in [-1, 1]
// (read as [0, 1]) to features and a linear output:
//
//	f   = LReLU(BN(W2 LReLU(W1 x)))      (features, [N, Hidden])
//	out = Wout f                         ([N, ZDim], or [N, 2 ZDim] for ALI)
//
// with leaky ReLU slope 0.2 and no batch norm on the first layer. What out
// means (the logits of a uniform code, or a Gaussian's mean and scale)
// is the family's business. The authors score 1-NN on both
// out (their NNC_e) and f (NNC_e-).
//
// State names: fc1.weight, fc2.weight, bn2.*, out.weight.
type BiGANEncoder struct {
	FC1, FC2, Out *nn.Linear
	BN2           *nn.BatchNorm
	Config        BiGANConfig
}

// NewBiGANEncoder builds E, drawing weights from rng.
func NewBiGANEncoder(c BiGANConfig, rng *tensor.RNG) (*BiGANEncoder, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	out := c.ZDim
	if c.Stochastic {
		out *= 2
	}
	return &BiGANEncoder{
		FC1: linear(c.pixels(), c.Hidden, 0.02, rng), FC2: linear(c.Hidden, c.Hidden, 0.02, rng), BN2: plainBN(c.Hidden),
		Out: linear(c.Hidden, out, 0.02, rng), Config: c,
	}, nil
}

// Features maps images [N, C, S, S] to the features f [N, Hidden].
func (e *BiGANEncoder) Features(x *autograd.Value) *autograd.Value {
	h := autograd.LeakyRelu(e.FC1.Forward(toUnit(x)), 0.2)
	return autograd.LeakyRelu(e.BN2.Forward(e.FC2.Forward(h)), 0.2)
}

// Forward maps images [N, C, S, S] to E's linear output [N, ZDim] (or
// [N, 2 ZDim]).
func (e *BiGANEncoder) Forward(x *autograd.Value) *autograd.Value {
	return e.Out.Forward(e.Features(x))
}

func (e *BiGANEncoder) children() nn.Children {
	return nn.Children{{Name: "fc1", Module: e.FC1}, {Name: "fc2", Module: e.FC2}, {Name: "bn2", Module: e.BN2}, {Name: "out", Module: e.Out}}
}

// Params lists the weights (see the type's state names).
func (e *BiGANEncoder) Params(prefix string) []nn.Param { return e.children().Params(prefix) }

// Buffers lists the batch norm's running statistics.
func (e *BiGANEncoder) Buffers(prefix string) []nn.Buffer { return e.children().Buffers(prefix) }

// SetTraining sets the batch norm's mode.
func (e *BiGANEncoder) SetTraining(on bool) { e.children().SetTraining(on) }

// BiGANDiscriminator is BiGAN's MNIST joint discriminator D(x, z): an image
// [N, C, S, S] in [-1, 1] (read as [0, 1]) and a code [N, ZDim] to a logit
// [N, 1]. The code joins x's path before the second layer's batch norm,
// as a second linear map added to it (the code's apply_cond):
//
//	h1 = LReLU(W1 x)
//	h2 = LReLU(BN(W2 h1 + Wz z))        (LReLU(BN(W2 h1) + Wz z) with CodeAfterNorm)
//	logit = Wout h2
//
// with leaky ReLU slope 0.2. Wout starts at zero, as the code's binary
// classifier does, so D starts at 1/2 on everything.
//
// State names: fc1.weight, fc2.weight, z2.weight, bn2.*, out.weight.
type BiGANDiscriminator struct {
	FC1, FC2, Z2, Out *nn.Linear
	BN2               *nn.BatchNorm
	Config            BiGANConfig
}

// NewBiGANDiscriminator builds D, drawing weights from rng.
func NewBiGANDiscriminator(c BiGANConfig, rng *tensor.RNG) (*BiGANDiscriminator, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &BiGANDiscriminator{
		FC1: linear(c.pixels(), c.Hidden, 0.02, rng), FC2: linear(c.Hidden, c.Hidden, 0.02, rng),
		Z2: linear(c.ZDim, c.Hidden, 0.02, rng), BN2: plainBN(c.Hidden), Out: linear(c.Hidden, 1, 0, rng), Config: c,
	}, nil
}

// Forward scores pairs: x [N, C, S, S] and z [N, ZDim] to logits [N, 1].
// It panics if their batch sizes differ.
func (d *BiGANDiscriminator) Forward(x, z *autograd.Value) *autograd.Value {
	if x.Shape()[0] != z.Shape()[0] {
		panic(fmt.Sprintf("models.BiGANDiscriminator: %v images with %v codes", x.Shape(), z.Shape()))
	}
	h := autograd.LeakyRelu(d.FC1.Forward(toUnit(x)), 0.2)
	if d.Config.CodeAfterNorm {
		h = autograd.LeakyRelu(autograd.Add(d.BN2.Forward(d.FC2.Forward(h)), d.Z2.Forward(z)), 0.2)
	} else {
		h = autograd.LeakyRelu(d.BN2.Forward(autograd.Add(d.FC2.Forward(h), d.Z2.Forward(z))), 0.2)
	}
	return d.Out.Forward(h)
}

func (d *BiGANDiscriminator) children() nn.Children {
	return nn.Children{{Name: "fc1", Module: d.FC1}, {Name: "fc2", Module: d.FC2}, {Name: "z2", Module: d.Z2}, {Name: "bn2", Module: d.BN2}, {Name: "out", Module: d.Out}}
}

// Params lists the weights (see the type's state names).
func (d *BiGANDiscriminator) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists the batch norm's running statistics.
func (d *BiGANDiscriminator) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining sets the batch norm's mode.
func (d *BiGANDiscriminator) SetTraining(on bool) { d.children().SetTraining(on) }
