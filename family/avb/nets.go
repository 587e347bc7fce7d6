package avb

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Encoder is AVB's implicit encoder z = f(x, eps): a perceptron on the
// centred image 2x - 1 (flattened, P pixels) with noise eps ~ N(0, I) of
// EpsDim dimensions injected before every layer by a learnt linear map
// added to that layer's input, the authors' "full0" encoder
// (github.com/LMescheder/AdversarialVariationalBayes, avb/avb/models/full0.py,
// its add_linear; their act is softplus):
//
//	h_0 = 2x - 1,  h_i = act(W_i (h_{i-1} + A_i eps + a_i) + b_i),
//	z = W_out (h_L + A_out eps + a_out) + b_out
//
// Its density q(z|x) has no closed form: only samples. Listed as "fc<i>"
// (the layers, the output last) and "eps<i>" (the noise maps).
type Encoder struct {
	Layers []*nn.Linear // hidden layers then the output layer
	Noise  []*nn.Linear // Noise[i] maps eps to Layers[i]'s input width
	Act    nn.Layer     // the hidden activation
	EpsDim int
}

// NewEncoder builds an encoder from px pixels to zDim with the hidden
// widths and activation act, drawing from rng, with PyTorch's default initialisation. (The
// authors start the output layer's weights at stddev 1e-5, so every code
// starts at 0 with almost no spread; with a budget of minutes, codes that
// start spread out by the injected noise train faster: adaptive contrast's
// KL(r || p) starts near 20 nats for the 32-d default instead of 130.)
func NewEncoder(px, zDim, epsDim int, hidden []int, act nn.Layer, rng *tensor.RNG) *Encoder {
	e := &Encoder{EpsDim: epsDim, Act: act}
	in := px
	for _, w := range append(append([]int{}, hidden...), zDim) {
		e.Noise = append(e.Noise, nn.NewLinear(epsDim, in, rng))
		e.Layers = append(e.Layers, nn.NewLinear(in, w, rng))
		in = w
	}
	return e
}

// smallInit sets l's weights to N(0, 1e-5^2) draws from rng and its bias
// to 0.
func smallInit(l *nn.Linear, rng *tensor.RNG) {
	copy(l.Weight.Data().Data(), rng.Normal(0, 1e-5, l.Weight.Shape()...).Data())
	clear(l.Bias.Data().Data())
}

// Forward maps centred images xc [N, P] (2x - 1) and noise eps
// [N, EpsDim] to codes [N, ZDim]. It panics if the shapes do not fit.
func (e *Encoder) Forward(xc, eps *ag.Value) *ag.Value {
	if xs, es := xc.Shape(), eps.Shape(); len(xs) != 2 || len(es) != 2 || es[0] != xs[0] || es[1] != e.EpsDim {
		panic(fmt.Sprintf("avb.Encoder: images %v and noise %v, want [N P] and [N %d]", xs, es, e.EpsDim))
	}
	h := xc
	for i, l := range e.Layers {
		h = l.Forward(ag.Add(h, e.Noise[i].Forward(eps)))
		if i < len(e.Layers)-1 {
			h = e.Act.Forward(h)
		}
	}
	return h
}

// Sample returns s codes per row of the centred images xc [N, P], [N s,
// ZDim] (rows i s .. i s + s - 1 for image i), with noise eps [N s,
// EpsDim], without gradients: Forward on each image repeated s times,
// computed with the first layer's image part once per image and its noise
// map folded into its weights,
//
//	W_1 (x + A_1 eps + a_1) + b_1 = (W_1 x + W_1 a_1 + b_1) + (W_1 A_1) eps
//
// so a sample costs EpsDim instead of P + EpsDim multiplications per unit
// of the first layer (equal to Forward up to float32 rounding).
func (e *Encoder) Sample(xc, eps *tensor.Tensor, s int) *tensor.Tensor {
	n := xc.Size(0)
	if xs, es := xc.Shape(), eps.Shape(); len(xs) != 2 || len(es) != 2 || es[0] != n*s || es[1] != e.EpsDim {
		panic(fmt.Sprintf("avb.Encoder.Sample: images %v and noise %v, want [N P] and [N*%d %d]", xs, es, s, e.EpsDim))
	}
	var z *tensor.Tensor
	ag.NoGrad(func() {
		l, a := e.Layers[0], e.Noise[0]
		img := l.Forward(ag.Add(ag.Const(xc), a.Bias)) // [N, H]
		h1 := img.Shape()[1]
		wa := ag.MatMul(l.Weight, a.Weight, false, false) // [H, EpsDim]
		noise := ag.MatMul(ag.Const(eps), wa, false, true)
		h := ag.Reshape(ag.Add(ag.Reshape(noise, n, s, h1), ag.Reshape(img, n, 1, h1)), n*s, h1)
		for i := 1; i < len(e.Layers); i++ {
			h = e.Layers[i].Forward(ag.Add(e.Act.Forward(h), e.Noise[i].Forward(ag.Const(eps))))
		}
		z = h.Data()
	})
	return z
}

func (e *Encoder) children() nn.Children {
	var c nn.Children
	for i := range e.Layers {
		c = append(c, nn.Child{Name: fmt.Sprintf("fc%d", i), Module: e.Layers[i]}, nn.Child{Name: fmt.Sprintf("eps%d", i), Module: e.Noise[i]})
	}
	return c
}

