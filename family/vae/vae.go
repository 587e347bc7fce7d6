// Package vae is the autoencoder side of Kallima: the variational
// autoencoder (model.kind vae; Kingma & Welling 2014, "Auto-Encoding
// Variational Bayes", arXiv:1312.6114) and the plain autoencoder (model.kind
// ae) with the same networks, a deterministic code and no KL term.
//
// Each is one player ("vae" or "ae") and one phase: a batch of images is
// mapped to [0, 1] and, under the default Bernoulli decoder, dynamically
// binarised (each pixel drawn as a Bernoulli of its intensity, from the
// run's "game" stream, which checkpoints keep); the encoder gives q(z|x) =
// N(mu, diag(exp(logVar))), a code is drawn by the reparameterisation trick
// z = mu + exp(logVar / 2) eps with eps ~ N(0, I), and the loss is the
// negative ELBO, logged as its two terms: "recon" (-log p(x|z), nats per
// image) and "kl" (KL(q(z|x) || N(0, I)), in closed form).
//
// Sampling decodes z ~ N(0, I) to the decoder's mean, mapped to [-1, 1]
// (family.Generator), so train, sample and previews work unchanged; the VAE
// also estimates log p(x) by importance sampling (IWAE; family.Likelihood)
// and both encode and reconstruct images (family.Encoder, family.Reconstructor).
package vae

