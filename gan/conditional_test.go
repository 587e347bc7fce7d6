package gan

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// noState provides the nn.Module methods of the stub networks.
type noState struct{}

func (noState) Params(string) []nn.Param   { return nil }
func (noState) Buffers(string) []nn.Buffer { return nil }
func (noState) SetTraining(bool)           {}

// stubG ignores z and returns [N, 1, 2, 2] images filled with fill (or with
// the label when fill is nil), recording the labels it was given.
type stubG struct {
	noState
	fill   *float32
	labels [][]int
	zShape []int
}

func (g *stubG) Forward(z *ag.Value, labels []int) *ag.Value {
	g.labels = append(g.labels, slices.Clone(labels))
	g.zShape = z.Shape()
	out := tensor.New(len(labels), 1, 2, 2)
	for i, y := range labels {
		v := float32(y)
		if g.fill != nil {
			v = *g.fill
		}
		for j := range 4 {
			out.Data()[i*4+j] = v
		}
	}
	return ag.Const(out)
}

// Cases the agreement discriminator tells apart.
const (
	realRight = iota // a real image with its own label
	realWrong        // a real image with another label
	fakeAny          // a generated image, whatever the label
)

// agreementD ignores what an image looks like and scores only whether the
// label agrees with it: real images hold their class in every pixel,
// generated ones hold -1. Its logit for case k is the parameter P[k], so
// the gradient of D's loss with respect to P says which target each case
// was given and with what weight. It records the cases of each call.
type agreementD struct {
	noState
	P     *ag.Value // [3]
	cases [][]int
}

func (d *agreementD) Forward(x *ag.Value, labels []int) *ag.Value {
	n := len(labels)
	cs := make([]int, n)
	for i, y := range labels {
		switch p := x.Data().Data()[i*x.Data().Len()/n]; {
		case p < 0:
			cs[i] = fakeAny
		case int(p) == y:
			cs[i] = realRight
		default:
			cs[i] = realWrong
		}
	}
	d.cases = append(d.cases, cs)
	return ag.Reshape(ag.IndexSelect(d.P, 0, cs), n, 1)
}

// labelledReal returns a Real function drawing uniform labels from rng,
// each image filled with its label, and recording the labels.
func labelledReal(rng *tensor.RNG, classes int, record *[][]int) func(int) (*tensor.Tensor, []int) {
	return func(n int) (*tensor.Tensor, []int) {
		ys := SampleLabels(rng, n, classes)
		*record = append(*record, ys)
		x := tensor.New(n, 1, 2, 2)
		for i, y := range ys {
			for j := range 4 {
				x.Data()[i*4+j] = float32(y)
			}
		}
		return x, ys
	}
}

func constCases(n, c int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = c
	}
	return r
}

