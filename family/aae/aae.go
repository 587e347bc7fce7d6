// Package aae is the adversarial autoencoder (model.kind aae; Makhzani et
// al. 2015, "Adversarial Autoencoders", arXiv:1511.05644): a deterministic
// encoder q(z|x), a decoder p(x|z) and an adversary on the code, which
// tells codes drawn from a prior from codes of training images, so the
// aggregated posterior q(z) = E_x q(z|x) is matched to the prior and the
// decoder becomes a generator of it.
//
// Each training step runs, on one batch, the paper's two phases (sections
// 2 and 5): the reconstruction phase (player "ae": encoder and decoder on
// the reconstruction loss) and the regularisation phase (player "d": the
// code adversary on prior against encoded codes, n_critic times; then
// player "enc", the encoder alone, as the generator fooling it). With the
// categorical prior and model.labels, a third phase (player "semi", the
// encoder) minimises the cross-entropy of the encoder's class output y on
// the labelled digits (section 5, semi-supervised classification).
//
// Priors (model.prior): normal, N(0, I); mixture, model.classes Gaussians
// in the petal layout of the paper's figure 4 (see MixtureRadius);
// categorical, the encoder's softmax y over model.classes beside a style
// code z, with one adversary on y against one-hot Cat(classes) samples and
// one on z against N(0, I), and the decoder fed (y, z) (sections 5 and 6).
//
// Sampling decodes prior codes (family.Generator; the categorical and
// mixture models take a class or component per sample, family.Conditional),
// and the model encodes and reconstructs images (family.Encoder,
// family.Reconstructor); the categorical model classifies them by the
// argmax of y (family.Classifier).
package aae

