package bigan

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestPresets: bigan-mnist is the authors' setting, ali-mnist the same
// with a normal prior, a bounded posterior and D's code joining after the
// norm.
func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		name, kind, prior, join string
		sigmaMax                float64
	}{{"bigan-mnist", "bigan", "uniform", "before_norm", 0}, {"ali-mnist", "ali", "normal", "after_norm", 1}} {
		c, err := famtest.Preset(t, tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		s := c.Model.Section.(*Section)
		tr := c.Train
		if c.Model.Kind != tc.kind || s.Prior != tc.prior || s.ZDim != 50 || s.Width != 1024 || s.WeightDecay != 2.5e-5 || s.DecayStart != 0.5 || s.DecayFinal != 0.01 ||
			s.CodeJoin != tc.join || s.SigmaMax != tc.sigmaMax {
			t.Errorf("%s: %s %+v", tc.name, c.Model.Kind, s)
		}
		// 400 epochs of the 468 whole batches of 128 in 60000 digits.
		if tr.Batch != 128 || tr.Steps != 400*(60000/128) || tr.LRG != 2e-4 || tr.LRD != 2e-4 || tr.Beta1 != 0.5 || tr.Beta2 != 0.999 || tr.Optimizer != "adam" || c.Loss.Name != "ns" {
			t.Errorf("%s: train %+v, loss %s", tc.name, tr, c.Loss.Name)
		}
	}
}

// TestConfigErrors: every bad field is named.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.z_dim=0"}, "model.prior/z_dim"},
		{[]string{"model.prior=cauchy"}, "model.prior/z_dim"},
		{[]string{"model.kind=ali", "model.prior=uniform"}, "model.prior: uniform, but ali"},
		{[]string{"model.sigma_max=1"}, "model.sigma_max: 1, but bigan's encoder is deterministic"},
		{[]string{"model.kind=ali", "model.prior=normal", "model.sigma_max=-1"}, "model.sigma_max: -1"},
		{[]string{"model.code_join=inside"}, "model.code_join"},
		{[]string{"model.width=0"}, "model.width"},
		{[]string{"model.weight_decay=-1"}, "model.weight_decay"},
		{[]string{"train.optimizer=rmsprop"}, "model.weight_decay"},
		{[]string{"model.decay_start=1.5"}, "model.decay_start"},
		{[]string{"model.decay_final=0"}, "model.decay_final"},
		{[]string{"model.widht=3"}, "field widht not found in model (kind bigan"},
		{[]string{"loss.name=hinge"}, "loss.name"},
		{[]string{"loss.penalty=r1", "loss.penalty_weight=1"}, "loss.penalty"},
		{[]string{"train.lr_decay=true"}, "train.lr_decay"},
		{[]string{"train.reuse_fake=true"}, "train.clip_d/reuse_fake"},
		{[]string{"train.g_steps=2"}, "g_steps"},
		{[]string{"loss.feature_matching=1"}, "loss.feature_matching"},
		{[]string{"data.kind=ring8"}, "needs image data"},
		{[]string{"train.n_critic=2"}, "train.n_critic: 2, but simultaneous"},
	} {
		_, err := famtest.Preset(t, "bigan-mnist", tc.sets...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to name %q", tc.sets, err, tc.want)
		}
	}
	if _, err := famtest.Preset(t, "bigan-mnist", "train.optimizer=rmsprop", "model.weight_decay=0", "loss.name=minimax", "model.prior=normal", "model.simultaneous=false", "train.n_critic=2"); err != nil {
		t.Errorf("rmsprop without weight decay, minimax, a normal prior, alternating updates: %v", err)
	}
}

func softplus(x float64) float64 { return math.Log1p(math.Exp(x)) }

