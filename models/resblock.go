package models

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// The residual blocks of the SN-GAN ResNets (Miyato et al. 2018, "Spectral
// Normalization for Generative Adversarial Networks", arXiv:1802.05957,
// appendix B.4, figure 8; the layout of the authors' Chainer code): every
// convolution is 3x3 with padding 1 on the residual path and 1x1 on the
// shortcut. The shortcut is a learnt 1x1 convolution when the block changes
// the channel count or the resolution (as in the authors' code), and the
// identity otherwise. Weights are initialised Xavier-uniform, with gain
// sqrt 2 on the residual path and 1 on the shortcut, and biases 0, as in
// the authors' code.

// classNorm is a generator block's batch norm: plain (labels ignored) or
// class-conditional.
type classNorm interface {
	nn.Module
	Forward(x *autograd.Value, labels []int) *autograd.Value
}

// plainNorm is BatchNorm2d behind the classNorm interface.
type plainNorm struct{ *nn.BatchNorm }

func (p plainNorm) Forward(x *autograd.Value, _ []int) *autograd.Value { return p.BatchNorm.Forward(x) }

// Plain returns the batch norm itself, for exporters that walk a block
// (a conditional norm is an *nn.CondBatchNorm2d).
func (p plainNorm) Plain() *nn.BatchNorm { return p.BatchNorm }

// newClassNorm returns BatchNorm2d for c channels, or conditional batch
// norm when classes > 0.
func newClassNorm(c, classes int) classNorm {
	if classes > 0 {
		return nn.NewCondBatchNorm2d(c, classes)
	}
	return plainNorm{nn.NewBatchNorm2d(c)}
}

// resConv returns a convolution of the residual path (3x3, padding 1) or
// of the shortcut (1x1), initialised as the authors' code does.
func resConv(in, out, kernel int, rng *tensor.RNG) *nn.Conv2d {
	c := nn.NewConv2d(in, out, kernel, nn.ConvOptions{Padding: kernel / 2}, rng)
	gain := math.Sqrt2
	if kernel == 1 {
		gain = 1
	}
	nn.XavierUniform(c.Weight.Data(), gain, rng)
	c.Bias.Data().Fill(0)
	return c
}

// reluOr returns act, or ReLU when act is nil.
func reluOr(act func(*autograd.Value) *autograd.Value) func(*autograd.Value) *autograd.Value {
	if act == nil {
		return autograd.Relu
	}
	return act
}

// pool2 is 2x2 average pooling with stride 2.
var pool2 = tensor.PoolParams{Kernel: [2]int{2, 2}}

// GBlock is the SN-GAN generator's residual block: for x [N, In, H, W],
//
//	h   = Conv2(ReLU(B2(Conv1(Up(ReLU(B1(x)))))))
//	out = h + Shortcut(Up(x))
//
// with Up nearest-neighbour upsampling by 2 (when Upsample), B1 and B2
// batch norm or, with classes, class-conditional batch norm, and output
// [N, Out, 2H, 2W] (or [N, Out, H, W]).
//
// State names: b1.*, c1.*, b2.*, c2.*, c_sc.* (the shortcut, when learnt).
type GBlock struct {
	B1, B2      classNorm
	C1, C2      *nn.Conv2d // In -> Out, Out -> Out, 3x3
	Shortcut    *nn.Conv2d // In -> Out, 1x1; nil for the identity
	Upsample    bool
	in, out     int
	conditional bool
	act         func(*autograd.Value) *autograd.Value // nil: ReLU; tests swap in a smooth one
}

// NewGBlock returns a generator block from in to out channels that
// upsamples when up is set, with conditional batch norm over the given
// number of classes (0 for plain batch norm), drawing weights from rng.
func NewGBlock(in, out int, up bool, classes int, rng *tensor.RNG) *GBlock {
	b := &GBlock{B1: newClassNorm(in, classes), C1: resConv(in, out, 3, rng), B2: newClassNorm(out, classes),
		C2: resConv(out, out, 3, rng), Upsample: up, in: in, out: out, conditional: classes > 0}
	if in != out || up {
		b.Shortcut = resConv(in, out, 1, rng)
	}
	return b
}

// Forward maps x [N, In, H, W] with one label per sample (nil without
// classes) to the block's output. It panics if x is not 4-D with In
// channels or, with classes, on labels of the wrong count or range.
func (b *GBlock) Forward(x *autograd.Value, labels []int) *autograd.Value {
	if xs := x.Shape(); len(xs) != 4 || xs[1] != b.in {
		panic(fmt.Sprintf("models.GBlock: input shape %v for %d channels", xs, b.in))
	}
	up := func(v *autograd.Value) *autograd.Value {
		if b.Upsample {
			return autograd.UpsampleNearest(v, 2)
		}
		return v
	}
	relu := reluOr(b.act)
	h := relu(b.B1.Forward(x, labels))
	h = b.C1.Forward(up(h))
	h = b.C2.Forward(relu(b.B2.Forward(h, labels)))
	sc := up(x)
	if b.Shortcut != nil {
		sc = b.Shortcut.Forward(sc)
	}
	return autograd.Add(h, sc)
}

