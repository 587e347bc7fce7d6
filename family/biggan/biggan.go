// Package biggan is the BigGAN family (model.kind biggan; Brock et al.
// 2019, "Large Scale GAN Training for High Fidelity Natural Image
// Synthesis", arXiv:1809.11096), scaled to 28x28 and 32x32 images: the
// SN-GAN ResNet layout with a shared class embedding, a hierarchical latent
// (z split across the input and every block, each block's batch norms
// conditioned on [embedding, its chunk]), spectral norm in both networks,
// a projection discriminator with self-attention, orthogonal
// regularisation of G (model.ortho), the hinge loss and an EMA of G.
// Sample it with the truncation trick: `kallima sample RUN -truncation 0.5`
// resamples noise values beyond the threshold (BigGAN's definition; see
// gan.Truncation for clamp and scale).
package biggan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind biggan.
type Section struct {
	Prior string `yaml:"prior"` // "normal" (BigGAN's, and what truncation assumes) or "uniform"
	// ZDim is the noise dimension; it must split into one chunk for the
	// input and one per generator block (3 chunks at 28x28, 4 at 32x32).
	// Default 96.
	ZDim int `yaml:"z_dim"`
	// SharedDim is the shared class embedding's size (BigGAN: 128; default
	// 32 for these images).
	SharedDim int `yaml:"shared_dim"`
	// GWidth and DWidth are the networks' channels per block (default 64).
	GWidth int `yaml:"g_width"`
	DWidth int `yaml:"d_width"`
	// Size is the image side, 28 or 32 (0: the data's).
	Size int `yaml:"size"`
	// Attention places a self-attention block at the middle resolution of
	// both networks (default true; BigGAN has one at 64x64 in its 128x128
	// model).
	Attention bool `yaml:"attention"`
	// Ortho is the weight of G's orthogonal regularisation (gan.Orthogonal,
	// the paper's formula; the paper's beta is 1e-4); 0 turns it off.
	Ortho float32 `yaml:"ortho"`
	// MatchingAware also trains D to reject real images shown with a wrong
	// label (gan.Conditional.MatchingAware; not in the paper): D learns the
	// classes from real data from the first step.
	MatchingAware bool `yaml:"matching_aware"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{Prior: "normal", ZDim: 96, SharedDim: 32, GWidth: 64, DWidth: 64, Attention: true, Ortho: 1e-4}
}

func init() {
	family.Register(family.Family{
		Name:       "biggan",
		Summary:    "BigGAN (Brock et al. 2019) scaled to 28 or 32 pixel labelled images: shared embedding, hierarchical z, orthogonal regularisation; sample with -truncation",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: biggan needs labelled image data, and data.kind is %s", c.Data.Kind)
	}
	if err := family.CheckPrior(s.Prior, s.ZDim); err != nil {
		return err
	}
	if s.GWidth <= 0 || s.DWidth <= 0 || s.SharedDim <= 0 {
		return fmt.Errorf("model.g_width/d_width/shared_dim: %d, %d and %d (want positive sizes)", s.GWidth, s.DWidth, s.SharedDim)
	}
	if s.Ortho < 0 {
		return fmt.Errorf("model.ortho: %g (want 0 for none, or a positive weight; the paper's is 1e-4)", s.Ortho)
	}
	ch, side := c.ImageShape()
	if side != 28 && side != 32 {
		return fmt.Errorf("data.size: %d, but biggan takes 28 or 32 (set data.size to one of them)", side)
	}
	if s.Size != 0 && s.Size != side {
		return fmt.Errorf("model.size: %d does not match the data's %dx%d images: set model.size to %d or leave it out", s.Size, side, side, side)
	}
	n := s.networks(ch, side, 2)
	if s.ZDim%n.Chunks() != 0 {
		return fmt.Errorf("model.z_dim: %d does not split into %d equal chunks (one for the input, one per block at %dx%d); try %d",
			s.ZDim, n.Chunks(), side, side, (s.ZDim/n.Chunks()+1)*n.Chunks())
	}
	if err := family.CheckLoss(c); err != nil {
		return err
	}
	return family.CheckNoTricks(c, "biggan")
}

func (s *Section) networks(channels, size, classes int) models.BigGANConfig {
	return models.BigGANConfig{SNGANConfig: models.SNGANConfig{Size: size, Channels: channels, GWidth: s.GWidth, DWidth: s.DWidth,
		ZDim: s.ZDim, Classes: classes, Attention: s.Attention}, SharedDim: s.SharedDim}
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	if d.Classes < 2 {
		return nil, fmt.Errorf("data: %d classes: BigGAN is class-conditional and needs labelled images in at least 2 classes (class subfolders for a folder)", d.Classes)
	}
	initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
	nets := s.networks(d.Channels, d.Size, d.Classes)
	g, err := models.NewBigGANGenerator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewSNGANDiscriminator(nets.SNGANConfig, initRNG)
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
	cg := &gan.Conditional{G: g, D: dnet, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Classes: d.Classes,
		Batch: c.Train.Batch, RNG: gameRNG, ReuseFake: c.Train.ReuseFake, MatchingAware: s.MatchingAware,
		Real: func(int) (*tensor.Tensor, []int) { b := loader.Next(); return b.Images, b.Labels }}
	if err := cg.Validate(); err != nil {
		return nil, err
	}
	var game gan.Game = cg
	if s.Ortho > 0 {
		// BigGAN leaves the shared embedding out of the regularisation.
		var ws []*ag.Value
		shared := nn.Parameters(g.Shared)
		for _, p := range nn.Parameters(g) {
			if p != shared[0] {
				ws = append(ws, p)
			}
		}
		ortho, err := gan.NewOrthogonal(ws, s.Ortho)
		if err != nil {
			return nil, err
		}
		game = gan.WithTerms{Game: cg, ExtraG: ortho.Terms}
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	if loader, err = d.Loader(c.Train.Batch, loaderRNG); err != nil {
		return nil, err
	}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Phases:          gan.TwoPlayer(game, pg, pd, c.Train.NCritic, c.Train.GSteps),
		Generator:       &generator{g: g, prior: prior},
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	return dcgan.Finish(m, loader), nil
}

// generator is the family's Generator; it is family.Conditional.
type generator struct {
	g     *models.BigGANGenerator
	prior gan.Prior
}

func (g *generator) Prior() gan.Prior { return g.prior }

// Module returns the generator network, for the ONNX exporter.
func (g *generator) Module() *models.BigGANGenerator { return g.g }

func (g *generator) Classes() int { return g.g.Classes() }

func (g *generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if err := family.CheckLabels(req, "biggan", z.Size(0), g.g.Classes()); err != nil {
		return nil, err
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.g.Forward(ag.Const(z), req.Labels).Data() })
	return out, nil
}