// TestLossesMatchFormula compares the losses with their formulas in
// float64 on fixed logits: D's binary cross-entropy with (x, E(x)) real,
// the swapped-label loss of E and G, and the minimax -L_D.
func TestLossesMatchFormula(t *testing.T) {
	real := []float32{2.5, -0.3, 0.8, -4}
	fake := []float32{-1.2, 0.4, 3, -0.05}
	logSig := func(x float64) float64 { return -softplus(-x) } // log sigmoid(x)
	var dr, df, er, gf float64
	for i := range real {
		r, f := float64(real[i]), float64(fake[i])
		dr += -logSig(r)  // -log D(x, E(x))
		df += -logSig(-f) // -log(1 - D(G(z), z))
		er += -logSig(-r) // -log(1 - D(x, E(x)))
		gf += -logSig(f)  // -log D(G(z), z)
	}
	n := float64(len(real))
	dr, df, er, gf = dr/(2*n), df/(2*n), er/(2*n), gf/(2*n)
	rv := ag.Const(tensor.FromSlice(slices.Clone(real), 4, 1))
	fv := ag.Const(tensor.FromSlice(slices.Clone(fake), 4, 1))
	r, f := DiscriminatorLoss(rv, fv)
	e, g := EncoderGeneratorLoss(rv, fv, false)
	me, mg := EncoderGeneratorLoss(rv, fv, true)
	for _, tc := range []struct {
		name string
		got  *ag.Value
		want float64
	}{
		{"D real", r, dr}, {"D fake", f, df}, {"E (ns)", e, er}, {"G (ns)", g, gf}, {"E (minimax)", me, -dr}, {"G (minimax)", mg, -df},
	} {
		if got := float64(tc.got.Item()); math.Abs(got-tc.want) > 1e-6*max(1, math.Abs(tc.want)) {
			t.Errorf("%s: %.8f, want %.8f", tc.name, got, tc.want)
		}
	}
	// At D = 1/2 everywhere (zero logits) every half is log(2)/2.
	zero := ag.Const(tensor.New(3, 1))
	r, f = DiscriminatorLoss(zero, zero)
	if v := float64(r.Item() + f.Item()); math.Abs(v-math.Ln2) > 1e-6 {
		t.Errorf("D loss at zero logits %v, want log 2", v)
	}
}

