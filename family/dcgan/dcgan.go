// Package dcgan is the DCGAN family (model.kind dcgan; Radford et al. 2016,
// "Unsupervised Representation Learning with Deep Convolutional Generative
// Adversarial Networks", arXiv:1511.06434): models.DCGANGenerator and
// DCGANDiscriminator on 28x28, 32x32 or 64x64 images, with any loss and
// penalty of package gan. Its Section is shared by the conditional family
// (package cgan), which embeds it.
package dcgan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind dcgan.
type Section struct {
	Prior string `yaml:"prior"` // "normal" or "uniform"; default normal
	ZDim  int    `yaml:"z_dim"` // noise dimension; default 100, the paper's
	// Width is the channel count at the highest hidden resolution (64 in
	// the DCGAN paper's code, the default). Size is the image side, 28, 32
	// or 64, and must match the data's (0 means the data's).
	Width int `yaml:"width"`
	Size  int `yaml:"size"`
	// DSpecNorm puts spectral norm on D's layers (and drops its batch
	// norm); DNoBatchNorm drops D's batch norm, as a gradient penalty
	// needs.
	DSpecNorm    bool `yaml:"d_specnorm"`
	DNoBatchNorm bool `yaml:"d_no_batchnorm"`
	// Dense, when positive, adds a fully connected layer of this many units
	// to both networks (G after z, D before the logit; InfoGAN's MNIST
	// networks have 1024). Default 0, none.
	Dense int `yaml:"dense"`
	// Pack is PacGAN's packing degree m (Lin et al. 2018,
	// arXiv:1712.04086; see gan.Pack): D scores m images concatenated
	// along channels, all real or all fake, so its first convolution takes
	// m times the channels; train.batch must be a multiple of m, and D's
	// loss averages over the batch/m groups (PacGAN's code gives D batch
	// groups, m*batch images: set train.batch to m times theirs to match
	// it). Default 0 or 1, none (left out of a run's config.yaml, so
	// configs made before it keep their fingerprints). Only model.kind
	// dcgan takes it: the families that embed this section (cgan, acgan,
	// infogan) refuse pack > 1, since their D reads one label or code per
	// sample.
	Pack int `yaml:"pack,omitempty"`
	// DWidth, when positive, is D's width instead of Width, so D can be
	// smaller than G (the Unrolled-GAN setting of PacGAN's Stacked MNIST
	// table has D at a quarter or half of G's size). Default 0: Width.
	// Only model.kind dcgan takes it.
	DWidth int `yaml:"d_width,omitempty"`
	// DExtraLayers adds 1 or 2 strided convolutions to D below G's base
	// side (at 28x28: 7 -> 3 -> 1), channels doubling, so D is as deep as
	// the DCGAN behind PacGAN's Stacked MNIST rows (four strided
	// convolutions, about 4.3M weights; Kallima's width-64 D has two and
	// 0.14M). Default 0. Only model.kind dcgan takes it.
	DExtraLayers int `yaml:"d_extra_layers,omitempty"`
	// GExtraLayers starts G 1 or 2 halvings below its base side (at
	// 28x28: 2 -> 4 -> 7, channels doubling as the side halves), so G is
	// as deep as the DCGAN behind PacGAN's Stacked MNIST rows (2x2x512
	// projected and four up-samplings at width 64). Default 0. Only
	// model.kind dcgan takes it.
	GExtraLayers int `yaml:"g_extra_layers,omitempty"`
	// ProjectBN is how G's batch norm after the projection from z
	// normalises: "feature" (the default, each of the C0*b*b outputs) or
	// "channel" (each of the C0 maps after the reshape, as PyTorch's DCGAN
	// example). Only model.kind dcgan takes it.
	ProjectBN string `yaml:"project_bn,omitempty"`
}

// Defaults returns the section's defaults.
func Defaults() Section { return Section{Prior: "normal", ZDim: 100, Width: 64} }

