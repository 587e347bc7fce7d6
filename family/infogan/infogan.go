// Package infogan is the InfoGAN family (model.kind infogan; Chen et al.
// 2016, "InfoGAN: Interpretable Representation Learning by Information
// Maximizing Generative Adversarial Nets", arXiv:1606.03657): a DCGAN
// generator that takes latent codes beside its noise, and a DCGAN
// discriminator whose trunk also feeds Q, a small head that recovers the
// codes of generated images (gan.InfoGAN is the game). Its generator is a
// family.Coded: requests name codes c1, c2, ... (categorical ones first).
package infogan

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strings"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// ContinuousRange bounds a continuous code's value in a sampling request:
// twice its prior's [-1, 1], as far as the paper's figure 2 traverses.
const ContinuousRange = 2

// Section is the model: block of model.kind infogan: the DCGAN section
// (z_dim is the noise's dimension, without the codes) plus the codes and
// the Q head.
type Section struct {
	dcgan.Section `yaml:",inline"`
	// CatCodes are the sizes of the categorical codes (default [10], the
	// paper's MNIST Cat(10)); ContCodes is the number of U(-1, 1)
	// continuous codes (default 2).
	CatCodes  []int `yaml:"cat_codes"`
	ContCodes int   `yaml:"cont_codes"`
	// LambdaCat and LambdaCont weigh the categorical and continuous
	// mutual-information terms (default 1 and 1: the official code's
	// info_reg_coeff of 1 for both, with a fixed unit variance, so the
	// continuous term is (c - mu)^2 / 2 plus a constant, no larger than the
	// categorical one's scale).
	LambdaCat  float32 `yaml:"lambda_cat"`
	LambdaCont float32 `yaml:"lambda_cont"`
	// LearnVariance makes Q output a log-variance per continuous code;
	// false (the default, the official code's fix_std) fixes it at 1.
	LearnVariance bool `yaml:"learn_variance"`
	// QHidden is the width of Q's hidden layer (default 128, the paper's).
	QHidden int `yaml:"q_hidden"`
	// RealInfo weighs a term the paper does not have (default 0, off):
	// in D's update, Q sorts each real batch into confident, equally used
	// categories (gan.LatentCodes.RealInfo, regularised information
	// maximisation), so the categorical code's values are pushed apart
	// along whatever splits real digits most evenly; see gan.InfoGAN.
	RealInfo float32 `yaml:"real_info"`
	// RealInfoPairs makes the real_info term pair each real digit with a
	// restyled copy (thicker, thinner or as it is, then moved within the
	// restyle_* bounds: data.Restyle) and ask Q for the same category in
	// both (gan.LatentCodes.PairInfo, IIC's objective), so that Q's
	// categories cannot be stroke width, slant or what else the copy
	// changes. Gray images only.
	RealInfoPairs bool `yaml:"real_info_pairs"`
	// RestyleShear, RestyleRotate, RestyleZoom and RestyleShift bound the
	// restyled copy's slant (pixels per row, default 0.3: a 28-pixel
	// digit's top and bottom rows about 4 pixels apart, some 17 degrees),
	// rotation (degrees), relative size change and shift (pixels per
	// axis); the last three default to 0, off (data.Style).
	RestyleShear  float32 `yaml:"restyle_shear"`
	RestyleRotate float32 `yaml:"restyle_rotate"`
	RestyleZoom   float32 `yaml:"restyle_zoom"`
	RestyleShift  float32 `yaml:"restyle_shift"`
}

// Defaults returns the section's defaults: the paper's MNIST setting, 62
// uniform noise dimensions, one Cat(10) and two U(-1, 1) codes.
func Defaults() Section {
	s := Section{Section: dcgan.Defaults(), CatCodes: []int{10}, ContCodes: 2, LambdaCat: 1, LambdaCont: 1, QHidden: 128, RestyleShear: 0.3}
	s.Prior, s.ZDim = "uniform", 62
	return s
}

