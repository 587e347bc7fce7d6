package stargan

import (
	"math"
	"slices"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// TestReconstructionLoss: mean |x - r| over every element, against values
// worked by hand, and its gradient sign(r - x) / n.
func TestReconstructionLoss(t *testing.T) {
	x := tensor.FromSlice([]float32{1, -1, 0.5, 0}, 1, 1, 2, 2)
	r := ag.Param(tensor.FromSlice([]float32{0.5, 1, 0.5, -0.25}, 1, 1, 2, 2))
	l := ReconstructionLoss(ag.Const(x), r)
	if got, want := l.Item(), float32((0.5+2+0+0.25)/4); math.Abs(float64(got-want)) > 1e-7 {
		t.Errorf("loss %g, want %g", got, want)
	}
	g := ag.Grad([]*ag.Value{l}, []*ag.Value{r}, nil, false)[0].Data().Data()
	if want := []float32{-0.25, 0.25, 0, -0.25}; !slices.Equal(g, want) {
		t.Errorf("gradient %v, want %v", g, want)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "shapes") {
			t.Errorf("panic %v, want one naming the shapes", p)
		}
	}()
	ReconstructionLoss(ag.Const(x), ag.Const(tensor.New(1, 1, 2, 3)))
}

// TestTargets: the targets are the batch's domains in a drawn order, the
// same for the same stream.
func TestTargets(t *testing.T) {
	org := []int{0, 0, 1, 2, 2, 2, 1, 0}
	a, b := Targets(org, tensor.NewRNG(3)), Targets(org, tensor.NewRNG(3))
	if !slices.Equal(a, b) {
		t.Fatalf("same stream, targets %v and %v", a, b)
	}
	sa, so := slices.Clone(a), slices.Clone(org)
	slices.Sort(sa)
	slices.Sort(so)
	if !slices.Equal(sa, so) || slices.Equal(a, org) {
		t.Errorf("targets %v: want a reordering of %v", a, org)
	}
}

// crossEntropy is -1/N sum_i log softmax(logits_i)[y_i] for logits
// [N, K], in float64.
func crossEntropy(logits *tensor.Tensor, ys []int) float64 {
	k := logits.Size(1)
	sum := 0.0
	for i, y := range ys {
		row := logits.Data()[i*k : (i+1)*k]
		z := 0.0
		for _, v := range row {
			z += math.Exp(float64(v))
		}
		sum += math.Log(z) - float64(row[y])
	}
	return sum / float64(len(ys))
}

func meanOf(x *tensor.Tensor) float64 {
	s := 0.0
	for _, v := range x.Data() {
		s += float64(v)
	}
	return s / float64(x.Len())
}

func close(t *testing.T, name string, got *ag.Value, want float64) {
	t.Helper()
	if g := float64(got.Item()); math.Abs(g-want) > 1e-5*(1+math.Abs(want)) {
		t.Errorf("%s: %.7g, want %.7g", name, g, want)
	}
}

