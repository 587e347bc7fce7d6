package gan

import (
	"math"
	"slices"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestCrossEntropyLoss checks values worked out by hand and the gradient
// (softmax - onehot) / N.
func TestCrossEntropyLoss(t *testing.T) {
	ln3 := float32(math.Log(3))
	for _, tc := range []struct {
		logits []float32
		k      int
		labels []int
		want   float64
	}{
		// softmax [1/2, 1/2]: -log 1/2.
		{[]float32{0, 0}, 2, []int{1}, math.Log(2)},
		// softmax [1/4, 3/4]: -(log 3/4 + log 1/4) / 2 = (log 4/3 + log 4) / 2.
		{[]float32{0, ln3, 0, ln3}, 2, []int{1, 0}, (math.Log(4.0/3) + math.Log(4)) / 2},
		// softmax [3/5, 1/5, 1/5], shifted by 100 (stability): -log 1/5.
		{[]float32{100 + ln3, 100, 100}, 3, []int{2}, math.Log(5)},
	} {
		n := len(tc.labels)
		x := ag.Param(tensor.FromSlice(slices.Clone(tc.logits), n, tc.k))
		l := CrossEntropyLoss(x, tc.labels)
		if got := float64(l.Item()); math.Abs(got-tc.want) > 1e-5 {
			t.Errorf("%v labels %v: loss %.7f, want %.7f", tc.logits, tc.labels, got, tc.want)
		}
		g := ag.Grad([]*ag.Value{l}, []*ag.Value{x}, nil, false)[0].Data().Data()
		for i, y := range tc.labels {
			row := tc.logits[i*tc.k : (i+1)*tc.k]
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v - row[0]))
			}
			for j, v := range row {
				want := math.Exp(float64(v-row[0])) / z
				if j == y {
					want--
				}
				want /= float64(n)
				if math.Abs(float64(g[i*tc.k+j])-want) > 1e-6 {
					t.Errorf("%v labels %v: dL/dlogit[%d,%d] = %g, want %g", tc.logits, tc.labels, i, j, g[i*tc.k+j], want)
				}
			}
		}
	}
}

func TestCrossEntropyLossPanics(t *testing.T) {
	for _, labels := range [][]int{{0}, {0, 3}, {-1, 0}} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "gan.CrossEntropyLoss") {
					t.Errorf("labels %v: panic %v, want one naming gan.CrossEntropyLoss", labels, r)
				}
			}()
			CrossEntropyLoss(ag.Const(tensor.New(2, 3)), labels)
		}()
	}
}

// thetaG is a generator with one parameter per class: G(z, y) is an
// [N, 1, 2, 2] image filled with Theta[y]. It records the labels.
type thetaG struct {
	Theta  *ag.Value // [K]
	labels [][]int
}

func (g *thetaG) Params(p string) []nn.Param {
	return []nn.Param{{Name: nn.Join(p, "theta"), Value: g.Theta}}
}
func (g *thetaG) Buffers(string) []nn.Buffer { return nil }
func (g *thetaG) SetTraining(bool)           {}
func (g *thetaG) Forward(z *ag.Value, labels []int) *ag.Value {
	g.labels = append(g.labels, slices.Clone(labels))
	v := ag.Reshape(ag.IndexSelect(g.Theta, 0, labels), len(labels), 1, 1, 1)
	return ag.Mul(v, ag.Const(tensor.Full(1, len(labels), 1, 2, 2)))
}

// linearACD is an auxiliary-classifier D on an image's mean pixel m: source
// logit A*m, class logits W_k*m.
type linearACD struct {
	A *ag.Value // [1]
	W *ag.Value // [K]
}

func (d *linearACD) Params(p string) []nn.Param {
	return []nn.Param{{Name: nn.Join(p, "a"), Value: d.A}, {Name: nn.Join(p, "w"), Value: d.W}}
}
func (d *linearACD) Buffers(string) []nn.Buffer { return nil }
func (d *linearACD) SetTraining(bool)           {}
func (d *linearACD) Forward(x *ag.Value) (source, class *ag.Value) {
	n := x.Shape()[0]
	m := ag.Reshape(ag.Mean(x, []int{1, 2, 3}, false), n, 1)
	k := d.W.Shape()[0]
	return ag.Mul(m, ag.Reshape(d.A, 1, 1)), ag.Mul(m, ag.Reshape(d.W, 1, k))
}