import (
	"fmt"
	"math"
	"slices"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind aae.
type Section struct {
	// Prior is the code's prior: "normal" (default), "mixture" or
	// "categorical".
	Prior string `yaml:"prior"`
	// ZDim is the code's dimension (the style's, for the categorical
	// prior); default 8. The mixture prior needs at least 2.
	ZDim int `yaml:"z_dim"`
	// Classes is the number of mixture components or categories; default
	// 10 (the paper also clusters MNIST into 16 and 30).
	Classes int `yaml:"classes"`
	// Labels, when positive, makes a categorical run semi-supervised: that
	// many training digits (Labels/Classes of each class, chosen from the
	// seed) keep their labels, and a third phase per step trains y on their
	// cross-entropy. Default 0, unsupervised.
	Labels int `yaml:"labels"`
	// Hidden is the encoder's hidden widths (the decoder's are reversed)
	// and DHidden each adversary's, ReLU units; default 1000, 1000 for
	// all, the paper's MNIST networks.
	Hidden  []int `yaml:"hidden"`
	DHidden []int `yaml:"d_hidden"`
	// LRGen and LRSemi are the learning rates of the encoder's generator
	// update and of its semi-supervised update; default 0, meaning
	// train.lr_d and train.lr_g. The reconstruction phase uses train.lr_g,
	// the adversaries train.lr_d.
	LRGen  float32 `yaml:"lr_gen"`
	LRSemi float32 `yaml:"lr_semi"`
	// InputNoise is the standard deviation of Gaussian noise added to the
	// encoder's input intensities (in [0, 1]) in every training phase, a
	// regulariser for the semi-supervised encoder; default 0, none.
	InputNoise float32 `yaml:"input_noise"`
	// LabelShift, when positive, translates each labelled digit by a random
	// offset of up to that many pixels in each direction every time the
	// semi-supervised phase sees it (data.Shift), so 100 labels do not
	// become 100 memorised images; default 0, none. Not in the paper.
	LabelShift int `yaml:"label_shift"`
}

// Defaults returns the section's defaults.
func Defaults() Section {
	return Section{Prior: "normal", ZDim: 8, Classes: 10, Hidden: []int{1000, 1000}, DHidden: []int{1000, 1000}}
}

func init() {
	family.Register(family.Family{
		Name:       "aae",
		Summary:    "adversarial autoencoder (Makhzani et al. 2015): normal, mixture or categorical prior, semi-supervised with labels",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config: image data, the prior,
// the widths, the labels and the loss.
func (s *Section) Validate(c config.Config) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: aae needs image data, and data.kind is %s (use mnist, stacked-mnist, folder or synthetic)", c.Data.Kind)
	}
	switch s.Prior {
	case "normal", "mixture", "categorical":
	default:
		return fmt.Errorf("model.prior: %q (want normal, mixture or categorical)", s.Prior)
	}
	if s.ZDim <= 0 {
		return fmt.Errorf("model.z_dim: %d (want a positive code dimension, such as 8)", s.ZDim)
	}
	if s.Prior == "mixture" && s.ZDim < 2 {
		return fmt.Errorf("model.z_dim: %d, but the mixture prior lays its components out in the first two coordinates (want at least 2)", s.ZDim)
	}
	if s.Prior != "normal" && s.Classes < 2 {
		return fmt.Errorf("model.classes: %d (want at least 2 components or categories, such as 10)", s.Classes)
	}
	for _, w := range []struct {
		name string
		ws   []int
	}{{"hidden", s.Hidden}, {"d_hidden", s.DHidden}} {
		if len(w.ws) == 0 {
			return fmt.Errorf("model.%s: empty (want at least one width, such as [1000, 1000])", w.name)
		}
		for _, h := range w.ws {
			if h <= 0 {
				return fmt.Errorf("model.%s: width %d must be positive", w.name, h)
			}
		}
	}
	if s.Labels < 0 {
		return fmt.Errorf("model.labels: %d (want 0 for unsupervised or a number of labelled digits such as 100)", s.Labels)
	}
	if s.Labels > 0 {
		if s.Prior != "categorical" {
			return fmt.Errorf("model.labels: %d, but only the categorical prior has a class output to supervise (set model.prior: categorical)", s.Labels)
		}
		if s.Labels%s.Classes != 0 {
			return fmt.Errorf("model.labels: %d is not a multiple of model.classes %d (the labelled digits are balanced over the classes)", s.Labels, s.Classes)
		}
	}
	if s.LRGen < 0 || s.LRSemi < 0 {
		return fmt.Errorf("model.lr_gen/lr_semi: %g, %g (want 0 for the train: rates, or a positive rate)", s.LRGen, s.LRSemi)
	}
	if s.LabelShift < 0 || s.LabelShift > 4 {
		return fmt.Errorf("model.label_shift: %d (want 0 for none or a shift in pixels from 1 to 4, such as 2)", s.LabelShift)
	}
	if s.LabelShift > 0 && s.Labels == 0 {
		return fmt.Errorf("model.label_shift: %d, but there are no labelled digits to shift (set model.labels)", s.LabelShift)
	}
	if s.InputNoise < 0 {
		return fmt.Errorf("model.input_noise: %g (want 0 for none or a standard deviation such as 0.3)", s.InputNoise)
	}
	if c.Loss.Penalty != "" || c.Loss.InstanceNoise > 0 {
		return fmt.Errorf("loss.penalty/instance_noise: not available for model.kind aae (its adversaries see codes; leave them out)")
	}
	if c.Train.ClipD > 0 || c.Train.ReuseFake || c.Train.GSteps > 1 {
		return fmt.Errorf("train.clip_d/reuse_fake/g_steps: not available for model.kind aae (leave them out)")
	}
	obj, _, _, err := family.Loss(c)
	if err != nil {
		return err
	}
	if obj.Critic {
		return fmt.Errorf("loss.name: %s is a critic loss that needs a Lipschitz constraint, which model.kind aae's adversaries lack (use ns, the paper's)", c.Loss.Name)
	}
	return family.CheckNoTricks(c, "aae")
}

func (s *Section) spec() priorSpec { return priorSpec{kind: s.Prior, dim: s.ZDim, classes: s.Classes} }

// net is the encoder and decoder, listed as "enc" and "dec": the "ae"
// player's module and the one that sampling loads.
type net struct {
	enc, dec *nn.Sequential
}

func (n *net) children() nn.Children {
	return nn.Children{{Name: "enc", Module: n.enc}, {Name: "dec", Module: n.dec}}
}

// Params lists the encoder's then the decoder's parameters.
func (n *net) Params(p string) []nn.Param { return n.children().Params(p) }

// Buffers lists the networks' buffers (none for the MLPs).
func (n *net) Buffers(p string) []nn.Buffer { return n.children().Buffers(p) }

// SetTraining sets both networks' mode.
func (n *net) SetTraining(on bool) { n.children().SetTraining(on) }

// critics is the adversaries on the code, listed as "code" (on the code,
// or the categorical prior's style) and "cat" (on y; categorical only).
type critics struct {
	code, cat *nn.Sequential
}

func (c *critics) children() nn.Children {
	return nn.Children{{Name: "code", Module: c.code}, {Name: "cat", Module: c.cat}}
}

// Params lists the adversaries' parameters.
func (c *critics) Params(p string) []nn.Param { return c.children().Params(p) }

// Buffers lists the adversaries' buffers (none).
func (c *critics) Buffers(p string) []nn.Buffer { return c.children().Buffers(p) }

// SetTraining sets the adversaries' mode.
func (c *critics) SetTraining(on bool) { c.children().SetTraining(on) }

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	// The split order is part of what a seed means: keep it.
	initRNG, gameRNG, fixedRNG, loaderRNG, labelRNG := root.Split(), root.Split(), root.Split(), root.Split(), root.Split()
	spec := s.spec()
	px := d.Channels * d.Size * d.Size
	codeIn := s.ZDim
	encOut := s.ZDim
	if s.Prior == "categorical" {
		codeIn += s.Classes
		encOut += s.Classes
	}
	enc, err := models.NewMLP(models.MLPConfig{In: px, Out: encOut, Hidden: s.Hidden, Act: "relu"}, initRNG)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	rev := slices.Clone(s.Hidden)
	slices.Reverse(rev)
	dec, err := models.NewMLP(models.MLPConfig{In: codeIn, Out: px, Hidden: rev, Act: "relu"}, initRNG)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if d.Images != nil {
		// The untrained decoder decodes every code to the mean image.
		out := dec.Layers[len(dec.Layers)-1].(*nn.Linear)
		copy(out.Bias.Data().Data(), meanLogits(d.Images.Images))
	}
	crit := &critics{}
	if crit.code, err = models.NewMLP(models.MLPConfig{In: s.ZDim, Out: 1, Hidden: s.DHidden, Act: "relu"}, initRNG); err != nil {
		return nil, fmt.Errorf("code adversary: %w", err)
	}
	if s.Prior == "categorical" {
		if crit.cat, err = models.NewMLP(models.MLPConfig{In: s.Classes, Out: 1, Hidden: s.DHidden, Act: "relu"}, initRNG); err != nil {
			return nil, fmt.Errorf("category adversary: %w", err)
		}
	}
	obj, _, _, err := family.Loss(c)
	if err != nil {
		return nil, err
	}
	ae := &net{enc: enc, dec: dec}
	core := &model{net: ae, critics: crit, spec: spec, channels: d.Channels, size: d.Size, obj: obj, noise: s.InputNoise}
	pAE, err := family.NewPlayer("ae", ae, c.Train, c.Train.LRG, true)
	if err != nil {
		return nil, err
	}
	pD, err := family.NewPlayer("d", crit, c.Train, c.Train.LRD, false)
	if err != nil {
		return nil, err
	}
	lrGen := s.LRGen
	if lrGen == 0 {
		lrGen = c.Train.LRD
	}
	pEnc, err := family.NewPlayer("enc", enc, c.Train, lrGen, false)
	if err != nil {
		return nil, err
	}
	players := []*gan.Player{pAE, pD, pEnc}
	var pSemi *gan.Player
	if s.Labels > 0 {
		lrSemi := s.LRSemi
		if lrSemi == 0 {
			lrSemi = c.Train.LRG
		}
		if pSemi, err = family.NewPlayer("semi", enc, c.Train, lrSemi, false); err != nil {
			return nil, err
		}
		players = append(players, pSemi)
	}
	m := &family.Model{
		Players:         players,
		GeneratorPlayer: pAE,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
		Extras:          map[string]family.Extra{},
	}
	switch s.Prior {
	case "categorical":
		m.Generator = &categorical{core}
	case "mixture":
		m.Generator = &mixture{core}
	default:
		m.Generator = core
	}
	if d.Images == nil {
		return m, nil
	}
	var lx *tensor.Tensor
	var ly []int
	if s.Labels > 0 {
		if d.Images.Labels == nil || d.Classes != s.Classes {
			return nil, fmt.Errorf("model.labels: %d labelled digits need a data set with model.classes = %d classes (data.kind %s has %d)", s.Labels, s.Classes, c.Data.Kind, d.Classes)
		}
		idx, err := LabelledSubset(d.Images.Labels, s.Classes, s.Labels, labelRNG)
		if err != nil {
			return nil, err
		}
		lx = tensor.New(len(idx), d.Channels, d.Size, d.Size)
		for j, i := range idx {
			img, y := d.Images.Get(i)
			copy(lx.Data()[j*px:(j+1)*px], img)
			ly = append(ly, y)
		}
	}
	// The loader starts a goroutine: make it last, when nothing can fail.
	loader, err := m.StartLoader(d, c.Train.Batch, loaderRNG)
	if err != nil {
		return nil, err
	}
	// One batch per step, drawn by the reconstruction phase and seen by
	// the regularisation phase too (the loader keeps it valid until the
	// next draw).
	var batch *tensor.Tensor
	m.Phases = []gan.Phase{
		{Player: pAE, Terms: func(int) []gan.Term {
			batch = loader.Next().Images
			return core.ReconTerms(batch, gameRNG)
		}},
		{Player: pD, Repeat: c.Train.NCritic, Terms: func(int) []gan.Term { return core.CriticTerms(batch, gameRNG) }},
		{Player: pEnc, Terms: func(int) []gan.Term { return core.GeneratorTerms(batch, gameRNG) }},
	}
	if pSemi != nil {
		semiBatch := min(c.Train.Batch, len(ly))
		m.Phases = append(m.Phases, gan.Phase{Player: pSemi, Terms: func(int) []gan.Term {
			x, y := lx, ly
			if semiBatch < len(ly) {
				perm := gameRNG.Perm(len(ly))[:semiBatch]
				x = tensor.New(semiBatch, d.Channels, d.Size, d.Size)
				y = make([]int, semiBatch)
				for j, i := range perm {
					copy(x.Data()[j*px:(j+1)*px], lx.Data()[i*px:(i+1)*px])
					y[j] = ly[i]
				}
			}
			if s.LabelShift > 0 {
				shifted := tensor.New(x.Shape()...)
				data.Shift(shifted.Data(), x.Data(), x.Size(0), d.Channels, d.Size, s.LabelShift, gameRNG)
				x = shifted
			}
			return core.SemiTerms(x, y, gameRNG)
		}})
	}
	return m, nil
}

// meanLogits returns the logit of each pixel's mean intensity (x + 1) / 2
// over the images [N, C, H, W], clamped to [1e-3, 1 - 1e-3]: the decoder's
// starting output bias.
func meanLogits(x *tensor.Tensor) []float32 {
	n := x.Size(0)
	px := x.Len() / n
	sum := make([]float64, px)
	for i, v := range x.Data() {
		sum[i%px] += (float64(v) + 1) / 2
	}
	out := make([]float32, px)
	for j, v := range sum {
		p := min(max(v/float64(n), 1e-3), 1-1e-3)
		out[j] = float32(math.Log(p / (1 - p)))
	}
	return out
}

// model is the AAE with the normal prior, and the core of the others: its
// networks, its prior and the terms of each phase.
type model struct {
	net            *net
	critics        *critics
	spec           priorSpec
	channels, size int
	obj            gan.Objective
	noise          float32
}

// input maps images [N, C, H, W] in [-1, 1] to the encoder's input
// [N, C*H*W]: intensities (x + 1) / 2 in [0, 1], plus N(0, noise^2) drawn
// from rng when noise > 0 and rng is set.
func (m *model) input(x *tensor.Tensor, noise float32, rng *tensor.RNG) *tensor.Tensor {
	n := x.Size(0)
	in := tensor.New(n, x.Len()/n)
	d := in.Data()
	for i, v := range x.Data() {
		d[i] = min(max((v+1)/2, 0), 1)
	}
	if noise > 0 && rng != nil {
		e := rng.Normal(0, noise, n, x.Len()/n).Data()
		for i := range d {
			d[i] += e[i]
		}
	}
	return in
}

// encode maps the encoder's input to its raw output and the decoder's
// input: the code, or for the categorical prior (softmax(y logits), style).
// logits is the categorical prior's y logits [N, classes] (nil otherwise),
// style the code or the style [N, z_dim].
func (m *model) encode(in *ag.Value) (code, logits, style *ag.Value) {
	h := m.net.enc.Forward(in)
	if m.spec.kind != "categorical" {
		return h, nil, h
	}
	k := m.spec.classes
	logits = ag.Slice(h, 1, 0, k)
	style = ag.Slice(h, 1, k, k+m.spec.dim)
	return ag.Concat([]*ag.Value{ag.Softmax(logits, 1), style}, 1), logits, style
}

// ReconstructionLoss is the reconstruction phase's loss: the binary
// cross-entropy of the decoder's logits l [N, P] against the images'
// intensities x [N, P] in [0, 1], summed over pixels and averaged over the
// batch, in nats per image:
//
//	L = 1/N sum_i sum_j softplus(l_ij) - x_ij l_ij
//	  = 1/N sum_i sum_j -x_ij log sigmoid(l_ij) - (1 - x_ij) log sigmoid(-l_ij)
//
// dL/dl = (sigmoid(l) - x) / N. It panics if the shapes differ.
func ReconstructionLoss(logits, x *ag.Value) *ag.Value {
	per := ag.Sum(ag.Sub(ag.Softplus(logits), ag.Mul(x, logits)), []int{1}, false)
	return ag.Mean(per, nil, false)
}

// ReconTerms is the reconstruction phase on images x [B, C, H, W] in
// [-1, 1]: "recon", ReconstructionLoss of the decoded codes.
func (m *model) ReconTerms(x *tensor.Tensor, rng *tensor.RNG) []gan.Term {
	code, _, _ := m.encode(ag.Const(m.input(x, m.noise, rng)))
	target := ag.Const(m.input(x, 0, nil))
	return []gan.Term{{Name: "recon", Value: ReconstructionLoss(m.net.dec.Forward(code), target)}}
}

// adversaries pairs each adversary with the encoded and prior codes it
// sees: ("code", D, encoded, prior) for normal and mixture; ("cat", D_y,
// softmax y, one-hot) then ("style", D_z, style, N(0, I)) for categorical.
// Prior codes are drawn from rng (after any input noise).
func (m *model) adversaries(x *tensor.Tensor, rng *tensor.RNG, grad bool) []adversary {
	in := m.input(x, m.noise, rng)
	var code, style *ag.Value
	run := func() {
		c, _, s := m.encode(ag.Const(in))
		code, style = c, s
	}
	if grad {
		run()
	} else {
		ag.NoGrad(run)
		code, style = ag.Const(code.Data()), ag.Const(style.Data())
	}
	pc, ps := m.spec.Sample(rng, x.Size(0))
	if m.spec.kind != "categorical" {
		return []adversary{{"code", m.critics.code, code, ag.Const(pc)}}
	}
	y := ag.Slice(code, 1, 0, m.spec.classes)
	return []adversary{{"cat", m.critics.cat, y, ag.Const(pc)}, {"style", m.critics.code, style, ag.Const(ps)}}
}

// adversary is one adversary and the codes it tells apart.
type adversary struct {
	name           string
	d              *nn.Sequential
	encoded, prior *ag.Value
}

// CriticTerms is the adversaries' update: for each adversary, the
// objective's discriminator loss with the prior's codes as real and the
// encoded codes of x as fake ("code", or "cat" and "style"); the encoder
// runs without gradients.
func (m *model) CriticTerms(x *tensor.Tensor, rng *tensor.RNG) []gan.Term {
	var ts []gan.Term
	for _, a := range m.adversaries(x, rng, false) {
		ts = append(ts, gan.Term{Name: a.name, Value: m.obj.D(a.d.Forward(a.prior), a.d.Forward(a.encoded))})
	}
	return ts
}

// GeneratorTerms is the encoder's regularisation update: for each
// adversary, the objective's generator loss on the encoded codes of x (the
// non-saturating -log D(q(z|x)) under loss ns).
func (m *model) GeneratorTerms(x *tensor.Tensor, rng *tensor.RNG) []gan.Term {
	var ts []gan.Term
	for _, a := range m.adversaries(x, rng, true) {
		var real *ag.Value
		if m.obj.GUsesReal {
			real = a.d.Forward(a.prior)
		}
		ts = append(ts, gan.Term{Name: a.name, Value: m.obj.G(real, a.d.Forward(a.encoded))})
	}
	return ts
}

// SemiTerms is the semi-supervised update on labelled images x [L, C, H,
// W] with labels y: "xent", the cross-entropy of the encoder's y logits
// (gan.CrossEntropyLoss).
func (m *model) SemiTerms(x *tensor.Tensor, y []int, rng *tensor.RNG) []gan.Term {
	_, logits, _ := m.encode(ag.Const(m.input(x, m.noise, rng)))
	return []gan.Term{{Name: "xent", Value: gan.CrossEntropyLoss(logits, y)}}
}

// Decoder returns the network mapping codes [N, D] to per-pixel logits
// [N, C*H*W] (samples are 2 sigmoid(logits) - 1 as images), and its state
// names' prefix in the player's module, for the ONNX exporter. The normal
// prior's code is the noise; the mixture and categorical priors map the
// noise and a class to it first (CodePrior).
func (m *model) Decoder() (nn.Layer, string, error) { return m.net.dec, "dec", nil }

// CodePrior returns model.prior (normal, mixture or categorical), the
// code's (or style's) dimension z_dim and the number of components or
// categories, for the ONNX exporter: with a class k per row and the first
// z_dim noise coordinates e, the mixture's code is e placed in petal k
// (MixtureRadius, MixtureRadialStd, MixtureTangentStd; the first two
// coordinates rotated by 2 pi k / classes) and the categorical one is
// [one-hot k, e].
func (m *model) CodePrior() (kind string, dim, classes int) {
	return m.spec.kind, m.spec.dim, m.spec.classes
}

// Prior is the generator's noise: N(0, I) of z_dim, plus one coordinate
// choosing the component or category for the mixture and categorical
// priors (see priorSpec.FromNoise).
func (m *model) Prior() gan.Prior { return gan.Prior{Kind: "normal", Dim: m.spec.noiseDim()} }

// Generate decodes the prior codes of noise z [N, Prior().Dim] (a class or
// component per row in req.Labels, for the categorical and mixture
// priors) to the decoder's mean, images in [-1, 1].
func (m *model) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if err := family.NoCodes(req, "aae"); err != nil {
		return nil, err
	}
	if req.Labels != nil {
		if m.spec.kind == "normal" {
			return nil, fmt.Errorf("aae: labels given to the normal prior's unconditional generator (model.prior mixture or categorical take a class)")
		}
		if err := family.CheckLabels(req, "aae", z.Size(0), m.spec.classes); err != nil {
			return nil, err
		}
	}
	code, style, err := m.spec.FromNoise(z, req.Labels)
	if err != nil {
		return nil, err
	}
	if style != nil {
		code = tensor.Concat([]*tensor.Tensor{code, style}, 1)
	}
	return m.decode(code), nil
}

