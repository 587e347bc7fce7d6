// Package stargan is the StarGAN family (model.kind stargan; Choi et al.
// 2018, "StarGAN: Unified Generative Adversarial Networks for Multi-Domain
// Image-to-Image Translation", arXiv:1711.09020): one generator translates
// an image to any of K domains, given the target domain as extra input
// channels, and one discriminator has two heads, a PatchGAN real/fake map
// and a domain classifier (models.StarGenerator and StarDiscriminator).
//
// The domains are the data's labels: data.kind mnist-width (thin, normal
// and thick strokes), a folder with one subfolder per domain, or any
// labelled set. Each training step runs train.n_critic updates of D (the
// paper's 5), then one of G, on the terms of the paper's equations (1) to
// (4) and section 3.2: with x a real batch, c its domains, c' target
// domains (the batch's own domains in an order drawn from the game stream,
// as the authors' code does) and G(x, c') the translations,
//
//	D: L_adv(D(x), D(G(x, c'))) + penalty + lambda_cls * CE(D_cls(x), c)
//	G: L_adv^G(D(G(x, c'))) + lambda_cls * CE(D_cls(G(x, c')), c')
//	     + lambda_rec * mean |x - G(G(x, c'), c)|
//
// L_adv and the penalty are the loss: section's (the paper's WGAN-GP:
// loss.name wgan, loss.penalty gp, penalty_weight 10, on the mean of D's
// patch scores), CE is the cross-entropy of D's domain logits, and G's
// update sees the batch and targets of D's last update, as in the authors'
// code. The model translates (family.Translator) with G's weights (its
// EMA when the run keeps one).
package stargan

