package aae

import (
	"math"
	"slices"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/tensor"
)

func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		name, prior string
		labels      int
	}{{"aae-mnist", "normal", 0}, {"aae-semi-mnist", "categorical", 100}, {"aae-cluster-mnist", "categorical", 0}} {
		c, err := famtest.Preset(t, tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		s := c.Model.Section.(*Section)
		if s.Prior != tc.prior || s.Labels != tc.labels || s.Classes != 10 || !slices.Equal(s.Hidden, []int{1000, 1000}) || !slices.Equal(s.DHidden, []int{1000, 1000}) {
			t.Errorf("%s: %+v: want prior %s, %d labels, 10 classes and the paper's 1000-1000 networks", tc.name, s, tc.prior, tc.labels)
		}
	}
	if d := Defaults(); d.Prior != "normal" || d.ZDim != 8 || d.Classes != 10 || d.Labels != 0 {
		t.Errorf("defaults %+v", d)
	}
}

// TestConfigErrors: every bad field is named.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.prior=uniform"}, "model.prior"},
		{[]string{"model.z_dim=0"}, "model.z_dim"},
		{[]string{"model.prior=mixture", "model.z_dim=1"}, "model.z_dim"},
		{[]string{"model.prior=mixture", "model.classes=1"}, "model.classes"},
		{[]string{"model.hidden=[]"}, "model.hidden"},
		{[]string{"model.d_hidden=[10, 0]"}, "model.d_hidden"},
		{[]string{"model.labels=100"}, "only the categorical prior"},
		{[]string{"model.prior=categorical", "model.labels=105"}, "not a multiple of model.classes"},
		{[]string{"model.labels=-1"}, "model.labels"},
		{[]string{"model.lr_gen=-1"}, "model.lr_gen"},
		{[]string{"model.input_noise=-0.1"}, "model.input_noise"},
		{[]string{"model.prior=categorical", "model.labels=100", "model.label_shift=-1"}, "model.label_shift"},
		{[]string{"model.prior=categorical", "model.labels=100", "model.label_shift=5"}, "model.label_shift"},
		{[]string{"model.label_shift=2"}, "no labelled digits"},
		{[]string{"model.prior=categorical", "model.labels=100", "model.label_shift=2"}, ""},
		{[]string{"model.width=4"}, "field width not found in model (kind aae"},
		{[]string{"loss.penalty=gp", "loss.penalty_weight=10"}, "loss.penalty"},
		{[]string{"loss.name=wgan"}, "loss.name"},
		{[]string{"loss.name=bogus"}, "loss.name"},
		{[]string{"train.reuse_fake=true"}, "train.clip_d/reuse_fake"},
		{[]string{"train.g_steps=2"}, "g_steps"},
		{[]string{"data.kind=ring8"}, "needs image data"},
		{[]string{"loss.feature_matching=1"}, "feature_matching"},
		{[]string{"model.prior=mixture", "model.z_dim=2", "loss.name=lsgan", "train.n_critic=2"}, ""},
		{[]string{"model.prior=categorical", "model.labels=20", "model.classes=3"}, "not a multiple"},
		{[]string{"model.prior=categorical", "model.labels=20", "model.classes=5"}, ""},
	} {
		_, err := famtest.Preset(t, "aae-mnist", tc.sets...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.sets, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to name %q", tc.sets, err, tc.want)
		}
	}
}

// tinySet is n random images of 3 classes, labelled round robin.
func tinySet(n int) *data.Set {
	set := &data.Set{Images: tensor.NewRNG(2).Uniform(-1, 1, n, 1, 28, 28), Classes: []string{"a", "b", "c"}}
	for i := range n {
		set.Labels = append(set.Labels, i%3)
	}
	return set
}

