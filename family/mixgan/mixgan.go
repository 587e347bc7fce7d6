// Package mixgan is the MIX+GAN family (model.kind mixgan; Arora, Ge, Liang,
// Ma & Zhang 2017, "Generalization and Equilibrium in Generative Adversarial
// Nets (GANs)", arXiv:1703.00573, section 4): K generators G_1 .. G_K and K
// discriminators D_1 .. D_K, each side with learnt mixture weights (the
// softmax of a logit per component), playing the mixed payoff
//
//	sum_i sum_j wu_i wv_j phi(G_i, D_j)
//
// under the run's loss (phi is the loss of D_j against G_i's samples), with
// an entropy regulariser on each side's weights. The components are the mlp
// family's MLPs (model.net mlp, for the 2-D benchmark) or models.DCGAN's
// networks (model.net dcgan, for images).
//
// What follows the authors' code (github.com/PrincetonML/MIX-plus-GANs,
// cifar10/train_mixgan.py and nn.py's softmax_weights):
//   - the weights are softmax(logits), the logits starting equal (uniform
//     weights), and they are trained by the same Adam optimizer, at the same
//     rate, as their side's networks, by gradient descent on the side's
//     whole loss (Gen_params and Disc_params include the weight layers);
//   - the "entropy" term each side minimises is
//     R(w) = -(1/K) sum_k log(w_k + 1e-6), weighted by mix_entloss_weight
//     (0.1): the cross-entropy of the uniform distribution against w, which
//     is log K at uniform weights and grows as any weight goes to 0, so
//     adding it to a loss that is minimised pushes the weights towards
//     uniform (the paper's regulariser against weights collapsing onto one
//     component);
//   - each side's payoff weights pair (i, j) by wu_i wv_j, both sides'
//     weights appearing in both losses, each side updating only its own;
//   - every generator's batch comes from the same draw of noise rows
//     (their "shared z"); here the rows are split among the generators
//     rather than repeated, see Game.
//
// What does not follow their code (it is a conditional, semi-supervised
// CIFAR-10 model): no class-conditional terms, no reconstruction of z by D,
// no threshold on D's update and no adaptive number of G updates; the loss,
// penalty and optimizer are the run's, as for every other family.
package mixgan

