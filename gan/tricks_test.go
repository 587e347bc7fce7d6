package gan

import (
	"context"
	"math"
	"slices"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// fixedGame returns one named constant term per player.
type fixedGame struct{}

func (fixedGame) DiscriminatorTerms(int) []Term { return []Term{{Name: "d", Value: ag.Scalar(1)}} }
func (fixedGame) GeneratorTerms(int) []Term     { return []Term{{Name: "g", Value: ag.Scalar(2)}} }

func names(ts []Term) []string {
	var r []string
	for _, t := range ts {
		r = append(r, t.Name)
	}
	return r
}

func TestWithTerms(t *testing.T) {
	src := func(name string) func(int) []Term {
		return func(step int) []Term { return []Term{{Name: name, Value: ag.Scalar(float32(step))}} }
	}
	cases := []struct {
		name   string
		game   Game
		d, g   []string
		gValue float32 // value of the last G term at step 7
	}{
		{"none", WithTerms{Game: fixedGame{}}, []string{"d"}, []string{"g"}, 2},
		{"extra D and G", WithTerms{Game: fixedGame{}, ExtraD: src("x"), ExtraG: src("y")}, []string{"d", "x"}, []string{"g", "y"}, 7},
		{"only extra G", &WithTerms{Game: fixedGame{}, ExtraG: src("y"), OnlyExtraG: true}, []string{"d"}, []string{"y"}, 7},
		{"combined", WithTerms{Game: fixedGame{}, ExtraD: CombineTerms(src("a"), nil, src("b"))}, []string{"d", "a", "b"}, []string{"g"}, 2},
		{"nested", WithTerms{Game: WithTerms{Game: fixedGame{}, ExtraG: src("in")}, ExtraG: src("out")},
			[]string{"d"}, []string{"g", "in", "out"}, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, g := c.game.DiscriminatorTerms(7), c.game.GeneratorTerms(7)
			if !slices.Equal(names(d), c.d) || !slices.Equal(names(g), c.g) {
				t.Fatalf("D terms %v, G terms %v; want %v, %v", names(d), names(g), c.d, c.g)
			}
			if v := g[len(g)-1].Value.Item(); v != c.gValue {
				t.Fatalf("last G term %g, want %g", v, c.gValue)
			}
		})
	}
}

// identityCritic exposes its input as the features.
type identityCritic struct{}

func (identityCritic) Features(x *ag.Value) (*ag.Value, *ag.Value) {
	return x, ag.Sum(x, []int{1}, true)
}

// TestFeatureMatchingLoss checks the value (0 when the means agree, even
// for different samples) and that the gradient on each fake sample is
// -2/M (mean real - mean fake): toward the real mean.
func TestFeatureMatchingLoss(t *testing.T) {
	rng := tensor.NewRNG(31)
	shifted := func(x *tensor.Tensor, by float32) *tensor.Tensor { return tensor.AddScalar(x, by) }
	base := rng.Normal(0, 1, 5, 3)
	// Another batch with base's column means: permute its rows and flip a
	// pair of deviations around the mean.
	perm := tensor.IndexSelect(base, 0, []int{4, 2, 0, 3, 1})
	cases := []struct {
		name       string
		real, fake *tensor.Tensor
		want       float64 // -1: compute from the means
	}{
		{"same batch", base, base, 0},
		{"same means", base, perm, 0},
		{"shifted by 0.5", base, shifted(base, 0.5), 3 * 0.25},
		{"different sizes", rng.Normal(1, 1, 7, 3), rng.Normal(-1, 2, 4, 3), -1},
		{"4-D features", rng.Normal(0, 1, 3, 2, 2, 2), rng.Normal(0.3, 1, 6, 2, 2, 2), -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := ag.Param(c.fake.Clone())
			l := FeatureMatchingLoss(ag.Const(c.real), fake)
			n, m := c.real.Size(0), c.fake.Size(0)
			f := c.real.Len() / n
			diff := make([]float64, f) // mean real - mean fake
			for i := range n {
				for k := range f {
					diff[k] += float64(c.real.Data()[i*f+k]) / float64(n)
				}
			}
			for i := range m {
				for k := range f {
					diff[k] -= float64(c.fake.Data()[i*f+k]) / float64(m)
				}
			}
			want := c.want
			if want < 0 {
				want = 0
				for _, d := range diff {
					want += d * d
				}
			}
			if got := float64(l.Item()); math.Abs(got-want) > 1e-5*math.Max(1, want) {
				t.Fatalf("loss %g, want %g", got, want)
			}
			ag.Backward(l)
			g := fake.Grad().Data()
			for i := range m {
				for k := range f {
					if w := -2 * diff[k] / float64(m); math.Abs(float64(g[i*f+k])-w) > 1e-5 {
						t.Fatalf("gradient at fake[%d] feature %d = %g, want %g", i, k, g[i*f+k], w)
					}
				}
			}
		})
	}
}

