// Package bigan is the GAN side with an encoder: BiGAN (model.kind bigan;
// Donahue et al. 2017, "Adversarial Feature Learning", arXiv:1605.09782)
// and ALI (model.kind ali; Dumoulin et al. 2017, "Adversarially Learned
// Inference", arXiv:1606.00704). An encoder E maps images to codes beside
// the generator G, and the discriminator D scores pairs: (x, E(x)) real,
// (G(z), z) fake (Game). E and G are one player ("ge") updated together
// against D ("d"). ALI is the same game with a stochastic Gaussian encoder,
// q(z|x) = N(mu, diag(sigma^2)), sampled by the reparameterisation trick,
// and a normal prior. Two defaults of ali depart from BiGAN's networks,
// because without them ALI does not train here: sigma is bounded by the
// prior's 1 (Section.SigmaMax), and D adds its code path after its batch
// norm (Section.CodeJoin). With the BiGAN authors' D, the norm rescales
// each batch, so the encoder could inflate its codes (sigma about 2500
// unbounded; means of standard deviation 4.7 bounded) without D seeing it.
//
// The defaults are the BiGAN authors' permutation-invariant MNIST setting,
// read from their code (github.com/jeffdonahue/bigan: train_mnist.sh,
// train_gan.py, net.py, dist.py, lib/updates.py): a 50-d uniform latent on
// [-1, 1]; fully connected G, E and D of 1024 units (models.BiGANConfig:
// batch norm without scale or shift where their mnist_mlp networks have
// it, ReLU in G and leaky ReLU 0.2 in E and D, no biases, weights N(0,
// 0.02)); D joining z to x's path before its second layer; E's uniform
// code 2 sigmoid(out) - 1; Adam with lr 2e-4, beta1 0.5 (their momentum
// default) and beta2 0.999 (Adam's), an L2 weight decay of 2.5e-5 added to
// the gradient; batch 128; and 400 epochs, the rate held for the first 200
// and decayed exponentially to 1% of it over the last 200 (their
// --epochs 200 --decay_epochs 200 and final_lr_mult default 0.01). The
// rate here decays per step, not per epoch, from model.decay_start of
// train.steps. D, E and G update simultaneously, as the authors' code
// does (model.simultaneous; see Game), D scoring the real and the fake
// pairs as two batches (model.joint_batch off). What differs: Kallima's
// batch norm keeps running averages (momentum 0.1) for evaluation where
// their code averages 1000 training batches' statistics before each
// evaluation, and its eps is 1e-5 (theirs 1e-8); an epoch is 468 steps of
// all 60000 training digits (theirs 391 steps of 50000, the other 10000
// held out to score on).
//
// The model samples (family.Generator), encodes (family.Encoder: E's code,
// its mean for ALI), reconstructs G(E(x)) (family.Reconstructor) and gives
// E's last hidden layer (family.Featurer), the features the authors' 1-NN
// figure is measured on.
package bigan

