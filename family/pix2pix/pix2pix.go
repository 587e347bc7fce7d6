// Package pix2pix is the paired image-to-image translation family
// (model.kind pix2pix; Isola et al. 2017, "Image-to-Image Translation with
// Conditional Adversarial Networks", arXiv:1611.07004): a U-Net generator
// G (models.UNet) maps an image of domain A to its counterpart in domain
// B, and a PatchGAN discriminator D (models.PatchGAN) scores each patch of
// the pair (input, output), concatenated along channels. G minimises
//
//	L_G = adv(D([a, G(a)])) + lambda * mean |G(a) - b|
//
// with the loss: section's generator loss (ns, the paper's cGAN loss, by
// default) and lambda = model.l1 (100 in the paper); D minimises half its
// loss on real pairs [a, b] and fake pairs [a, G(a)], as the paper halves
// D's objective to slow D down relative to G. D sees the input with the
// target as real and the input with G's output as fake: both halves of a
// pair start with the input a, so the well-known bug of swapping input and
// target (PyTorch-GAN issue 70) cannot be written without failing this
// package's tests.
//
// The only noise is dropout in G's innermost decoder layers (the paper's
// choice over a noise vector, which G learned to ignore). It draws its
// masks from the run's "game" stream, which checkpoints keep, so resume is
// exact. The data is paired: family.Data.B holds the targets, B's image i
// that of A's image i (data.kind paired or mnist-edges); one loader shuffles
// the pairs together. The model is a family.Translator from A to B.
package pix2pix

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