// TestCodes checks how E's output becomes a code: the uniform code is
// 2 sigmoid - 1, in (-1, 1); ALI's Gaussian code is the mean without a
// stream and mu + sigma eps with one, sigma = exp(logVar/2) unbounded or
// sigmaMax sigmoid(s) bounded, whose moments match and whose gradient
// (with eps fixed) passes a finite-difference check.
func TestCodes(t *testing.T) {
	out := ag.Const(tensor.FromSlice([]float32{-30, 0, 2, 30}, 2, 2))
	u := CodeUniform.encode(out, 2, nil, 0).Data().Data()
	want := []float64{-1, 0, 2/(1+math.Exp(-2)) - 1, 1}
	for i, v := range u {
		if math.Abs(float64(v)-want[i]) > 1e-6 {
			t.Errorf("uniform code %d: %v, want %v", i, v, want[i])
		}
	}
	if l := CodeLinear.encode(out, 2, nil, 0); l != out {
		t.Errorf("linear code is not the output itself")
	}
	// 20000 rows of mean 1.5 and log-variance log 4 (standard deviation 2).
	const n = 20000
	gauss := tensor.New(n, 2)
	for i := 0; i < n; i++ {
		gauss.Data()[2*i], gauss.Data()[2*i+1] = 1.5, float32(math.Log(4))
	}
	if m := CodeGaussian.encode(ag.Const(gauss), 1, nil, 0).Data().Data(); m[0] != 1.5 || len(m) != n {
		t.Errorf("Gaussian code without a stream: %v..., want the mean 1.5", m[:1])
	}
	moments := func(s []float32) (mean, std float64) {
		var sum, sq float64
		for _, v := range s {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		mean = sum / float64(len(s))
		return mean, math.Sqrt(sq/float64(len(s)) - mean*mean)
	}
	// Unbounded (sigmaMax 0): the second column is a log-variance.
	if mean, std := moments(CodeGaussian.encode(ag.Const(gauss), 1, tensor.NewRNG(3), 0).Data().Data()); math.Abs(mean-1.5) > 0.05 || math.Abs(std-2) > 0.05 {
		t.Errorf("unbounded Gaussian code samples: mean %.3f, std %.3f, want 1.5 and 2", mean, std)
	}
	// Bounded: sigma = sigmaMax sigmoid(s), 0.8 sigmoid(log 4) = 0.64, and
	// no scale output, however large, passes sigmaMax.
	for _, c := range []struct{ s, std float64 }{{math.Log(4), 0.64}, {1e4, 0.8}} {
		for i := 0; i < n; i++ {
			gauss.Data()[2*i+1] = float32(c.s)
		}
		if mean, std := moments(CodeGaussian.encode(ag.Const(gauss), 1, tensor.NewRNG(3), 0.8).Data().Data()); math.Abs(mean-1.5) > 0.05 || math.Abs(std-c.std) > 0.02 {
			t.Errorf("bounded Gaussian code samples with scale output %g: mean %.3f, std %.3f, want 1.5 and %g", c.s, mean, std, c.std)
		}
	}
	x := tensor.NewRNG(4).Normal(0, 1, 3, 4)
	for _, max := range []float32{0, 0.8} {
		f := func(xs []*ag.Value) *ag.Value { return CodeGaussian.encode(xs[0], 2, tensor.NewRNG(9), max) }
		if err := ag.GradCheck(f, []*tensor.Tensor{x}, ag.CheckOptions{SecondOrder: true, Seed: 1}); err != nil {
			t.Errorf("reparameterised code, sigmaMax %g: %v", max, err)
		}
	}
}

// TestExpDecay: the rate holds until Start, then falls geometrically to
// Base·Final at End.
func TestExpDecay(t *testing.T) {
	s := ExpDecay{Base: 2e-4, Start: 100, End: 200, Final: 0.01}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 2e-4}, {100, 2e-4}, {150, 2e-5}, {200, 2e-6}, {500, 2e-6}} {
		if got := float64(s.LR(tc.step)); math.Abs(got-tc.want) > 1e-6*tc.want {
			t.Errorf("step %d: %g, want %g", tc.step, got, tc.want)
		}
	}
	c, err := famtest.Preset(t, "bigan-mnist", "train.steps=1000", "model.width=8")
	if err != nil {
		t.Fatal(err)
	}
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Players {
		if d, ok := p.LR.(ExpDecay); !ok || d.Start != 500 || d.End != 1000 || d.Final != 0.01 || d.Base != 2e-4 {
			t.Errorf("player %s: schedule %#v", p.Name, p.LR)
		}
	}
	if c, err = famtest.Preset(t, "bigan-mnist", "model.decay_start=1", "model.width=8"); err != nil {
		t.Fatal(err)
	}
	if m, err = family.Build(c, family.Data{Channels: 1, Size: 28}); err != nil || m.Players[0].LR != nil {
		t.Errorf("decay_start 1: schedule %v, %v (want none)", m.Players[0].LR, err)
	}
}

// tiny builds a small model of kind on synthetic images.
func tiny(t *testing.T, kind string, sets ...string) (*family.Model, config.Config) {
	t.Helper()
	c, err := famtest.Preset(t, kind+"-mnist", append([]string{"data.kind=synthetic", "data.n=32", "model.width=16", "model.z_dim=3", "train.batch=8", "train.steps=20"}, sets...)...)
	if err != nil {
		t.Fatal(err)
	}
	set := &data.Set{Images: tensor.NewRNG(1).Uniform(-1, 1, 32, 1, 28, 28), Labels: make([]int, 32), Classes: []string{"0"}}
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 1, Images: set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, c
}