import (
	"fmt"
	"slices"
	"strconv"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind stargan. The defaults are the
// paper's networks (appendix 7.2) and loss weights.
type Section struct {
	// GWidth is G's first layer's channels (default 64); G has 4 GWidth
	// channels at a quarter of the image side, in Blocks residual blocks
	// (default 6).
	GWidth int `yaml:"g_width"`
	Blocks int `yaml:"blocks"`
	// DWidth is D's first layer's channels (default 64), doubling at each
	// of its DLayers stride-2 layers. DLayers 0 (the default) means as
	// many as leave D's last maps at least 2x2: 3 at 28x28 (28, 14, 7 to
	// 3x3), 6 at 128x128 (to 2x2, the paper's).
	DWidth  int `yaml:"d_width"`
	DLayers int `yaml:"d_layers"`
	// LambdaCls weighs the domain classification terms (default 1) and
	// LambdaRec the reconstruction (default 10), the paper's values.
	LambdaCls float32 `yaml:"lambda_cls"`
	LambdaRec float32 `yaml:"lambda_rec"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{GWidth: 64, Blocks: 6, DWidth: 64, LambdaCls: 1, LambdaRec: 10}
}

func init() {
	family.Register(family.Family{
		Name:       "stargan",
		Summary:    "StarGAN (Choi et al. 2018): one generator translating images between the data's domains (labels)",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config: image data whose side is
// a multiple of 4, positive widths, D's layer count, the weights and the
// loss.
func (s *Section) Validate(c config.Config) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: stargan needs image data with a domain per image, and data.kind is %s (use mnist-width, folder with one subfolder per domain, or synthetic)", c.Data.Kind)
	}
	ch, side := c.ImageShape()
	if side < 4 || side%4 != 0 {
		return fmt.Errorf("data.size: %d: StarGAN's generator halves the side twice (want a multiple of 4, such as 28 or 128)", side)
	}
	switch {
	case s.GWidth <= 0:
		return fmt.Errorf("model.g_width: %d (want a positive channel count; 64 is the paper's)", s.GWidth)
	case s.DWidth <= 0:
		return fmt.Errorf("model.d_width: %d (want a positive channel count; 64 is the paper's)", s.DWidth)
	case s.Blocks < 0:
		return fmt.Errorf("model.blocks: %d (want 0 or more residual blocks; 6 is the paper's)", s.Blocks)
	case s.DLayers < 0:
		return fmt.Errorf("model.d_layers: %d (want 0 for as many as leave 2x2 maps, or a count)", s.DLayers)
	case !(s.LambdaCls >= 0) || !(s.LambdaRec >= 0):
		return fmt.Errorf("model.lambda_cls/lambda_rec: %g, %g (want weights of at least 0; the paper's are 1 and 10)", s.LambdaCls, s.LambdaRec)
	}
	if err := s.networks(ch, side, 2).Validate(); err != nil {
		return fmt.Errorf("model.d_layers: %w", err)
	}
	if err := family.CheckLoss(c); err != nil {
		return err
	}
	obj, _, _, err := family.Loss(c)
	if err != nil {
		return err
	}
	switch {
	case obj.Critic && c.Loss.Penalty == "" && c.Train.ClipD == 0:
		return fmt.Errorf("loss.penalty: loss %s is a critic loss that needs a Lipschitz constraint (set loss.penalty: gp and loss.penalty_weight: 10, the paper's WGAN-GP)", c.Loss.Name)
	case c.Loss.InstanceNoise > 0:
		return fmt.Errorf("loss.instance_noise: not available for model.kind stargan (leave it out)")
	case c.Train.ReuseFake:
		return fmt.Errorf("train.reuse_fake: not available for model.kind stargan (G's update translates D's last batch anew; leave it out)")
	}
	return family.CheckNoTricks(c, "stargan")
}

// Objective implements config.Objectiver: the loss: section is the
// adversarial part only.
func (s *Section) Objective() string {
	return fmt.Sprintf("adversarial (loss: section) + %g x domain cross-entropy + %g x L1 reconstruction", s.LambdaCls, s.LambdaRec)
}

// dLayers returns the section's D layer count for images of side: DLayers,
// or as many halvings as leave the side at least 2.
func (s *Section) dLayers(side int) int {
	if s.DLayers > 0 {
		return s.DLayers
	}
	n := 0
	for side/2 >= 2 {
		side /= 2
		n++
	}
	return max(n, 1)
}

// networks returns the networks' config for images [ch, side, side] in k
// domains.
func (s *Section) networks(ch, side, k int) models.StarGANConfig {
	return models.StarGANConfig{Size: side, Channels: ch, Domains: k, GWidth: s.GWidth, Blocks: s.Blocks, DWidth: s.DWidth, DLayers: s.dLayers(side)}
}

// DomainNames returns the names of d's k domains: d.ClassNames, else the
// image set's class names, when there are k of them; else "0" .. "k-1".
func DomainNames(d family.Data, k int) []string {
	if len(d.ClassNames) == k {
		return slices.Clone(d.ClassNames)
	}
	if d.Images != nil && len(d.Images.Classes) == k {
		return slices.Clone(d.Images.Classes)
	}
	names := make([]string, k)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	if d.Classes < 2 {
		return nil, fmt.Errorf("data: %d domains: StarGAN needs images labelled with at least 2 domains (data.kind mnist-width, or a folder with one subfolder per domain)", d.Classes)
	}
	// The split order is part of what a seed means: keep it.
	initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
	nets := s.networks(d.Channels, d.Size, d.Classes)
	g, err := models.NewStarGenerator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewStarDiscriminator(nets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("discriminator: %w", err)
	}
	obj, penalty, _, err := family.Loss(c)
	if err != nil {
		return nil, err
	}
	pg, pd, err := family.GANPlayers(c.Train, g, dnet)
	if err != nil {
		return nil, err
	}
	m := &family.Model{
		Players:         []*gan.Player{pg, pd},
		Translator:      &translator{g: g, names: DomainNames(d, d.Classes)},
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	loader, err := m.StartLoader(d, c.Train.Batch, loaderRNG)
	if err != nil || loader == nil {
		return m, err
	}
	game := &Game{G: g, D: dnet, Objective: obj, Penalty: penalty, LambdaCls: s.LambdaCls, LambdaRec: s.LambdaRec, RNG: gameRNG,
		Real: func() (*tensor.Tensor, []int) { b := loader.Next(); return b.Images, b.Labels }}
	m.Phases = gan.TwoPlayer(game, pg, pd, c.Train.NCritic, c.Train.GSteps)
	return m, nil
}

// Game is StarGAN's training game (see the package comment): Discriminator
// Terms draws a real batch and its target domains, GeneratorTerms
// translates the same batch (that of D's last update in the step).
type Game struct {
	G *models.StarGenerator
	D *models.StarDiscriminator
	// Objective and Penalty are the adversarial loss on D's patch map.
	Objective gan.Objective
	Penalty   gan.Penalty
	// LambdaCls and LambdaRec weigh the domain and reconstruction terms.
	LambdaCls, LambdaRec float32
	// Real draws a batch of real images and their domains.
	Real func() (*tensor.Tensor, []int)
	// RNG draws the target domains and the penalty's points.
	RNG *tensor.RNG

	x        *tensor.Tensor // the last real batch
	org, trg []int          // its domains and target domains
}

// Term names, as they appear in the logs ("d/cls", "g/rec").
const (
	TermCls = "cls"
	TermRec = "rec"
)

// Targets returns the target domains of a batch with domains org: org in
// an order drawn from rng (a random permutation, as the authors' code
// draws them), so the targets follow the data's domain frequencies.
func Targets(org []int, rng *tensor.RNG) []int {
	trg := make([]int, len(org))
	for i, j := range rng.Perm(len(org)) {
		trg[i] = org[j]
	}
	return trg
}

// critic is D's real/fake map as a gan.Critic.
func (g *Game) critic(x *ag.Value) *ag.Value {
	src, _ := g.D.Forward(x)
	return src
}

// DiscriminatorTerms draws a real batch x with domains c and targets c',
// and returns the adversarial loss of D's maps on x and on G(x, c')
// (translated without gradients), the penalty (when set), and "cls",
// lambda_cls * CE(D_cls(x), c).
func (g *Game) DiscriminatorTerms(int) []gan.Term {
	x, org := g.Real()
	g.x, g.org, g.trg = x, org, Targets(org, g.RNG)
	var fake *tensor.Tensor
	ag.NoGrad(func() { fake = g.G.Forward(ag.Const(x), g.trg).Data() })
	srcReal, clsReal := g.D.Forward(ag.Const(x))
	srcFake, _ := g.D.Forward(ag.Const(fake))
	terms := []gan.Term{{Name: g.Objective.Name, Value: g.Objective.D(srcReal, srcFake)}}
	if g.Penalty.Kind != "" {
		terms = append(terms, gan.Term{Name: g.Penalty.Kind, Value: g.Penalty.Term(g.critic, x, fake, g.RNG)})
	}
	return append(terms, gan.Term{Name: TermCls, Value: ag.Scale(gan.CrossEntropyLoss(clsReal, org), g.LambdaCls)})
}

// GeneratorTerms translates D's last batch x to its targets c' and back
// and returns the adversarial loss of D's maps on G(x, c'), "cls",
// lambda_cls * CE(D_cls(G(x, c')), c'), and "rec", lambda_rec *
// ReconstructionLoss(x, G(G(x, c'), c)).
func (g *Game) GeneratorTerms(int) []gan.Term {
	if g.x == nil {
		panic("stargan.Game: GeneratorTerms before any DiscriminatorTerms")
	}
	x := ag.Const(g.x)
	fake := g.G.Forward(x, g.trg)
	srcFake, clsFake := g.D.Forward(fake)
	var srcReal *ag.Value
	if g.Objective.GUsesReal {
		srcReal, _ = g.D.Forward(x)
	}
	rec := g.G.Forward(fake, g.org)
	return []gan.Term{
		{Name: g.Objective.Name, Value: g.Objective.G(srcReal, srcFake)},
		{Name: TermCls, Value: ag.Scale(gan.CrossEntropyLoss(clsFake, g.trg), g.LambdaCls)},
		{Name: TermRec, Value: ag.Scale(ReconstructionLoss(x, rec), g.LambdaRec)},
	}
}

// ReconstructionLoss is StarGAN's cycle term (equation 3): the mean
// absolute difference over every element of x and its reconstruction r
// (same shape), mean |x - r|. Its gradient with respect to r is
// sign(r - x) / n (0 where they are equal). It panics if the shapes
// differ.
func ReconstructionLoss(x, r *ag.Value) *ag.Value {
	if !tensor.SameShape(x.Shape(), r.Shape()) {
		panic(fmt.Sprintf("stargan.ReconstructionLoss: shapes %v and %v", x.Shape(), r.Shape()))
	}
	return ag.Mean(ag.Abs(ag.Sub(x, r)), nil, false)
}

// translator is the family's Translator.
type translator struct {
	g     *models.StarGenerator
	names []string
}

// Domains names the domains in label order.
func (t *translator) Domains() []string { return slices.Clone(t.names) }

// Module returns the generator, for writers of other formats (package
// onnx).
func (t *translator) Module() *models.StarGenerator { return t.g }

// Shape is [Channels, Size, Size].
func (t *translator) Shape() []int {
	c := t.g.Config()
	return []int{c.Channels, c.Size, c.Size}
}

// Translate maps x [N, C, H, W] in [-1, 1] to domain to. StarGAN's
// generator reads only the target, but from must name a domain too; a
// domain outside the model's or x of another shape is an error.
func (t *translator) Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error) {
	k := len(t.names)
	for _, dom := range []struct {
		name string
		v    int
	}{{"source", from}, {"target", to}} {
		if dom.v < 0 || dom.v >= k {
			return nil, fmt.Errorf("stargan: %s domain %d out of range: the model has %d domains (%s)", dom.name, dom.v, k, domainList(t.names))
		}
	}
	want := t.Shape()
	if s := x.Shape(); len(s) != 4 || s[1] != want[0] || s[2] != want[1] || s[3] != want[2] {
		return nil, fmt.Errorf("stargan: images of shape %v, want [N %d %d %d]", s, want[0], want[1], want[2])
	}
	targets := make([]int, x.Size(0))
	for i := range targets {
		targets[i] = to
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = t.g.Forward(ag.Const(x), targets).Data() })
	return out, nil
}

// domainList is "0 thin, 1 normal, 2 thick".
func domainList(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(i) + " " + n
	}
	return s
}
