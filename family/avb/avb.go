// Package avb is Adversarial Variational Bayes (model.kind avb; Mescheder,
// Nowozin & Geiger 2017, "Adversarial Variational Bayes: Unifying
// Variational Autoencoders and Generative Adversarial Networks",
// arXiv:1701.04722): a VAE whose encoder is implicit, z = f(x, eps) with
// noise eps injected into the network (Encoder), so q(z|x) has no density,
// and whose KL term is estimated by an adversary T(x, z) (Adversary).
//
// Two players, two phases per step, both on the same batch of images
// (dynamically binarised from the run's "game" stream, as the VAE's) and
// the same noise:
//
//  1. "adv" (T) minimises the logistic loss (AdversaryLoss) that tells
//     (x, z ~ q(z|x)) from (x, z ~ p(z) = N(0, I)); the encoder's codes are
//     constants here. Terms "q" and "p"; only T's parameters update.
//  2. "avb" (encoder and decoder) minimises -E[log p(x|z) - T(x, z)], z =
//     f(x, eps), the negative ELBO with T in place of log q(z|x) - log p(z):
//     term "recon" (-log p(x|z)) updates the decoder and, through z, the
//     encoder; term "t" (T(x, z)) updates the encoder only, through z
//     (T is frozen); with adaptive contrast, term "kl_r" updates the
//     encoder only, through z.
//
// Adaptive contrast (model.adaptive_contrast, the paper's section 4): for
// each image the mean and variance of ac_samples encoder samples give a
// Gaussian r(z|x); T sees the normalised codes (z - mu)/sigma against draws
// from N(0, I), so it estimates log q(z|x) - log r(z|x), and the loss adds
// KL(r || p) in closed form (ContrastKL).
//
// Sampling decodes z ~ N(0, I) to the Bernoulli decoder's mean
// (family.Generator); the model encodes and reconstructs images
// (family.Encoder, family.Reconstructor, with the mean of
// proposal_samples encoder samples as the code) and estimates log p(x)
// by importance sampling with a Gaussian proposal fitted to the encoder's
// samples (family.Likelihood; ProposalIWAE).
package avb

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/vae"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind avb.
type Section struct {
	// ZDim is the latent dimension; default 32 (the authors' larger MNIST
	// latent).
	ZDim int `yaml:"z_dim"`
	// EpsDim is the dimension of the encoder's noise; default 64 (the
	// authors' eps-dim for the 32-d latent).
	EpsDim int `yaml:"eps_dim"`
	// Hidden is the encoder's hidden widths (the decoder's are
	// reversed); default 300, 300 (the authors' full0 encoder and
	// decoder).
	Hidden []int `yaml:"hidden"`
	// Act is the encoder's and decoder's hidden activation: "softplus"
	// (default, the authors'), "tanh" (the IWAE paper's VAE, as the vae
	// family's) or "elu".
	Act string `yaml:"act"`
	// AdvHidden is the widths of T's x and z trunks (LeakyReLU 0.2);
	// default 512, 512 (the authors' have three layers of 1024).
	AdvHidden []int `yaml:"adv_hidden"`
	// AdvFeatures is F, the length of T's inner product <theta(x), s(z)>;
	// default 256 (the authors' 8192).
	AdvFeatures int `yaml:"adv_features"`
	// AdaptiveContrast turns on the paper's adaptive contrast (section 4);
	// default false.
	AdaptiveContrast bool `yaml:"adaptive_contrast"`
	// ACSamples is the number of encoder samples per image whose mean and
	// variance (unbiased, plus 1e-4 as the authors') make r(z|x); default 16.
	ACSamples int `yaml:"ac_samples"`
	// ProposalSamples is m, the number of encoder samples per image whose
	// mean and variance make the Gaussian proposal of the likelihood
	// estimate and whose mean is the code Encode returns; default 256.
	ProposalSamples int `yaml:"proposal_samples"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{ZDim: 32, EpsDim: 64, Hidden: []int{300, 300}, Act: "softplus", AdvHidden: []int{512, 512}, AdvFeatures: 256, ACSamples: 16, ProposalSamples: 256}
}

func init() {
	family.Register(family.Family{
		Name:       "avb",
		Summary:    "Adversarial Variational Bayes (Mescheder et al. 2017): implicit encoder, adversary T(x, z), adaptive contrast",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config: image data, positive
// sizes, and none of the GAN settings T's fixed logistic loss ignores.
func (s *Section) Validate(c config.Config) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: avb needs image data, and data.kind is %s (use mnist, stacked-mnist, folder or synthetic)", c.Data.Kind)
	}
	switch {
	case s.ZDim <= 0:
		return fmt.Errorf("model.z_dim: %d (want a positive latent dimension; 32 is the authors')", s.ZDim)
	case s.EpsDim <= 0:
		return fmt.Errorf("model.eps_dim: %d (want a positive noise dimension; 64 is the authors')", s.EpsDim)
	case s.AdvFeatures <= 0:
		return fmt.Errorf("model.adv_features: %d (want a positive feature count such as 256)", s.AdvFeatures)
	case s.AdaptiveContrast && s.ACSamples < 2:
		return fmt.Errorf("model.ac_samples: %d (adaptive contrast needs at least 2 samples per image for a variance; 16 is the default)", s.ACSamples)
	case s.ProposalSamples < 2:
		return fmt.Errorf("model.proposal_samples: %d (the likelihood's proposal needs at least 2 samples per image for a variance; 256 is the default)", s.ProposalSamples)
	}
	if _, err := activation(s.Act); err != nil {
		return err
	}
	for _, l := range []struct {
		name string
		ws   []int
	}{{"hidden", s.Hidden}, {"adv_hidden", s.AdvHidden}} {
		if len(l.ws) == 0 {
			return fmt.Errorf("model.%s: empty (want at least one width, such as [300, 300])", l.name)
		}
		for _, w := range l.ws {
			if w <= 0 {
				return fmt.Errorf("model.%s: width %d must be positive", l.name, w)
			}
		}
	}
	switch {
	case c.Loss.Penalty != "" || c.Loss.InstanceNoise > 0 || c.Loss.LabelSmoothing > 0:
		return fmt.Errorf("loss.penalty/instance_noise/label_smoothing: model.kind avb trains T with the logistic loss alone (leave the loss: section out)")
	case c.Train.NCritic != 1 || c.Train.ClipD > 0 || c.Train.ReuseFake || c.Train.GSteps > 1:
		return fmt.Errorf("train.n_critic/clip_d/reuse_fake/g_steps: model.kind avb updates T once per step on the step's batch (leave them out)")
	}
	return family.CheckNoTricks(c, "avb")
}

// activation returns the hidden activation named by model.act.
func activation(name string) (nn.Layer, error) {
	switch name {
	case "softplus":
		return nn.Softplus{}, nil
	case "tanh":
		return nn.Tanh{}, nil
	case "elu":
		return nn.ELU{Alpha: 1}, nil
	}
	return nil, fmt.Errorf("model.act: %q (want softplus, tanh or elu)", name)
}

// model is AVB's networks and the batch the step's two phases share.
type model struct {
	sec            Section
	enc            *Encoder
	dec            *nn.Sequential
	adv            *Adversary
	channels, size int
	cur            *batch // the step's batch, drawn by T's phase
}

// batch is what one step's two phases see: binary images (flattened and
// centred), the encoder's noise, prior codes, and r(z|x)'s moments under
// adaptive contrast. It outlives the update arenas (tensor.Persistent).
type batch struct {
	obs, xc, eps, zp *tensor.Tensor
	mu, logVar       *tensor.Tensor // nil without adaptive contrast
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := *c.Model.Section.(*Section)
	// The split order is part of what a seed means: keep it.
	initRNG, gameRNG, fixedRNG, loaderRNG := root.Split(), root.Split(), root.Split(), root.Split()
	px := d.Channels * d.Size * d.Size
	m := &model{sec: s, channels: d.Channels, size: d.Size}
	act, err := activation(s.Act)
	if err != nil {
		return nil, err
	}
	m.enc = NewEncoder(px, s.ZDim, s.EpsDim, s.Hidden, act, initRNG)
	rev := make([]int, len(s.Hidden))
	for i, w := range s.Hidden {
		rev[len(rev)-1-i] = w
	}
	dec, err := models.NewMLP(models.MLPConfig{In: s.ZDim, Out: px, Hidden: rev, Act: s.Act}, initRNG)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	m.dec = dec
	m.adv = NewAdversary(px, s.ZDim, s.AdvHidden, s.AdvFeatures, initRNG)
	if d.Images != nil {
		// The decoder starts at the mean training image.
		out := dec.Layers[len(dec.Layers)-1].(*nn.Linear)
		copy(out.Bias.Data().Data(), vae.MeanLogits(d.Images.Images, false))
	}
	pg, err := family.NewPlayer("avb", nn.Children{{Name: "enc", Module: m.enc}, {Name: "dec", Module: m.dec}}, c.Train, c.Train.LRG, true)
	if err != nil {
		return nil, err
	}
	pd, err := family.NewPlayer("adv", m.adv, c.Train, c.Train.LRD, false)
	if err != nil {
		return nil, err
	}
	fm := &family.Model{
		Players:         []*gan.Player{pd, pg},
		GeneratorPlayer: pg,
		Generator:       m,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
		Extras:          map[string]family.Extra{},
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	loader, err := fm.StartLoader(d, c.Train.Batch, loaderRNG)
	if err != nil {
		return nil, err
	}
	if loader == nil {
		return fm, nil
	}
	fm.Phases = []gan.Phase{
		{Player: pd, Terms: func(int) []gan.Term {
			m.draw(loader.Next().Images, gameRNG)
			return m.AdversaryTerms()
		}},
		{Player: pg, Terms: func(int) []gan.Term { return m.PrimalTerms() }},
	}
	return fm, nil
}

// draw makes the step's batch from images x [B, C, H, W] in [-1, 1],
// drawing from rng in a fixed order: the binarisation (one uniform per
// pixel), the encoder's noise [B, EpsDim], the prior codes [B, ZDim] and,
// under adaptive contrast, the noise of ac_samples encoder samples per image
// [B ac_samples, EpsDim], whose moments make r(z|x).
func (m *model) draw(x *tensor.Tensor, rng *tensor.RNG) {
	b := &batch{}
	n := x.Size(0)
	var acEps *tensor.Tensor
	tensor.Persistent(func() {
		b.obs = tensor.Reshape(vae.Observe(x, rng, true), n, -1)
		b.xc = centre(b.obs)
		b.eps = rng.Normal(0, 1, n, m.sec.EpsDim)
		b.zp = rng.Normal(0, 1, n, m.sec.ZDim)
		if m.sec.AdaptiveContrast {
			acEps = rng.Normal(0, 1, n*m.sec.ACSamples, m.sec.EpsDim)
		}
	})
	if acEps != nil {
		mu, logVar := m.moments(b.xc, acEps, m.sec.ACSamples)
		tensor.Persistent(func() { b.mu, b.logVar = mu.Clone(), logVar.Clone() })
	}
	m.cur = b
}

// centre maps observations [N, P] in [0, 1] to 2x - 1, the networks' input.
func centre(obs *tensor.Tensor) *tensor.Tensor {
	xc := tensor.New(obs.Shape()...)
	for i, v := range obs.Data() {
		xc.Data()[i] = 2*v - 1
	}
	return xc
}

// moments returns the mean and log-variance [N, ZDim] of s encoder samples
// per row of the centred images xc [N, P], with the noise eps [N s, EpsDim]
// (rows i s .. i s + s - 1 for image i): the unbiased variance plus 1e-4
// (the authors' floor), in float64 before rounding. No gradients.
func (m *model) moments(xc, eps *tensor.Tensor, s int) (mu, logVar *tensor.Tensor) {
	return fitGaussian(m.sample(xc, eps, s), s)
}

// sample returns s encoder codes per row of xc [N, P], [N s, ZDim], with
// the noise eps [N s, EpsDim], without gradients.
func (m *model) sample(xc, eps *tensor.Tensor, s int) *tensor.Tensor {
	return m.enc.Sample(xc, eps, s)
}

// contrast returns what T sees of codes z: z itself, or under adaptive
// contrast the codes normalised by the batch's r(z|x).
func (m *model) contrast(z *ag.Value, b *batch) *ag.Value {
	if b.mu == nil {
		return z
	}
	return Normalise(z, ag.Const(b.mu), ag.Const(b.logVar))
}

// AdversaryTerms returns the terms of T's update on the step's batch
// (drawn by draw): "q" and "p" (AdversaryLoss). The encoder's codes are
// computed without gradients: only T's parameters update.
func (m *model) AdversaryTerms() []gan.Term {
	b := m.cur
	var zq *tensor.Tensor
	ag.NoGrad(func() { zq = m.enc.Forward(ag.Const(b.xc), ag.Const(b.eps)).Data() })
	f := m.adv.Image(ag.Const(b.xc))
	q, p := AdversaryLoss(m.adv.Score(f, m.contrast(ag.Const(zq), b)), m.adv.Score(f, ag.Const(b.zp)))
	return []gan.Term{{Name: "q", Value: q}, {Name: "p", Value: p}}
}

// PrimalTerms returns the terms of the encoder and decoder's update on the
// step's batch, each averaged over it, with z = f(x, eps) the same codes
// T's phase scored: "recon" = -log p(x|z) (decoder and encoder), "t" =
// T(x, z) or T(x, normalised z) (encoder only: T is frozen in this phase)
// and, under adaptive contrast, "kl_r" = KL(r || p) (encoder only;
// ContrastKL). Their sum is the negative ELBO with T in place of
// log q(z|x) - log r(z|x) (or log p(z)).
func (m *model) PrimalTerms() []gan.Term {
	b := m.cur
	z := m.enc.Forward(ag.Const(b.xc), ag.Const(b.eps))
	recon := ag.Neg(ag.Mean(vae.BernoulliLogLik(m.dec.Forward(z), ag.Const(b.obs)), nil, false))
	t := ag.Mean(m.adv.Forward(ag.Const(b.xc), m.contrast(z, b)), nil, false)
	terms := []gan.Term{{Name: "recon", Value: recon}, {Name: "t", Value: t}}
	if b.mu != nil {
		terms = append(terms, gan.Term{Name: "kl_r", Value: ag.Mean(ContrastKL(z, ag.Const(b.mu), ag.Const(b.logVar)), nil, false)})
	}
	return terms
}

// Decoder returns the network mapping codes z [N, ZDim] to per-pixel
// logits [N, C*H*W] (samples are 2 sigmoid(logits) - 1 as images), and its
// state names' prefix in the player's module, for the ONNX exporter.
func (m *model) Decoder() (nn.Layer, string, error) { return m.dec, "dec", nil }

// Prior is N(0, I) of the latent dimension.
func (m *model) Prior() gan.Prior { return gan.Prior{Kind: "normal", Dim: m.sec.ZDim} }

// Generate decodes z [N, ZDim] to the Bernoulli decoder's mean, in
// [-1, 1].
func (m *model) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("avb: labels given to an unconditional generator")
	}
	if err := family.NoCodes(req, "avb"); err != nil {
		return nil, err
	}
	if z.Dim() != 2 || z.Size(1) != m.sec.ZDim {
		return nil, fmt.Errorf("avb: noise of shape %v, want [N %d]", z.Shape(), m.sec.ZDim)
	}
	return m.decodeMean(z), nil
}

// decodeMean maps codes to the decoder's mean as images in [-1, 1].
func (m *model) decodeMean(z *tensor.Tensor) *tensor.Tensor {
	var out *tensor.Tensor
	ag.NoGrad(func() {
		out = ag.AddScalar(ag.Scale(ag.Sigmoid(m.dec.Forward(ag.Const(z))), 2), -1).Data()
	})
	return tensor.Reshape(out, z.Size(0), m.channels, m.size, m.size)
}

// checkImages reports images of a shape other than the model's.
func (m *model) checkImages(x *tensor.Tensor, what string) error {
	if x.Dim() != 4 || x.Size(1) != m.channels || x.Size(2) != m.size || x.Size(3) != m.size {
		return fmt.Errorf("avb: %s of shape %v, want [N %d %d %d]", what, x.Shape(), m.channels, m.size, m.size)
	}
	return nil
}

// Encode implements family.Encoder: the mean of proposal_samples encoder
// samples per image x [N, C, H, W] in [-1, 1] (intensities, not
// binarised). Every image takes the same proposal_samples noise vectors,
// drawn from a stream seeded with 1, so an image's code depends on it
// alone (to float32 rounding), not on the call or its place in the batch.
func (m *model) Encode(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := m.checkImages(x, "images"); err != nil {
		return nil, err
	}
	n, s := x.Size(0), m.sec.ProposalSamples
	xc := tensor.Reshape(x.Clone(), n, -1)
	for i, v := range xc.Data() {
		xc.Data()[i] = min(max(v, -1), 1)
	}
	return m.encodeMean(xc, s), nil
}

// encodeMean is Encode's mean over s samples for images xc [N, P], with
// one block of noise [s, EpsDim] repeated for every image.
func (m *model) encodeMean(xc *tensor.Tensor, s int) *tensor.Tensor {
	n := xc.Size(0)
	block := tensor.NewRNG(1).Normal(0, 1, s, m.sec.EpsDim).Data()
	eps := tensor.Zeros(n*s, m.sec.EpsDim)
	for i := range n {
		copy(eps.Data()[i*len(block):], block)
	}
	mu, _ := m.moments(xc, eps, s)
	return mu
}

// EncoderGraph implements family.EncoderNet by saying why AVB's encoder
// is not one network: its codes are the mean of proposal_samples draws of
// an encoder fed noise.
func (m *model) EncoderGraph() (family.EncoderGraph, error) {
	return family.EncoderGraph{}, fmt.Errorf("avb: the encoder draws noise (its code is the mean of %d samples, model.proposal_samples), so it is not written as one network", m.sec.ProposalSamples)
}

// Reconstruct encodes images x [N, C, H, W] in [-1, 1] (Encode) and
// decodes the codes to the decoder's mean, in [-1, 1].
func (m *model) Reconstruct(x *tensor.Tensor) (*tensor.Tensor, error) {
	z, err := m.Encode(x)
	if err != nil {
		return nil, err
	}
	return m.decodeMean(z), nil
}

// Observe maps images in [-1, 1] to binary observations: each pixel 1 with
// its intensity (x + 1) / 2 as probability (vae.Observe).
func (m *model) Observe(x *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor {
	return vae.Observe(x, rng, true)
}

// LogLikelihood estimates log p(x) in nats for each binary observation of
// x [N, C, H, W] with k importance samples from a Gaussian fitted to
// proposal_samples encoder samples per image (ProposalIWAE), drawn from rng.
func (m *model) LogLikelihood(x *tensor.Tensor, k int, rng *tensor.RNG) ([]float64, error) {
	if err := m.checkImages(x, "observations"); err != nil {
		return nil, err
	}
	return ProposalIWAE(implicit{m}, x, m.sec.ProposalSamples, k, rng)
}

// implicit is the model as ProposalIWAE sees it.
type implicit struct{ m *model }

// Sample draws s codes per observation x [N, C, H, W] in [0, 1] with
// noise from rng.
func (q implicit) Sample(x *tensor.Tensor, s int, rng *tensor.RNG) *tensor.Tensor {
	n := x.Size(0)
	return q.m.sample(centre(tensor.Reshape(x, n, -1)), rng.Normal(0, 1, n*s, q.m.sec.EpsDim), s)
}

// LogLik returns log p(x|z_j) for one flattened observation and each row
// of z.
func (q implicit) LogLik(x []float32, z *tensor.Tensor) []float64 {
	var out *tensor.Tensor
	ag.NoGrad(func() { out = q.m.dec.Forward(ag.Const(z)).Data() })
	return vae.BernoulliRows(x, out)
}
