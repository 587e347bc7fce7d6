package family

import (
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Likelihood is a Generator with an explicit density that can be estimated
// on images: a VAE (model.kind vae), whose log-likelihood is estimated by
// importance sampling, or an AVB (model.kind avb), with a Gaussian proposal
// fitted to its implicit encoder's samples. kallima eval -nll type-asserts it.
type Likelihood interface {
	Generator
	// Observe maps images [N, C, H, W] in [-1, 1] to the observations the
	// density is defined on, drawing any randomness from rng (a Bernoulli
	// decoder's binarised pixels), without changing x.
	Observe(x *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor
	// LogLikelihood estimates log p(x) in nats for each observation of
	// x [N, C, H, W] (from Observe) with k importance samples per
	// observation drawn from rng, without recording gradients.
	LogLikelihood(x *tensor.Tensor, k int, rng *tensor.RNG) ([]float64, error)
}

// Reconstructor is a model with an encoder: it maps images to codes and
// back (an autoencoder or a VAE).
type Reconstructor interface {
	// Reconstruct encodes images x [N, C, H, W] in [-1, 1] and decodes
	// their codes (a stochastic encoder's mean) to the decoder's mean, in
	// [-1, 1], without recording gradients.
	Reconstruct(x *tensor.Tensor) (*tensor.Tensor, error)
}

// Encoder is a model that maps images to latent codes: an autoencoder's or
// a VAE's encoder (its posterior mean), an AAE's, a BiGAN's E. kallima
// encode and the encoder scores type-assert it.
type Encoder interface {
	// Encode maps images x [N, C, H, W] in [-1, 1] to codes [N, D]
	// (a stochastic encoder's mean) without recording gradients, and
	// returns an error naming the shape expected for images of
	// another shape.
	Encode(x *tensor.Tensor) (*tensor.Tensor, error)
}

// EncoderNet is an Encoder whose encoder is one network that an exporter
// (package onnx) can write out: images become the network's input as
// Input says, and its output becomes Encode's code as Code says.
type EncoderNet interface {
	Encoder
	// EncoderGraph describes the encoder with the weights it holds now,
	// or returns an error saying why it cannot be written as one network
	// (an encoder that draws noise).
	EncoderGraph() (EncoderGraph, error)
}

// EncoderGraph describes an encoder network for export.
type EncoderGraph struct {
	Net     nn.Layer     // the network
	Prefix  string       // its state names' prefix in the model ("enc", "e")
	Input   EncoderInput // how images [N, C, H, W] in [-1, 1] become Net's input
	Code    EncoderCode  // how Net's output becomes the code
	Dim     int          // the code's dimension (a categorical code's style's)
	Classes int          // CodeCategorical: the number of categories
}

// EncoderInput is how an encoder's images become its network's input.
type EncoderInput string

// The inputs of EncoderGraph.
const (
	// InputImages: the images as they are, [N, C, H, W] in [-1, 1].
	InputImages EncoderInput = "images"
	// InputUnit: (x + 1) / 2 clamped to [0, 1], [N, C, H, W].
	InputUnit EncoderInput = "unit"
	// InputUnitFlat: InputUnit flattened to rows [N, C*H*W].
	InputUnitFlat EncoderInput = "unit-flat"
)

// EncoderCode is how an encoder network's output becomes the code.
type EncoderCode string

// The codes of EncoderGraph.
const (
	// CodeRaw: the output itself, [N, Dim].
	CodeRaw EncoderCode = "raw"
	// CodeMean: the first Dim columns of [mean, log-variance] (or of
	// [mean, scale]).
	CodeMean EncoderCode = "mean"
	// CodeUniform: 2 sigmoid(out) - 1, in (-1, 1).
	CodeUniform EncoderCode = "uniform"
	// CodeCategorical: softmax of the first Classes columns, then the
	// next Dim columns (the style) as they are, [N, Classes + Dim].
	CodeCategorical EncoderCode = "categorical"
)