import (
	"errors"
	"fmt"
	"math"
	"slices"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind mixgan. Zero values of the
// network fields mean their net's default (and are left out of a run's
// config.yaml), so a config sets only what it changes; a field of the other
// net is refused.
type Section struct {
	// Net is the components' network: "mlp" (2-D data: the mlp family's
	// fully connected G and D) or "dcgan" (images: models.DCGANGenerator
	// and DCGANDiscriminator). Default "": mlp for 2-D data, dcgan for
	// images.
	Net string `yaml:"net"`
	// Components is K, the number of generators and of discriminators;
	// default 5, the authors'. 1 is a plain GAN (its weight is 1).
	Components int `yaml:"components"`
	// Entropy is the weight of the regulariser R(w) = -(1/K) sum_k
	// log(w_k + 1e-6) added to each side's loss; default 0.1, the authors'.
	// 0 leaves the weights free.
	Entropy float32 `yaml:"entropy"`
	// Prior is the noise distribution, "normal" (default) or "uniform";
	// ZDim the noise dimension of every component, default 8 (mlp) or 100
	// (dcgan). A sampled noise vector has one more coordinate, the
	// component's choice (see Generator).
	Prior string `yaml:"prior"`
	ZDim  int    `yaml:"z_dim,omitempty"`
	// The mlp net's widths and activations (as model.kind mlp's): hidden
	// widths default 128, 128, 128 for both; activations relu (G) and
	// leaky_relu (D).
	GHidden []int  `yaml:"g_hidden,omitempty"`
	DHidden []int  `yaml:"d_hidden,omitempty"`
	GAct    string `yaml:"g_act,omitempty"`
	DAct    string `yaml:"d_act,omitempty"`
	// Width is the dcgan net's channel count at the highest resolution
	// (model.kind dcgan's width); default 64.
	Width int `yaml:"width,omitempty"`
	// DSpecNorm puts spectral norm on every D's layers (both nets);
	// DNoBatchNorm drops the dcgan D's batch norm (a gradient penalty
	// needs it).
	DSpecNorm    bool `yaml:"d_specnorm"`
	DNoBatchNorm bool `yaml:"d_no_batchnorm"`
}

// The section's defaults.
const (
	DefaultComponents = 5
	DefaultEntropy    = 0.1
)

func init() {
	family.Register(family.Family{
		Name:    "mixgan",
		Summary: "MIX+GAN (Arora et al. 2017): K generators and K discriminators with learnt mixture weights",
		NewSection: func() config.ModelSection {
			return &Section{Components: DefaultComponents, Entropy: DefaultEntropy, Prior: "normal"}
		},
		Build: build,
	})
}

// net returns the section's net for c's data ("mlp" or "dcgan").
func (s *Section) net(c config.Config) string {
	if s.Net != "" {
		return s.Net
	}
	if c.IsImage() {
		return "dcgan"
	}
	return "mlp"
}

// zDim returns ZDim, or the net's default.
func (s *Section) zDim(net string) int {
	if s.ZDim != 0 {
		return s.ZDim
	}
	if net == "dcgan" {
		return 100
	}
	return 8
}

// dcganSection is the dcgan family's section for the same networks, so its
// checks and network config are reused.
func (s *Section) dcganSection() dcgan.Section {
	return dcgan.Section{Prior: s.Prior, ZDim: s.zDim("dcgan"), Width: cmpOr(s.Width, 64), DSpecNorm: s.DSpecNorm, DNoBatchNorm: s.DNoBatchNorm}
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Validate checks the section against the config: a net that fits the
// data, K and the entropy weight, the fields of the chosen net only, and a
// loss the mixed payoff takes.
func (s *Section) Validate(c config.Config) error {
	net := s.net(c)
	switch {
	case net != "mlp" && net != "dcgan":
		return fmt.Errorf("model.net: %q (want mlp for 2-D data or dcgan for images)", s.Net)
	case net == "mlp" && c.IsImage():
		return fmt.Errorf("model.net: mlp is for the 2-D sets, and data.kind is %s (set model.net: dcgan)", c.Data.Kind)
	case net == "dcgan" && !c.IsImage():
		return fmt.Errorf("model.net: dcgan needs images, and data.kind is %s (set model.net: mlp)", c.Data.Kind)
	case s.Components < 1:
		return fmt.Errorf("model.components: %d (want K >= 1 generators and discriminators; the authors' default is 5)", s.Components)
	case c.Train.Batch < s.Components:
		return fmt.Errorf("train.batch: %d is smaller than model.components %d (each generator draws at least one sample per batch)", c.Train.Batch, s.Components)
	case !(s.Entropy >= 0) || math.IsInf(float64(s.Entropy), 0):
		return fmt.Errorf("model.entropy: %v (want a weight >= 0; the authors' is 0.1)", s.Entropy)
	case s.ZDim < 0:
		return fmt.Errorf("model.z_dim: %d (want a positive dimension, or 0 for the net's default)", s.ZDim)
	case c.Train.ReuseFake:
		return errors.New("train.reuse_fake: not available for model.kind mixgan (set it to false)")
	}
	if net == "dcgan" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"g_hidden", len(s.GHidden) > 0}, {"d_hidden", len(s.DHidden) > 0}, {"g_act", s.GAct != ""}, {"d_act", s.DAct != ""}} {
			if f.set {
				return fmt.Errorf("model.%s: a field of model.net mlp, and the net is dcgan (leave it out)", f.name)
			}
		}
		if s.Width < 0 {
			return fmt.Errorf("model.width: %d (want a positive channel count, or 0 for 64)", s.Width)
		}
		ds := s.dcganSection()
		if err := ds.ValidateImage(c, "mixgan"); err != nil {
			return err
		}
	} else {
		switch {
		case s.Width != 0:
			return errors.New("model.width: a field of model.net dcgan, and the net is mlp (leave it out, or set g_hidden/d_hidden)")
		case s.DNoBatchNorm:
			return errors.New("model.d_no_batchnorm: a field of model.net dcgan; the mlp net's D has no batch norm (leave it out)")
		}
		for _, h := range append(slices.Clone(s.GHidden), s.DHidden...) {
			if h <= 0 {
				return fmt.Errorf("model.g_hidden/d_hidden: width %d must be positive", h)
			}
		}
		if err := family.CheckPrior(s.Prior, s.zDim(net)); err != nil {
			return err
		}
		if err := family.CheckLoss(c); err != nil {
			return err
		}
	}
	obj, err := gan.LookupObjective(c.Loss.Name, c.Loss.LabelSmoothing)
	if err != nil {
		return fmt.Errorf("loss.name: %w", err)
	}
	if obj.GUsesReal {
		return fmt.Errorf("loss.name: %s compares real and fake scores in G's loss, which the mixed payoff does not pair up yet (use ns, minimax, lsgan, hinge, wgan or an fgan loss)", c.Loss.Name)
	}
	return family.CheckNoTricks(c, "mixgan")
}