// tinyModel builds an aae with small networks on a synthetic set.
func tinyModel(t *testing.T, sets ...string) (*family.Model, config.Config) {
	t.Helper()
	c, err := famtest.Preset(t, "aae-mnist", append([]string{"data.kind=synthetic", "data.n=60", "data.classes=3", "model.hidden=[16]", "model.d_hidden=[8]", "model.z_dim=3", "train.batch=10"}, sets...)...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 3, Images: tinySet(60)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, c
}

func core(g family.Generator) *model {
	switch g := g.(type) {
	case *categorical:
		return g.model
	case *mixture:
		return g.model
	}
	return g.(*model)
}

func softplus(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// forward runs a network on a constant input, without gradients.
func forward(l interface{ Forward(*ag.Value) *ag.Value }, x *tensor.Tensor) []float32 {
	var out []float32
	ag.NoGrad(func() { out = l.Forward(ag.Const(x)).Data().Data() })
	return out
}

// TestTermsMatchFormulas recomputes every loss term of the four phases of
// a categorical semi-supervised model from the networks' outputs in
// float64: the reconstruction's binary cross-entropy, each adversary's
// -mean log sigmoid(D(prior)) - mean log(1 - sigmoid(D(encoded))), the
// encoder's -mean log sigmoid(D(encoded)) and the labelled cross-entropy.
func TestTermsMatchFormulas(t *testing.T) {
	for _, prior := range []string{"categorical", "mixture", "normal"} {
		sets := []string{"model.prior=" + prior}
		if prior == "categorical" {
			sets = append(sets, "model.classes=3", "model.labels=6")
		}
		m, _ := tinyModel(t, sets...)
		g := core(m.Generator)
		x := tensor.NewRNG(7).Uniform(-1, 1, 5, 1, 28, 28)
		x01 := g.input(x, 0, nil)
		code, err := g.Encode(x)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		if prior == "categorical" {
			k = 3
		}
		if code.Size(1) != k+3 {
			t.Fatalf("%s: code %v, want [5 %d]", prior, code.Shape(), k+3)
		}
		near := func(what string, got float32, want float64) {
			t.Helper()
			if math.Abs(float64(got)-want) > 1e-4*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: %s = %v, formula gives %v", prior, what, got, want)
			}
		}
		// Reconstruction.
		logits := forward(g.net.dec, code)
		want := 0.0
		for i, l := range logits {
			want += softplus(float64(l)) - float64(x01.Data()[i])*float64(l)
		}
		rt := g.ReconTerms(x, tensor.NewRNG(1))
		if len(rt) != 1 || rt[0].Name != "recon" {
			t.Fatalf("%s: recon terms %v", prior, rt)
		}
		near("recon", rt[0].Value.Item(), want/5)
		// Adversaries: the prior codes come from the stream after any
		// input noise (none here).
		pc, ps := g.spec.Sample(tensor.NewRNG(3), 5)
		type side struct {
			name     string
			d        interface{ Forward(*ag.Value) *ag.Value }
			enc, pri *tensor.Tensor
		}
		sides := []side{{"code", g.critics.code, code, pc}}
		if prior == "categorical" {
			sides = []side{{"cat", g.critics.cat, tensor.Slice(code, 1, 0, 3), pc}, {"style", g.critics.code, tensor.Slice(code, 1, 3, 6), ps}}
		}
		ct, gt := g.CriticTerms(x, tensor.NewRNG(3)), g.GeneratorTerms(x, tensor.NewRNG(3))
		if len(ct) != len(sides) || len(gt) != len(sides) {
			t.Fatalf("%s: %d critic and %d generator terms, want %d", prior, len(ct), len(gt), len(sides))
		}
		for j, s := range sides {
			real, fake := forward(s.d, s.pri), forward(s.d, s.enc)
			var dl, gl float64
			for i := range real {
				dl += softplus(-float64(real[i]))/5 + softplus(float64(fake[i]))/5 // -log D(prior) - log(1 - D(enc))
				gl += softplus(-float64(fake[i])) / 5                              // -log D(enc)
			}
			if ct[j].Name != s.name || gt[j].Name != s.name {
				t.Errorf("%s: terms %s and %s, want %s", prior, ct[j].Name, gt[j].Name, s.name)
			}
			near("d/"+s.name, ct[j].Value.Item(), dl)
			near("enc/"+s.name, gt[j].Value.Item(), gl)
		}
		if prior != "categorical" {
			continue
		}
		// Semi-supervised cross-entropy: -mean log softmax(y)[label].
		labels := []int{2, 0, 1, 1, 0}
		st := g.SemiTerms(x, labels, nil)
		ce := 0.0
		for i, y := range labels {
			ce -= math.Log(float64(code.Data()[i*6+y])) / 5
		}
		near("xent", st[0].Value.Item(), ce)
		if len(m.Phases) != 4 || m.Phases[3].Player.Name != "semi" {
			t.Errorf("semi-supervised model: %d phases", len(m.Phases))
		}
	}
}

// TestLabelShift checks that model.label_shift moves the labelled digits
// the semi-supervised phase sees: without it (and without input noise) the
// phase's cross-entropy is the same at every call, with it the digits are
// shifted afresh each time and the value changes.
func TestLabelShift(t *testing.T) {
	xents := func(sets ...string) []float32 {
		m, _ := tinyModel(t, append([]string{"model.prior=categorical", "model.classes=3", "model.labels=6"}, sets...)...)
		semi := m.Phases[len(m.Phases)-1]
		if semi.Player.Name != "semi" {
			t.Fatalf("%v: last phase %s, want semi", sets, semi.Player.Name)
		}
		var v []float32
		for range 4 {
			v = append(v, semi.Terms(0)[0].Value.Item())
		}
		return v
	}
	fixed := xents()
	for _, v := range fixed[1:] {
		if v != fixed[0] {
			t.Errorf("no shift: xent %v, want the same value at every call", fixed)
		}
	}
	shifted := xents("model.label_shift=2")
	differ := 0
	for _, v := range shifted[1:] {
		if v != shifted[0] {
			differ++
		}
	}
	if differ == 0 {
		t.Errorf("label_shift 2: xent %v at every call, want the shifted digits to change it", shifted)
	}
}

// TestReconstructionLossGradient checks ReconstructionLoss's gradient
// against central differences.
func TestReconstructionLossGradient(t *testing.T) {
	rng := tensor.NewRNG(4)
	l := ag.Param(rng.Normal(0, 2, 3, 5))
	x := ag.Const(rng.Uniform(0, 1, 3, 5))
	loss := ReconstructionLoss(l, x)
	ag.Backward(loss)
	g := l.Grad().Data()
	for i := range g {
		// d/dl = (sigmoid(l) - x) / N.
		s := 1 / (1 + math.Exp(-float64(l.Data().Data()[i])))
		if want := (s - float64(x.Data().Data()[i])) / 3; math.Abs(float64(g[i])-want) > 1e-5 {
			t.Errorf("grad[%d] = %v, want %v", i, g[i], want)
		}
	}
}

// TestPriorSamplers: the moments of each prior's draws, the mixture's and
// the categorical prior's counts per component, and the generator's
// mapping of noise to the same distributions.
func TestPriorSamplers(t *testing.T) {
	const n = 20000
	rng := tensor.NewRNG(11)
	moments := func(x *tensor.Tensor, col int) (mean, sd float64) {
		d := x.Size(1)
		for i := range x.Size(0) {
			mean += float64(x.Data()[i*d+col])
		}
		mean /= float64(x.Size(0))
		for i := range x.Size(0) {
			v := float64(x.Data()[i*d+col]) - mean
			sd += v * v
		}
		return mean, math.Sqrt(sd / float64(x.Size(0)))
	}
	normal := priorSpec{kind: "normal", dim: 3}
	z, _ := normal.Sample(rng, n)
	for j := range 3 {
		if m, s := moments(z, j); math.Abs(m) > 0.03 || math.Abs(s-1) > 0.03 {
			t.Errorf("normal coordinate %d: mean %v, sd %v", j, m, s)
		}
	}
	// The mixture: each draw's component is the nearest petal direction.
	mix := priorSpec{kind: "mixture", dim: 3, classes: 10}
	counts := func(x *tensor.Tensor) []int {
		c := make([]int, 10)
		for i := range x.Size(0) {
			a, b := float64(x.Data()[i*3]), float64(x.Data()[i*3+1])
			th := math.Atan2(b, a)
			if th < 0 {
				th += 2 * math.Pi
			}
			c[int(math.Round(th/(2*math.Pi/10)))%10]++
			if r := math.Hypot(a, b); r < MixtureRadius-6*MixtureRadialStd || r > MixtureRadius+6*MixtureRadialStd {
				t.Fatalf("mixture draw %d at radius %v", i, r)
			}
		}
		return c
	}
	checkCounts := func(what string, c []int, total int) {
		t.Helper()
		for k, v := range c {
			if e := float64(total) / float64(len(c)); math.Abs(float64(v)-e) > 5*math.Sqrt(e) {
				t.Errorf("%s: component %d drawn %d times of %d, want about %v", what, k, v, total, e)
			}
		}
	}
	m, _ := mix.Sample(rng, n)
	checkCounts("mixture", counts(m), n)
	if mean, sd := moments(m, 2); math.Abs(mean) > 0.03 || math.Abs(sd-1) > 0.03 {
		t.Errorf("mixture's third coordinate: mean %v, sd %v, want N(0, 1)", mean, sd)
	}
	// Component 3's draws: radial and tangential spread about its mean.
	e := rng.Normal(0, 1, n, 3)
	th := 2 * math.Pi * 3 / 10
	c3 := mix.mixture(e, slices.Repeat([]int{3}, n))
	var r0, t0 []float64
	for i := range n {
		a, b := float64(c3.Data()[i*3]), float64(c3.Data()[i*3+1])
		r0 = append(r0, a*math.Cos(th)+b*math.Sin(th))
		t0 = append(t0, -a*math.Sin(th)+b*math.Cos(th))
	}
	sd := func(xs []float64) (float64, float64) {
		mu, v := 0.0, 0.0
		for _, x := range xs {
			mu += x
		}
		mu /= float64(len(xs))
		for _, x := range xs {
			v += (x - mu) * (x - mu)
		}
		return mu, math.Sqrt(v / float64(len(xs)))
	}
	if mu, s := sd(r0); math.Abs(mu-MixtureRadius) > 0.05 || math.Abs(s-MixtureRadialStd) > 0.05 {
		t.Errorf("component 3 radial: mean %v, sd %v", mu, s)
	}
	if mu, s := sd(t0); math.Abs(mu) > 0.02 || math.Abs(s-MixtureTangentStd) > 0.01 {
		t.Errorf("component 3 tangential: mean %v, sd %v", mu, s)
	}
	gm, _, err := mix.FromNoise(rng.Normal(0, 1, n, 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts("mixture from noise", counts(gm), n)
	// Categorical: one-hot rows, uniform categories, a N(0, I) style.
	cat := priorSpec{kind: "categorical", dim: 2, classes: 5}
	oneHotCounts := func(what string, y *tensor.Tensor) {
		t.Helper()
		c := make([]int, 5)
		for i := range y.Size(0) {
			row := y.Data()[i*5 : (i+1)*5]
			sum, arg := float32(0), 0
			for j, v := range row {
				sum += v
				if v == 1 {
					arg = j
				}
			}
			if sum != 1 {
				t.Fatalf("%s: row %d = %v is not one-hot", what, i, row)
			}
			c[arg]++
		}
		checkCounts(what, c, y.Size(0))
	}
	y, style := cat.Sample(rng, n)
	oneHotCounts("categorical", y)
	if mean, s := moments(style, 1); math.Abs(mean) > 0.03 || math.Abs(s-1) > 0.03 {
		t.Errorf("style: mean %v, sd %v", mean, s)
	}
	noise := rng.Normal(0, 1, n, 3)
	gy, gs, err := cat.FromNoise(noise, nil)
	if err != nil {
		t.Fatal(err)
	}
	oneHotCounts("categorical from noise", gy)
	if gs.Size(1) != 2 || gs.Data()[2] != noise.Data()[3] {
		t.Errorf("style from noise %v: want the noise's first two coordinates", gs.Shape())
	}
	ly, _, _ := cat.FromNoise(tensor.Slice(noise, 0, 0, 3), []int{4, 0, 4})
	if ly.Data()[4] != 1 || ly.Data()[5] != 1 || ly.Data()[14] != 1 {
		t.Errorf("labels 4, 0, 4 gave %v", ly.Data())
	}
	if _, _, err := cat.FromNoise(tensor.New(2, 2), nil); err == nil || !strings.Contains(err.Error(), "[N 3]") {
		t.Errorf("wrong noise width: %v", err)
	}
}

// TestLabelledSubset: balanced, inside the set, distinct, the same from the
// same seed and different from another, and the errors.
func TestLabelledSubset(t *testing.T) {
	labels := make([]int, 1000)
	for i := range labels {
		labels[i] = (i * 7) % 10
	}
	a, err := LabelledSubset(labels, 10, 100, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LabelledSubset(labels, 10, 100, tensor.NewRNG(1))
	c, _ := LabelledSubset(labels, 10, 100, tensor.NewRNG(2))
	if !slices.Equal(a, b) || slices.Equal(a, c) || len(a) != 100 {
		t.Fatalf("seed 1 gave %v and %v, seed 2 %v", a[:5], b[:5], c[:5])
	}
	per := make([]int, 10)
	seen := map[int]bool{}
	for _, i := range a {
		if i < 0 || i >= len(labels) || seen[i] {
			t.Fatalf("index %d out of range or repeated", i)
		}
		seen[i] = true
		per[labels[i]]++
	}
	for k, v := range per {
		if v != 10 {
			t.Errorf("class %d has %d labelled images, want 10", k, v)
		}
	}
	for _, tc := range []struct {
		labels     []int
		classes, n int
		want       string
	}{
		{labels, 10, 95, "multiple"},
		{labels, 10, 0, "multiple"},
		{[]int{0, 1, 2, 11}, 10, 10, "label 11"},
		{[]int{0, 1, 1, 0}, 2, 6, "class 0 has 2"},
	} {
		if _, err := LabelledSubset(tc.labels, tc.classes, tc.n, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d of %d classes: %v, want %q", tc.n, tc.classes, err, tc.want)
		}
	}
}

// TestCapabilities: generation with and without classes, encoding,
// reconstruction and classification, and the requests each refuses.
func TestCapabilities(t *testing.T) {
	m, _ := tinyModel(t, "model.prior=categorical", "model.classes=3")
	cg, ok := m.Generator.(family.Conditional)
	if !ok || cg.Classes() != 3 || cg.Prior().Dim != 4 {
		t.Fatalf("categorical generator: conditional %v, prior %+v", ok, m.Generator.Prior())
	}
	z := tensor.NewRNG(5).Normal(0, 1, 4, 4)
	out, err := cg.Generate(z, family.Request{Labels: []int{0, 1, 2, 1}})
	if err != nil || !slices.Equal(out.Shape(), []int{4, 1, 28, 28}) {
		t.Fatalf("generate: %v, %v", out, err)
	}
	// A requested class sets y: the decoder's input is (one-hot, style).
	// Decoded in a batch of the same size, as some BLAS kernels round a
	// row differently in products of other heights.
	g := core(m.Generator)
	in := tensor.New(4, 6)
	in.Data()[6+1] = 1
	copy(in.Data()[6+3:], z.Data()[4:7])
	if want := g.decode(in); !slices.Equal(want.Data()[784:2*784], out.Data()[784:2*784]) {
		t.Errorf("class 1 with row 1's style differs from decoding (e_1, style)")
	}
	for _, req := range []family.Request{{Labels: []int{0, 3, 0, 0}}, {Labels: []int{0}}, {Codes: map[string][]float64{"c1": {0}}}} {
		if _, err := cg.Generate(z, req); err == nil {
			t.Errorf("request %+v accepted", req)
		}
	}
	x := tensor.NewRNG(6).Uniform(-1, 1, 7, 1, 28, 28)
	cls, err := m.Generator.(family.Classifier).Classify(x)
	code, err2 := m.Generator.(family.Encoder).Encode(x)
	rec, err3 := m.Generator.(family.Reconstructor).Reconstruct(x)
	if err != nil || err2 != nil || err3 != nil || !slices.Equal(rec.Shape(), x.Shape()) {
		t.Fatalf("classify/encode/reconstruct: %v, %v, %v", err, err2, err3)
	}
	for i, k := range cls {
		row := code.Data()[i*6 : i*6+3]
		if row[k] != slices.Max(row) {
			t.Errorf("image %d classified %d, y = %v", i, k, row)
		}
	}
	if _, err := m.Generator.(family.Encoder).Encode(tensor.New(2, 3, 28, 28)); err == nil || !strings.Contains(err.Error(), "want [N 1 28 28]") {
		t.Errorf("wrong image shape: %v", err)
	}
	n, _ := tinyModel(t)
	if _, ok := n.Generator.(family.Classifier); ok {
		t.Error("the normal prior's model classifies")
	}
	if _, err := n.Generator.Generate(tensor.New(2, 3), family.Request{Labels: []int{0, 1}}); err == nil || !strings.Contains(err.Error(), "unconditional") {
		t.Errorf("labels to the normal prior: %v", err)
	}
	if out, err := n.Generator.Generate(tensor.New(2, 3), family.Request{}); err != nil || out.Size(0) != 2 {
		t.Errorf("normal prior: %v", err)
	}
}

// trainLogs trains m for its config's steps and returns each step's logs.
func trainLogs(t *testing.T, m *family.Model, steps int) []gan.Logs {
	t.Helper()
	var logs []gan.Logs
	tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: steps, Callbacks: []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error {
		logs = append(logs, l)
		return nil
	}}}
	if err := tr.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	return logs
}

// criticAccuracy is the code adversary's accuracy telling n prior codes
// (logit > 0) from the codes of the first n images (logit < 0).
func criticAccuracy(g *model, images *tensor.Tensor, n int) float64 {
	code, _ := g.Encode(tensor.Slice(images, 0, 0, n))
	prior, _ := g.spec.Sample(tensor.NewRNG(99), n)
	right := 0
	for i, v := range forward(g.critics.code, prior) {
		if v > 0 {
			right++
		}
		if forward(g.critics.code, tensor.Slice(code, 0, i, i+1))[0] < 0 {
			right++
		}
	}
	return float64(right) / float64(2*n)
}

// TestTrainMNIST trains small AAEs on real MNIST for a few hundred steps:
// with the normal prior, the reconstruction loss falls and the test
// digits' codes have N(0, 1)'s moments (the adversary's accuracy is
// logged); the
// semi-supervised categorical model (without -short) classifies test
// digits far better than chance.
func TestTrainMNIST(t *testing.T) {
	train, test := famtest.MNIST(t, data.Train), famtest.MNIST(t, data.Test)
	build := func(steps int, sets ...string) (*family.Model, []gan.Logs) {
		c, err := famtest.Preset(t, "aae-mnist", append([]string{"model.hidden=[128]", "model.d_hidden=[64]", "model.z_dim=4"}, sets...)...)
		if err != nil {
			t.Fatal(err)
		}
		m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 10, Images: train})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		return m, trainLogs(t, m, steps)
	}
	mean := func(logs []gan.Logs, key string) float64 {
		s := 0.0
		for _, l := range logs {
			s += l[key]
		}
		return s / float64(len(logs))
	}
	m, logs := build(150, "train.lr_d=1e-3")
	first, last := mean(logs[:10], "ae/recon"), mean(logs[len(logs)-20:], "ae/recon")
	acc := criticAccuracy(core(m.Generator), test.Images, 500)
	code, _ := core(m.Generator).Encode(tensor.Slice(test.Images, 0, 0, 500))
	t.Logf("normal: recon %.1f -> %.1f nats, adversary accuracy %.3f, d/code %.3f", first, last, acc, mean(logs[len(logs)-20:], "d/code"))
	if !(first > 190 && last < 160) {
		t.Errorf("normal prior: recon %.1f -> %.1f nats: want > 190 -> < 160", first, last)
	}
	// Without the regularisation phase the codes spread to sd 4 to 5.
	for j := range 4 {
		mu, sd := 0.0, 0.0
		for i := range 500 {
			mu += float64(code.Data()[i*4+j]) / 500
		}
		for i := range 500 {
			sd += math.Pow(float64(code.Data()[i*4+j])-mu, 2) / 500
		}
		if sd = math.Sqrt(sd); math.Abs(mu) > 0.6 || sd < 0.6 || sd > 1.5 {
			t.Errorf("code coordinate %d of test digits: mean %.3f, sd %.3f, want N(0, 1)'s within 0.6 and (0.6, 1.5)", j, mu, sd)
		}
	}
	if testing.Short() {
		t.Skip("the semi-supervised half trains without -short")
	}
	m, logs = build(200, "model.prior=categorical", "model.labels=100", "model.input_noise=0.3", "train.lr_d=1e-3")
	cls, err := m.Generator.(family.Classifier).Classify(tensor.Slice(test.Images, 0, 0, 1000))
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i, k := range cls {
		if k != test.Labels[i] {
			wrong++
		}
	}
	t.Logf("semi: recon %.1f, xent %.3f, test error %.1f%%", mean(logs[len(logs)-20:], "ae/recon"), mean(logs[len(logs)-20:], "semi/xent"), float64(wrong)/10)
	if wrong > 400 {
		t.Errorf("semi-supervised: %d of 1000 test digits wrong after 200 steps, want at most 400", wrong)
	}
}