// acganFixture returns a game on thetaG and linearACD with three classes and a
// fixed real batch: images of constant level realLevels[i], label
// realLabels[i].
var (
	realLevels = []float64{0.9, -0.3, 0.1, 0.6}
	realLabels = []int{0, 1, 2, 0}
	thetaInit  = []float32{0.2, -0.4, 0.8}
	wInit      = []float32{1, -1, 0.5}
	aInit      = float32(0.5)
)

func acganFixture(t *testing.T, objective string) (*ACGAN, *thetaG, *linearACD) {
	t.Helper()
	g := &thetaG{Theta: ag.Param(tensor.FromSlice(slices.Clone(thetaInit), 3))}
	d := &linearACD{A: ag.Param(tensor.FromSlice([]float32{aInit}, 1)), W: ag.Param(tensor.FromSlice(slices.Clone(wInit), 3))}
	real := func(n int) (*tensor.Tensor, []int) {
		x := tensor.New(n, 1, 2, 2)
		for i := range n {
			for j := range 4 {
				x.Data()[i*4+j] = float32(realLevels[i])
			}
		}
		return x, slices.Clone(realLabels[:n])
	}
	a := &ACGAN{G: g, D: d, Objective: mustObjective(t, objective), Prior: Prior{Kind: "normal", Dim: 2}, Classes: 3,
		Real: real, Batch: 4, RNG: tensor.NewRNG(5), ClassWeight: 2, DFakeClass: true}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	return a, g, d
}

func softplus(x float64) float64 { return math.Log1p(math.Exp(x)) }

// crossEntropy is the mean of -log softmax(w * m_i)[y_i] over i.
func crossEntropy(w []float32, m []float64, ys []int) float64 {
	var s float64
	for i, y := range ys {
		var z float64
		for _, wk := range w {
			z += math.Exp(float64(wk) * m[i])
		}
		s += math.Log(z) - float64(w[y])*m[i]
	}
	return s / float64(len(ys))
}

// levelsOf returns G's image levels Theta[y] for labels ys.
func levelsOf(ys []int) []float64 {
	m := make([]float64, len(ys))
	for i, y := range ys {
		m[i] = float64(thetaInit[y])
	}
	return m
}

func termValues(ts []Term) map[string]float64 {
	m := map[string]float64{}
	for _, t := range ts {
		m[t.Name] = float64(t.Value.Item())
	}
	return m
}

func termNames(ts []Term) []string {
	var r []string
	for _, t := range ts {
		r = append(r, t.Name)
	}
	return r
}

// TestACGANTermValues checks each term of both players against the
// paper's losses computed in float64 from the stubs' closed forms: the
// source loss (non-saturating GAN) on A*m, and the class cross-entropies
// on W*m times the class weight 2, D's on the real and the generated
// images, G's on the generated ones.
func TestACGANTermValues(t *testing.T) {
	a, g, _ := acganFixture(t, "ns")
	d := termValues(a.DiscriminatorTerms(0))
	yf := g.labels[0]
	mf := levelsOf(yf)
	var nsD float64
	for i := range 4 {
		nsD += (softplus(-float64(aInit)*realLevels[i]) + softplus(float64(aInit)*mf[i])) / 4
	}
	want := map[string]float64{
		"ns":         nsD,
		"class_real": 2 * crossEntropy(wInit, realLevels, realLabels),
		"class_fake": 2 * crossEntropy(wInit, mf, yf),
	}
	for name, w := range want {
		if got, ok := d[name]; !ok || math.Abs(got-w) > 1e-5 {
			t.Errorf("D's %s = %.7f (present %v), want %.7f", name, got, ok, w)
		}
	}
	if len(d) != 3 {
		t.Errorf("D's terms %v, want ns, class_real, class_fake", d)
	}
	gt := termValues(a.GeneratorTerms(0))
	yg := g.labels[1]
	mg := levelsOf(yg)
	var nsG float64
	for i := range 4 {
		nsG += softplus(-float64(aInit)*mg[i]) / 4
	}
	if got := gt["ns"]; math.Abs(got-nsG) > 1e-5 {
		t.Errorf("G's ns = %.7f, want %.7f", got, nsG)
	}
	if got, w := gt["class_fake"], 2*crossEntropy(wInit, mg, yg); math.Abs(got-w) > 1e-5 {
		t.Errorf("G's class_fake = %.7f, want %.7f", got, w)
	}
	if len(gt) != 2 {
		t.Errorf("G's terms %v, want ns and class_fake", gt)
	}
}