// Mixture is K networks of one side and the logits of their mixture
// weights, softmax(Logits): one player's module. Its parameters are the
// networks' under "0", "1", ..., then "logits" [K].
type Mixture struct {
	Nets   []nn.Layer
	Logits *ag.Value
}

// NewMixture returns the mixture of nets with equal logits (uniform
// weights, as the authors' softmax_weights starts).
func NewMixture(nets []nn.Layer) *Mixture {
	return &Mixture{Nets: nets, Logits: ag.Param(tensor.New(len(nets)))}
}

func (m *Mixture) children() nn.Children {
	c := make(nn.Children, len(m.Nets))
	for i, n := range m.Nets {
		c[i] = nn.Child{Name: fmt.Sprint(i), Module: n}
	}
	return c
}

// Params lists the networks' parameters, then the logits.
func (m *Mixture) Params(prefix string) []nn.Param {
	return append(m.children().Params(prefix), nn.Param{Name: nn.Join(prefix, "logits"), Value: m.Logits})
}

// Buffers lists the networks' buffers.
func (m *Mixture) Buffers(prefix string) []nn.Buffer { return m.children().Buffers(prefix) }

// SetTraining sets every network's mode.
func (m *Mixture) SetTraining(on bool) { m.children().SetTraining(on) }

// Weights returns the mixture weights softmax(Logits) [K], recorded on the
// graph (a constant when the player is frozen).
func (m *Mixture) Weights() *ag.Value { return ag.Softmax(m.Logits, 0) }