// TestFeatureMatchingPullsTowardRealMean trains a generator that is a
// learnt offset b (G(z) = 0.1 z + b) on feature matching alone, with the
// identity as features: b must converge to the real mean.
func TestFeatureMatchingPullsTowardRealMean(t *testing.T) {
	rng := tensor.NewRNG(32)
	b := ag.Param(tensor.New(2))
	g := nn.Func(func(z *ag.Value) *ag.Value { return ag.Add(ag.Scale(z, 0.1), b) })
	realMean := []float32{1.5, -2}
	fm := &FeatureMatching{
		D: identityCritic{}, G: g, Prior: Prior{Kind: "normal", Dim: 2}, Batch: 256, RNG: rng,
		Real: func(n int) *tensor.Tensor {
			x := rng.Normal(0, 0.1, n, 2)
			for i := range n {
				x.Data()[2*i] += realMean[0]
				x.Data()[2*i+1] += realMean[1]
			}
			return x
		},
	}
	opt, err := optim.NewSGD([]*ag.Value{b}, optim.SGDConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	first := 0.0
	for step := range 100 {
		ts := fm.Terms(step)
		if len(ts) != 1 || ts[0].Name != "feature_matching" {
			t.Fatalf("terms %v", names(ts))
		}
		if step == 0 {
			first = float64(ts[0].Value.Item())
		}
		opt.ZeroGrad()
		ag.Backward(ts[0].Value)
		opt.Step()
	}
	if first < 5 {
		t.Fatalf("initial loss %g; the test starts too close", first)
	}
	for k, want := range realMean {
		if got := b.Data().Data()[k]; math.Abs(float64(got-want)) > 0.03 {
			t.Fatalf("offset %v after 100 steps, want the real mean %v", b.Data().Data(), realMean)
		}
	}
}

// TestHistoricalAverage checks that the penalty is 0 while the parameters
// stay put, that after a move by d at update t it is
// Weight * ||d||^2 (1 - 1/t)^2 (growing with the distance from the
// average), that its gradient points away from the average, and that the
// average survives the step arena it was updated in.
func TestHistoricalAverage(t *testing.T) {
	tensor.SetPoison(true)
	defer tensor.SetPoison(false)
	const w = 0.5
	prev := -1.0
	for _, d := range []float32{0, 0.1, 0.5, 1, 3} {
		rng := tensor.NewRNG(33)
		p0 := rng.Normal(0, 1, 2, 3)
		p := ag.Param(p0.Clone())
		q := ag.Param(rng.Normal(0, 1, 4))
		h, err := NewHistoricalAverage([]*ag.Value{p, q}, w)
		if err != nil {
			t.Fatal(err)
		}
		const still = 4
		for step := range still {
			arena := tensor.OpenArena()
			ts := h.Terms(step)
			if len(ts) != 1 || ts[0].Name != "hist_avg" || ts[0].Value.Item() != 0 {
				t.Fatalf("update %d without moving: terms %v = %g, want hist_avg = 0", step, names(ts), ts[0].Value.Item())
			}
			arena.Close()
		}
		// Move p by d in every element: update t = still+1.
		tensor.AddInPlace(p.Data(), tensor.Full(d, 2, 3))
		arena := tensor.OpenArena()
		pen := h.Terms(still)[0].Value
		tt := float64(still + 1)
		want := w * 6 * float64(d) * float64(d) * (1 - 1/tt) * (1 - 1/tt)
		got := float64(pen.Item())
		if math.Abs(got-want) > 1e-5*math.Max(1, want) {
			t.Fatalf("d=%g: penalty %g, want %g", d, got, want)
		}
		if got <= prev && d > 0 {
			t.Fatalf("d=%g: penalty %g did not grow from %g", d, got, prev)
		}
		prev = got
		ag.Backward(pen)
		for i, gv := range p.Grad().Data() {
			// 2 w (theta - avg) = 2 w d (1 - 1/t): away from the average.
			if wg := 2 * w * float64(d) * (1 - 1/tt); math.Abs(float64(gv)-wg) > 1e-5 {
				t.Fatalf("d=%g: gradient[%d] = %g, want %g", d, i, gv, wg)
			}
		}
		arena.Close()
		for i, a := range h.Average(0).Data() {
			if wa := float64(p0.Data()[i]) + float64(d)/tt; math.Abs(float64(a)-wa) > 1e-5 {
				t.Fatalf("d=%g: average[%d] = %g after the arena closed, want %g", d, i, a, wa)
			}
		}
		if h.Updates() != still+1 {
			t.Fatalf("%d updates, want %d", h.Updates(), still+1)
		}
	}
	if _, err := NewHistoricalAverage(nil, 1); err == nil {
		t.Fatal("no error for no parameters")
	}
	if _, err := NewHistoricalAverage([]*ag.Value{ag.Param(tensor.New(1))}, -1); err == nil {
		t.Fatal("no error for a negative weight")
	}
}

// TestMinibatchCriticGradientPenalty runs WGAN-GP on a critic holding
// minibatch discrimination: the penalty's gradient (a second derivative)
// reaches T, finite and non-zero, and matches a finite difference.
func TestMinibatchCriticGradientPenalty(t *testing.T) {
	rng := tensor.NewRNG(34)
	d, err := models.NewFeatureMLP(models.FeatureMLPConfig{
		MLPConfig:        models.MLPConfig{In: 2, Out: 1, Hidden: []int{8}, Act: "tanh"},
		MinibatchKernels: 3, MinibatchDim: 2,
	}, rng)
	if err != nil {
		t.Fatal(err)
	}
	mbd := d.Net.Layers[2].(*nn.MinibatchDiscrimination)
	mbd.T.Data().CopyFrom(rng.Normal(0, 1, mbd.T.Shape()...))
	real, fake := rng.Normal(0, 1, 6, 2), rng.Normal(1, 1, 6, 2)
	penalty := func() *ag.Value {
		return GradientPenalty(d.Forward, Interpolate(real, fake, tensor.NewRNG(5)), 10, false)
	}
	p := penalty()
	ag.Backward(p)
	g := mbd.T.Grad()
	if g == nil {
		t.Fatal("no gradient on T")
	}
	// Central difference on one element of T.
	const i, eps = 1, 1e-2
	tv := mbd.T.Data().Data()
	var lp, lm float64
	tv[i] += eps
	lp = float64(penalty().Item())
	tv[i] -= 2 * eps
	lm = float64(penalty().Item())
	tv[i] += eps
	num := (lp - lm) / (2 * eps)
	if a := float64(g.Data()[i]); math.IsNaN(a) || a == 0 || math.Abs(a-num) > 2e-3+2e-2*math.Abs(num) {
		t.Fatalf("d penalty / dT[%d] = %g, finite difference %g", i, a, num)
	}
}

// TestTricksTrainRing8 trains an MLP GAN on the 8-Gaussian ring with
// minibatch discrimination in D, feature matching added to G's loss and
// historical averaging on D, all through WithTerms around the plain
// Unconditional game, and checks the run and its samples.
func TestTricksTrainRing8(t *testing.T) {
	rng := tensor.NewRNG(35)
	ring := data.Ring8()
	g, err := models.NewMLP(models.MLPConfig{In: 2, Out: 2, Hidden: []int{64, 64}, Act: "relu"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.NewFeatureMLP(models.FeatureMLPConfig{
		MLPConfig:        models.MLPConfig{In: 2, Out: 1, Hidden: []int{64, 64}, Act: "leaky_relu"},
		MinibatchKernels: 16, MinibatchDim: 4,
	}, rng)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := LookupObjective("ns", 0)
	if err != nil {
		t.Fatal(err)
	}
	realRNG := rng.Split()
	real := func(n int) *tensor.Tensor { return ring.Sample(realRNG, n) }
	prior := Prior{Kind: "normal", Dim: 2}
	const batch = 64
	u := &Unconditional{G: g, D: d, Objective: obj, Prior: prior, Real: real, Batch: batch, RNG: rng.Split()}
	fm := &FeatureMatching{D: d, G: g, Prior: prior, Real: real, Batch: batch, RNG: rng.Split()}
	hist, err := NewHistoricalAverage(nn.Parameters(d), 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	game := WithTerms{Game: u, ExtraG: fm.Terms, ExtraD: hist.Terms}

	adam := optim.AdamConfig{LR: 1e-3, Beta1: 0.5, Beta2: 0.999, Eps: 1e-8}
	og, err := optim.NewAdam(nn.Parameters(g), adam)
	if err != nil {
		t.Fatal(err)
	}
	od, err := optim.NewAdam(nn.Parameters(d), adam)
	if err != nil {
		t.Fatal(err)
	}
	var last Logs
	pg, pd := &Player{Name: "g", Module: g, Opt: og}, &Player{Name: "d", Module: d, Opt: od}
	tr := &Trainer{Players: []*Player{pg, pd}, Phases: TwoPlayer(game, pg, pd, 1, 1), Steps: 200,
		Callbacks: []Callback{func(_ *Trainer, l Logs) error { last = l; return nil }}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"d/ns", "d/hist_avg", "g/ns", "g/feature_matching"} {
		v, ok := last[k]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("log %s = %v (present %v); logs %v", k, v, ok, last)
		}
	}
	if last["d/hist_avg"] <= 0 {
		t.Fatalf("historical averaging term %g after 200 steps of moving weights", last["d/hist_avg"])
	}

	var s *tensor.Tensor
	ag.NoGrad(func() { s = g.Forward(ag.Const(prior.Sample(tensor.NewRNG(36), 1024))).Data() })
	radius, spread := 0.0, [2]float64{}
	var mean [2]float64
	for i := range 1024 {
		x, y := float64(s.At(i, 0)), float64(s.At(i, 1))
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			t.Fatalf("sample %d is (%g, %g)", i, x, y)
		}
		radius += math.Hypot(x, y) / 1024
		mean[0] += x / 1024
		mean[1] += y / 1024
	}
	for i := range 1024 {
		spread[0] += math.Pow(float64(s.At(i, 0))-mean[0], 2) / 1024
		spread[1] += math.Pow(float64(s.At(i, 1))-mean[1], 2) / 1024
	}
	t.Logf("after 200 steps: mean radius %.3f (ring 2), std (%.3f, %.3f), last logs %v", radius, math.Sqrt(spread[0]), math.Sqrt(spread[1]), last)
	// The ring has radius 2 and per-coordinate std sqrt(2); a collapsed or
	// exploded generator fails these loose bounds.
	if radius < 1 || radius > 3 || math.Sqrt(spread[0]) < 0.5 || math.Sqrt(spread[1]) < 0.5 {
		t.Fatalf("samples: mean radius %.3f, std (%.3f, %.3f); want a spread near the ring of radius 2", radius, math.Sqrt(spread[0]), math.Sqrt(spread[1]))
	}
}