// TestCapabilities: both kinds sample, encode (deterministically, in the
// prior's range for bigan), give features, reconstruct, and refuse
// requests and shapes they cannot take.
func TestCapabilities(t *testing.T) {
	for _, kind := range []string{"bigan", "ali"} {
		m, _ := tiny(t, kind)
		m.GeneratorPlayer.Module.SetTraining(false)
		g := m.Generator
		if p := g.Prior(); p.Dim != 3 || p.Kind != map[string]string{"bigan": "uniform", "ali": "normal"}[kind] {
			t.Errorf("%s: prior %+v", kind, p)
		}
		out, err := g.Generate(g.Prior().Sample(tensor.NewRNG(2), 5), family.Request{})
		if err != nil || out.Size(0) != 5 || out.Size(1) != 1 || out.Size(2) != 28 {
			t.Fatalf("%s: generate: %v, %v", kind, out, err)
		}
		for _, v := range out.Data() {
			if !(v > -1 && v < 1) {
				t.Fatalf("%s: sample value %v outside (-1, 1)", kind, v)
			}
		}
		if _, err := g.Generate(tensor.New(2, 3), family.Request{Labels: []int{0, 1}}); err == nil {
			t.Errorf("%s: labels accepted", kind)
		}
		if _, err := g.Generate(tensor.New(2, 4), family.Request{}); err == nil {
			t.Errorf("%s: noise of the wrong width accepted", kind)
		}
		f, ok := g.(family.Featurer)
		if !ok {
			t.Fatalf("%s: not a family.Featurer", kind)
		}
		x := tensor.NewRNG(3).Uniform(-1, 1, 4, 1, 28, 28)
		z1, err1 := f.Encode(x)
		z2, err2 := f.Encode(x)
		if err1 != nil || err2 != nil || z1.Size(0) != 4 || z1.Size(1) != 3 || !slices.Equal(z1.Data(), z2.Data()) {
			t.Fatalf("%s: encode: %v, %v, %v (want [4 3], the same twice)", kind, z1, err1, err2)
		}
		if kind == "bigan" {
			for _, v := range z1.Data() {
				if !(v > -1 && v < 1) {
					t.Errorf("bigan: code %v outside the prior's (-1, 1)", v)
				}
			}
		}
		if h, err := f.Features(x); err != nil || h.Size(0) != 4 || h.Size(1) != 16 {
			t.Errorf("%s: features %v, %v (want [4 16])", kind, h, err)
		}
		r, ok := g.(family.Reconstructor)
		if !ok {
			t.Fatalf("%s: not a Reconstructor", kind)
		}
		if rec, err := r.Reconstruct(x); err != nil || !slices.Equal(rec.Shape(), x.Shape()) {
			t.Errorf("%s: reconstruct: %v, %v", kind, rec, err)
		}
		for _, bad := range []*tensor.Tensor{tensor.New(2, 1, 14, 14), tensor.New(2, 3, 28, 28), tensor.New(2, 784)} {
			if _, err := f.Encode(bad); err == nil || !strings.Contains(err.Error(), "want [N 1 28 28]") {
				t.Errorf("%s: images %v: %v (want an error naming [N 1 28 28])", kind, bad.Shape(), err)
			}
		}
	}
}

// TestOneStepUpdatesEveryNetwork: one training step updates D, then E and
// G together; every weight of the three moves (D's output layer starts at
// zero), and the logged terms add up to each player's loss.
func TestOneStepUpdatesEveryNetwork(t *testing.T) {
	for _, tc := range []struct{ kind, set string }{{"bigan", "model.simultaneous=true"}, {"bigan", "model.simultaneous=false"}, {"ali", "model.simultaneous=true"}} {
		kind := tc.kind + " " + tc.set
		m, _ := tiny(t, tc.kind, tc.set)
		before := map[string][]float32{}
		for _, p := range m.Players {
			for _, q := range p.Module.Params(p.Name) {
				before[q.Name] = slices.Clone(q.Value.Data().Data())
			}
		}
		var logs gan.Logs
		tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: 1, Callbacks: []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error { logs = l; return nil }}}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if names := []string{m.Players[0].Name, m.Players[1].Name}; !slices.Equal(names, []string{"ge", "d"}) {
			t.Errorf("%s: players %v", kind, names)
		}
		first := map[bool]string{true: "ge", false: "d"}[strings.HasSuffix(tc.set, "true")]
		if len(m.Phases) != 2 || m.Phases[0].Player.Name != first {
			t.Errorf("%s: the first phase updates %s, want %s", kind, m.Phases[0].Player.Name, first)
		}
		for _, p := range m.Players {
			for _, q := range p.Module.Params(p.Name) {
				if slices.Equal(before[q.Name], q.Value.Data().Data()) {
					t.Errorf("%s: %s did not change", kind, q.Name)
				}
			}
		}
		if d := logs["d/real"] + logs["d/fake"] - logs["d/loss"]; math.Abs(d) > 1e-6 || math.Abs(logs["d/loss"]-math.Ln2) > 1e-6 {
			t.Errorf("%s: d terms %v (want log 2 in all at D's zero start)", kind, logs)
		}
		if d := logs["ge/e"] + logs["ge/g"] - logs["ge/loss"]; math.Abs(d) > 1e-6 || logs["ge/loss"] == 0 {
			t.Errorf("%s: ge terms %v", kind, logs)
		}
	}
}