// TestConditionalMatchingAwareTargets checks the three cases of the
// matching-aware discriminator (Reed et al. 2016) with a discriminator that
// scores only label agreement: real + right label is pushed towards real
// with weight 1, real + wrong label and fake + its label towards fake with
// weight 1/2 each; without matching awareness the mismatched case is not
// scored and the fake case has weight 1.
func TestConditionalMatchingAwareTargets(t *testing.T) {
	for _, tc := range []struct {
		objective     string
		matchingAware bool
		wantGrad      [3]float64 // dLoss/dP for real-right, real-wrong, fake
		wantTerms     []string
	}{
		// Wasserstein: L = mean(fake) - mean(real), linear in the logits.
		{"wgan", false, [3]float64{-1, 0, 1}, []string{"wgan"}},
		{"wgan", true, [3]float64{-1, 0.5, 0.5}, []string{"wgan", "mismatch"}},
		// Non-saturating at logit 0: d softplus(-l)/dl = -1/2, d softplus(l)/dl = 1/2.
		{"ns", false, [3]float64{-0.5, 0, 0.5}, []string{"ns"}},
		{"ns", true, [3]float64{-0.5, 0.25, 0.25}, []string{"ns", "mismatch"}},
	} {
		obj, err := LookupObjective(tc.objective, 0)
		if err != nil {
			t.Fatal(err)
		}
		rng := tensor.NewRNG(3)
		minus1 := float32(-1)
		d := &agreementD{P: ag.Param(tensor.New(3))}
		var reals [][]int
		g := &stubG{fill: &minus1}
		game := &Conditional{G: g, D: d, Objective: obj, Prior: Prior{Kind: "normal", Dim: 2}, Classes: 4,
			Real: labelledReal(rng.Split(), 4, &reals), Batch: 16, RNG: rng, MatchingAware: tc.matchingAware}
		if err := game.Validate(); err != nil {
			t.Fatal(err)
		}
		terms := game.DiscriminatorTerms(0)
		var names []string
		loss := terms[0].Value
		for i, term := range terms {
			names = append(names, term.Name)
			if i > 0 {
				loss = ag.Add(loss, term.Value)
			}
		}
		if !slices.Equal(names, tc.wantTerms) {
			t.Errorf("%s ma=%v: terms %v, want %v", tc.objective, tc.matchingAware, names, tc.wantTerms)
		}
		grad := ag.Grad([]*ag.Value{loss}, []*ag.Value{d.P}, nil, false)[0].Data().Data()
		for k, want := range tc.wantGrad {
			if math.Abs(float64(grad[k])-want) > 1e-6 {
				t.Errorf("%s ma=%v: dLoss/dP = %v, want %v", tc.objective, tc.matchingAware, grad, tc.wantGrad)
				break
			}
		}
		// The calls: real with its labels, fake with the sampled labels,
		// then (matching-aware) real with wrong labels only.
		want := [][]int{constCases(16, realRight), constCases(16, fakeAny)}
		if tc.matchingAware {
			want = append(want, constCases(16, realWrong))
		}
		if !slices.EqualFunc(d.cases, want, slices.Equal) {
			t.Errorf("%s ma=%v: D saw cases %v, want %v", tc.objective, tc.matchingAware, d.cases, want)
		}
	}
}

// onePass hides a discriminator's ForwardRelabel, so the game makes a
// separate pass for the mismatched batch.
type onePass struct{ d *models.CondDiscriminator }

func (p onePass) Forward(x *ag.Value, labels []int) *ag.Value { return p.d.Forward(x, labels) }
func (p onePass) Params(prefix string) []nn.Param             { return p.d.Params(prefix) }
func (p onePass) Buffers(prefix string) []nn.Buffer           { return p.d.Buffers(prefix) }
func (p onePass) SetTraining(on bool)                         { p.d.SetTraining(on) }

// TestMatchingAwareSharedPass checks that the matching-aware D's terms are
// the same whether the game scores the mismatched real batch in D's own
// pass (a projection D, a Relabeler) or in a second one; and that with
// instance noise, which makes the two real batches differ, it makes the
// second pass.
func TestMatchingAwareSharedPass(t *testing.T) {
	obj, err := LookupObjective("ns", 0)
	if err != nil {
		t.Fatal(err)
	}
	cc := models.CGANConfig{DCGANConfig: models.DCGANConfig{Size: 28, Channels: 1, Width: 4, ZDim: 3}, Classes: 4}
	terms := func(share bool, noise float32) []float32 {
		rng := tensor.NewRNG(7)
		g, err := models.NewCondGenerator(cc, rng)
		if err != nil {
			t.Fatal(err)
		}
		d, err := models.NewCondDiscriminator(cc, rng)
		if err != nil {
			t.Fatal(err)
		}
		var reals [][]int
		game := &Conditional{G: g, D: d, Objective: obj, Prior: Prior{Kind: "normal", Dim: 3}, Classes: 4,
			Real: func(n int) (*tensor.Tensor, []int) {
				_, ys := labelledReal(rng, 4, &reals)(n)
				return rng.Uniform(-1, 1, n, 1, 28, 28), ys
			},
			Batch: 8, RNG: rng, MatchingAware: true, Noise: InstanceNoise{Sigma: noise, Steps: 10}}
		if !share {
			game.D = onePass{d}
		}
		var out []float32
		for _, tm := range game.DiscriminatorTerms(0) {
			out = append(out, tm.Value.Data().Data()[0])
		}
		return out
	}
	one, two := terms(true, 0), terms(false, 0)
	if len(one) != 2 || len(two) != 2 {
		t.Fatalf("terms %v and %v, want two each", one, two)
	}
	for i := range one {
		if math.Abs(float64(one[i]-two[i])) > 1e-5 {
			t.Errorf("term %d: %g in one pass, %g in two", i, one[i], two[i])
		}
	}
	if one, two := terms(true, 0.5), terms(false, 0.5); !slices.Equal(one, two) {
		t.Errorf("with instance noise: terms %v through a Relabeler, %v without: the game shared the pass", one, two)
	}
}