// Section is the model: block of model.kind pix2pix.
type Section struct {
	// Width is G's first encoder layer's channel count, doubling per level
	// up to 8x (64 in the paper; default 64). DWidth is D's first layer's
	// (default 64, the paper's; 0 means Width).
	Width  int `yaml:"width"`
	DWidth int `yaml:"d_width"`
	// Depth is G's number of stride-2 encoder layers; default 0, down to a
	// 1x1 bottleneck as in the paper (4 for 28x28 images, 5 for 32x32; see
	// models.UNetConfig).
	Depth int `yaml:"depth"`
	// PatchLayers is D's number of stride-2 layers; default 1, 16x16
	// patches, about half a 28x28 or 32x32 image as the paper's 70x70
	// patches are about a quarter of its 256x256 images (2 gives 34x34,
	// more than the whole image; see models.PatchGANConfig).
	PatchLayers int `yaml:"patch_layers"`
	// Norm is both networks' norm: batch (default, the paper's), instance
	// or none.
	Norm string `yaml:"norm"`
	// L1 is lambda, the weight of the L1 distance between G(a) and the
	// target b; default 100, the paper's. 0 trains the cGAN alone.
	L1 float64 `yaml:"l1"`
	// Dropout is the drop probability in G's innermost decoder layers,
	// the paper's noise source; default 0.5 (0 for none). DropoutLayers is
	// how many decoder layers have it, from the bottleneck out; default 0,
	// meaning half of Depth (2 for 28 or 32 pixel images; the paper's 3 of
	// its 8).
	Dropout       float64 `yaml:"dropout"`
	DropoutLayers int     `yaml:"dropout_layers"`
	// TestDropout keeps dropout on when translating a trained model
	// (previews, eval, kallima translate), as the paper does; default
	// true. Test-time masks come from a stream reseeded at every call, so
	// the same images always give the same translation and translating
	// never moves the training stream. Batch norm uses its running
	// statistics at test time (the paper, with a batch of one, uses the
	// test image's own).
	TestDropout bool `yaml:"test_dropout"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{Width: 64, DWidth: 64, PatchLayers: models.DefaultPatchLayers, Norm: models.NormBatch,
		L1: 100, Dropout: 0.5, TestDropout: true}
}

func init() {
	family.Register(family.Family{
		Name:       "pix2pix",
		Summary:    "paired image-to-image translation (Isola et al. 2017): U-Net G, PatchGAN D on (input, output), L1 weight 100",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config: image data, the
// networks' settings, and a loss without the per-sample extras pix2pix
// does not take.
func (s *Section) Validate(c config.Config) error {
	if _, paired := c.TwoDomain(); !paired {
		return fmt.Errorf("model.kind: pix2pix needs paired image data, each input with its target, and data.kind is %s (use mnist-edges, or paired with folders A/ and B/)", c.Data.Kind)
	}
	switch {
	case s.Width <= 0:
		return fmt.Errorf("model.width: %d (want a positive channel count; 64 is the paper's)", s.Width)
	case s.DWidth < 0:
		return fmt.Errorf("model.d_width: %d (want a positive channel count, or 0 for model.width)", s.DWidth)
	case s.Depth < 0 || s.Depth == 1:
		return fmt.Errorf("model.depth: %d (want 0 for a 1x1 bottleneck, or 2 or more stride-2 layers)", s.Depth)
	case s.PatchLayers < 1:
		return fmt.Errorf("model.patch_layers: %d (want 1 or more stride-2 layers in D; 1 gives 16x16 patches)", s.PatchLayers)
	case s.L1 < 0:
		return fmt.Errorf("model.l1: %g must not be negative (100 is the paper's; 0 for the cGAN loss alone)", s.L1)
	case s.Dropout < 0 || s.Dropout >= 1:
		return fmt.Errorf("model.dropout: %g (want a probability in [0, 1); 0.5 is the paper's, 0 for none)", s.Dropout)
	case s.DropoutLayers < 0:
		return fmt.Errorf("model.dropout_layers: %d must not be negative (0 for half of the depth)", s.DropoutLayers)
	}
	switch s.Norm {
	case models.NormBatch, models.NormInstance, models.NormNone:
	default:
		return fmt.Errorf("model.norm: %q (want batch, instance or none)", s.Norm)
	}
	if _, side := c.ImageShape(); side != 0 {
		if err := s.unet(1, side).Validate(); err != nil {
			return fmt.Errorf("model.depth/dropout_layers: %w", err)
		}
	}
	if c.Loss.Penalty != "" || c.Loss.InstanceNoise != 0 {
		return fmt.Errorf("loss.penalty/instance_noise: not available for model.kind pix2pix (its D scores patches of pairs)")
	}
	if err := family.CheckNoTricks(c, "pix2pix"); err != nil {
		return err
	}
	return family.CheckLoss(c)
}

// unet returns G's config for images of the given channels and side.
func (s *Section) unet(channels, side int) models.UNetConfig {
	return models.UNetConfig{Size: side, Channels: channels, Width: s.Width, Depth: s.Depth, Norm: s.Norm,
		Dropout: s.Dropout, DropoutLayers: s.DropoutLayers, NormalInit: true}
}

// patchGAN returns D's config for pairs of images of the given channels.
func (s *Section) patchGAN(channels int) models.PatchGANConfig {
	w := s.DWidth
	if w == 0 {
		w = s.Width
	}
	return models.PatchGANConfig{Channels: 2 * channels, Width: w, Layers: s.PatchLayers, Norm: s.Norm, NormalInit: true}
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	if d.Images != nil {
		if d.B == nil || !d.Paired {
			return nil, fmt.Errorf("data: pix2pix needs paired data, each image of A with its target in B (data.kind paired or mnist-edges), and data.kind %s is not", c.Data.Kind)
		}
		if d.B.Len() != d.Images.Len() || !tensor.SameShape(d.B.Shape(), d.Images.Shape()) {
			return nil, fmt.Errorf("data: paired sets of %d images %v (A) and %d images %v (B): want as many images of one shape on both sides", d.Images.Len(), d.Images.Shape(), d.B.Len(), d.B.Shape())
		}
	}
	// The seed's split order: weights, game (dropout masks), preview,
	// loader.
	initRNG, gameRNG, fixedRNG, loaderRNG := root.Split(), root.Split(), root.Split(), root.Split()
	g, err := models.NewUNet(s.unet(d.Channels, d.Size), initRNG, gameRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewPatchGAN(s.patchGAN(d.Channels), initRNG)
	if err != nil {
		return nil, fmt.Errorf("discriminator: %w", err)
	}
	obj, _, _, err := family.Loss(c)
	if err != nil {
		return nil, err
	}
	pg, pd, err := family.GANPlayers(c.Train, g, dnet)
	if err != nil {
		return nil, err
	}
	game := &Game{G: g, D: dnet, Objective: obj, L1: float32(s.L1), Channels: d.Channels, ReuseFake: c.Train.ReuseFake}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Phases:          gan.TwoPlayer(game, pg, pd, c.Train.NCritic, c.Train.GSteps),
		Translator:      &Translator{G: g, Drop: gameRNG, TestDropout: s.TestDropout, shape: []int{d.Channels, d.Size, d.Size}},
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	seed := uint64(loaderRNG.Intn(1 << 62)) // drawn as family.Data.Loader does
	if d.Images == nil {
		return m, nil
	}
	l, err := data.NewLoader(&pairs{a: d.Images, b: d.B}, data.LoaderConfig{BatchSize: c.Train.Batch, Seed: seed, DropLast: true})
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	game.Pairs = func() *tensor.Tensor { return l.Next().Images }
	m.Extras = map[string]family.Extra{"loader": family.LoaderExtra{L: l}}
	m.Close = l.Close
	return m, nil
}

// pairs is the paired data as one data set: sample i is A's image i and
// B's image i concatenated along channels, labelled with A's label, so one
// loader shuffles the pairs together.
type pairs struct {
	a, b *data.Set
	buf  []float32
}

func (p *pairs) Len() int { return p.a.Len() }

func (p *pairs) Shape() []int {
	s := p.a.Shape()
	return []int{2 * s[0], s[1], s[2]}
}

// Get returns pair i in a buffer reused by the next call (a Loader copies
// it and calls from one goroutine at a time).
func (p *pairs) Get(i int) ([]float32, int) {
	a, label := p.a.Get(i)
	b, _ := p.b.Get(i)
	p.buf = append(append(p.buf[:0], a...), b...)
	return p.buf, label
}

// Translator is pix2pix's family.Translator: domain A to domain B with G.
type Translator struct {
	G *models.UNet
	// Drop is G's dropout stream (the run's "game" stream): Translate
	// saves it and restores it, so translating never moves training's
	// masks.
	Drop *tensor.RNG
	// TestDropout keeps dropout on in evaluation mode (Section.TestDropout).
	TestDropout bool

	shape []int
}

// translateSeed seeds the test-time dropout masks of every Translate call.
const translateSeed = 0x9192

// Domains names the two domains, "A" (the input) and "B" (the target).
func (t *Translator) Domains() []string { return []string{"A", "B"} }

// Shape is the [C, H, W] of the images Translate takes.
func (t *Translator) Shape() []int { return append([]int(nil), t.shape...) }

// Module returns the generator, for writers of other formats (package
// onnx).
func (t *Translator) Module() *models.UNet { return t.G }

// Translate maps x [N, C, H, W] in [-1, 1] from A (0) to B (1) without
// recording gradients, in whatever mode G is in, with dropout on when G is
// in training mode or TestDropout is set; its masks come from a stream
// seeded afresh at each call (the same images give the same translation).
// Any other pair of domains, or x of another shape, is an error naming it.
func (t *Translator) Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error) {
	names := t.Domains()
	if from != 0 || to != 1 {
		name := func(i int) string {
			if i >= 0 && i < len(names) {
				return names[i]
			}
			return fmt.Sprintf("domain %d", i)
		}
		return nil, fmt.Errorf("pix2pix translates A to B only, not %s to %s", name(from), name(to))
	}
	if xs := x.Shape(); len(xs) != 4 || xs[0] == 0 || !tensor.SameShape(xs[1:], t.shape) {
		return nil, fmt.Errorf("pix2pix: images of shape %v, want [N %d %d %d]", xs, t.shape[0], t.shape[1], t.shape[2])
	}
	if t.G.HasDropout() {
		was := t.G.Dropping()
		saved := t.Drop.State()
		if err := t.Drop.SetState(tensor.NewRNG(translateSeed).State()); err != nil {
			return nil, fmt.Errorf("pix2pix: dropout stream: %w", err)
		}
		t.G.SetDropout(was || t.TestDropout)
		defer func() {
			t.G.SetDropout(was)
			// The state came from State: it cannot be refused.
			_ = t.Drop.SetState(saved)
		}()
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = t.G.Forward(ag.Const(x)).Data() })
	return out, nil
}