// TestGameTerms recomputes each term of both updates from the networks:
// D's WGAN term is mean D(G(x, c')) - mean D(x) over the patch maps, its
// penalty WGAN-GP's at the interpolates the game stream draws after the
// targets, and its "cls" lambda_cls times the cross-entropy of its head on
// the real batch with its domains; G's WGAN term is -mean D(G(x, c')), its
// "cls" lambda_cls times the cross-entropy on the translations with the
// targets, and "rec" lambda_rec times mean |x - G(G(x, c'), c)|, on D's
// last batch.
func TestGameTerms(t *testing.T) {
	nets := models.StarGANConfig{Size: 16, Channels: 1, Domains: 3, GWidth: 4, Blocks: 1, DWidth: 8, DLayers: 3}
	rng := tensor.NewRNG(1)
	g, err := models.NewStarGenerator(nets, rng)
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.NewStarDiscriminator(nets, rng)
	if err != nil {
		t.Fatal(err)
	}
	set := bars(9, rng)
	obj, err := gan.LookupObjective("wgan", 0)
	if err != nil {
		t.Fatal(err)
	}
	game := &Game{G: g, D: d, Objective: obj, Penalty: gan.Penalty{Kind: "gp", Weight: 10}, LambdaCls: 0.5, LambdaRec: 3,
		Real: func() (*tensor.Tensor, []int) { return set.Images, set.Labels }, RNG: tensor.NewRNG(5)}
	dt := game.DiscriminatorTerms(0)
	if len(dt) != 3 || dt[0].Name != "wgan" || dt[1].Name != "gp" || dt[2].Name != TermCls {
		t.Fatalf("D's terms %v, want wgan, gp, cls", dt)
	}
	mirror := tensor.NewRNG(5)
	trg := Targets(set.Labels, mirror)
	if !slices.Equal(game.trg, trg) || !slices.Equal(game.org, set.Labels) {
		t.Fatalf("targets %v, domains %v; want %v and %v", game.trg, game.org, trg, set.Labels)
	}
	x := ag.Const(set.Images)
	fake := g.Forward(x, trg)
	srcReal, clsReal := d.Forward(x)
	srcFake, clsFake := d.Forward(fake)
	close(t, "d/wgan", dt[0].Value, meanOf(srcFake.Data())-meanOf(srcReal.Data()))
	critic := func(v *ag.Value) *ag.Value { s, _ := d.Forward(v); return s }
	gp := gan.GradientPenalty(critic, gan.Interpolate(set.Images, fake.Data(), mirror), 10, false)
	close(t, "d/gp", dt[1].Value, float64(gp.Item()))
	close(t, "d/cls", dt[2].Value, 0.5*crossEntropy(clsReal.Data(), set.Labels))

	gt := game.GeneratorTerms(0)
	if len(gt) != 3 || gt[0].Name != "wgan" || gt[1].Name != TermCls || gt[2].Name != TermRec {
		t.Fatalf("G's terms %v, want wgan, cls, rec", gt)
	}
	close(t, "g/wgan", gt[0].Value, -meanOf(srcFake.Data()))
	close(t, "g/cls", gt[1].Value, 0.5*crossEntropy(clsFake.Data(), trg))
	rec := g.Forward(fake, set.Labels).Data()
	l1 := 0.0
	for i, v := range set.Images.Data() {
		l1 += math.Abs(float64(v - rec.Data()[i]))
	}
	close(t, "g/rec", gt[2].Value, 3*l1/float64(set.Images.Len()))
}