// TestMismatchedLabels checks that matching-aware wrong labels are always
// wrong and spread uniformly over the other classes.
func TestMismatchedLabels(t *testing.T) {
	rng := tensor.NewRNG(5)
	const classes, n = 4, 12000
	labels := SampleLabels(rng, n, classes)
	wrong := mismatched(rng, labels, classes)
	counts := map[[2]int]int{}
	for i, y := range labels {
		if wrong[i] == y || wrong[i] < 0 || wrong[i] >= classes {
			t.Fatalf("label %d got wrong label %d", y, wrong[i])
		}
		counts[[2]int{y, wrong[i]}]++
	}
	// Each of the 12 (label, wrong) pairs has probability 1/12.
	for pair, c := range counts {
		if math.Abs(float64(c)-n/12) > 5*math.Sqrt(n/12) {
			t.Errorf("pair %v drawn %d times, want about %d", pair, c, n/12)
		}
	}
	if len(counts) != 12 {
		t.Errorf("%d (label, wrong label) pairs drawn, want 12", len(counts))
	}
	if got := mismatched(tensor.NewRNG(1), []int{0, 1, 0}, 2); !slices.Equal(got, []int{1, 0, 1}) {
		t.Errorf("two classes: wrong labels %v, want the other class", got)
	}
}

// TestSampleLabels checks that fake labels are uniform and reproducible
// from the seed.
func TestSampleLabels(t *testing.T) {
	const classes, n = 5, 10000
	a := SampleLabels(tensor.NewRNG(9), n, classes)
	if b := SampleLabels(tensor.NewRNG(9), n, classes); !slices.Equal(a, b) {
		t.Fatal("the same seed drew different labels")
	}
	counts := make([]int, classes)
	for _, y := range a {
		counts[y]++
	}
	for k, c := range counts {
		if math.Abs(float64(c)-n/classes) > 5*math.Sqrt(n/classes) {
			t.Errorf("class %d drawn %d times of %d", k, c, n)
		}
	}
}

// slopeD is linear in x with a label-dependent slope: D(x, y) = (y + 1) *
// sum(x), so its input gradient has norm (y + 1) sqrt(pixels) and a
// penalty reveals which labels it was evaluated with.
type slopeD struct {
	noState
	labels [][]int
}

func (d *slopeD) Forward(x *ag.Value, labels []int) *ag.Value {
	d.labels = append(d.labels, slices.Clone(labels))
	s := make([]float32, len(labels))
	for i, y := range labels {
		s[i] = float32(y + 1)
	}
	return ag.Mul(ag.Sum(ag.Flatten(x), []int{1}, true), ag.Const(tensor.FromSlice(s, len(labels), 1)))
}

