// Package cgan is the class-conditional DCGAN family (model.kind cgan;
// Mirza & Osindero 2014, arXiv:1411.1784, with the projection
// discriminator of Miyato & Koyama 2018, arXiv:1802.05637):
// models.CondGenerator and CondDiscriminator on labelled images.
package cgan

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

// Section is the model: block of model.kind cgan: the DCGAN section plus
// how the label enters.
type Section struct {
	dcgan.Section `yaml:",inline"`
	// Conditioning is how D takes the label: "projection" (the default)
	// or "channels". EmbedDim is the size of G's learnt label embedding
	// (0: one-hot). MatchingAware also trains D to reject real images shown
	// with a wrong label.
	Conditioning  string `yaml:"conditioning"`
	EmbedDim      int    `yaml:"embed_dim"`
	MatchingAware bool   `yaml:"matching_aware"`
}

func init() {
	family.Register(family.Family{
		Name:       "cgan",
		Summary:    "class-conditional DCGAN (projection or label-channel discriminator) for labelled images",
		NewSection: func() config.ModelSection { return &Section{Section: dcgan.Defaults()} },
		Build:      build,
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error {
	if err := s.ValidateImage(c, "cgan"); err != nil {
		return err
	}
	switch s.Conditioning {
	case "", "projection", "channels":
	default:
		return fmt.Errorf("model.conditioning: %q (want projection or channels)", s.Conditioning)
	}
	if s.EmbedDim < 0 {
		return fmt.Errorf("model.embed_dim: %d must not be negative (0 for a one-hot code)", s.EmbedDim)
	}
	return family.CheckNoTricks(c, "cgan")
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	if d.Classes < 2 {
		return nil, fmt.Errorf("data: %d classes: a conditional GAN needs labelled images in at least 2 classes (class subfolders for a folder)", d.Classes)
	}
	initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
	cc := models.CGANConfig{DCGANConfig: s.Networks(d), Classes: d.Classes, EmbedDim: s.EmbedDim, Conditioning: s.Conditioning}
	g, err := models.NewCondGenerator(cc, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewCondDiscriminator(cc, initRNG)
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
	game := &gan.Conditional{G: g, D: dnet, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Classes: d.Classes,
		Batch: c.Train.Batch, RNG: gameRNG, MatchingAware: s.MatchingAware, ReuseFake: c.Train.ReuseFake,
		Real: func(int) (*tensor.Tensor, []int) { b := loader.Next(); return b.Images, b.Labels }}
	if err := game.Validate(); err != nil {
		return nil, err
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	if loader, err = d.Loader(c.Train.Batch, loaderRNG); err != nil {
		return nil, err
	}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Phases:          gan.TwoPlayer(game, pg, pd, c.Train.NCritic, c.Train.GSteps),
		Generator:       NewGenerator(g, prior, d.Classes, "cgan"),
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	return dcgan.Finish(m, loader), nil
}

// generator is the family's Generator; it is family.Conditional.
type generator struct {
	g       *models.CondGenerator
	prior   gan.Prior
	classes int
	kind    string // model.kind, for errors
}

func (g *generator) Prior() gan.Prior { return g.prior }

func (g *generator) Classes() int { return g.classes }

// Module returns the conditional generator network.
func (g *generator) Module() *models.CondGenerator { return g.g }

func (g *generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if err := family.CheckLabels(req, g.kind, z.Size(0), g.classes); err != nil {
		return nil, err
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.g.Forward(ag.Const(z), req.Labels).Data() })
	return out, nil
}

// NewGenerator returns the family.Conditional that samples g (drawing
// noise from prior) for model.kind kind: cgan's, and that of any family
// built on models.CondGenerator (acgan).
func NewGenerator(g *models.CondGenerator, prior gan.Prior, classes int, kind string) family.Conditional {
	return &generator{g: g, prior: prior, classes: classes, kind: kind}
}