// TestWeightDecay: with every gradient zero but the L2 term, one Adam step
// moves each weight against its sign by about lr (Adam's normalised step of
// g = lambda w), as the authors' coupled decay does; without weight decay
// nothing moves.
func TestWeightDecay(t *testing.T) {
	for _, wd := range []string{"2.5e-5", "0"} {
		m, _ := tiny(t, "bigan", "model.weight_decay="+wd)
		p := m.Player("d")
		w := nn.Parameters(p.Module)[0]
		before := slices.Clone(w.Data().Data())
		p.Opt.ZeroGrad()
		var zero *ag.Value
		for _, v := range nn.Parameters(p.Module) {
			z := ag.Scale(ag.Mean(v, nil, false), 0)
			if zero == nil {
				zero = z
			} else {
				zero = ag.Add(zero, z)
			}
		}
		ag.Backward(zero) // every gradient zero
		p.Opt.Step()
		lambda, _ := strconv.ParseFloat(wd, 64)
		for i, v := range w.Data().Data() {
			// Adam's first step: lr * g / (|g| + eps) with g = lambda * w.
			g := lambda * float64(before[i])
			want := float64(before[i]) - 2e-4*g/(math.Abs(g)+1e-8)
			if math.Abs(float64(v)-want) > 1e-8 {
				t.Fatalf("weight decay %s: weight %d moved from %v to %v, want %v", wd, i, before[i], v, want)
			}
		}
	}
}

// TestSimultaneousUpdates: with simultaneous updates D's update scores the
// pairs E and G made before their own update, so both gradients are taken
// at the same point, as the authors' update_both does.
func TestSimultaneousUpdates(t *testing.T) {
	rng := tensor.NewRNG(1)
	nets := models.BiGANConfig{Channels: 1, Size: 4, ZDim: 2, Hidden: 6}
	g, _ := models.NewBiGANGenerator(nets, rng)
	e, _ := models.NewBiGANEncoder(nets, rng)
	d, _ := models.NewBiGANDiscriminator(nets, rng)
	nn.InitNormal(d.Out.Weight.Data(), 0, 1, rng) // D's logits depend on its inputs
	x := rng.Uniform(-1, 1, 8, 1, 4, 4)
	game := &Game{G: g, E: e, D: d, Prior: gan.Prior{Kind: "uniform", Dim: 2}, Code: CodeUniform,
		Real: func() *tensor.Tensor { return x }, Batch: 8, RNG: tensor.NewRNG(2), Simultaneous: true}
	ge := game.GeneratorTerms(0)
	if len(ge) != 2 || ge[0].Name != "e" || ge[1].Name != "g" {
		t.Fatalf("E and G's terms %v", ge)
	}
	ez, gx, z := game.ezBuf.Clone(), game.gxBuf.Clone(), game.z.Clone()
	// E and G's update moves their weights.
	for _, p := range append(nn.Parameters(e), nn.Parameters(g)...) {
		for i := range p.Data().Data() {
			p.Data().Data()[i] += 0.1
		}
	}
	var now *tensor.Tensor
	ag.NoGrad(func() { now = CodeUniform.encode(e.Forward(ag.Const(x)), 2, nil, 0).Data() })
	if slices.Equal(now.Data(), ez.Data()) {
		t.Fatal("moving E's weights left its codes unchanged: the test cannot tell")
	}
	terms := game.DiscriminatorTerms(0)
	r, f := DiscriminatorLoss(d.Forward(ag.Const(x), ag.Const(ez)), d.Forward(ag.Const(gx), ag.Const(z)))
	if terms[0].Value.Item() != r.Item() || terms[1].Value.Item() != f.Item() {
		t.Errorf("D's terms %v, %v; on the pairs before E and G's update %v, %v", terms[0].Value.Item(), terms[1].Value.Item(), r.Item(), f.Item())
	}
	if game.pending {
		t.Errorf("D's update left the pairs pending")
	}
}