func init() {
	family.Register(family.Family{
		Name:       "infogan",
		Summary:    "InfoGAN (Chen et al. 2016): DCGAN with categorical and continuous latent codes and a Q head",
		NewSection: func() config.ModelSection { s := Defaults(); return &s },
		Build:      build,
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error {
	if err := s.ValidateImage(c, "infogan"); err != nil {
		return err
	}
	if err := s.codes().Validate(); err != nil {
		return fmt.Errorf("model.cat_codes/cont_codes: %w", err)
	}
	if s.LambdaCat < 0 || s.LambdaCont < 0 {
		return fmt.Errorf("model.lambda_cat/lambda_cont: %g and %g: the MI weights must not be negative", s.LambdaCat, s.LambdaCont)
	}
	if s.RealInfo < 0 {
		return fmt.Errorf("model.real_info: %g: the weight must not be negative", s.RealInfo)
	}
	if s.RealInfo > 0 && len(s.CatCodes) == 0 {
		return fmt.Errorf("model.real_info: %g needs a categorical code (model.cat_codes is empty)", s.RealInfo)
	}
	if s.RealInfoPairs && s.RealInfo == 0 {
		return fmt.Errorf("model.real_info_pairs: true needs a positive model.real_info (the pairs' weight)")
	}
	if err := s.style().Validate(); err != nil {
		return fmt.Errorf("model.restyle_%w", err)
	}
	if !s.RealInfoPairs && (s.RestyleRotate > 0 || s.RestyleZoom > 0 || s.RestyleShift > 0) {
		return fmt.Errorf("model.restyle_rotate/zoom/shift: %g/%g/%g move the copies of model.real_info_pairs, which is off", s.RestyleRotate, s.RestyleZoom, s.RestyleShift)
	}
	if s.QHidden <= 0 {
		return fmt.Errorf("model.q_hidden: %d (want a positive width; 128 is the paper's)", s.QHidden)
	}
	return family.CheckNoTricks(c, "infogan")
}

// style is the restyled copy's bounds.
func (s *Section) style() data.Style {
	return data.Style{Shear: s.RestyleShear, Rotate: s.RestyleRotate, Zoom: s.RestyleZoom, Shift: s.RestyleShift}
}

func (s *Section) codes() gan.LatentCodes {
	return gan.LatentCodes{Categorical: slices.Clone(s.CatCodes), Continuous: s.ContCodes, LearnVariance: s.LearnVariance}
}

func build(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
	s := c.Model.Section.(*Section)
	initRNG, gameRNG, fixedRNG, loaderRNG := dcgan.Streams(root)
	codes := s.codes()
	nets := s.Networks(d)
	gnets := nets
	gnets.ZDim = s.ZDim + codes.Dim()
	g, err := models.NewDCGANGenerator(gnets, initRNG)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	dnet, err := models.NewInfoDiscriminator(nets, s.QHidden, codes.QDim(), initRNG)
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
	game := &gan.InfoGAN{G: g, D: dnet, Objective: obj, Penalty: penalty, Noise: noise, Prior: prior, Codes: codes,
		LambdaCat: s.LambdaCat, LambdaCont: s.LambdaCont, RealInfo: s.RealInfo, Batch: c.Train.Batch, RNG: gameRNG, ReuseFake: c.Train.ReuseFake,
		Real: func(int) *tensor.Tensor { return loader.Next().Images }}
	if s.RealInfoPairs {
		if d.Channels != 1 {
			return nil, fmt.Errorf("model.real_info_pairs: restyles gray digits, and the data has %d channels", d.Channels)
		}
		style := s.style()
		game.Restyle = func(x *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor {
			out := tensor.New(x.Shape()...)
			data.Restyle(out.Data(), x.Data(), x.Size(0), x.Size(2), style, rng)
			return out
		}
	}
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
		Generator:       &Generator{g: g, q: dnet, prior: prior, codes: codes},
		GeneratorPlayer: pg,
		SampleRNG:       fixedRNG,
		Streams:         map[string]*tensor.RNG{"game": gameRNG},
	}
	return dcgan.Finish(m, loader), nil
}

// Generator is the family's generator: a family.Coded, and a
// family.CodeReader through the discriminator's Q head.
type Generator struct {
	g     *models.DCGANGenerator
	q     *models.InfoDiscriminator
	prior gan.Prior
	codes gan.LatentCodes
}

// Module returns G, the DCGAN generator whose input is the noise followed
// by the encoded codes (gan.LatentCodes.Input: each categorical code
// one-hot, then the continuous ones, in Codes order).
func (g *Generator) Module() *models.DCGANGenerator { return g.g }

// Prior is the noise's distribution and dimension (without the codes).
func (g *Generator) Prior() gan.Prior { return g.prior }

// Codes lists the codes c1, c2, ...: the categorical ones, then the
// continuous ones (bounded by ±ContinuousRange in a request).
func (g *Generator) Codes() []family.Code {
	var cs []family.Code
	for _, k := range g.codes.Categorical {
		cs = append(cs, family.Code{Name: fmt.Sprintf("c%d", len(cs)+1), Categories: k})
	}
	for range g.codes.Continuous {
		cs = append(cs, family.Code{Name: fmt.Sprintf("c%d", len(cs)+1), Lo: -ContinuousRange, Hi: ContinuousRange})
	}
	return cs
}

// Latent returns the code batch of a request for the noise z [n, Dim]:
// the named codes' values, the others drawn from their priors by a stream
// seeded with each row's noise (FNV-1a of its float32 bits), so a row's
// unnamed codes depend on its noise alone. It returns an error naming an
// unknown code, a value count other than n, or a value out of range.
func (g *Generator) Latent(z *tensor.Tensor, req family.Request) (gan.CodeBatch, error) {
	n, dim := z.Size(0), z.Size(1)
	specs := g.Codes()
	names := make([]string, len(specs))
	for i, sp := range specs {
		names[i] = sp.Name
	}
	var unknown []string
	for name := range req.Codes {
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return gan.CodeBatch{}, fmt.Errorf("infogan: unknown latent code %s (the model has %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	for _, sp := range specs {
		vs, ok := req.Codes[sp.Name]
		if !ok {
			continue
		}
		if len(vs) != n {
			return gan.CodeBatch{}, fmt.Errorf("infogan: code %s has %d values for %d noise vectors", sp.Name, len(vs), n)
		}
		for _, v := range vs {
			if err := checkValue(sp, v); err != nil {
				return gan.CodeBatch{}, err
			}
		}
	}
	var b gan.CodeBatch
	for range g.codes.Categorical {
		b.Cat = append(b.Cat, make([]int, n))
	}
	if g.codes.Continuous > 0 {
		b.Cont = tensor.New(n, g.codes.Continuous)
	}
	zd := z.Data()
	for i := range n {
		row := g.codes.Sample(rowRNG(zd[i*dim:(i+1)*dim]), 1)
		for j, sp := range specs {
			vs, named := req.Codes[sp.Name]
			if j < len(g.codes.Categorical) {
				b.Cat[j][i] = row.Cat[j][0]
				if named {
					b.Cat[j][i] = int(vs[i])
				}
				continue
			}
			k := j - len(g.codes.Categorical)
			v := row.Cont.Data()[k]
			if named {
				v = float32(vs[i])
			}
			b.Cont.Data()[i*g.codes.Continuous+k] = v
		}
	}
	return b, nil
}

// checkValue reports a value code sp cannot take.
func checkValue(sp family.Code, v float64) error {
	if sp.Categories > 0 {
		if v != math.Trunc(v) || v < 0 || v >= float64(sp.Categories) {
			return fmt.Errorf("infogan: code %s = %g: a categorical code takes a category 0 to %d", sp.Name, v, sp.Categories-1)
		}
		return nil
	}
	if math.IsNaN(v) || v < sp.Lo || v > sp.Hi {
		return fmt.Errorf("infogan: code %s = %g out of range [%g, %g]", sp.Name, v, sp.Lo, sp.Hi)
	}
	return nil
}

// rowRNG seeds a stream with the bits of one noise row.
func rowRNG(row []float32) *tensor.RNG {
	h := fnv.New64a()
	var b [4]byte
	for _, v := range row {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return tensor.NewRNG(h.Sum64())
}

// Generate maps noise z [N, Prior().Dim] and the request's codes to images
// [N, C, H, W] in [-1, 1] without recording gradients.
func (g *Generator) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	if req.Labels != nil {
		return nil, fmt.Errorf("infogan: labels given to a generator without classes (name its codes instead: c1, c2, ...)")
	}
	if z.Dim() != 2 || z.Size(1) != g.prior.Dim {
		return nil, fmt.Errorf("infogan: noise of shape %v, want [N %d]", z.Shape(), g.prior.Dim)
	}
	b, err := g.Latent(z, req)
	if err != nil {
		return nil, err
	}
	var out *tensor.Tensor
	ag.NoGrad(func() { out = g.g.Forward(ag.Const(g.codes.Input(z, b))).Data() })
	return out, nil
}

// ReadCategorical returns Q's most probable category of each categorical
// code for each image of x [N, C, H, W] (ties go to the smaller category).
func (g *Generator) ReadCategorical(x *tensor.Tensor) ([][]int, error) {
	if x.Dim() != 4 {
		return nil, fmt.Errorf("infogan: images of shape %v, want [N C H W]", x.Shape())
	}
	var q *tensor.Tensor
	ag.NoGrad(func() { _, v := g.q.ForwardQ(ag.Const(x)); q = v.Data() })
	n, w := q.Size(0), q.Size(1)
	out := make([][]int, len(g.codes.Categorical))
	off := 0
	for j, k := range g.codes.Categorical {
		out[j] = make([]int, n)
		for i := range n {
			row := q.Data()[i*w+off : i*w+off+k]
			out[j][i] = slices.Index(row, slices.Max(row))
		}
		off += k
	}
	return out, nil
}