// TestACGANTermNames checks the terms each option gives: the fake class
// term leaves D's loss without DFakeClass, a penalty joins D's, and the
// objective's name labels the source term.
func TestACGANTermNames(t *testing.T) {
	for _, tc := range []struct {
		objective  string
		dFakeClass bool
		penalty    string
		wantD      []string
	}{
		{"ns", true, "", []string{"ns", "class_real", "class_fake"}},
		{"ns", false, "", []string{"ns", "class_real"}},
		{"hinge", false, "r1", []string{"hinge", "class_real", "r1"}},
	} {
		a, _, _ := acganFixture(t, tc.objective)
		a.DFakeClass = tc.dFakeClass
		a.Penalty = Penalty{Kind: tc.penalty, Weight: 1}
		if got := termNames(a.DiscriminatorTerms(0)); !slices.Equal(got, tc.wantD) {
			t.Errorf("%+v: D's terms %v, want %v", tc, got, tc.wantD)
		}
		if got := termNames(a.GeneratorTerms(0)); !slices.Equal(got, []string{tc.objective, "class_fake"}) {
			t.Errorf("%+v: G's terms %v, want [%s class_fake]", tc, got, tc.objective)
		}
	}
}

// TestACGANGradientRouting checks which parameters each term's gradient
// reaches: D's source term only D's source weight A, D's class terms only
// its class weights W (the fake images are detached: D's class_fake must
// not move G), G's source term A and G's Theta, G's class term W and
// Theta. It runs with and without ReuseFake (where D's fake batch keeps
// G's graph for G's update).
func TestACGANGradientRouting(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		a, g, d := acganFixture(t, "ns")
		a.ReuseFake = reuse
		params := []*ag.Value{d.A, d.W, g.Theta}
		names := []string{"A", "W", "Theta"}
		check := func(player string, ts []Term, want map[string][]bool) {
			for _, term := range ts {
				w, ok := want[term.Name]
				if !ok {
					t.Fatalf("reuse %v: %s's unexpected term %s", reuse, player, term.Name)
				}
				grads := ag.Grad([]*ag.Value{term.Value}, params, nil, false)
				for i, gr := range grads {
					reached := gr != nil && tensor.Max(tensor.Map(gr.Data(), func(x float32) float32 { return float32(math.Abs(float64(x))) }), nil, false).Item() > 0
					if reached != w[i] {
						t.Errorf("reuse %v: %s's %s reaches %s: %v, want %v", reuse, player, term.Name, names[i], reached, w[i])
					}
				}
			}
		}
		check("D", a.DiscriminatorTerms(0), map[string][]bool{
			"ns":         {true, false, false},
			"class_real": {false, true, false},
			"class_fake": {false, true, false},
		})
		check("G", a.GeneratorTerms(0), map[string][]bool{
			"ns":         {true, false, true},
			"class_fake": {false, true, true},
		})
		if reuse && !slices.Equal(g.labels[0], g.labels[len(g.labels)-1]) || !reuse && len(g.labels) != 2 {
			t.Errorf("reuse %v: G was called with labels %v", reuse, g.labels)
		}
	}
}

func TestACGANValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(a *ACGAN)
		want string
	}{
		{func(a *ACGAN) { a.D = nil }, "missing generator or discriminator"},
		{func(a *ACGAN) { a.Real = nil }, "no real data"},
		{func(a *ACGAN) { a.RNG = nil }, "no random source"},
		{func(a *ACGAN) { a.Objective = Objective{} }, "no objective"},
		{func(a *ACGAN) { a.Batch = -1 }, "batch size -1"},
		{func(a *ACGAN) { a.Classes = 1 }, "1 classes"},
		{func(a *ACGAN) { a.ClassWeight = 0 }, "class weight 0"},
		{func(a *ACGAN) { a.ClassWeight = float32(math.NaN()) }, "class weight NaN"},
		{func(a *ACGAN) { a.Prior.Kind = "cauchy" }, `prior kind "cauchy"`},
		{func(a *ACGAN) { a.Penalty.Kind = "gp3" }, `unknown penalty "gp3"`},
	} {
		a, _, _ := acganFixture(t, "ns")
		tc.edit(a)
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}
