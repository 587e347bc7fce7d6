package models

import (
	"fmt"
	"slices"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// AutoencoderConfig describes the encoder and decoder of an autoencoder or
// a VAE (Kingma & Welling 2014, "Auto-Encoding Variational Bayes",
// arXiv:1312.6114) on images [N, Channels, Size, Size].
//
// Net "mlp" is the one-stochastic-layer model of Burda et al. 2016
// ("Importance Weighted Autoencoders", arXiv:1509.00519, section 5) with
// its default Hidden of 200, 200: the encoder flattens the image and maps
// it through tanh layers of the Hidden widths, the decoder maps the code
// through tanh layers of the reversed widths to one output per pixel.
//
// Net "conv" is a small DCGAN-like pair without batch norm: the encoder
// has two 4x4 stride-2 convolutions (Width, then 2 Width channels, LeakyReLU
// 0.2) and a linear map; the decoder a linear map to 2 Width maps of side
// Size/4, ReLU, and two 4x4 stride-2 transposed convolutions (Width
// channels, ReLU, then Channels). Size must be divisible by 4.
//
// The decoder's outputs are pre-activations, one per pixel, [N, Channels *
// Size * Size]: a Bernoulli decoder's logits, or a Gaussian decoder's mean
// before the sigmoid. With Stochastic the encoder's output is [N, 2 ZDim],
// the mean then the log-variance of q(z|x); without (an autoencoder) it is
// the code itself, [N, ZDim].
type AutoencoderConfig struct {
	Net            string // "mlp" or "conv"
	Channels, Size int
	ZDim           int
	Hidden         []int // mlp: hidden widths of the encoder (the decoder's are reversed)
	Width          int   // conv: channels after the first convolution
	Stochastic     bool  // the encoder outputs a mean and a log-variance
}

// Autoencoder is an encoder and a decoder (and, for a Gaussian decoder
// with a learnt variance, its log standard deviation), listed as "enc",
// "dec" and "log_sigma".
type Autoencoder struct {
	Config  AutoencoderConfig
	Encoder nn.Layer // x [N, C, H, W] -> [N, ZDim] or [N, 2 ZDim]
	Decoder nn.Layer // z [N, ZDim] -> [N, C*H*W] pre-activations
	// LogSigma is a learnt log standard deviation shared by every pixel,
	// [1], or nil.
	LogSigma *autograd.Value
}

// NewAutoencoder builds the encoder and decoder of c with PyTorch's default
// initialisation, drawing the encoder's weights first.
func NewAutoencoder(c AutoencoderConfig, rng *tensor.RNG) (*Autoencoder, error) {
	if c.Channels <= 0 || c.Size <= 0 || c.ZDim <= 0 {
		return nil, fmt.Errorf("autoencoder: channels %d, size %d and z_dim %d must be positive", c.Channels, c.Size, c.ZDim)
	}
	codeOut := c.ZDim
	if c.Stochastic {
		codeOut = 2 * c.ZDim
	}
	px := c.Channels * c.Size * c.Size
	a := &Autoencoder{Config: c}
	switch c.Net {
	case "mlp":
		if len(c.Hidden) == 0 {
			return nil, fmt.Errorf("autoencoder: the mlp net needs at least one hidden width")
		}
		enc, err := NewMLP(MLPConfig{In: px, Out: codeOut, Hidden: c.Hidden, Act: "tanh"}, rng)
		if err != nil {
			return nil, fmt.Errorf("encoder: %w", err)
		}
		rev := slices.Clone(c.Hidden)
		slices.Reverse(rev)
		dec, err := NewMLP(MLPConfig{In: c.ZDim, Out: px, Hidden: rev, Act: "tanh"}, rng)
		if err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
		a.Encoder, a.Decoder = nn.NewSequential(nn.Flatten{}, enc), dec
	case "conv":
		if c.Width <= 0 {
			return nil, fmt.Errorf("autoencoder: conv width %d must be positive", c.Width)
		}
		if c.Size%4 != 0 {
			return nil, fmt.Errorf("autoencoder: the conv net halves the image twice, and size %d is not divisible by 4", c.Size)
		}
		w, s := c.Width, c.Size/4
		o := nn.ConvOptions{Stride: 2, Padding: 1}
		a.Encoder = nn.NewSequential(
			nn.NewConv2d(c.Channels, w, 4, o, rng), nn.LeakyReLU{Slope: 0.2},
			nn.NewConv2d(w, 2*w, 4, o, rng), nn.LeakyReLU{Slope: 0.2},
			nn.Flatten{}, nn.NewLinear(2*w*s*s, codeOut, rng))
		a.Decoder = nn.NewSequential(
			nn.NewLinear(c.ZDim, 2*w*s*s, rng), nn.ReLU{}, nn.Reshape{Shape: []int{2 * w, s, s}},
			nn.NewConvTranspose2d(2*w, w, 4, o, rng), nn.ReLU{},
			nn.NewConvTranspose2d(w, c.Channels, 4, o, rng), nn.Flatten{})
	default:
		return nil, fmt.Errorf("autoencoder: net %q (want mlp or conv)", c.Net)
	}
	return a, nil
}

// WithLogSigma adds a learnt log standard deviation shared by every pixel,
// starting at v, and returns a.
func (a *Autoencoder) WithLogSigma(v float32) *Autoencoder {
	a.LogSigma = autograd.Param(tensor.Full(v, 1))
	return a
}

// Encode maps images x [N, C, H, W] to the encoder's output: the code
// [N, ZDim], or q(z|x)'s mean and log-variance side by side [N, 2 ZDim].
// It panics if x is not [N, Channels, Size, Size].
func (a *Autoencoder) Encode(x *autograd.Value) *autograd.Value {
	c := a.Config
	if xs := x.Shape(); len(xs) != 4 || xs[1] != c.Channels || xs[2] != c.Size || xs[3] != c.Size {
		panic(fmt.Sprintf("models.Autoencoder: input shape %v, want [N %d %d %d]", xs, c.Channels, c.Size, c.Size))
	}
	return a.Encoder.Forward(x)
}

// Decode maps codes z [N, ZDim] to per-pixel pre-activations
// [N, C*H*W].
func (a *Autoencoder) Decode(z *autograd.Value) *autograd.Value { return a.Decoder.Forward(z) }

func (a *Autoencoder) children() nn.Children {
	return nn.Children{{Name: "enc", Module: a.Encoder}, {Name: "dec", Module: a.Decoder}}
}

// Params lists the encoder's parameters ("enc."), the decoder's ("dec.")
// and log_sigma when it is learnt.
func (a *Autoencoder) Params(prefix string) []nn.Param {
	ps := a.children().Params(prefix)
	if a.LogSigma != nil {
		ps = append(ps, nn.Param{Name: nn.Join(prefix, "log_sigma"), Value: a.LogSigma})
	}
	return ps
}

// Buffers lists the networks' buffers (none for the nets built here).
func (a *Autoencoder) Buffers(prefix string) []nn.Buffer { return a.children().Buffers(prefix) }

// SetTraining switches both networks' mode.
func (a *Autoencoder) SetTraining(on bool) { a.children().SetTraining(on) }

// SetOutputBias sets the bias of the decoder's last layer to b: one value
// per pixel (C*H*W) for the mlp net, one per channel for the conv net.
// Starting it at the logit of the training set's mean intensity makes the
// untrained decoder output the mean image.
func (a *Autoencoder) SetOutputBias(b []float32) error {
	seq, ok := a.Decoder.(*nn.Sequential)
	if !ok {
		return fmt.Errorf("autoencoder: the decoder is a %T, not a Sequential", a.Decoder)
	}
	for i := len(seq.Layers) - 1; i >= 0; i-- {
		var bias *autograd.Value
		switch l := seq.Layers[i].(type) {
		case *nn.Linear:
			bias = l.Bias
		case *nn.ConvTranspose2d:
			bias = l.Bias
		default:
			continue
		}
		if bias == nil {
			return fmt.Errorf("autoencoder: the decoder's output layer has no bias")
		}
		if bias.Data().Len() != len(b) {
			return fmt.Errorf("autoencoder: output bias of %d values, want %d", len(b), bias.Data().Len())
		}
		copy(bias.Data().Data(), b)
		return nil
	}
	return fmt.Errorf("autoencoder: the decoder has no output layer with a bias")
}