// meanSample is the mean pixel of 256 samples G(z) in [-1, 1], G in
// evaluation mode.
func meanSample(t *testing.T, m *family.Model) float64 {
	t.Helper()
	m.GeneratorPlayer.Module.SetTraining(false)
	defer m.GeneratorPlayer.Module.SetTraining(true)
	g := m.Generator
	x, err := g.Generate(g.Prior().Sample(tensor.NewRNG(7), 256), family.Request{})
	if err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, v := range x.Data() {
		s += float64(v)
	}
	return s / float64(x.Len())
}

// reconRatio is family.ReconErrors' ||G(E(x)) - x|| over test digits x
// divided by its ||x' - x|| between test digits, both networks in
// evaluation mode: about 1 or more when E's codes say nothing about x,
// below 1 as G(E(x)) comes to resemble x.
func reconRatio(t *testing.T, m *family.Model, x *tensor.Tensor) float64 {
	t.Helper()
	m.GeneratorPlayer.Module.SetTraining(false)
	defer m.GeneratorPlayer.Module.SetTraining(true)
	r, err := family.ReconErrors(m.Generator.(family.Reconstructor), x, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	return r.Recon / r.RandomPair
}

// TestTrainingLearnsOnMNIST trains bigan-mnist's and ali-mnist's models
// (256 and 512 units) for 1000 steps on real MNIST. Untrained, G draws mid-gray
// noise (mean pixel about 0; MNIST's is -0.74, mostly black background);
// trained, its samples must have darkened clearly (below -0.15), D must
// tell the pairs apart better than chance (its loss under log 2 = 0.69,
// E and G's above it), and G(E(x)) must be nearer x than another digit is
// (ALI with an unbounded posterior variance fails here: its codes are
// noise). The same seed must repeat the run bit for bit.
func TestTrainingLearnsOnMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST for 1000 steps: without -short only")
	}
	if blas.Impl == "go" {
		t.Skip("1000 MNIST steps take minutes with the pure-Go GEMM; .ci/long's OpenBLAS pass runs it")
	}
	set := famtest.MNIST(t, data.Train)
	test := famtest.MNIST(t, data.Test)
	x := tensor.FromSlice(test.Images.Data()[:256*784], 256, 1, 28, 28)
	// ALI's G is still noise after 1000 steps at width 256 (D wins);
	// from 512 it draws digits.
	for _, tc := range []struct{ preset, width string }{{"bigan-mnist", "256"}, {"ali-mnist", "512"}} {
		preset := tc.preset
		t.Run(preset, func(t *testing.T) {
			train := func() (before, after, dLoss, geLoss, recon float64) {
				c, err := famtest.Preset(t, preset, "model.width="+tc.width, "train.steps=1000")
				if err != nil {
					t.Fatal(err)
				}
				m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 10, Images: set})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				before = meanSample(t, m)
				tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: c.Train.Steps, Callbacks: []gan.Callback{func(tr *gan.Trainer, l gan.Logs) error {
					if tr.Step > 900 {
						dLoss += l["d/loss"] / 100
						geLoss += l["ge/loss"] / 100
					}
					return nil
				}}}
				if err := tr.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				return before, meanSample(t, m), dLoss, geLoss, reconRatio(t, m, x)
			}
			before, after, dLoss, geLoss, recon := train()
			t.Logf("mean sample pixel %.3f untrained, %.3f after 1000 steps; last 100 steps: D loss %.3f, E and G's %.3f; ||G(E(x)) - x|| / ||x' - x|| %.3f", before, after, dLoss, geLoss, recon)
			if !(math.Abs(before) < 0.1 && after < -0.15 && dLoss < math.Ln2 && geLoss > math.Ln2 && recon < 0.95) {
				t.Errorf("mean sample pixel %.3f -> %.3f, D loss %.3f, E and G's %.3f, reconstruction ratio %.3f: want about 0 -> below -0.15, D's under log 2, E and G's above, ratio under 0.95", before, after, dLoss, geLoss, recon)
			}
			if _, again, _, _, _ := train(); again != after {
				t.Errorf("the same seed gave %v and %v", after, again)
			}
		})
	}
}