// WeightValues returns the mixture weights as float64s, computed in
// float64 from the logits.
func (m *Mixture) WeightValues() []float64 {
	l := m.Logits.Data().Data()
	mx := math.Inf(-1)
	for _, v := range l {
		mx = math.Max(mx, float64(v))
	}
	w := make([]float64, len(l))
	var sum float64
	for i, v := range l {
		w[i] = math.Exp(float64(v) - mx)
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// Payoff returns sum_i sum_j wu_i wv_j phi[i][j]: the mixed payoff of
// generator weights wu [K], discriminator weights wv [K] and the scalar
// losses phi[i][j] of D_j against G_i's samples (arXiv:1703.00573, section 4's
// objective with the loss in place of phi).
func Payoff(wu, wv *ag.Value, phi [][]*ag.Value) *ag.Value {
	k, l := len(phi), len(phi[0])
	flat := make([]*ag.Value, 0, k*l)
	for _, row := range phi {
		for _, v := range row {
			flat = append(flat, ag.Reshape(v, 1))
		}
	}
	p := ag.Reshape(ag.Concat(flat, 0), k, l)
	outer := ag.Mul(ag.Reshape(wu, k, 1), ag.Reshape(wv, 1, l))
	return ag.Sum(ag.Mul(outer, p), nil, false)
}

// EntropyRegulariser returns weight * R(w), R(w) = -(1/K) sum_k
// log(w_k + 1e-6) for weights w [K]: the authors' "entropy" term
// (Gen_weights_entropy, Disc_weights_entropy), minimised at uniform weights
// where R = log K (up to the 1e-6).
func EntropyRegulariser(w *ag.Value, weight float32) *ag.Value {
	k := w.Shape()[0]
	return ag.Scale(ag.Sum(ag.Log(ag.AddScalar(w, 1e-6)), nil, false), -weight/float32(k))
}

// Chunks splits n rows among k components: component i gets rows
// [Chunks[i][0], Chunks[i][1]), n/k of them, and the first n%k components one
// more.
func Chunks(n, k int) [][2]int {
	r := make([][2]int, k)
	lo := 0
	for i := range r {
		size := n / k
		if i < n%k {
			size++
		}
		r[i] = [2]int{lo, lo + size}
		lo += size
	}
	return r
}

// Game is the MIX+GAN game between two mixtures of K networks. Each update
// draws Batch noise rows and splits them among the generators (Chunks), so
// a step generates Batch samples in all, as the plain GAN's does; each D_j
// scores the whole real batch and the whole fake batch once (batch norm sees
// the fakes of all generators together, as a plain D sees one batch), and
// phi(G_i, D_j) is the loss on D_j's scores of the real batch and of G_i's
// rows. (The authors repeat one noise batch for every generator instead,
// K times the generator work.)
type Game struct {
	G, D      *Mixture
	Objective gan.Objective
	Penalty   gan.Penalty
	Noise     gan.InstanceNoise
	Prior     gan.Prior // the components' noise, without the choice coordinate
	Real      func(n int) *tensor.Tensor
	Batch     int
	RNG       *tensor.RNG
	Entropy   float32
}

// fakes maps Batch noise rows to samples, G_i taking chunk i, and returns
// them concatenated in row order.
func (g *Game) fakes() *ag.Value {
	z := ag.Const(g.Prior.Sample(g.RNG, g.Batch))
	parts := make([]*ag.Value, 0, len(g.G.Nets))
	for i, c := range Chunks(g.Batch, len(g.G.Nets)) {
		parts = append(parts, g.G.Nets[i].Forward(ag.Slice(z, 0, c[0], c[1])))
	}
	return ag.Concat(parts, 0)
}

// pairs returns phi[i][j] = loss(D_j's real scores, D_j's scores of G_i's
// rows), from each D's scores of the real (nil when unused) and fake
// batches.
func (g *Game) pairs(loss func(r, f *ag.Value) *ag.Value, real []*ag.Value, fake []*ag.Value) [][]*ag.Value {
	chunks := Chunks(g.Batch, len(g.G.Nets))
	phi := make([][]*ag.Value, len(chunks))
	for i, c := range chunks {
		phi[i] = make([]*ag.Value, len(fake))
		for j := range fake {
			var r *ag.Value
			if real != nil {
				r = real[j]
			}
			phi[i][j] = loss(r, ag.Slice(fake[j], 0, c[0], c[1]))
		}
	}
	return phi
}

// DiscriminatorTerms is the D side's loss: the mixed payoff of D's loss,
// the entropy regulariser on D's weights, and the penalty of each D_j
// weighted by its current weight wv_j (a constant), so that each network's
// penalty keeps the ratio to its share of the payoff a plain D has.
func (g *Game) DiscriminatorTerms(step int) []gan.Term {
	real := g.Real(g.Batch)
	var fake *tensor.Tensor
	ag.NoGrad(func() { fake = g.fakes().Data() })
	xr := g.Noise.Apply(g.RNG, ag.Const(real), step)
	xf := g.Noise.Apply(g.RNG, ag.Const(fake), step)
	dr, df := make([]*ag.Value, len(g.D.Nets)), make([]*ag.Value, len(g.D.Nets))
	for j, d := range g.D.Nets {
		dr[j], df[j] = d.Forward(xr), d.Forward(xf)
	}
	wv := g.D.Weights()
	terms := []gan.Term{{Name: g.Objective.Name, Value: Payoff(g.G.Weights(), wv, g.pairs(g.Objective.D, dr, df))}}
	if g.Entropy > 0 {
		terms = append(terms, gan.Term{Name: "entropy", Value: EntropyRegulariser(wv, g.Entropy)})
	}
	if g.Penalty.Kind != "" {
		w := wv.Data().Data()
		var pen *ag.Value
		for j, d := range g.D.Nets {
			p := ag.Scale(g.Penalty.Term(d.Forward, real, fake, g.RNG), w[j])
			if pen == nil {
				pen = p
			} else {
				pen = ag.Add(pen, p)
			}
		}
		terms = append(terms, gan.Term{Name: g.Penalty.Kind, Value: pen})
	}
	return terms
}

// GeneratorTerms is the G side's loss: the mixed payoff of G's loss on a
// fresh fake batch and the entropy regulariser on G's weights.
func (g *Game) GeneratorTerms(step int) []gan.Term {
	xf := g.Noise.Apply(g.RNG, g.fakes(), step)
	df := make([]*ag.Value, len(g.D.Nets))
	for j, d := range g.D.Nets {
		df[j] = d.Forward(xf)
	}
	wu := g.G.Weights()
	terms := []gan.Term{{Name: g.Objective.Name, Value: Payoff(wu, g.D.Weights(), g.pairs(g.Objective.G, nil, df))}}
	if g.Entropy > 0 {
		terms = append(terms, gan.Term{Name: "entropy", Value: EntropyRegulariser(wu, g.Entropy)})
	}
	return terms
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	net := s.net(c)
	k := s.Components
	obj, penalty, noise, err := family.Loss(c)
	if err != nil {
		return nil, err
	}
	prior := gan.Prior{Kind: s.Prior, Dim: s.zDim(net)}
	gs, ds := make([]nn.Layer, k), make([]nn.Layer, k)
	m := &family.Model{Extras: map[string]family.Extra{}}
	game := &Game{Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Batch: c.Train.Batch, Entropy: s.Entropy}
	var post func(*tensor.Tensor) *tensor.Tensor
	var pointsMean []float64 // the mlp net's standardisation (nil for dcgan), for the critic and exporters
	var pointsStd float64
	switch net {
	case "mlp":
		if d.Points == nil {
			return nil, errors.New("model.net mlp needs 2-D data")
		}
		mix := *d.Points
		// The mlp family's split order: weights, data, game, samples.
		initRNG, dataRNG, gameRNG, evalRNG := root.Split(), root.Split(), root.Split(), root.Split()
		gh, dh := s.GHidden, s.DHidden
		if len(gh) == 0 {
			gh = []int{128, 128, 128}
		}
		if len(dh) == 0 {
			dh = []int{128, 128, 128}
		}
		gact, dact := cmpOrS(s.GAct, "relu"), cmpOrS(s.DAct, "leaky_relu")
		for i := range gs {
			if gs[i], err = models.NewMLP(models.MLPConfig{In: prior.Dim, Out: mix.Dim(), Hidden: gh, Act: gact}, initRNG); err != nil {
				return nil, fmt.Errorf("generator %d: %w", i, err)
			}
		}
		for j := range ds {
			if ds[j], err = models.NewMLP(models.MLPConfig{In: mix.Dim(), Out: 1, Hidden: dh, Act: dact, SpecNorm: s.DSpecNorm}, initRNG); err != nil {
				return nil, fmt.Errorf("discriminator %d: %w", j, err)
			}
		}
		// As the mlp family: the networks see standardised points.
		mean, std := mix.Moments()
		std /= trainSpread
		game.Real = func(n int) *tensor.Tensor { return family.Standardise(mix.Sample(dataRNG, n), mean, std) }
		game.RNG = gameRNG
		post = func(x *tensor.Tensor) *tensor.Tensor { return family.Unstandardise(x, mean, std) }
		pointsMean, pointsStd = mean, std
		m.SampleRNG = evalRNG
		m.Streams = map[string]*tensor.RNG{"data": dataRNG, "game": gameRNG}
	default:
		initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
		ds0 := s.dcganSection()
		nets := ds0.Networks(d)
		for i := range gs {
			if gs[i], err = models.NewDCGANGenerator(nets, initRNG); err != nil {
				return nil, fmt.Errorf("generator %d: %w", i, err)
			}
		}
		for j := range ds {
			if ds[j], err = models.NewDCGANDiscriminator(nets, initRNG); err != nil {
				return nil, fmt.Errorf("discriminator %d: %w", j, err)
			}
		}
		game.RNG = gameRNG
		post = func(x *tensor.Tensor) *tensor.Tensor { return x }
		m.SampleRNG = fixedRNG
		m.Streams = map[string]*tensor.RNG{"game": gameRNG}
		// The loader starts a goroutine; GANPlayers' failure closes it.
		loader, lerr := d.Loader(c.Train.Batch, loaderRNG)
		if lerr != nil {
			return nil, lerr
		}
		game.Real = func(int) *tensor.Tensor { return loader.Next().Images }
		dcgan.Finish(m, loader)
	}
	game.G, game.D = NewMixture(gs), NewMixture(ds)
	if pointsMean != nil {
		m.Critic = &family.StandardCritic{Kind: "mixgan", D: expectedD(game.D), SetTraining: game.D.SetTraining, Mean: pointsMean, Std: pointsStd}
	}
	pg, pd, err := family.GANPlayers(c.Train, game.G, game.D)
	if err != nil {
		if m.Close != nil {
			m.Close()
		}
		return nil, err
	}
	m.Players = []*gan.Player{pg, pd}
	m.Phases = gan.TwoPlayer(game, pg, pd, c.Train.NCritic, c.Train.GSteps)
	m.GeneratorPlayer = pg
	m.Generator = &Generator{G: game.G, Noise: prior, Post: post, Mean: pointsMean, Std: pointsStd}
	return m, nil
}

func cmpOrS(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// trainSpread is the mlp family's: the networks see points standardised to
// ring8's spread (sqrt 2).
const trainSpread = math.Sqrt2