import (
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind vae and ae.
type Section struct {
	// ZDim is the latent dimension; default 50 (Burda et al.'s one
	// stochastic layer).
	ZDim int `yaml:"z_dim"`
	// Net is the encoder/decoder pair: "mlp" (default; Burda et al. 2016,
	// arXiv:1509.00519, section 5: two deterministic layers of 200 tanh
	// units on each side) or "conv" (models.AutoencoderConfig's small
	// DCGAN-like pair, for sides divisible by 4).
	Net string `yaml:"net"`
	// Hidden is the mlp encoder's hidden widths (the decoder's are
	// reversed); default 200, 200.
	Hidden []int `yaml:"hidden"`
	// Width is the conv net's channel count after the first convolution;
	// default 32.
	Width int `yaml:"width"`
	// Likelihood is the decoder's: "bernoulli" (default; logits, on
	// dynamically binarised pixels) or "gaussian" (mean sigmoid(output), on
	// intensities in [0, 1], as Kingma & Welling's Frey Face decoder).
	Likelihood string `yaml:"likelihood"`
	// Sigma is the Gaussian decoder's standard deviation in [0, 1] pixel
	// units, fixed, or the learnt one's starting value with LearnSigma (one
	// sigma shared by every pixel); default 0.1.
	Sigma      float64 `yaml:"sigma"`
	LearnSigma bool    `yaml:"learn_sigma"`

	ae bool // model.kind ae, set by the registration
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{ZDim: 50, Net: "mlp", Hidden: []int{200, 200}, Width: 32, Likelihood: "bernoulli", Sigma: 0.1}
}

func init() {
	for _, kind := range []string{"vae", "ae"} {
		summary := "variational autoencoder (Kingma & Welling 2014), MLP or conv, Bernoulli or Gaussian decoder"
		if kind == "ae" {
			summary = "autoencoder with the VAE's networks, a deterministic code and no KL term"
		}
		family.Register(family.Family{
			Name:       kind,
			Summary:    summary,
			NewSection: func() config.ModelSection { s := Defaults(); s.ae = kind == "ae"; return &s },
			Build:      build,
		})
	}
}

// Objective implements config.Objectiver: the loss: section does not
// apply.
func (s *Section) Objective() string {
	if s.ae {
		return "reconstruction (" + s.Likelihood + ")"
	}
	return "negative ELBO (" + s.Likelihood + " decoder)"
}

// Validate checks the section against the config: image data, the net,
// the likelihood, and none of the GAN-only settings.
func (s *Section) Validate(c config.Config) error {
	kind := c.Model.Kind
	if !c.IsImage() {
		return fmt.Errorf("model.kind: %s needs image data, and data.kind is %s (use mnist, stacked-mnist, folder or synthetic)", kind, c.Data.Kind)
	}
	if s.ZDim <= 0 {
		return fmt.Errorf("model.z_dim: %d (want a positive latent dimension; 50 is Burda et al.'s)", s.ZDim)
	}
	_, side := c.ImageShape()
	switch s.Net {
	case "mlp":
		if len(s.Hidden) == 0 {
			return fmt.Errorf("model.hidden: empty (want at least one width, such as [200, 200])")
		}
		for _, h := range s.Hidden {
			if h <= 0 {
				return fmt.Errorf("model.hidden: width %d must be positive", h)
			}
		}
	case "conv":
		if s.Width <= 0 {
			return fmt.Errorf("model.width: %d (want a positive channel count such as 32)", s.Width)
		}
		if side%4 != 0 {
			return fmt.Errorf("model.net: conv halves the image twice, and the data's side %d is not divisible by 4 (use net: mlp or data.size 28, 32 or 64)", side)
		}
	default:
		return fmt.Errorf("model.net: %q (want mlp or conv)", s.Net)
	}
	switch s.Likelihood {
	case "bernoulli":
		if s.LearnSigma {
			return fmt.Errorf("model.learn_sigma: only a gaussian likelihood has a sigma (set model.likelihood: gaussian or drop learn_sigma)")
		}
	case "gaussian":
		if !(s.Sigma > 0) {
			return fmt.Errorf("model.sigma: %g (want a positive standard deviation in [0, 1] pixel units, such as 0.1)", s.Sigma)
		}
	default:
		return fmt.Errorf("model.likelihood: %q (want bernoulli or gaussian)", s.Likelihood)
	}
	switch {
	case c.Loss.Penalty != "" || c.Loss.InstanceNoise > 0 || c.Loss.LabelSmoothing > 0:
		return fmt.Errorf("loss.penalty/instance_noise/label_smoothing: model.kind %s has no discriminator; its loss is the negative ELBO (leave the loss: section out)", kind)
	case c.Train.NCritic != 1 || c.Train.ClipD > 0 || c.Train.ReuseFake || c.Train.GSteps > 1:
		return fmt.Errorf("train.n_critic/clip_d/reuse_fake/g_steps: model.kind %s has one player and no critic (leave them out)", kind)
	}
	return family.CheckNoTricks(c, kind)
}

// network is the section's encoder and decoder for d's images.
func (s *Section) network(d family.Data, stochastic bool) models.AutoencoderConfig {
	return models.AutoencoderConfig{Net: s.Net, Channels: d.Channels, Size: d.Size, ZDim: s.ZDim, Hidden: s.Hidden, Width: s.Width, Stochastic: stochastic}
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	kind := c.Model.Kind
	stochastic := kind == "vae"
	// The split order is part of what a seed means: keep it.
	initRNG, gameRNG, fixedRNG, loaderRNG := root.Split(), root.Split(), root.Split(), root.Split()
	net, err := models.NewAutoencoder(s.network(d, stochastic), initRNG)
	if err != nil {
		return nil, err
	}
	if d.Images != nil {
		if err := net.SetOutputBias(MeanLogits(d.Images.Images, s.Net == "conv")); err != nil {
			return nil, err
		}
	}
	if s.Likelihood == "gaussian" && s.LearnSigma {
		net.WithLogSigma(float32(math.Log(s.Sigma)))
	}
	p, err := family.NewPlayer(kind, net, c.Train, c.Train.LRG, true)
	if err != nil {
		return nil, err
	}
	core := &model{net: net, sec: *s, kind: kind}
	m := &family.Model{
		Players:         []*gan.Player{p},
		GeneratorPlayer: p,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
		Extras:          map[string]family.Extra{},
	}
	if stochastic {
		m.Generator = &variational{core}
	} else {
		m.Generator = core
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	loader, err := m.StartLoader(d, c.Train.Batch, loaderRNG)
	if err != nil {
		return nil, err
	}
	if loader == nil {
		return m, nil
	}
	m.Phases = []gan.Phase{{Player: p, Terms: func(int) []gan.Term {
		return core.Terms(loader.Next().Images, gameRNG)
	}}}
	return m, nil
}

// MeanLogits returns the logit of the mean intensity (x + 1) / 2 of the
// images [N, C, H, W], per pixel, or per channel when perChannel is set,
// clamped to [1e-3, 1 - 1e-3]: the decoder's starting output bias, so the
// untrained model decodes every code to the mean image.
func MeanLogits(x *tensor.Tensor, perChannel bool) []float32 {
	n, ch := x.Size(0), x.Size(1)
	px := x.Len() / n
	sum := make([]float64, px)
	for i, v := range x.Data() {
		sum[i%px] += (float64(v) + 1) / 2
	}
	count := float64(n)
	if perChannel {
		plane := px / ch
		per := make([]float64, ch)
		for j, v := range sum {
			per[j/plane] += v
		}
		sum, count = per, count*float64(plane)
	}
	out := make([]float32, len(sum))
	for j, v := range sum {
		p := min(max(v/count, 1e-3), 1-1e-3)
		out[j] = float32(math.Log(p / (1 - p)))
	}
	return out
}

// model is the autoencoder's Generator and Reconstructor; variational adds
// the likelihood.
type model struct {
	net  *models.Autoencoder
	sec  Section
	kind string
}

// variational is a VAE: a model with the IWAE likelihood.
type variational struct{ *model }

// Terms returns the negative ELBO of a batch of images x [B, C, H, W] in
// [-1, 1] as its terms, each averaged over the batch: "recon", -log p(x|z)
// with z drawn by the reparameterisation trick (the code itself for an
// autoencoder), and "kl" (a VAE's only). Randomness (binarisation, eps)
// comes from rng.
func (m *model) Terms(x *tensor.Tensor, rng *tensor.RNG) []gan.Term {
	obs := m.Observe(x, rng)
	h := m.net.Encode(ag.Const(obs))
	z, kl := h, (*ag.Value)(nil)
	if m.net.Config.Stochastic {
		dim := m.sec.ZDim
		mu, logVar := ag.Slice(h, 1, 0, dim), ag.Slice(h, 1, dim, 2*dim)
		eps := rng.Normal(0, 1, h.Shape()[0], dim)
		z = ag.Add(mu, ag.Mul(ag.Exp(ag.Scale(logVar, 0.5)), ag.Const(eps)))
		kl = ag.Mean(KL(mu, logVar), nil, false)
	}
	out := m.net.Decode(z)
	target := ag.Const(tensor.Reshape(obs, obs.Size(0), -1))
	terms := []gan.Term{{Name: "recon", Value: ag.Neg(ag.Mean(m.logLik(out, target), nil, false))}}
	if kl != nil {
		terms = append(terms, gan.Term{Name: "kl", Value: kl})
	}
	return terms
}

// logLik is log p(x|z) per row for the decoder's output out.
func (m *model) logLik(out, x *ag.Value) *ag.Value {
	if m.sec.Likelihood == "bernoulli" {
		return BernoulliLogLik(out, x)
	}
	logSigma := m.net.LogSigma
	if logSigma == nil {
		logSigma = ag.Scalar(float32(math.Log(m.sec.Sigma)))
	}
	return GaussianLogLik(ag.Sigmoid(out), logSigma, x)
}

// Observe maps images in [-1, 1] to what the likelihood is defined on:
// intensities (x + 1) / 2 in [0, 1], binarised by Bernoulli draws from
// rng under a Bernoulli decoder (one uniform per pixel, in order).
func (m *model) Observe(x *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor {
	return Observe(x, rng, m.sec.Likelihood == "bernoulli")
}

// Observe maps images x in [-1, 1] to intensities (x + 1) / 2 in [0, 1]
// and, when binary, binarises them dynamically: each pixel is 1 with its
// intensity as probability, by one uniform from rng per pixel, in order.
// x is not changed.
func Observe(x *tensor.Tensor, rng *tensor.RNG, binary bool) *tensor.Tensor {
	obs := tensor.New(x.Shape()...)
	od, xd := obs.Data(), x.Data()
	for i, v := range xd {
		od[i] = min(max((v+1)/2, 0), 1)
	}
	if binary {
		u := rng.Uniform(0, 1, x.Shape()...).Data()
		for i, p := range od {
			if u[i] < p {
				od[i] = 1
			} else {
				od[i] = 0
			}
		}
	}
	return obs
}

// Decoder returns the network mapping codes z [N, ZDim] to per-pixel
// logits [N, C*H*W] (samples are 2 sigmoid(logits) - 1 as images), and its
// state names' prefix in the player's module, for the ONNX exporter.
func (m *model) Decoder() (nn.Layer, string, error) { return m.net.Decoder, "dec", nil }

// Prior is N(0, I) of the latent dimension.
func (m *model) Prior() gan.Prior { return gan.Prior{Kind: "normal", Dim: m.sec.ZDim} }

// Generate decodes z [N, ZDim] to the decoder's mean, in [-1, 1].
func (m *model) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("%s: labels given to an unconditional generator", m.kind)
	}
	if err := family.NoCodes(req, m.kind); err != nil {
		return nil, err
	}
	if z.Dim() != 2 || z.Size(1) != m.sec.ZDim {
		return nil, fmt.Errorf("%s: noise of shape %v, want [N %d]", m.kind, z.Shape(), m.sec.ZDim)
	}
	return m.decodeMean(z), nil
}

// decodeMean maps codes to the decoder's mean as images in [-1, 1].
func (m *model) decodeMean(z *tensor.Tensor) *tensor.Tensor {
	c := m.net.Config
	var out *tensor.Tensor
	ag.NoGrad(func() {
		out = ag.AddScalar(ag.Scale(ag.Sigmoid(m.net.Decode(ag.Const(z))), 2), -1).Data()
	})
	return tensor.Reshape(out, z.Size(0), c.Channels, c.Size, c.Size)
}

// Reconstruct encodes images x [N, C, H, W] in [-1, 1] (their intensities
// in [0, 1], not binarised) to a code (a VAE's posterior mean) and decodes
// it to the decoder's mean, in [-1, 1].
func (m *model) Reconstruct(x *tensor.Tensor) (*tensor.Tensor, error) {
	z, err := m.Encode(x)
	if err != nil {
		return nil, err
	}
	return m.decodeMean(z), nil
}

// EncoderGraph implements family.EncoderNet: the encoder "enc" on the
// images' intensities in [0, 1], and for a VAE the mean half of its output.
func (m *model) EncoderGraph() (family.EncoderGraph, error) {
	code := family.CodeRaw
	if m.net.Config.Stochastic {
		code = family.CodeMean
	}
	return family.EncoderGraph{Net: m.net.Encoder, Prefix: "enc", Input: family.InputUnit, Code: code, Dim: m.sec.ZDim}, nil
}

// Encode implements family.Encoder: the code of each image (a VAE's
// posterior mean).
func (m *model) Encode(x *tensor.Tensor) (*tensor.Tensor, error) {
	c := m.net.Config
	if x.Dim() != 4 || x.Size(1) != c.Channels || x.Size(2) != c.Size || x.Size(3) != c.Size {
		return nil, fmt.Errorf("%s: images of shape %v, want [N %d %d %d]", m.kind, x.Shape(), c.Channels, c.Size, c.Size)
	}
	in := tensor.New(x.Shape()...)
	for i, v := range x.Data() {
		in.Data()[i] = min(max((v+1)/2, 0), 1)
	}
	var z *tensor.Tensor
	ag.NoGrad(func() { z = m.net.Encode(ag.Const(in)).Data() })
	if c.Stochastic {
		z = tensor.Slice(z, 1, 0, c.ZDim)
	}
	return z, nil
}

// Posterior returns q(z|x)'s means and log-variances for observations x
// [N, C, H, W] (Density).
func (v *variational) Posterior(x *tensor.Tensor) (mu, logVar *tensor.Tensor) {
	dim := v.sec.ZDim
	var h *tensor.Tensor
	ag.NoGrad(func() { h = v.net.Encode(ag.Const(x)).Data() })
	return tensor.Slice(h, 1, 0, dim), tensor.Slice(h, 1, dim, 2*dim)
}

// LogLik returns log p(x|z_j) for one flattened observation and each row
// of z (Density), in float64.
func (v *variational) LogLik(x []float32, z *tensor.Tensor) []float64 {
	var out *tensor.Tensor
	ag.NoGrad(func() { out = v.net.Decode(ag.Const(z)).Data() })
	rows, px := z.Size(0), len(x)
	logSigma := math.Log(v.sec.Sigma)
	if v.net.LogSigma != nil {
		logSigma = float64(v.net.LogSigma.Data().Data()[0])
	}
	if v.sec.Likelihood == "bernoulli" {
		return BernoulliRows(x, out)
	}
	r := make([]float64, rows)
	forRows(rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r[i] = gaussianLogLik(x, out.Data()[i*px:(i+1)*px], logSigma)
		}
	})
	return r
}