func (b *GBlock) children() nn.Children {
	return nn.Children{{Name: "b1", Module: b.B1}, {Name: "c1", Module: b.C1}, {Name: "b2", Module: b.B2},
		{Name: "c2", Module: b.C2}, {Name: "c_sc", Module: b.Shortcut}}
}

// Params lists b1, c1, b2, c2 and c_sc's parameters.
func (b *GBlock) Params(prefix string) []nn.Param { return b.children().Params(prefix) }

// Buffers lists the batch norms' running statistics.
func (b *GBlock) Buffers(prefix string) []nn.Buffer { return b.children().Buffers(prefix) }

// SetTraining sets the batch norms' mode.
func (b *GBlock) SetTraining(on bool) { b.children().SetTraining(on) }

// DBlock is the SN-GAN discriminator's residual block: for x [N, In, H, W],
//
//	h   = Pool(Conv2(ReLU(Conv1(ReLU(x)))))
//	out = h + Pool(Shortcut(x))
//
// with Pool 2x2 average pooling (when Downsample: output [N, Out, H/2,
// W/2], floored) and Conv1 In -> In (the hidden width is the input's, as in
// the authors' code), Conv2 In -> Out. Every convolution is spectrally
// normalised.
//
// State names: c1.*, c2.*, c_sc.* (weight_orig, bias, weight_u, weight_v).
type DBlock struct {
	C1, C2     *nn.Conv2d
	Shortcut   *nn.Conv2d // nil for the identity
	Downsample bool
	// Optimized makes the block the discriminator's first ("optimized")
	// block: no ReLU before C1, C1 In -> Out, and the shortcut pools
	// before its convolution:
	//
	//	out = Pool(Conv2(ReLU(Conv1(x)))) + Shortcut(Pool(x))
	Optimized bool
	in        int
	act       func(*autograd.Value) *autograd.Value // nil: ReLU; tests swap in a smooth one
}

// NewDBlock returns a discriminator block from in to out channels that
// downsamples when down is set, with spectral norm on every convolution,
// drawing weights and spectral norm's vectors from rng.
func NewDBlock(in, out int, down bool, rng *tensor.RNG) *DBlock {
	b := &DBlock{C1: resConv(in, in, 3, rng).WithSpectralNorm(rng), C2: resConv(in, out, 3, rng).WithSpectralNorm(rng),
		Downsample: down, in: in}
	if in != out || down {
		b.Shortcut = resConv(in, out, 1, rng).WithSpectralNorm(rng)
	}
	return b
}

// NewDOptBlock returns the discriminator's optimized first block from in
// (the image channels) to out channels, which always downsamples, with
// spectral norm on every convolution.
func NewDOptBlock(in, out int, rng *tensor.RNG) *DBlock {
	return &DBlock{C1: resConv(in, out, 3, rng).WithSpectralNorm(rng), C2: resConv(out, out, 3, rng).WithSpectralNorm(rng),
		Shortcut: resConv(in, out, 1, rng).WithSpectralNorm(rng), Downsample: true, Optimized: true, in: in}
}

// Forward maps x [N, In, H, W] to the block's output. It panics if x is not
// 4-D with In channels.
func (b *DBlock) Forward(x *autograd.Value) *autograd.Value {
	if xs := x.Shape(); len(xs) != 4 || xs[1] != b.in {
		panic(fmt.Sprintf("models.DBlock: input shape %v for %d channels", xs, b.in))
	}
	down := func(v *autograd.Value) *autograd.Value {
		if b.Downsample {
			return autograd.AvgPool2d(v, pool2)
		}
		return v
	}
	relu := reluOr(b.act)
	h := x
	if !b.Optimized {
		h = relu(h)
	}
	h = down(b.C2.Forward(relu(b.C1.Forward(h))))
	sc := x
	switch {
	case b.Optimized:
		sc = b.Shortcut.Forward(down(x))
	case b.Shortcut != nil:
		sc = down(b.Shortcut.Forward(x))
	}
	return autograd.Add(h, sc)
}

func (b *DBlock) children() nn.Children {
	return nn.Children{{Name: "c1", Module: b.C1}, {Name: "c2", Module: b.C2}, {Name: "c_sc", Module: b.Shortcut}}
}

// Params lists c1, c2 and c_sc's parameters.
func (b *DBlock) Params(prefix string) []nn.Param { return b.children().Params(prefix) }

// Buffers lists spectral norm's vectors.
func (b *DBlock) Buffers(prefix string) []nn.Buffer { return b.children().Buffers(prefix) }

// SetTraining sets spectral norm's mode.
func (b *DBlock) SetTraining(on bool) { b.children().SetTraining(on) }
