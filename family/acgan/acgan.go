// Package acgan is the auxiliary classifier GAN family (model.kind acgan;
// Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier
// GANs", arXiv:1610.09585): the class-conditional generator of package
// cgan (models.CondGenerator) against a DCGAN discriminator with two heads,
// real/fake and a K-way classifier (models.ACDiscriminator), trained by
// gan.ACGAN on labelled images.
package acgan

import (
	"fmt"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/cgan"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind acgan: the DCGAN section plus
// the label code of G and the class loss.
type Section struct {
	dcgan.Section `yaml:",inline"`
	// EmbedDim is the size of G's learnt label embedding (0, the default:
	// a one-hot code beside z).
	EmbedDim int `yaml:"embed_dim"`
	// ClassWeight scales the class (cross-entropy) terms of both players'
	// losses against the source loss; default 1, the paper's.
	ClassWeight float32 `yaml:"class_weight"`
	// DFakeClass keeps the generated images' class term in D's loss, as the
	// paper does (the default, true); false trains D's classifier on real
	// images only, as PyTorch-StudioGAN's ACGAN does.
	DFakeClass bool `yaml:"d_fake_class"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{Section: dcgan.Defaults(), ClassWeight: 1, DFakeClass: true}
}

func init() {
	family.Register(family.Family{
		Name:       "acgan",
		Summary:    "auxiliary classifier GAN (Odena et al. 2017): conditional DCGAN G, D with a real/fake and a class head",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error {
	if err := s.ValidateImage(c, "acgan"); err != nil {
		return err
	}
	if s.EmbedDim < 0 {
		return fmt.Errorf("model.embed_dim: %d must not be negative (0 for a one-hot code)", s.EmbedDim)
	}
	if !(s.ClassWeight > 0) {
		return fmt.Errorf("model.class_weight: %g (want a positive weight of the class loss; 1 is the paper's)", s.ClassWeight)
	}
	return family.CheckNoTricks(c, "acgan")
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	if d.Classes < 2 {
		return nil, fmt.Errorf("data: %d classes: an auxiliary classifier GAN needs labelled images in at least 2 classes (class subfolders for a folder)", d.Classes)
	}
	initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
	cc := models.CGANConfig{DCGANConfig: s.Networks(d), Classes: d.Classes, EmbedDim: s.EmbedDim}
	g, err := models.NewCondGenerator(cc, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewACDiscriminator(cc, initRNG)
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
	game := &gan.ACGAN{G: g, D: dnet, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Classes: d.Classes,
		Batch: c.Train.Batch, RNG: gameRNG, ClassWeight: s.ClassWeight, DFakeClass: s.DFakeClass, ReuseFake: c.Train.ReuseFake,
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
		Generator:       cgan.NewGenerator(g, prior, d.Classes, "acgan"),
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	return dcgan.Finish(m, loader), nil
}
