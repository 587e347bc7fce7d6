package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// SelfAttention is SAGAN's self-attention block (Zhang et al. 2018,
// "Self-Attention Generative Adversarial Networks", arXiv:1805.08318). For
// x [N, C, H, W] with positions i, j over the H*W grid, 1x1 convolutions
// give f(x), g(x) with C/8 channels (at least 1) and h(x) with C, and
//
//	s_ij = f(x_i) . g(x_j),   beta_ji = softmax_i(s_ij),
//	o_j  = sum_i beta_ji h(x_i),   y = Gamma * o + x,
//
// so each output position attends over all positions. Gamma starts at 0:
// the block begins as the identity and learns how much attention to mix in.
type SelfAttention struct {
	F, G, H *Conv2d         // 1x1 convolutions with bias: C -> C/8, C -> C/8, C -> C
	Gamma   *autograd.Value // [1], init 0
}

// NewSelfAttention returns a SelfAttention block for c channels, its
// convolutions initialised as PyTorch's defaults from rng.
func NewSelfAttention(c int, rng *tensor.RNG) *SelfAttention {
	k := max(c/8, 1)
	return &SelfAttention{
		F:     NewConv2d(c, k, 1, ConvOptions{}, rng),
		G:     NewConv2d(c, k, 1, ConvOptions{}, rng),
		H:     NewConv2d(c, c, 1, ConvOptions{}, rng),
		Gamma: autograd.Param(tensor.New(1)),
	}
}

// WithSpectralNorm wraps the three convolutions' weights in spectral
// normalisation, as SAGAN does, and returns a.
func (a *SelfAttention) WithSpectralNorm(rng *tensor.RNG) *SelfAttention {
	a.F.WithSpectralNorm(rng)
	a.G.WithSpectralNorm(rng)
	a.H.WithSpectralNorm(rng)
	return a
}

// Forward returns Gamma * o + x for x [N, C, H, W]. It panics if x is not
// 4-D with C channels.
func (a *SelfAttention) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != a.H.Weight.Shape()[0] {
		panic(fmt.Sprintf("nn.SelfAttention: input shape %v for %d channels", xs, a.H.Weight.Shape()[0]))
	}
	n, c, p := xs[0], xs[1], xs[2]*xs[3]
	k := a.F.Weight.Shape()[0]
	f := autograd.Reshape(a.F.Forward(x), n, k, p)
	g := autograd.Reshape(a.G.Forward(x), n, k, p)
	h := autograd.Reshape(a.H.Forward(x), n, c, p)
	s := autograd.BatchMatMul(g, f, true, false) // [N, j, i] = g_j . f_i
	beta := autograd.Softmax(s, 2)               // over i
	o := autograd.BatchMatMul(h, beta, false, true)
	return autograd.Add(autograd.Mul(a.Gamma, autograd.Reshape(o, xs...)), x)
}

func (a *SelfAttention) children() Children {
	return Children{{Name: "f", Module: a.F}, {Name: "g", Module: a.G}, {Name: "h", Module: a.H}}
}

// Params lists f.*, g.*, h.* and gamma.
func (a *SelfAttention) Params(prefix string) []Param {
	return append(a.children().Params(prefix), Param{Name: Join(prefix, "gamma"), Value: a.Gamma})
}

// Buffers lists the convolutions' spectral norm vectors, if any.
func (a *SelfAttention) Buffers(prefix string) []Buffer { return a.children().Buffers(prefix) }

// SetTraining sets the convolutions' mode.
func (a *SelfAttention) SetTraining(on bool) { a.children().SetTraining(on) }