import (
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind bigan and ali.
type Section struct {
	// Prior is p(z): "uniform" on [-1, 1] (bigan's default, the authors')
	// or "normal" (ali's, and the only one ali takes). A bigan with a
	// normal prior has a linear (unsquashed) code.
	Prior string `yaml:"prior"`
	// ZDim is the latent dimension; default 50, the authors'.
	ZDim int `yaml:"z_dim"`
	// Width is every hidden layer's width in G, E and D; default 1024.
	Width int `yaml:"width"`
	// WeightDecay is an L2 penalty added to every gradient (Adam's
	// coupled weight decay, train.optimizer adam only); default 2.5e-5,
	// the authors'.
	WeightDecay float32 `yaml:"weight_decay"`
	// DecayStart is the fraction of train.steps after which both rates
	// decay exponentially, reaching DecayFinal times their value at the
	// last step; default 0.5 (200 of the authors' 400 epochs), 1 for no
	// decay.
	DecayStart float64 `yaml:"decay_start"`
	// DecayFinal is the factor the rates decay to; default 0.01, the
	// authors'.
	DecayFinal float64 `yaml:"decay_final"`
	// JointBatch makes D score the real pairs and the fake pairs as one
	// batch, so its batch norm shares their statistics (the authors'
	// --cat_inputs, off in their MNIST run); default false, two batches.
	JointBatch bool `yaml:"joint_batch"`
	// Simultaneous updates D, E and G from the same point each step, as
	// the authors' code does (default true); false alternates them as
	// other GANs do, D first (then train.n_critic may exceed 1).
	Simultaneous bool `yaml:"simultaneous"`
	// SigmaMax (ali only) bounds the standard deviation of the encoder's
	// Gaussian: sigma = sigma_max sigmoid(s) for E's scale output s.
	// Default 1, the prior's: a posterior wider than the prior cannot
	// be part of a matched pair of joints, whose aggregate posterior has
	// variance 1. 0 gives the unbounded sigma = exp(s/2) (s a
	// log-variance), with which this model's encoder drowns its code in
	// noise and training fails (docs/RESULTS-encoders.md).
	SigmaMax float64 `yaml:"sigma_max"`
	// CodeJoin is where D's code path joins its image path:
	// "before_norm", added before the second layer's batch norm (the
	// BiGAN authors' D, bigan's default), or "after_norm", added after it
	// (ali's default), so the norm cannot hide codes of the wrong scale
	// (models.BiGANConfig.CodeAfterNorm).
	CodeJoin string `yaml:"code_join"`
}

// Defaults returns the section's defaults for model.kind kind (bigan or
// ali).
func Defaults(kind string) Section {
	s := Section{Prior: "uniform", ZDim: 50, Width: 1024, WeightDecay: 2.5e-5, DecayStart: 0.5, DecayFinal: 0.01, Simultaneous: true, CodeJoin: "before_norm"}
	if kind == "ali" {
		s.Prior, s.SigmaMax, s.CodeJoin = "normal", 1, "after_norm"
	}
	return s
}

func init() {
	for _, kind := range []string{"bigan", "ali"} {
		summary := "BiGAN (Donahue et al. 2017): an encoder beside G, D on (image, code) pairs"
		if kind == "ali" {
			summary = "ALI (Dumoulin et al. 2017): BiGAN with a stochastic Gaussian encoder"
		}
		family.Register(family.Family{
			Name:       kind,
			Summary:    summary,
			NewSection: func() config.ModelSection { s := Defaults(kind); return &s },
			Build:      build,
		})
	}
}

// Validate checks the section against the config: image data, the prior,
// the widths, the schedule, and the loss and training settings the game
// takes.
func (s *Section) Validate(c config.Config) error {
	kind := c.Model.Kind
	if !c.IsImage() {
		return fmt.Errorf("model.kind: %s needs image data, and data.kind is %s (use mnist, stacked-mnist, folder or synthetic)", kind, c.Data.Kind)
	}
	if err := family.CheckPrior(s.Prior, s.ZDim); err != nil {
		return err
	}
	if kind == "ali" && s.Prior != "normal" {
		return fmt.Errorf("model.prior: %s, but ali's Gaussian encoder goes with a normal prior (set prior: normal, or use model.kind bigan)", s.Prior)
	}
	switch {
	case kind == "bigan" && s.SigmaMax != 0:
		return fmt.Errorf("model.sigma_max: %g, but bigan's encoder is deterministic (leave sigma_max out, or use model.kind ali)", s.SigmaMax)
	case !(s.SigmaMax >= 0) || math.IsInf(s.SigmaMax, 0):
		return fmt.Errorf("model.sigma_max: %g (want a bound on the encoder's standard deviation above 0, 1 the prior's, or 0 for none)", s.SigmaMax)
	case s.CodeJoin != "before_norm" && s.CodeJoin != "after_norm":
		return fmt.Errorf("model.code_join: %q (want before_norm, the BiGAN authors' D, or after_norm)", s.CodeJoin)
	case s.Width <= 0:
		return fmt.Errorf("model.width: %d (want a positive layer width; 1024 is the BiGAN authors')", s.Width)
	case !(s.WeightDecay >= 0):
		return fmt.Errorf("model.weight_decay: %g (want 0 or more; 2.5e-5 is the BiGAN authors')", s.WeightDecay)
	case s.WeightDecay > 0 && c.Train.Optimizer != "adam":
		return fmt.Errorf("model.weight_decay: %g is Adam's weight decay, and train.optimizer is %s (set weight_decay: 0 or optimizer: adam)", s.WeightDecay, c.Train.Optimizer)
	case !(s.DecayStart >= 0 && s.DecayStart <= 1):
		return fmt.Errorf("model.decay_start: %g (want a fraction of train.steps in [0, 1]; 1 for no decay, 0.5 is the BiGAN authors')", s.DecayStart)
	case !(s.DecayFinal > 0 && s.DecayFinal <= 1):
		return fmt.Errorf("model.decay_final: %g (want a factor in (0, 1]; 0.01 is the BiGAN authors')", s.DecayFinal)
	}
	switch {
	case c.Loss.Name != "ns" && c.Loss.Name != "minimax":
		return fmt.Errorf("loss.name: %s (model.kind %s plays the cross-entropy game: ns, the authors' swapped-label E and G loss, or minimax)", c.Loss.Name, kind)
	case c.Loss.Penalty != "" || c.Loss.InstanceNoise > 0 || c.Loss.LabelSmoothing > 0:
		return fmt.Errorf("loss.penalty/instance_noise/label_smoothing: not available for model.kind %s (leave them out)", kind)
	case s.Simultaneous && c.Train.NCritic != 1:
		return fmt.Errorf("train.n_critic: %d, but simultaneous updates make one D update per step (set model.simultaneous: false to alternate)", c.Train.NCritic)
	case c.Train.LRDecay:
		return fmt.Errorf("train.lr_decay: model.kind %s decays its rates exponentially from model.decay_start (set decay_start: 1 for none); leave train.lr_decay out", kind)
	case c.Train.ClipD > 0 || c.Train.ReuseFake || c.Train.GSteps > 1:
		return fmt.Errorf("train.clip_d/reuse_fake/g_steps: not available for model.kind %s (leave them out)", kind)
	}
	return family.CheckNoTricks(c, kind)
}

// code returns how E's output becomes a code for a section of kind.
func (s *Section) code(kind string) Code {
	switch {
	case kind == "ali":
		return CodeGaussian
	case s.Prior == "uniform":
		return CodeUniform
	}
	return CodeLinear
}

// Pair is the module of the "ge" player: G and E, trained together.
// State names: g.* (models.BiGANGenerator's), e.* (models.BiGANEncoder's).
type Pair struct {
	G *models.BiGANGenerator
	E *models.BiGANEncoder
}

func (p *Pair) children() nn.Children {
	return nn.Children{{Name: "g", Module: p.G}, {Name: "e", Module: p.E}}
}

// Params lists G's parameters, then E's.
func (p *Pair) Params(prefix string) []nn.Param { return p.children().Params(prefix) }

// Buffers lists G's buffers, then E's.
func (p *Pair) Buffers(prefix string) []nn.Buffer { return p.children().Buffers(prefix) }

// SetTraining sets both networks' mode.
func (p *Pair) SetTraining(on bool) { p.children().SetTraining(on) }

// ExpDecay is a learning-rate schedule that holds Base until step Start
// and then decays exponentially to Base·Final at step End (and holds that):
//
//	LR(t) = Base · Final^((t − Start)/(End − Start)),  Start ≤ t ≤ End
//
// the per-step form of the BiGAN authors' per-epoch exponential decay.
type ExpDecay struct {
	Base       float32
	Start, End int
	Final      float64
}

// LR returns the rate at step.
func (s ExpDecay) LR(step int) float32 {
	switch {
	case step <= s.Start:
		return s.Base
	case step >= s.End:
		return float32(float64(s.Base) * s.Final)
	}
	p := float64(step-s.Start) / float64(s.End-s.Start)
	return float32(float64(s.Base) * math.Pow(s.Final, p))
}

// newPlayer makes a player training m at rate lr with the section's
// weight decay and schedule, and the train: section's EMA when ema is set.
func (s *Section) newPlayer(name string, m nn.Module, t config.Train, lr float32, ema bool) (*gan.Player, error) {
	p, err := family.NewPlayer(name, m, t, lr, ema)
	if err != nil {
		return nil, err
	}
	if t.Optimizer == "adam" {
		ac := optim.DefaultAdamConfig()
		ac.LR, ac.Beta1, ac.Beta2, ac.WeightDecay = lr, t.Beta1, t.Beta2, s.WeightDecay
		if p.Opt, err = optim.NewAdam(nn.Parameters(m), ac); err != nil {
			return nil, fmt.Errorf("player %s: %w", name, err)
		}
	}
	if start := int(math.Round(s.DecayStart * float64(t.Steps))); start < t.Steps {
		p.LR = ExpDecay{Base: lr, Start: start, End: t.Steps, Final: s.DecayFinal}
	}
	return p, nil
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	kind := c.Model.Kind
	// The split order is part of what a seed means: keep it.
	initRNG, gameRNG, fixedRNG, loaderRNG := root.Split(), root.Split(), root.Split(), root.Split()
	nets := models.BiGANConfig{Channels: d.Channels, Size: d.Size, ZDim: s.ZDim, Hidden: s.Width, Stochastic: kind == "ali", CodeAfterNorm: s.CodeJoin == "after_norm"}
	g, err := models.NewBiGANGenerator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	e, err := models.NewBiGANEncoder(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	dnet, err := models.NewBiGANDiscriminator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("discriminator: %w", err)
	}
	pge, err := s.newPlayer("ge", &Pair{G: g, E: e}, c.Train, c.Train.LRG, true)
	if err != nil {
		return nil, err
	}
	pd, err := s.newPlayer("d", dnet, c.Train, c.Train.LRD, false)
	if err != nil {
		return nil, err
	}
	prior := gan.Prior{Kind: s.Prior, Dim: s.ZDim}
	mod := &Model{G: g, E: e, prior: prior, code: s.code(kind), kind: kind}
	m := &family.Model{
		Players:         []*gan.Player{pge, pd},
		Generator:       mod,
		GeneratorPlayer: pge,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
		Extras:          map[string]family.Extra{},
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	loader, err := m.StartLoader(d, c.Train.Batch, loaderRNG)
	if err != nil {
		return nil, err
	}
	if loader == nil {
		return m, nil
	}
	game := &Game{G: g, E: e, D: dnet, Prior: prior, Code: mod.code, SigmaMax: float32(s.SigmaMax), Minimax: c.Loss.Name == "minimax", JointBatch: s.JointBatch, Simultaneous: s.Simultaneous,
		Real: func() *tensor.Tensor { return loader.Next().Images }, Batch: c.Train.Batch, RNG: gameRNG}
	m.Phases = game.Phases(pge, pd, c.Train.NCritic)
	return m, nil
}

// Model is a BiGAN or ALI's generator and encoder, as sampling and the
// encoder scores see them.
type Model struct {
	G     *models.BiGANGenerator
	E     *models.BiGANEncoder
	prior gan.Prior
	code  Code
	kind  string
}

// Module returns G, for the ONNX exporter (state names g.* in the "ge"
// player's module).
func (m *Model) Module() *models.BiGANGenerator { return m.G }

// Prior is p(z).
func (m *Model) Prior() gan.Prior { return m.prior }

// Generate maps z [N, ZDim] to images [N, C, S, S] in [-1, 1].
func (m *Model) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("%s: labels given to an unconditional generator", m.kind)
	}
	if err := family.NoCodes(req, m.kind); err != nil {
		return nil, err
	}
	if z.Dim() != 2 || z.Size(1) != m.prior.Dim {
		return nil, fmt.Errorf("%s: noise of shape %v, want [N %d]", m.kind, z.Shape(), m.prior.Dim)
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = m.G.Forward(ag.Const(z)).Data() })
	return out, nil
}