// TestConditionalPenaltyLabels checks that the penalty's critic holds the
// real labels fixed (the fakes' for r2).
func TestConditionalPenaltyLabels(t *testing.T) {
	for _, kind := range []string{"r1", "r2", "gp", "dragan"} {
		rng := tensor.NewRNG(8)
		var reals [][]int
		g := &stubG{}
		d := &slopeD{}
		game := &Conditional{G: g, D: d, Objective: mustObjective(t, "wgan"), Penalty: Penalty{Kind: kind, Weight: 2},
			Prior: Prior{Kind: "normal", Dim: 2}, Classes: 3, Real: labelledReal(rng.Split(), 3, &reals), Batch: 8, RNG: rng}
		terms := game.DiscriminatorTerms(0)
		if len(terms) != 2 || terms[1].Name != kind {
			t.Fatalf("%s: terms %v", kind, terms)
		}
		ys := reals[0]
		if kind == "r2" {
			ys = g.labels[0]
		}
		// ||grad|| = (y + 1) * 2 for 4 pixels; r1, r2: gamma/2 E||g||^2,
		// gp, dragan: lambda E(||g|| - 1)^2, with gamma = lambda = 2.
		var want float64
		for _, y := range ys {
			norm := float64(y+1) * 2
			if kind == "r1" || kind == "r2" {
				want += norm * norm
			} else {
				want += 2 * (norm - 1) * (norm - 1)
			}
		}
		want /= float64(len(ys))
		if got := float64(terms[1].Value.Item()); math.Abs(got-want) > 1e-4*want {
			t.Errorf("%s: penalty %g, want %g from labels %v", kind, got, want, ys)
		}
		if last := d.labels[len(d.labels)-1]; !slices.Equal(last, ys) {
			t.Errorf("%s: the critic saw labels %v, want %v", kind, last, ys)
		}
	}
}

