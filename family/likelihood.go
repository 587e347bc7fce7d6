package family

import "github.com/kallima-gan/kallima/tensor"

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