// BernoulliRows returns log p(x|l_i) in float64 for one flattened binary
// observation x [P] and each row l_i of a Bernoulli decoder's logits
// [M, P] (BernoulliLogLik of each row), the rows spread over the CPUs:
// the decoder term of an importance-sampled likelihood.
func BernoulliRows(x []float32, logits *tensor.Tensor) []float64 {
	rows, px := logits.Size(0), len(x)
	if logits.Len() != rows*px {
		panic(fmt.Sprintf("vae.BernoulliRows: logits of shape %v for %d pixels", logits.Shape(), px))
	}
	r := make([]float64, rows)
	forRows(rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r[i] = bernoulliLogLik(x, logits.Data()[i*px:(i+1)*px])
		}
	})
	return r
}

// LogLikelihood estimates log p(x) in nats for each observation of x
// [N, C, H, W] (from Observe) with k importance samples each, drawn from
// rng (IWAE; family.Likelihood).
func (v *variational) LogLikelihood(x *tensor.Tensor, k int, rng *tensor.RNG) ([]float64, error) {
	c := v.net.Config
	if x.Dim() != 4 || x.Size(1) != c.Channels || x.Size(2) != c.Size || x.Size(3) != c.Size {
		return nil, fmt.Errorf("%s: observations of shape %v, want [N %d %d %d]", v.kind, x.Shape(), c.Channels, c.Size, c.Size)
	}
	return IWAE(v, x, k, DefaultChunk, rng)
}