func init() {
	family.Register(family.Family{
		Name:       "dcgan",
		Summary:    "DCGAN (Radford et al. 2016) for 28, 32 or 64 pixel images",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error {
	if err := s.ValidateImage(c, "dcgan"); err != nil {
		return err
	}
	if c.Loss.MinibatchKernels > 0 && c.Loss.Penalty != "" {
		return fmt.Errorf("loss.minibatch_kernels: %d with loss.penalty %s: the penalty is per sample and a minibatch layer scores whole batches (drop one of them)", c.Loss.MinibatchKernels, c.Loss.Penalty)
	}
	return nil
}

// ValidateImage checks what every DCGAN-shaped family needs: image data of
// a side the networks take, a positive width, a valid prior and loss, and
// no batch norm in D under a per-sample penalty.
func (s *Section) ValidateImage(c config.Config, kind string) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: %s needs image data, and data.kind is %s (use mnist, stacked-mnist, folder or synthetic, or model.kind mlp)", kind, c.Data.Kind)
	}
	if err := family.CheckPrior(s.Prior, s.ZDim); err != nil {
		return err
	}
	if s.Width <= 0 {
		return fmt.Errorf("model.width: %d (want a positive channel count; 64 is the DCGAN paper's)", s.Width)
	}
	if s.Dense < 0 {
		return fmt.Errorf("model.dense: %d (want 0 for none or a layer width; InfoGAN's is 1024)", s.Dense)
	}
	if s.DWidth < 0 || (s.DWidth > 0 && kind != "dcgan") {
		return fmt.Errorf("model.d_width: %d (want 0 for D as wide as G, or a positive channel count; only model.kind dcgan takes it)", s.DWidth)
	}
	if s.DExtraLayers < 0 || s.DExtraLayers > 2 || (s.DExtraLayers > 0 && kind != "dcgan") {
		return fmt.Errorf("model.d_extra_layers: %d (want 0, 1 or 2 strided convolutions below G's base side; only model.kind dcgan takes it)", s.DExtraLayers)
	}
	if s.GExtraLayers < 0 || s.GExtraLayers > 2 || (s.GExtraLayers > 0 && kind != "dcgan") {
		return fmt.Errorf("model.g_extra_layers: %d (want 0, 1 or 2 up-samplings below G's base side; only model.kind dcgan takes it)", s.GExtraLayers)
	}
	if (s.ProjectBN != "" && s.ProjectBN != "feature" && s.ProjectBN != "channel") || (s.ProjectBN == "channel" && kind != "dcgan") {
		return fmt.Errorf("model.project_bn: %q (want feature, the default, or channel; only model.kind dcgan takes channel)", s.ProjectBN)
	}
	if err := family.CheckPack(c, s.Pack, kind == "dcgan", kind); err != nil {
		return err
	}
	_, side := c.ImageShape()
	if side != 28 && side != 32 && side != 64 {
		return fmt.Errorf("data.size: %d, but the DCGAN models take 28, 32 or 64 (set data.size to one of them)", side)
	}
	if s.Size != 0 && s.Size != side {
		return fmt.Errorf("model.size: %d does not match the data's %dx%d images (data.kind %s, data.size %d): set model.size to %d or leave it out", s.Size, side, side, c.Data.Kind, side, side)
	}
	if c.Loss.Penalty != "" && !s.DNoBatchNorm && !s.DSpecNorm {
		return fmt.Errorf("model.d_no_batchnorm: loss.penalty %s is per sample, which batch norm in D breaks: set model.d_no_batchnorm: true", c.Loss.Penalty)
	}
	return family.CheckLoss(c)
}

// Networks returns the models.DCGANConfig of the section for d's images.
func (s *Section) Networks(d family.Data) models.DCGANConfig {
	return models.DCGANConfig{Size: d.Size, Channels: d.Channels, Width: s.Width, ZDim: s.ZDim, SpectralNorm: s.DSpecNorm, NoBatchNorm: s.DNoBatchNorm, NormalInit: true, Dense: s.Dense}
}

// Streams splits an image family's streams from the seed, in the order
// every DCGAN-shaped run has used: weights, game, preview noise, loader.
func Streams(root *tensor.RNG) (initRNG, gameRNG, fixedRNG, loaderRNG *tensor.RNG) {
	return root.Split(), root.Split(), root.Split(), root.Split()
}

// Finish adds what every image family's model has, the loader as an extra
// and its Close (family.Model.KeepLoader), and returns m.
func Finish(m *family.Model, l *data.Loader) *family.Model {
	m.KeepLoader(l)
	return m
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	initRNG, gameRNG, fixedRNG, loaderRNG := Streams(root)
	nets := s.Networks(d)
	gnets := nets
	gnets.GExtra = s.GExtraLayers
	gnets.ChannelBN = s.ProjectBN == "channel"
	g, err := models.NewDCGANGenerator(gnets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnets := nets
	dnets.Pack = s.Pack
	dnets.MinibatchKernels = c.Loss.MinibatchKernels
	if s.DWidth > 0 {
		dnets.Width = s.DWidth
	}
	dnets.DExtra = s.DExtraLayers
	dnet, err := models.NewDCGANDiscriminator(dnets, initRNG)
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
	var loader *data.Loader // started last, below
	real := func(int) *tensor.Tensor { return loader.Next().Images }
	game := &gan.Unconditional{G: g, D: dnet, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior,
		Batch: c.Train.Batch, RNG: gameRNG, ReuseFake: c.Train.ReuseFake, Pack: s.Pack, Real: real}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Generator:       &generator{g: g, prior: prior},
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	// Feature matching draws its own real batch (the loader's next) and
	// fake batch each step; without tricks the game is played as it is.
	played, err := family.WithTricks(c, m, game, g, dnet, prior, real, gameRNG)
	if err != nil {
		return nil, err
	}
	m.Phases = gan.TwoPlayer(played, pg, pd, c.Train.NCritic, c.Train.GSteps)
	// The loader starts a goroutine: make it last, when nothing can fail.
	if loader, err = d.Loader(c.Train.Batch, loaderRNG); err != nil {
		return nil, err
	}
	return Finish(m, loader), nil
}

// generator is the family's Generator.
type generator struct {
	g     *models.DCGANGenerator
	prior gan.Prior
}

func (g *generator) Prior() gan.Prior { return g.prior }

func (g *generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("dcgan: labels given to an unconditional generator")
	}
	if err := family.NoCodes(req, "dcgan"); err != nil {
		return nil, err
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.g.Forward(ag.Const(z)).Data() })
	return out, nil
}

// Module returns the generator network (for exporters).
func (g *generator) Module() *models.DCGANGenerator { return g.g }