// Params lists the layers' and noise maps' parameters.
func (e *Encoder) Params(prefix string) []nn.Param { return e.children().Params(prefix) }

// Buffers lists none: the encoder has no buffers.
func (e *Encoder) Buffers(prefix string) []nn.Buffer { return e.children().Buffers(prefix) }

// SetTraining does nothing visible: the encoder behaves the same in both
// modes.
func (e *Encoder) SetTraining(on bool) { e.children().SetTraining(on) }

// Adversary is AVB's discriminator T(x, z) on pairs of a centred image
// xc [N, P] and a code z [N, D], in the form of the authors' MNIST
// adversary (avb/avb/models/conv0.py, "adversary"), narrower and with one
// trunk per input instead of two:
//
//	T(x, z) = <theta(x), s(z)> + t_x(x) + t_z(z) + |z|^2 / 2
//
// where the x trunk and the z trunk are perceptrons with LeakyReLU (0.2)
// units, theta = ELU(linear of the x trunk) and s = linear of the z trunk
// are F features each, and t_x, t_z are linear heads. The last term is
// -log N(z; 0, I) up to a constant: the optimal T is log q(z|x) - log p(z),
// so the networks only need to learn log q(z|x) (plus a constant). theta's,
// t_x's and t_z's weights start at N(0, 1e-5^2) as the authors'.
type Adversary struct {
	X, Z      *nn.Sequential
	Theta, S  *nn.Linear
	TX, TZ    *nn.Linear
	zDim, pix int
}

// NewAdversary builds T for px pixels and zDim codes with the trunks'
// hidden widths and F = features, drawing from rng.
func NewAdversary(px, zDim int, hidden []int, features int, rng *tensor.RNG) *Adversary {
	trunk := func(in int) *nn.Sequential {
		var ls []nn.Layer
		for _, w := range hidden {
			ls = append(ls, nn.NewLinear(in, w, rng), nn.LeakyReLU{Slope: 0.2})
			in = w
		}
		return nn.NewSequential(ls...)
	}
	h := hidden[len(hidden)-1]
	a := &Adversary{zDim: zDim, pix: px}
	a.X = trunk(px)
	a.Theta, a.TX = nn.NewLinear(h, features, rng), nn.NewLinear(h, 1, rng)
	a.Z = trunk(zDim)
	a.S, a.TZ = nn.NewLinear(h, features, rng), nn.NewLinear(h, 1, rng)
	for _, l := range []*nn.Linear{a.Theta, a.TX, a.TZ} {
		smallInit(l, rng)
	}
	return a
}

// XFeatures is what T computes from the images alone: theta(x) [N, F]
// and t_x(x) [N, 1], so that several codes can be scored against the same
// images at the cost of one x trunk.
type XFeatures struct{ Theta, TX *ag.Value }

// Image runs the x trunk on centred images xc [N, P].
func (a *Adversary) Image(xc *ag.Value) XFeatures {
	if s := xc.Shape(); len(s) != 2 || s[1] != a.pix {
		panic(fmt.Sprintf("avb.Adversary: images %v, want [N %d]", s, a.pix))
	}
	h := a.X.Forward(xc)
	return XFeatures{Theta: ag.ELU(a.Theta.Forward(h), 1), TX: a.TX.Forward(h)}
}

// Score returns T(x, z) [N] for the images' features f and codes z [N, D].
func (a *Adversary) Score(f XFeatures, z *ag.Value) *ag.Value {
	if s := z.Shape(); len(s) != 2 || s[1] != a.zDim || s[0] != f.Theta.Shape()[0] {
		panic(fmt.Sprintf("avb.Adversary: codes %v for %d images, want [N %d]", s, f.Theta.Shape()[0], a.zDim))
	}
	h := a.Z.Forward(z)
	inner := ag.Sum(ag.Mul(f.Theta, a.S.Forward(h)), []int{1}, false)
	heads := ag.Reshape(ag.Add(f.TX, a.TZ.Forward(h)), -1)
	return ag.Add(ag.Add(inner, heads), ag.Scale(ag.Sum(ag.Mul(z, z), []int{1}, false), 0.5))
}

// Forward returns T(x, z) [N] for centred images xc [N, P] and codes z
// [N, D].
func (a *Adversary) Forward(xc, z *ag.Value) *ag.Value { return a.Score(a.Image(xc), z) }

func (a *Adversary) children() nn.Children {
	return nn.Children{{Name: "x", Module: a.X}, {Name: "theta", Module: a.Theta}, {Name: "tx", Module: a.TX},
		{Name: "z", Module: a.Z}, {Name: "s", Module: a.S}, {Name: "tz", Module: a.TZ}}
}

// Params lists the trunks' and heads' parameters.
func (a *Adversary) Params(prefix string) []nn.Param { return a.children().Params(prefix) }

// Buffers lists none: the adversary has no buffers.
func (a *Adversary) Buffers(prefix string) []nn.Buffer { return a.children().Buffers(prefix) }

// SetTraining does nothing visible: the adversary behaves the same in both
// modes.
func (a *Adversary) SetTraining(on bool) { a.children().SetTraining(on) }
