package cyclegan

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// tinyConfig is a cyclegan config for side x side gray images with small
// networks.
func tinyConfig(t *testing.T, side int, sets ...string) config.Config {
	t.Helper()
	c := config.Default()
	for _, kv := range append([]string{"data.kind=synthetic", "data.size=" + strconv.Itoa(side), "model.kind=cyclegan", "model.width=4", "model.blocks=1",
		"model.d_width=4", "loss.name=lsgan", "train.batch=8", "train.steps=40", "train.lr_g=2e-3", "train.lr_d=2e-3", "train.beta2=0.999"}, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// squares returns n gray side x side images, each a bright 3x3 square at
// a random place on a dark background (-1), or inverted (a dark square on
// a bright background).
func squares(n, side int, inverted bool, rng *tensor.RNG) *data.Set {
	x := tensor.New(n, 1, side, side)
	fg, bg := float32(1), float32(-1)
	if inverted {
		fg, bg = bg, fg
	}
	x.Fill(bg)
	for i := range n {
		r, c := rng.Intn(side-2), rng.Intn(side-2)
		for dr := range 3 {
			for dc := range 3 {
				x.Data()[i*side*side+(r+dr)*side+c+dc] = fg
			}
		}
	}
	return &data.Set{Images: x, Labels: make([]int, n)}
}

// twoDomains is an unpaired set: A bright squares, B inverted squares
// drawn independently.
func twoDomains(n, side int, seed uint64) family.Data {
	rng := tensor.NewRNG(seed)
	return family.Data{Channels: 1, Size: side, Images: squares(n, side, false, rng), B: squares(n, side, true, rng)}
}

func newModel(t *testing.T, c config.Config, d family.Data) (*family.Model, *Model) {
	t.Helper()
	fm, err := family.Build(c, d)
	if err != nil {
		t.Fatal(err)
	}
	if fm.Close != nil {
		t.Cleanup(fm.Close)
	}
	return fm, fm.Translator.(*Model)
}

func meanAbsDiff(x, y *tensor.Tensor) float64 {
	var s float64
	for i, v := range x.Data() {
		s += math.Abs(float64(v - y.Data()[i]))
	}
	return s / float64(len(x.Data()))
}

// meanSqShift is mean((x - c)^2) over x's values.
func meanSqShift(x *tensor.Tensor, c float64) float64 {
	var s float64
	for _, v := range x.Data() {
		s += (float64(v) - c) * (float64(v) - c)
	}
	return s / float64(len(x.Data()))
}

func forward(f func(*ag.Value) *ag.Value, x *tensor.Tensor) *tensor.Tensor {
	var y *tensor.Tensor
	ag.NoGrad(func() { y = f(ag.Const(x)).Data() })
	return y
}

func near(t *testing.T, name string, got *ag.Value, want float64) {
	t.Helper()
	if g := float64(got.Item()); math.Abs(g-want) > 1e-5*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.7g, want %.7g", name, g, want)
	}
}

// TestTermsMatchFormulas recomputes every loss term from the networks'
// outputs: LSGAN's generator terms E[(D(G(x)) - 1)^2], the cycle terms
// lambda |G_BA(G_AB(a)) - a|_1 and lambda |G_AB(G_BA(b)) - b|_1, the
// identity terms 0.5 lambda |G_AB(b) - b|_1 and 0.5 lambda |G_BA(a) - a|_1
// (and checks the swapped direction, G_AB shown A, gives another value, so
// the test tells them apart), and D's 1/2 (E[(D(real) - 1)^2] + E[D(fake)^2])
// with no pool, on this step's translations.
func TestTermsMatchFormulas(t *testing.T) {
	c := tinyConfig(t, 8, "model.pool=0")
	d := twoDomains(16, 8, 1)
	_, m := newModel(t, c, d)
	rng := tensor.NewRNG(2)
	a, b := rng.Normal(0, 0.5, 4, 1, 8, 8), rng.Normal(0, 0.5, 4, 1, 8, 8)
	terms := map[string]*ag.Value{}
	for _, tm := range m.GeneratorTerms(a, b) {
		terms[tm.Name] = tm.Value
	}
	if len(terms) != 6 {
		t.Fatalf("%d generator terms: %v", len(terms), terms)
	}
	if m.Cycle != 10 || m.Identity != 5 {
		t.Fatalf("weights cycle %g identity %g, want the paper's 10 and 5", m.Cycle, m.Identity)
	}
	fakeB, fakeA := forward(m.GAB.Forward, a), forward(m.GBA.Forward, b)
	near(t, "adv_ab", terms["adv_ab"], meanSqShift(forward(m.DB.Forward, fakeB), 1))
	near(t, "adv_ba", terms["adv_ba"], meanSqShift(forward(m.DA.Forward, fakeA), 1))
	near(t, "cycle_a", terms["cycle_a"], 10*meanAbsDiff(forward(m.GBA.Forward, fakeB), a))
	near(t, "cycle_b", terms["cycle_b"], 10*meanAbsDiff(forward(m.GAB.Forward, fakeA), b))
	idtAB := 5 * meanAbsDiff(forward(m.GAB.Forward, b), b)
	near(t, "idt_ab", terms["idt_ab"], idtAB)
	near(t, "idt_ba", terms["idt_ba"], 5*meanAbsDiff(forward(m.GBA.Forward, a), a))
	for name, wrong := range map[string]float64{
		"G_AB shown A": 5 * meanAbsDiff(forward(m.GAB.Forward, a), a),
		"G_BA shown B": 5 * meanAbsDiff(forward(m.GBA.Forward, b), b),
	} {
		if math.Abs(wrong-idtAB) < 1e-3 {
			t.Fatalf("the swapped identity term (%s) %g is too near the right one %g to tell them apart", name, wrong, idtAB)
		}
	}
	dterms := map[string]*ag.Value{}
	for _, tm := range m.DiscriminatorTerms(a, b) {
		dterms[tm.Name] = tm.Value
	}
	near(t, "d_b", dterms["d_b"], 0.5*(meanSqShift(forward(m.DB.Forward, b), 1)+meanSqShift(forward(m.DB.Forward, fakeB), 0)))
	near(t, "d_a", dterms["d_a"], 0.5*(meanSqShift(forward(m.DA.Forward, a), 1)+meanSqShift(forward(m.DA.Forward, fakeA), 0)))
	c = tinyConfig(t, 8, "model.identity=0")
	_, m = newModel(t, c, d)
	for _, tm := range m.GeneratorTerms(a, b) {
		if strings.HasPrefix(tm.Name, "idt") {
			t.Errorf("model.identity 0 still has the term %s", tm.Name)
		}
	}
}

// TestTranslator checks the Translator: both directions are the two
// generators, and a bad pair or shape is an error, not a panic.
func TestTranslator(t *testing.T) {
	_, m := newModel(t, tinyConfig(t, 8), twoDomains(16, 8, 1))
	if ds := m.Domains(); len(ds) != 2 || ds[0] != "A" || ds[1] != "B" {
		t.Errorf("domains %v", ds)
	}
	if s := m.Shape(); len(s) != 3 || s[0] != 1 || s[1] != 8 || s[2] != 8 {
		t.Errorf("shape %v", s)
	}
	x := tensor.NewRNG(5).Normal(0, 0.5, 2, 1, 8, 8)
	for from, g := range []func(*ag.Value) *ag.Value{m.GAB.Forward, m.GBA.Forward} {
		y, err := m.Translate(x, from, 1-from)
		if err != nil {
			t.Fatal(err)
		}
		if d := meanAbsDiff(y, forward(g, x)); d != 0 {
			t.Errorf("from %d: differs from its generator by %g", from, d)
		}
	}
	for _, bad := range [][2]int{{0, 0}, {1, 1}, {0, 2}, {-1, 1}} {
		if _, err := m.Translate(x, bad[0], bad[1]); err == nil {
			t.Errorf("translate %d -> %d: no error", bad[0], bad[1])
		}
	}
	if _, err := m.Translate(tensor.New(2, 1, 12, 12), 0, 1); err == nil || !strings.Contains(err.Error(), "[N, 1, 8, 8]") {
		t.Errorf("wrong shape: %v", err)
	}
}

// TestValidateNamesFields checks that bad settings are refused with the
// field named, and that the schedule holds the rate for the first half and
// decays it to zero over the second.
func TestValidateNamesFields(t *testing.T) {
	for kv, field := range map[string]string{
		"model.width=0": "model.width", "model.blocks=0": "model.blocks", "model.d_width=-1": "model.d_width",
		"model.d_layers=3": "model.d_layers", "model.cycle=-1": "model.cycle", "model.identity=-0.5": "model.identity",
		"model.pool=-1": "model.pool", "model.decay_start=1.5": "model.decay_start", "loss.name=ns": "loss.name",
		"train.lr_decay=true": "train.lr_decay", "train.n_critic=2": "n_critic", "data.size=30": "data.size",
	} {
		c := config.Default()
		for _, s := range []string{"data.kind=synthetic", "data.size=8", "model.kind=cyclegan", "loss.name=lsgan", kv} {
			if err := c.Set(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v (want an error naming %s)", kv, err, field)
		}
	}
	c := tinyConfig(t, 8, "train.steps=100")
	fm, _ := newModel(t, c, twoDomains(16, 8, 1))
	for _, p := range fm.Players {
		lr, ok := p.LR.(optim.Linear)
		if !ok || lr.LR(0) != 2e-3 || lr.LR(50) != 2e-3 || math.Abs(float64(lr.LR(75))-1e-3) > 1e-9 || lr.LR(100) != 0 {
			t.Errorf("player %s: schedule %+v", p.Name, p.LR)
		}
	}
	if _, err := family.Build(c, family.Data{Channels: 1, Size: 8, Images: squares(16, 8, false, tensor.NewRNG(1))}); err == nil || !strings.Contains(err.Error(), "two domains") {
		t.Errorf("one-domain data: %v", err)
	}
}

// TestTrainsOnSyntheticSquares trains a tiny CycleGAN on unpaired bright
// squares (A) and dark squares on a bright background (B) and checks that
// both directions translate: G_AB's outputs have B's bright background,
// G_BA's A's dark one, and the cycles come back close to the inputs.
func TestTrainsOnSyntheticSquares(t *testing.T) {
	c := tinyConfig(t, 8, "train.steps=60")
	d := twoDomains(64, 8, 7)
	fm, m := newModel(t, c, d)
	tr := &gan.Trainer{Players: fm.Players, Phases: fm.Phases, Steps: c.Train.Steps}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(11)
	a, b := squares(32, 8, false, rng).Images, squares(32, 8, true, rng).Images
	ab, _ := m.Translate(a, 0, 1)
	ba, _ := m.Translate(b, 1, 0)
	aba, _ := m.Translate(ab, 1, 0)
	bab, _ := m.Translate(ba, 0, 1)
	// The ideal translation of a is -a, of b -b.
	neg := func(x *tensor.Tensor) *tensor.Tensor { return tensor.Scale(x, -1) }
	t.Logf("|G_AB(a) + a| %.3f, |G_BA(b) + b| %.3f, cycles %.3f %.3f", meanAbsDiff(ab, neg(a)), meanAbsDiff(ba, neg(b)), meanAbsDiff(aba, a), meanAbsDiff(bab, b))
	for name, e := range map[string]float64{"G_AB(a) to -a": meanAbsDiff(ab, neg(a)), "G_BA(b) to -b": meanAbsDiff(ba, neg(b)),
		"cycle a": meanAbsDiff(aba, a), "cycle b": meanAbsDiff(bab, b)} {
		if e > 0.5 {
			t.Errorf("%s: mean absolute error %.3f, want below 0.5 (2 is all wrong)", name, e)
		}
	}
}
