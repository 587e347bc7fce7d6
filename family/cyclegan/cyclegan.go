// Package cyclegan is the CycleGAN family (model.kind cyclegan; Zhu et al.
// 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
// Adversarial Networks", arXiv:1703.10593): two generators, G_AB from
// domain A to B and G_BA back (models.ResNetGenerator), and two PatchGAN
// discriminators with instance norm (models.PatchGAN), D_A on domain A's
// images and D_B on B's, trained on unpaired images of the two domains
// (family.Data's Images and B).
//
// Each step draws a batch of each domain and runs two phases. Player "g"
// (both generators, one Adam) minimises
//
//	L_G = E[(D_B(G_AB(a)) - 1)^2] + E[(D_A(G_BA(b)) - 1)^2]          (LSGAN, section 4)
//	    + Cycle * (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1)     (cycle consistency, eq. 2)
//	    + Identity * Cycle * (|G_AB(b) - b|_1 + |G_BA(a) - a|_1)      (identity, section 5.2)
//
// with |.|_1 the mean absolute difference. The identity term asks each
// generator to leave alone an image already of its target domain: G_AB
// is shown B's images, G_BA A's (the direction some libraries swap). Then
// player "d" (both discriminators) minimises
//
//	L_D = 1/2 (E[(D_B(b) - 1)^2] + E[D_B(f_B)^2]) + 1/2 (E[(D_A(a) - 1)^2] + E[D_A(f_A)^2])
//
// where f_B and f_A are the generator phase's translations, detached and
// passed through a history Pool of model.pool images per direction. The
// losses average over D's patch logits. The weights 1 : 10 : 5 and the
// halved D loss are the authors' code's. Both players use Adam (the
// train: section's rates and betas; the paper's are 2e-4, 0.5, 0.999),
// with the rate held for the first model.decay_start of the steps and
// decayed linearly to zero over the rest (the paper: 100 epochs constant,
// 100 decaying).
//
// The model translates both ways (family.Translator, domains "A" and "B"),
// with the generator player's weights or their EMA (train.ema).
package cyclegan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind cyclegan.
type Section struct {
	// Width is the generators' width: channels of their first and last
	// hidden layers, 4 Width in the residual blocks (64 in the paper);
	// default 32. Blocks is their number of residual blocks (9 in the
	// paper at 256x256, 6 at 128x128); default 6.
	Width  int `yaml:"width"`
	Blocks int `yaml:"blocks"`
	// DWidth is the discriminators' first-layer width (64 in the paper);
	// default 32. DLayers is their number of stride-2 layers; default 1,
	// 16x16 patches on 28x28 or 32x32 images (see models.PatchGANConfig).
	DWidth  int `yaml:"d_width"`
	DLayers int `yaml:"d_layers"`
	// Cycle is the weight of each cycle-consistency term (lambda, 10 in
	// the paper); default 10. Identity is the identity terms' weight as a
	// fraction of Cycle (0.5 in the paper, so 5); default 0.5; 0 leaves
	// the identity terms out.
	Cycle    float32 `yaml:"cycle"`
	Identity float32 `yaml:"identity"`
	// Pool is the number of generated images each discriminator's history
	// pool keeps (50 in the paper); default 50; 0 for none.
	Pool int `yaml:"pool"`
	// DecayStart is the fraction of train.steps after which both learning
	// rates decay linearly to zero at the last step; default 0.5, the
	// paper's; 1 for a constant rate. It replaces train.lr_decay.
	DecayStart float64 `yaml:"decay_start"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{Width: 32, Blocks: 6, DWidth: 32, DLayers: models.DefaultPatchLayers, Cycle: 10, Identity: 0.5, Pool: 50, DecayStart: 0.5}
}

func init() {
	family.Register(family.Family{
		Name:       "cyclegan",
		Summary:    "CycleGAN (Zhu et al. 2017): unpaired two-domain translation, ResNet generators, PatchGAN discriminators",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: cyclegan needs two domains of images, and data.kind is %s (use unpaired, mnist-thick or mnist-inverted)", c.Data.Kind)
	}
	switch {
	case s.Width <= 0:
		return fmt.Errorf("model.width: %d (want a positive channel count such as 32; the paper's is 64)", s.Width)
	case s.Blocks <= 0:
		return fmt.Errorf("model.blocks: %d (want at least 1 residual block; the paper has 6 or 9)", s.Blocks)
	case s.DWidth <= 0:
		return fmt.Errorf("model.d_width: %d (want a positive channel count such as 32; the paper's is 64)", s.DWidth)
	case s.DLayers <= 0:
		return fmt.Errorf("model.d_layers: %d (want at least 1 stride-2 layer; 1 gives 16x16 patches)", s.DLayers)
	case s.Cycle < 0:
		return fmt.Errorf("model.cycle: %g must not be negative (the paper's is 10)", s.Cycle)
	case s.Identity < 0:
		return fmt.Errorf("model.identity: %g must not be negative (the paper's is 0.5 of model.cycle; 0 for none)", s.Identity)
	case s.Pool < 0:
		return fmt.Errorf("model.pool: %d must not be negative (the paper's is 50; 0 for none)", s.Pool)
	case s.DecayStart < 0 || s.DecayStart > 1:
		return fmt.Errorf("model.decay_start: %g (want a fraction of train.steps in [0, 1]; 0.5 is the paper's, 1 keeps the rate constant)", s.DecayStart)
	}
	_, side := c.ImageShape()
	if side < 8 || side%4 != 0 {
		return fmt.Errorf("data.size: %d: the ResNet generators downsample twice, so the side must be a multiple of 4, at least 8 (28 and 32 work)", side)
	}
	if side>>s.DLayers < 3 {
		return fmt.Errorf("model.d_layers: %d halves %dx%d images too often for a patch map (want at most %d)", s.DLayers, side, side, maxLayers(side))
	}
	if c.Loss.Name != "lsgan" {
		return fmt.Errorf("loss.name: %s: model.kind cyclegan trains with least squares, the paper's loss (set loss.name: lsgan)", c.Loss.Name)
	}
	if c.Loss.Penalty != "" || c.Loss.InstanceNoise > 0 || c.Loss.LabelSmoothing != 0 {
		return fmt.Errorf("loss.penalty/instance_noise/label_smoothing: not available for model.kind cyclegan (leave them out)")
	}
	if c.Train.ClipD > 0 || c.Train.ReuseFake || c.Train.NCritic > 1 || c.Train.GSteps > 1 {
		return fmt.Errorf("train.clip_d/reuse_fake/n_critic/g_steps: not available for model.kind cyclegan (one D update per G update on the G update's translations; leave them out)")
	}
	if c.Train.LRDecay {
		return fmt.Errorf("train.lr_decay: model.kind cyclegan decays its rates by model.decay_start (0.5: constant for the first half, linear to 0 over the second); leave train.lr_decay out")
	}
	return family.CheckNoTricks(c, "cyclegan")
}

// maxLayers is the most stride-2 layers a PatchGAN can have on side-pixel
// images.
func maxLayers(side int) int {
	n := 0
	for side>>(n+1) >= 3 {
		n++
	}
	return n
}

// pair is two networks listed under two names: the generator player's
// module (g_ab, g_ba) or the discriminator player's (d_a, d_b).
type pair struct {
	names [2]string
	nets  [2]nn.Module
}

func (p *pair) children() nn.Children {
	return nn.Children{{Name: p.names[0], Module: p.nets[0]}, {Name: p.names[1], Module: p.nets[1]}}
}

// Params lists both networks' parameters.
func (p *pair) Params(prefix string) []nn.Param { return p.children().Params(prefix) }

// Buffers lists both networks' buffers.
func (p *pair) Buffers(prefix string) []nn.Buffer { return p.children().Buffers(prefix) }

// SetTraining sets both networks' mode.
func (p *pair) SetTraining(on bool) { p.children().SetTraining(on) }

// Model is CycleGAN's networks and loss weights: what the phases' terms
// are computed from.
type Model struct {
	GAB, GBA       *models.ResNetGenerator
	DA, DB         *models.PatchGAN
	Cycle          float32 // weight of each cycle term
	Identity       float32 // weight of each identity term: the section's fraction times Cycle
	PoolA, PoolB   *Pool   // translations into A (scored by D_A) and into B (by D_B)
	fakeA, fakeB   *tensor.Tensor
	channels, side int
}

// l1 is the mean absolute difference of x and y.
func l1(x, y *ag.Value) *ag.Value { return ag.Mean(ag.Abs(ag.Sub(x, y)), nil, false) }

// lsReal is E[(D(x) - 1)^2], LSGAN's generator term as the paper and the
// authors' code write it (gan.LeastSquaresGeneratorLoss with the 0-1
// coding, which halves it, times 2).
func lsReal(logits *ag.Value) *ag.Value {
	return ag.Scale(gan.LeastSquaresGeneratorLoss(logits, gan.LSCoding01), 2)
}

// GeneratorTerms returns the generator player's terms for batches a of
// domain A and b of domain B: adv_ab and adv_ba (LSGAN, D_B on G_AB(a),
// D_A on G_BA(b)), cycle_a and cycle_b (|G_BA(G_AB(a)) - a|_1 and
// |G_AB(G_BA(b)) - b|_1, times Cycle) and, with Identity > 0, idt_ab and
// idt_ba (|G_AB(b) - b|_1 and |G_BA(a) - a|_1, times Identity). It keeps
// detached copies of the translations for DiscriminatorTerms.
func (m *Model) GeneratorTerms(a, b *tensor.Tensor) []gan.Term {
	ra, rb := ag.Const(a), ag.Const(b)
	fakeB := m.GAB.Forward(ra)
	fakeA := m.GBA.Forward(rb)
	m.keep(fakeA.Data(), fakeB.Data())
	ts := []gan.Term{
		{Name: "adv_ab", Value: lsReal(m.DB.Forward(fakeB))},
		{Name: "adv_ba", Value: lsReal(m.DA.Forward(fakeA))},
		{Name: "cycle_a", Value: ag.Scale(l1(m.GBA.Forward(fakeB), ra), m.Cycle)},
		{Name: "cycle_b", Value: ag.Scale(l1(m.GAB.Forward(fakeA), rb), m.Cycle)},
	}
	if m.Identity > 0 {
		ts = append(ts,
			gan.Term{Name: "idt_ab", Value: ag.Scale(l1(m.GAB.Forward(rb), rb), m.Identity)},
			gan.Term{Name: "idt_ba", Value: ag.Scale(l1(m.GBA.Forward(ra), ra), m.Identity)})
	}
	return ts
}

// keep copies the newest translations into tensors that outlive the
// update's arena (allocated once).
func (m *Model) keep(fakeA, fakeB *tensor.Tensor) {
	if m.fakeA == nil || !tensor.SameShape(m.fakeA.Shape(), fakeA.Shape()) {
		tensor.Persistent(func() { m.fakeA, m.fakeB = tensor.New(fakeA.Shape()...), tensor.New(fakeB.Shape()...) })
	}
	copy(m.fakeA.Data(), fakeA.Data())
	copy(m.fakeB.Data(), fakeB.Data())
}

// DiscriminatorTerms returns the discriminator player's terms for the same
// batches: d_b (LSGAN's D loss on b against the pooled translations into
// B) and d_a (on a against the pooled translations into A). It needs a
// GeneratorTerms call first, whose translations it queries the pools
// with.
func (m *Model) DiscriminatorTerms(a, b *tensor.Tensor) []gan.Term {
	if m.fakeA == nil {
		panic("cyclegan: DiscriminatorTerms before any GeneratorTerms")
	}
	fB := ag.Const(m.PoolB.Query(m.fakeB))
	fA := ag.Const(m.PoolA.Query(m.fakeA))
	return []gan.Term{
		{Name: "d_b", Value: gan.LeastSquaresDiscriminatorLoss(m.DB.Forward(ag.Const(b)), m.DB.Forward(fB), gan.LSCoding01)},
		{Name: "d_a", Value: gan.LeastSquaresDiscriminatorLoss(m.DA.Forward(ag.Const(a)), m.DA.Forward(fA), gan.LSCoding01)},
	}
}

// Domains names the two domains, "A" and "B".
func (m *Model) Domains() []string { return []string{"A", "B"} }

// Generators returns G_AB and G_BA, for writers of other formats (package
// onnx).
func (m *Model) Generators() (ab, ba *models.ResNetGenerator) { return m.GAB, m.GBA }

// Shape is the image shape [C, H, W] both generators take.
func (m *Model) Shape() []int { return []int{m.channels, m.side, m.side} }

// Translate maps x [N, C, H, W] from domain from to domain to (0 is A, 1 is
// B) with G_AB or G_BA, without recording gradients.
func (m *Model) Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error) {
	if from < 0 || from > 1 || to < 0 || to > 1 || from == to {
		return nil, fmt.Errorf("cyclegan: cannot translate from domain %d to %d: it translates A (0) to B (1) and B to A", from, to)
	}
	if s := x.Shape(); len(s) != 4 || s[1] != m.channels || s[2] != m.side || s[3] != m.side {
		return nil, fmt.Errorf("cyclegan: images %v, want [N, %d, %d, %d]", s, m.channels, m.side, m.side)
	}
	g := m.GAB
	if from == 1 {
		g = m.GBA
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.Forward(ag.Const(x)).Data() })
	return out, nil
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	// The split order is part of what a seed means: keep it.
	initRNG, fixedRNG, loaderRNG, loaderBRNG, poolARNG, poolBRNG := root.Split(), root.Split(), root.Split(), root.Split(), root.Split(), root.Split()
	if d.Images != nil {
		if d.B == nil {
			return nil, fmt.Errorf("data: model.kind cyclegan needs two domains (data.kind unpaired, mnist-thick or mnist-inverted), and data.kind %s has one", c.Data.Kind)
		}
		if sa, sb := d.Images.Shape(), d.B.Shape(); !tensor.SameShape(sa, sb) {
			return nil, fmt.Errorf("data: domain A's images are %v and B's %v: both domains need one shape", sa, sb)
		}
		if d.Images.Len() < c.Train.Batch || d.B.Len() < c.Train.Batch {
			return nil, fmt.Errorf("data: domains of %d and %d images, fewer than train.batch %d", d.Images.Len(), d.B.Len(), c.Train.Batch)
		}
	}
	gc := models.ResNetGeneratorConfig{Channels: d.Channels, Width: s.Width, Blocks: s.Blocks, Size: d.Size}
	dc := models.PatchGANConfig{Channels: d.Channels, Width: s.DWidth, Layers: s.DLayers, Norm: models.NormInstance, NormalInit: true}
	m := &Model{Cycle: s.Cycle, Identity: s.Identity * s.Cycle, channels: d.Channels, side: d.Size}
	var err error
	if m.GAB, err = models.NewResNetGenerator(gc, initRNG); err != nil {
		return nil, fmt.Errorf("generator A to B: %w", err)
	}
	if m.GBA, err = models.NewResNetGenerator(gc, initRNG); err != nil {
		return nil, fmt.Errorf("generator B to A: %w", err)
	}
	if m.DA, err = models.NewPatchGAN(dc, initRNG); err != nil {
		return nil, fmt.Errorf("discriminator A: %w", err)
	}
	if m.DB, err = models.NewPatchGAN(dc, initRNG); err != nil {
		return nil, fmt.Errorf("discriminator B: %w", err)
	}
	shape := []int{d.Channels, d.Size, d.Size}
	m.PoolA, m.PoolB = NewPool(s.Pool, shape, poolARNG), NewPool(s.Pool, shape, poolBRNG)
	gs := &pair{names: [2]string{"g_ab", "g_ba"}, nets: [2]nn.Module{m.GAB, m.GBA}}
	ds := &pair{names: [2]string{"d_a", "d_b"}, nets: [2]nn.Module{m.DA, m.DB}}
	pg, err := family.NewPlayer("g", gs, c.Train, c.Train.LRG, true)
	if err != nil {
		return nil, err
	}
	pd, err := family.NewPlayer("d", ds, c.Train, c.Train.LRD, false)
	if err != nil {
		return nil, err
	}
	start := int(s.DecayStart * float64(c.Train.Steps))
	if start < c.Train.Steps {
		pg.LR = optim.Linear{Base: c.Train.LRG, Start: start, End: c.Train.Steps, Final: 0}
		pd.LR = optim.Linear{Base: c.Train.LRD, Start: start, End: c.Train.Steps, Final: 0}
	}
	fm := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Translator:      m,
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{},
		Extras:          map[string]family.Extra{"pool_a": m.PoolA, "pool_b": m.PoolB},
	}
	if d.Images == nil {
		return fm, nil
	}
	// The loaders start goroutines: make them last, when nothing else can
	// fail.
	la, err := fm.StartLoader(d, c.Train.Batch, loaderRNG)
	if err != nil {
		return nil, err
	}
	lb, err := family.Data{Images: d.B}.Loader(c.Train.Batch, loaderBRNG)
	if err != nil {
		la.Close()
		return nil, err
	}
	fm.Extras["loader_b"] = family.LoaderExtra{L: lb}
	fm.Close = func() { la.Close(); lb.Close() }
	// One batch of each domain per step, drawn by the generator phase and
	// seen by the discriminator phase too (a loader keeps its batch valid
	// until its next draw).
	var a, b data.Batch
	fm.Phases = []gan.Phase{
		{Player: pg, Terms: func(int) []gan.Term {
			a, b = la.Next(), lb.Next()
			return m.GeneratorTerms(a.Images, b.Images)
		}},
		{Player: pd, Terms: func(int) []gan.Term { return m.DiscriminatorTerms(a.Images, b.Images) }},
	}
	return fm, nil
}