// checkImages reports images x of a shape E does not take.
func (m *Model) checkImages(x *tensor.Tensor) error {
	c := m.E.Config
	if x.Dim() != 4 || x.Size(0) == 0 || x.Size(1) != c.Channels || x.Size(2) != c.Size || x.Size(3) != c.Size {
		return fmt.Errorf("%s: images of shape %v, want [N %d %d %d]", m.kind, x.Shape(), c.Channels, c.Size, c.Size)
	}
	return nil
}

// Encode maps images x [N, C, S, S] in [-1, 1] to codes [N, ZDim]: E's
// code (ALI's posterior mean), in whatever mode E is in (a loaded run's is
// in evaluation mode).
func (m *Model) Encode(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := m.checkImages(x); err != nil {
		return nil, err
	}
	var z *tensor.Tensor
	ag.NoGrad(func() { z = m.code.encode(m.E.Forward(ag.Const(x)), m.prior.Dim, nil, 0).Data() })
	return z, nil
}

// EncoderGraph implements family.EncoderNet: E ("e") on the images, its
// output mapped into the uniform prior's (-1, 1) (BiGAN), or the mean half
// for ALI's Gaussian encoder.
func (m *Model) EncoderGraph() (family.EncoderGraph, error) {
	g := family.EncoderGraph{Net: m.E, Prefix: "e", Input: family.InputImages, Code: family.CodeRaw, Dim: m.prior.Dim}
	switch m.code {
	case CodeUniform:
		g.Code = family.CodeUniform
	case CodeGaussian:
		g.Code = family.CodeMean
	}
	return g, nil
}

// Features maps images x [N, C, S, S] to E's last hidden layer
// [N, Width] (family.Featurer).
func (m *Model) Features(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := m.checkImages(x); err != nil {
		return nil, err
	}
	var f *tensor.Tensor
	ag.NoGrad(func() { f = m.E.Features(ag.Const(x)).Data() })
	return f, nil
}

// Reconstruct maps images x to G(E(x)), in [-1, 1].
func (m *Model) Reconstruct(x *tensor.Tensor) (*tensor.Tensor, error) {
	z, err := m.Encode(x)
	if err != nil {
		return nil, err
	}
	return m.Generate(z, family.Request{})
}
