// Package sngan is the SN-GAN ResNet family (model.kind sngan; Miyato et
// al. 2018, "Spectral Normalization for Generative Adversarial Networks",
// arXiv:1802.05957, appendix B.4): models.SNGANGenerator and
// SNGANDiscriminator, spectral norm on every D layer, on 28x28, 32x32 or
// 64x64 images; with model.conditional, conditional batch norm in G and a
// projection discriminator (Miyato & Koyama 2018, arXiv:1802.05637) on
// labelled images. The paper trains it with the hinge loss and n_dis 5
// (presets sngan-mnist and sngan-cond-mnist use n_dis 1 and TTUR instead,
// for CPU time). Its Section and Build are shared by package sagan.
package sngan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind sngan (and sagan).
type Section struct {
	Prior string `yaml:"prior"` // "normal" or "uniform"; default normal
	ZDim  int    `yaml:"z_dim"` // noise dimension; default 128, the paper's
	// GWidth and DWidth are the generator's and the discriminator's channel
	// counts (every block has the same); defaults 256 and 128, the paper's
	// CIFAR-10 ResNets.
	GWidth int `yaml:"g_width"`
	DWidth int `yaml:"d_width"`
	// Size is the image side, 28, 32 or 64, and must match the data's (0
	// means the data's). G starts from 7x7 for 28 and 4x4 for 32 and 64.
	Size int `yaml:"size"`
	// Conditional trains on the data's labels: conditional batch norm in
	// G, a projection discriminator.
	Conditional bool `yaml:"conditional"`
	// MatchingAware (conditional only) also trains D to reject real images
	// shown with a wrong label (gan.Conditional.MatchingAware); D learns the
	// classes from real data from the first step.
	MatchingAware bool `yaml:"matching_aware"`
}

// Defaults returns the section's defaults.
func Defaults() Section { return Section{Prior: "normal", ZDim: 128, GWidth: 256, DWidth: 128} }

