// Package mlp is the MLP GAN family (model.kind mlp) for 2-D point sets:
// the fully connected generator and discriminator of the mode-collapse
// benchmarks (ring8, grid25, any mixture), with every loss, penalty and
// trick of package gan (feature matching, minibatch discrimination,
// historical averaging, instance noise).
//
// It is the smallest family and the worked example of the contract in
// docs/ARCHITECTURE.md: a Section decoded from the model: block, and a
// Build that splits the seed's streams, makes the two players and returns
// the alternating phases.
package mlp

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

// Section is the model: block of model.kind mlp.
type Section struct {
	Prior      string `yaml:"prior"`       // "normal" or "uniform"; default normal
	ZDim       int    `yaml:"z_dim"`       // noise dimension; default 8
	GHidden    []int  `yaml:"g_hidden"`    // generator hidden widths; default 128, 128, 128
	DHidden    []int  `yaml:"d_hidden"`    // discriminator hidden widths; default 128, 128, 128
	GAct       string `yaml:"g_act"`       // generator activation; default relu
	DAct       string `yaml:"d_act"`       // discriminator activation; default leaky_relu
	GBatchNorm bool   `yaml:"g_batchnorm"` // batch norm in the generator
	DSpecNorm  bool   `yaml:"d_specnorm"`  // spectral norm on the discriminator's layers
	// Pack is PacGAN's packing degree m (Lin et al. 2018,
	// arXiv:1712.04086; see gan.Pack): D scores m points concatenated
	// along features ([batch/m, m*2]), all real or all fake, so its input
	// layer is m times wider; train.batch must be a multiple of m. Default
	// 0 or 1, none (left out of a run's config.yaml, so the toy journal's
	// fingerprints stay those of configs made before it). Feature matching
	// is refused with it.
	Pack int `yaml:"pack,omitempty"`
}

func init() {
	family.Register(family.Family{
		Name:    "mlp",
		Summary: "MLP generator and discriminator for 2-D point sets (ring8, grid25, mixtures)",
		NewSection: func() config.ModelSection {
			return &Section{Prior: "normal", ZDim: 8, GHidden: []int{128, 128, 128}, DHidden: []int{128, 128, 128}, GAct: "relu", DAct: "leaky_relu"}
		},
		Build: build,
	})
}

// Validate checks the section against the config: 2-D data, positive
// widths, a valid prior and loss.
func (s *Section) Validate(c config.Config) error {
	if c.IsImage() {
		return fmt.Errorf("model.kind: mlp is for the 2-D toy sets, and data.kind is %s (use dcgan or cgan)", c.Data.Kind)
	}
	if err := family.CheckPrior(s.Prior, s.ZDim); err != nil {
		return err
	}
	for _, h := range append(append([]int{}, s.GHidden...), s.DHidden...) {
		if h <= 0 {
			return fmt.Errorf("model.g_hidden/d_hidden: width %d must be positive", h)
		}
	}
	if err := family.CheckPack(c, s.Pack, true, "mlp"); err != nil {
		return err
	}
	return family.CheckLoss(c)
}

// trainSpread is the standard deviation the networks see: ring8's own
// (sqrt 2), which the MLP presets were tuned on; grid25 is shrunk by 2.
const trainSpread = math.Sqrt2

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	if d.Points == nil {
		return nil, fmt.Errorf("model.kind mlp needs 2-D data")
	}
	s := c.Model.Section.(*Section)
	mix := *d.Points
	// The split order is part of what a seed means: keep it.
	initRNG, dataRNG, gameRNG, evalRNG := root.Split(), root.Split(), root.Split(), root.Split()
	prior := gan.Prior{Kind: s.Prior, Dim: s.ZDim}
	g, err := models.NewMLP(models.MLPConfig{In: prior.Dim, Out: mix.Dim(), Hidden: s.GHidden, Act: s.GAct, BatchNorm: s.GBatchNorm}, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	// The feature MLP is NewMLP's network plus a Features method (and the
	// minibatch layer when asked for).
	dnet, err := models.NewFeatureMLP(models.FeatureMLPConfig{
		MLPConfig:        models.MLPConfig{In: mix.Dim() * max(s.Pack, 1), Out: 1, Hidden: s.DHidden, Act: s.DAct, SpecNorm: s.DSpecNorm},
		MinibatchKernels: c.Loss.MinibatchKernels}, initRNG)
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
	// The networks see standardised coordinates (data.Mixture.Moments);
	// samples are mapped back by Generate. A real batch is drawn inside the
	// step and lives only as long as it.
	mean, std := mix.Moments()
	std /= trainSpread
	real := func(n int) *tensor.Tensor { return family.Standardise(mix.Sample(dataRNG, n), mean, std) }
	game := &gan.Unconditional{G: g, D: dnet, Objective: obj, Prior: prior, Batch: c.Train.Batch, RNG: gameRNG,
		Penalty: penalty, Noise: noise, Real: real, ReuseFake: c.Train.ReuseFake, Pack: s.Pack}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Generator:       &generator{g: g, prior: prior, mean: mean, std: std},
		GeneratorPlayer: pg,
		SampleRNG:       evalRNG,
		Streams:         map[string]*tensor.RNG{"data": dataRNG, "game": gameRNG},
		Extras:          map[string]family.Extra{},
	}
	played, err := family.WithTricks(c, m, game, g, dnet, prior, real, gameRNG)
	if err != nil {
		return nil, err
	}
	m.Phases = gan.TwoPlayer(played, pg, pd, c.Train.NCritic, c.Train.GSteps)
	if max(s.Pack, 1) == 1 && c.Loss.MinibatchKernels == 0 {
		// A packed D scores groups and a minibatch layer whole batches:
		// neither has a value at a single point.
		m.Critic = &family.StandardCritic{Kind: "mlp", D: dnet.Forward, SetTraining: dnet.SetTraining, Mean: mean, Std: std}
	}
	return m, nil
}

// generator is the family's Generator: G maps noise to standardised
// points, which it maps back to the data's coordinates.
type generator struct {
	g     nn.Layer
	prior gan.Prior
	mean  []float64
	std   float64
}

func (g *generator) Prior() gan.Prior { return g.prior }

func (g *generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("mlp: labels given to an unconditional generator")
	}
	if err := family.NoCodes(req, "mlp"); err != nil {
		return nil, err
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.g.Forward(ag.Const(z)).Data() })
	return family.Unstandardise(out, g.mean, g.std), nil
}

// Module returns the generator network (for exporters); its outputs are
// standardised points.
func (g *generator) Module() nn.Layer { return g.g }

// Standardisation returns the data's per-coordinate mean and its scale:
// a sample is the network's output times std plus mean.
func (g *generator) Standardisation() (mean []float64, std float64) { return g.mean, g.std }