// decode maps decoder inputs [N, D] to images in [-1, 1].
func (m *model) decode(code *tensor.Tensor) *tensor.Tensor {
	var out *tensor.Tensor
	ag.NoGrad(func() {
		out = ag.AddScalar(ag.Scale(ag.Sigmoid(m.net.dec.Forward(ag.Const(code))), 2), -1).Data()
	})
	return tensor.Reshape(out, code.Size(0), m.channels, m.size, m.size)
}

// checkImages reports images of a shape other than the model's.
func (m *model) checkImages(x *tensor.Tensor) error {
	if x.Dim() != 4 || x.Size(1) != m.channels || x.Size(2) != m.size || x.Size(3) != m.size {
		return fmt.Errorf("aae: images of shape %v, want [N %d %d %d]", x.Shape(), m.channels, m.size, m.size)
	}
	return nil
}

// EncoderGraph implements family.EncoderNet: the encoder "enc" on the
// images' intensities in [0, 1] as rows, and for the categorical prior
// the softmax of y beside the style.
func (m *model) EncoderGraph() (family.EncoderGraph, error) {
	g := family.EncoderGraph{Net: m.net.enc, Prefix: "enc", Input: family.InputUnitFlat, Code: family.CodeRaw, Dim: m.spec.dim}
	if m.spec.kind == "categorical" {
		g.Code, g.Classes = family.CodeCategorical, m.spec.classes
	}
	return g, nil
}