func mustObjective(t *testing.T, name string) Objective {
	t.Helper()
	o, err := LookupObjective(name, 0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestConditionalGeneratorTerms checks that G's term scores the fakes under
// the labels they were generated for, and draws a labelled real batch only
// for the objectives that use it.
func TestConditionalGeneratorTerms(t *testing.T) {
	for _, tc := range []struct {
		objective string
		calls     int
	}{{"ns", 1}, {"rsgan", 2}} {
		rng := tensor.NewRNG(2)
		var reals [][]int
		g := &stubG{}
		d := &slopeD{}
		game := &Conditional{G: g, D: d, Objective: mustObjective(t, tc.objective), Prior: Prior{Kind: "uniform", Dim: 3},
			Classes: 5, Real: labelledReal(rng.Split(), 5, &reals), Batch: 6, RNG: rng}
		terms := game.GeneratorTerms(0)
		if len(terms) != 1 || terms[0].Name != tc.objective {
			t.Fatalf("%s: terms %v", tc.objective, terms)
		}
		if len(d.labels) != tc.calls || !slices.Equal(d.labels[0], g.labels[0]) || !slices.Equal(g.zShape, []int{6, 3}) {
			t.Fatalf("%s: D saw labels %v, G made %v from z %v", tc.objective, d.labels, g.labels, g.zShape)
		}
		if tc.calls == 2 && !slices.Equal(d.labels[1], reals[0]) {
			t.Fatalf("%s: D scored the real batch with labels %v, want %v", tc.objective, d.labels[1], reals[0])
		}
	}
}

func TestSampleClass(t *testing.T) {
	g := &stubG{}
	x := SampleClass(g, Prior{Kind: "normal", Dim: 7}, 2, 5, tensor.NewRNG(1))
	if !slices.Equal(x.Shape(), []int{5, 1, 2, 2}) || !slices.Equal(g.zShape, []int{5, 7}) {
		t.Fatalf("samples %v from z %v", x.Shape(), g.zShape)
	}
	if !slices.Equal(g.labels[0], []int{2, 2, 2, 2, 2}) || tensor.Min(x, nil, false).Item() != 2 {
		t.Fatalf("labels %v, samples %v: want all class 2", g.labels, x.Data())
	}
}

func TestConditionalValidate(t *testing.T) {
	ok := func() *Conditional {
		return &Conditional{G: &stubG{}, D: &slopeD{}, Objective: mustObjective(t, "ns"), Prior: Prior{Kind: "normal", Dim: 2},
			Classes: 3, Real: func(int) (*tensor.Tensor, []int) { return nil, nil }, Batch: 4, RNG: tensor.NewRNG(1)}
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(c *Conditional)
		want string
	}{
		{func(c *Conditional) { c.G = nil }, "missing generator"},
		{func(c *Conditional) { c.Real = nil }, "no real data"},
		{func(c *Conditional) { c.RNG = nil }, "no random source"},
		{func(c *Conditional) { c.Objective = Objective{} }, "no objective"},
		{func(c *Conditional) { c.Batch = 0 }, "batch size 0"},
		{func(c *Conditional) { c.Classes = 0 }, "0 classes"},
		{func(c *Conditional) { c.Classes, c.MatchingAware = 1, true }, "matching-aware D needs at least 2 classes"},
		{func(c *Conditional) { c.Prior.Dim = 0 }, "prior dimension 0"},
		{func(c *Conditional) { c.Penalty.Kind = "gp2" }, `unknown penalty "gp2"`},
	} {
		c := ok()
		tc.edit(c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// TestConditionalTrainingSmoke trains a small conditional DCGAN (label
// embedding in G, projection discriminator) on two classes of 28x28
// images, class 0 dark (-0.6) and class 1 bright (+0.6), each with pixel
// noise 0.1, and checks that G learnt to use the label: in evaluation mode
// its class-0 samples are darker than its class-1 samples by a wide margin
// (the gap is 0.8 to 1.4 over seeds 1 to 6 and 11, from near 0
// untrained). It runs once with projection and once with label channels and
// the matching-aware D.
func TestConditionalTrainingSmoke(t *testing.T) {
	for _, tc := range []struct {
		name          string
		conditioning  string
		matchingAware bool
	}{{"projection", models.ConditionProjection, false}, {"channels/matching-aware", models.ConditionChannels, true}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(11)
			cfg := models.CGANConfig{
				DCGANConfig: models.DCGANConfig{Size: 28, Channels: 1, Width: 8, ZDim: 8, NormalInit: true},
				Classes:     2, EmbedDim: 4, Conditioning: tc.conditioning,
			}
			g, err := models.NewCondGenerator(cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			d, err := models.NewCondDiscriminator(cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			dataRNG := rng.Split()
			real := func(n int) (*tensor.Tensor, []int) {
				ys := SampleLabels(dataRNG, n, 2)
				x := dataRNG.Normal(0, 0.1, n, 1, 28, 28)
				for i, y := range ys {
					level := float32(-0.6)
					if y == 1 {
						level = 0.6
					}
					for j := range 28 * 28 {
						x.Data()[i*28*28+j] += level
					}
				}
				return x, ys
			}
			game := &Conditional{G: g, D: d, Objective: mustObjective(t, "ns"), Prior: Prior{Kind: "normal", Dim: 8},
				Classes: 2, Real: real, Batch: 16, RNG: rng.Split(), MatchingAware: tc.matchingAware}
			if err := game.Validate(); err != nil {
				t.Fatal(err)
			}
			adam := optim.AdamConfig{LR: 1e-3, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8}
			og, err := optim.NewAdam(nn.Parameters(g), adam)
			if err != nil {
				t.Fatal(err)
			}
			od, err := optim.NewAdam(nn.Parameters(d), adam)
			if err != nil {
				t.Fatal(err)
			}
			// gap is the mean brightness of G's class-1 samples minus its
			// class-0 samples', in evaluation mode.
			gap := func() float64 {
				g.SetTraining(false)
				defer g.SetTraining(true)
				var m [2]float64
				for k := range 2 {
					x := SampleClass(g, game.Prior, k, 64, tensor.NewRNG(uint64(100+k)))
					m[k] = float64(tensor.Sum(x, nil, false).Item()) / float64(x.Len())
				}
				return m[1] - m[0]
			}
			before := gap()
			pg, pd := &Player{Name: "g", Module: g, Opt: og}, &Player{Name: "d", Module: d, Opt: od}
			tr := &Trainer{Players: []*Player{pg, pd}, Phases: TwoPlayer(game, pg, pd, 1, 1), Steps: 300}
			if err := tr.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			after := gap()
			t.Logf("class 1 minus class 0 brightness: %.3f before, %.3f after %d steps (data: 1.2)", before, after, tr.Step)
			if math.Abs(before) > 0.2 || !(after > 0.6) {
				t.Fatalf("brightness gap %.3f before and %.3f after training: want near 0, then above 0.6", before, after)
			}
		})
	}
}