// TestTranslator: the domains are the data's names (numbers without
// them), Translate keeps the shape and depends on the target, and an
// unknown domain or a wrong shape is an error naming it, not a panic.
func TestTranslator(t *testing.T) {
	c := tiny(t)
	m, err := family.Build(c, barData(24, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tr := m.Translator
	if m.Generator != nil || tr == nil || m.GeneratorPlayer == nil || m.GeneratorPlayer.Name != "g" {
		t.Fatalf("model: Generator %v, Translator %v, GeneratorPlayer %v", m.Generator, tr, m.GeneratorPlayer)
	}
	if got := tr.Domains(); !slices.Equal(got, []string{"thin", "normal", "thick"}) {
		t.Errorf("domains %v", got)
	}
	if got := tr.Shape(); !slices.Equal(got, []int{1, 16, 16}) {
		t.Errorf("shape %v", got)
	}
	x := bars(4, tensor.NewRNG(4)).Images
	a, err := tr.Translate(x, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.Translate(x, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(a.Shape(), x.Shape()) || slices.Equal(a.Data(), b.Data()) {
		t.Errorf("translations of shape %v, equal for two targets: %v", a.Shape(), slices.Equal(a.Data(), b.Data()))
	}
	for _, tc := range []struct {
		x        *tensor.Tensor
		from, to int
		want     string
	}{
		{x, 0, 3, "target domain 3 out of range: the model has 3 domains (0 thin, 1 normal, 2 thick)"},
		{x, -1, 1, "source domain -1"},
		{tensor.New(2, 1, 28, 28), 0, 1, "want [N 1 16 16]"},
		{tensor.New(2, 16, 16), 0, 1, "images of shape [2 16 16]"},
	} {
		if _, err := tr.Translate(tc.x, tc.from, tc.to); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Translate(%v, %d, %d): error %v, want one containing %q", tc.x.Shape(), tc.from, tc.to, err, tc.want)
		}
	}
	// Built only to translate (no images, no names): numbers, no phases.
	only, err := family.Build(c, family.Data{Channels: 1, Size: 16, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := only.Translator.Domains(); !slices.Equal(got, []string{"0", "1", "2"}) || len(only.Phases) != 0 {
		t.Errorf("sample-only model: domains %v, %d phases", got, len(only.Phases))
	}
	if _, err := family.Build(c, family.Data{Channels: 1, Size: 16, Classes: 1}); err == nil || !strings.Contains(err.Error(), "at least 2 domains") {
		t.Errorf("one domain: error %v", err)
	}
}

// TestConfigErrors: every bad field is named, with its fix.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"data.kind=ring8", "stargan needs image data"},
		{"data.size=30", "data.size: 30"},
		{"model.g_width=0", "model.g_width: 0"},
		{"model.d_width=-1", "model.d_width: -1"},
		{"model.blocks=-1", "model.blocks: -1"},
		{"model.d_layers=5", "model.d_layers: stargan: DLayers 5: want at least 1 and at most 4 for 16x16"},
		{"model.lambda_rec=-1", "model.lambda_cls/lambda_rec"},
		{`loss.penalty=""`, "loss.penalty: loss wgan is a critic loss"},
		{"loss.instance_noise=0.1", "loss.instance_noise"},
		{"train.reuse_fake=true", "train.reuse_fake"},
		{"loss.feature_matching=1", "not available for model.kind stargan"},
	} {
		c := tiny(t)
		if err := c.Set(tc.set); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.set, err, tc.want)
		}
	}
	c := tiny(t)
	if err := c.Set("model.z_dim=4"); err == nil || !strings.Contains(err.Error(), "known fields: kind, g_width, blocks, d_width, d_layers, lambda_cls, lambda_rec") {
		t.Errorf("unknown field: error %v", err)
	}
	s := Defaults()
	for side, want := range map[int]int{16: 3, 28: 3, 32: 4, 128: 6} {
		if got := s.dLayers(side); got != want {
			t.Errorf("default D layers at %d: %d, want %d", side, got, want)
		}
	}
}

// TestPreset: stargan-width is the paper's losses, n_critic, batch and
// betas on the width domains, with narrowed networks and the measured
// schedule (1200 steps at 3e-4, decayed linearly).
func TestPreset(t *testing.T) {
	c, err := config.Preset("stargan-width")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := c.Model.Section.(*Section)
	tr, l := c.Train, c.Loss
	if c.Data.Kind != "mnist-width" || c.Model.Kind != "stargan" || s.GWidth != 16 || s.Blocks != 3 || s.DWidth != 32 || s.DLayers != 0 || s.LambdaCls != 1 || s.LambdaRec != 10 {
		t.Errorf("data %s, model %s %+v", c.Data.Kind, c.Model.Kind, s)
	}
	if l.Name != "wgan" || l.Penalty != "gp" || l.PenaltyWeight != 10 || tr.NCritic != 5 || tr.Batch != 16 || tr.LRG != 3e-4 || tr.LRD != 3e-4 || !tr.LRDecay || tr.Steps != 1200 || tr.Beta1 != 0.5 || tr.Beta2 != 0.999 || tr.Optimizer != "adam" {
		t.Errorf("loss %+v, train %+v", l, tr)
	}
}