// Encode implements family.Encoder: each image's code, or for the
// categorical prior (softmax y, style), [N, classes + z_dim].
func (m *model) Encode(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := m.checkImages(x); err != nil {
		return nil, err
	}
	var code *tensor.Tensor
	ag.NoGrad(func() {
		c, _, _ := m.encode(ag.Const(m.input(x, 0, nil)))
		code = c.Data()
	})
	return code, nil
}

// Reconstruct implements family.Reconstructor: images x [N, C, H, W] in
// [-1, 1] encoded and decoded to the decoder's mean, in [-1, 1].
func (m *model) Reconstruct(x *tensor.Tensor) (*tensor.Tensor, error) {
	code, err := m.Encode(x)
	if err != nil {
		return nil, err
	}
	return m.decode(code), nil
}

// mixture is the AAE with the mixture prior: a class is a component.
type mixture struct{ *model }

// Classes is the number of mixture components.
func (m *mixture) Classes() int { return m.spec.classes }

// categorical is the AAE with the categorical prior: a class is a value of
// y, and the model classifies images.
type categorical struct{ *model }

// Classes is the number of categories of y.
func (m *categorical) Classes() int { return m.spec.classes }

// Classify implements family.Classifier: the argmax of y for each image of
// x [N, C, H, W] in [-1, 1].
func (m *categorical) Classify(x *tensor.Tensor) ([]int, error) {
	if err := m.checkImages(x); err != nil {
		return nil, err
	}
	var logits *tensor.Tensor
	ag.NoGrad(func() {
		_, l, _ := m.encode(ag.Const(m.input(x, 0, nil)))
		logits = l.Data()
	})
	k := m.spec.classes
	out := make([]int, x.Size(0))
	for i := range out {
		row := logits.Data()[i*k : (i+1)*k]
		for j, v := range row {
			if v > row[out[i]] {
				out[i] = j
			}
		}
	}
	return out, nil
}

// LabelCount is the number of labelled training digits, 0 for an
// unsupervised run (kallima eval -classify reports it).
func (s *Section) LabelCount() int { return s.Labels }