func init() {
	family.Register(family.Family{
		Name:       "sngan",
		Summary:    "SN-GAN ResNets (Miyato et al. 2018), optionally class-conditional, for 28, 32 or 64 pixel images",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build: func(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
			return Build(c, d, root, c.Model.Section.(*Section), false)
		},
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error { return s.ValidateKind(c, "sngan") }

// ValidateKind checks the section for model.kind kind.
func (s *Section) ValidateKind(c config.Config, kind string) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: %s needs image data, and data.kind is %s (use mnist, stacked-mnist, folder or synthetic, or model.kind mlp)", kind, c.Data.Kind)
	}
	if err := family.CheckPrior(s.Prior, s.ZDim); err != nil {
		return err
	}
	if s.GWidth <= 0 || s.DWidth <= 0 {
		return fmt.Errorf("model.g_width/d_width: %d and %d (want positive channel counts; the paper's are 256 and 128)", s.GWidth, s.DWidth)
	}
	_, side := c.ImageShape()
	if side != 28 && side != 32 && side != 64 {
		return fmt.Errorf("data.size: %d, but the %s models take 28, 32 or 64 (set data.size to one of them)", side, kind)
	}
	if s.Size != 0 && s.Size != side {
		return fmt.Errorf("model.size: %d does not match the data's %dx%d images (data.kind %s, data.size %d): set model.size to %d or leave it out", s.Size, side, side, c.Data.Kind, side, side)
	}
	if s.MatchingAware && !s.Conditional {
		return fmt.Errorf("model.matching_aware: needs model.conditional (the wrong labels are class labels)")
	}
	if err := family.CheckLoss(c); err != nil {
		return err
	}
	return family.CheckNoTricks(c, kind)
}

// Networks returns the models.SNGANConfig of the section for d's images;
// attention adds SAGAN's self-attention and spectral norm in G.
func (s *Section) Networks(d family.Data, attention bool) models.SNGANConfig {
	c := models.SNGANConfig{Size: d.Size, Channels: d.Channels, GWidth: s.GWidth, DWidth: s.DWidth, ZDim: s.ZDim,
		Attention: attention, GSpectralNorm: attention}
	if s.Conditional {
		c.Classes = d.Classes
	}
	return c
}

// Build builds the family's model from the config, the data and the seed's
// root stream: the SN-GAN networks, or with attention SAGAN's (Zhang et
// al. 2019, arXiv:1805.08318: self-attention in both, spectral norm in
// both). The streams are split in dcgan.Streams' order.
func Build(c config.Config, d family.Data, root *tensor.RNG, s *Section, attention bool) (*family.Model, error) {
	if s.Conditional && d.Classes < 2 {
		return nil, fmt.Errorf("data: %d classes: model.conditional needs labelled images in at least 2 classes (class subfolders for a folder)", d.Classes)
	}
	initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
	nets := s.Networks(d, attention)
	g, err := models.NewSNGANGenerator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewSNGANDiscriminator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("discriminator: %w", err)
	}
	obj, penalty, noise, err := family.Loss(c)
	if err != nil {
		return nil, err
	}
	pg, pd, err := family.GANPlayers(c.Train, g, dnet)
	if err != nil {
		return nil, err
	}
	prior := gan.Prior{Kind: s.Prior, Dim: s.ZDim}
	var loader *data.Loader
	var game gan.Game
	gen := &generator{g: g, prior: prior}
	var capability family.Generator = gen
	if s.Conditional {
		cg := &gan.Conditional{G: g, D: dnet, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Classes: d.Classes,
			Batch: c.Train.Batch, RNG: gameRNG, ReuseFake: c.Train.ReuseFake, MatchingAware: s.MatchingAware,
			Real: func(int) (*tensor.Tensor, []int) { b := loader.Next(); return b.Images, b.Labels }}
		if err := cg.Validate(); err != nil {
			return nil, err
		}
		game, capability = cg, condGenerator{gen}
	} else {
		game = &gan.Unconditional{G: uncond{g}, D: uncondD{dnet}, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior,
			Batch: c.Train.Batch, RNG: gameRNG, ReuseFake: c.Train.ReuseFake, Real: func(int) *tensor.Tensor { return loader.Next().Images }}
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	if loader, err = d.Loader(c.Train.Batch, loaderRNG); err != nil {
		return nil, err
	}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Phases:          gan.TwoPlayer(game, pg, pd, c.Train.NCritic, c.Train.GSteps),
		Generator:       capability,
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	return dcgan.Finish(m, loader), nil
}

// uncond and uncondD are the unconditional networks as the layers
// gan.Unconditional takes.
type uncond struct{ *models.SNGANGenerator }

func (g uncond) Forward(z *ag.Value) *ag.Value { return g.SNGANGenerator.Forward(z, nil) }

type uncondD struct{ *models.SNGANDiscriminator }

func (d uncondD) Forward(x *ag.Value) *ag.Value { return d.SNGANDiscriminator.Forward(x, nil) }

// generator is the family's Generator; condGenerator, for a conditional
// model, is also family.Conditional.
type generator struct {
	g     *models.SNGANGenerator
	prior gan.Prior
}

func (g *generator) Prior() gan.Prior { return g.prior }

// Module returns the generator network.
func (g *generator) Module() *models.SNGANGenerator { return g.g }

func (g *generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	k := g.g.Classes()
	if k == 0 && req.Labels != nil {
		return nil, fmt.Errorf("sngan: labels given to an unconditional generator")
	}
	if k > 0 {
		if len(req.Labels) != z.Size(0) {
			return nil, fmt.Errorf("sngan: %d labels for %d noise vectors", len(req.Labels), z.Size(0))
		}
		for _, y := range req.Labels {
			if y < 0 || y >= k {
				return nil, fmt.Errorf("sngan: class %d out of range [0, %d)", y, k)
			}
		}
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.g.Forward(ag.Const(z), req.Labels).Data() })
	return out, nil
}

type condGenerator struct{ *generator }

func (g condGenerator) Classes() int { return g.g.Classes() }
