package mixgan

import (
	"math"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

func vec(xs ...float32) *ag.Value { return ag.Param(tensor.FromSlice(xs, len(xs))) }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// TestPayoffMatchesFormula checks sum_ij wu_i wv_j phi_ij and its gradients
// against a hand-computed case: wu = (0.2, 0.8), wv = (0.6, 0.4), phi =
// ((1, 2), (3, 4)) give 0.12 + 0.16 + 1.44 + 1.28 = 3; the gradient in wu is
// sum_j wv_j phi_ij = (1.4, 3.4), in wv sum_i wu_i phi_ij = (2.6, 3.6), and
// in phi_ij wu_i wv_j.
func TestPayoffMatchesFormula(t *testing.T) {
	wu, wv := vec(0.2, 0.8), vec(0.6, 0.4)
	phi := [][]*ag.Value{{ag.Param(tensor.Scalar(1)), ag.Param(tensor.Scalar(2))}, {ag.Param(tensor.Scalar(3)), ag.Param(tensor.Scalar(4))}}
	p := Payoff(wu, wv, phi)
	if got := float64(p.Data().Data()[0]); !near(got, 3, 1e-6) {
		t.Fatalf("payoff %v, want 3", got)
	}
	gs := ag.Grad([]*ag.Value{p}, []*ag.Value{wu, wv, phi[0][1], phi[1][0]}, nil, false)
	want := [][]float64{{1.4, 3.4}, {2.6, 3.6}, {0.2 * 0.4}, {0.8 * 0.6}}
	for i, g := range gs {
		for k, v := range g.Data().Data() {
			if !near(float64(v), want[i][k], 1e-6) {
				t.Fatalf("gradient %d[%d]: %v, want %v", i, k, v, want[i][k])
			}
		}
	}
}

// TestEntropyRegulariser checks weight * -(1/K) sum_k log(w_k + 1e-6), its
// gradient -weight / (K (w_k + 1e-6)), its minimum log K at uniform
// weights, and its sign: a descent step on the logits from it alone moves
// the weights towards uniform.
func TestEntropyRegulariser(t *testing.T) {
	w := vec(0.5, 0.25, 0.25)
	r := EntropyRegulariser(w, 0.1)
	want := -0.1 / 3 * (math.Log(0.500001) + 2*math.Log(0.250001))
	if got := float64(r.Data().Data()[0]); !near(got, want, 1e-6) {
		t.Fatalf("R = %v, want %v", got, want)
	}
	g := ag.Grad([]*ag.Value{r}, []*ag.Value{w}, nil, false)[0].Data().Data()
	for k, wk := range []float64{0.5, 0.25, 0.25} {
		if want := -0.1 / (3 * (wk + 1e-6)); !near(float64(g[k]), want, 1e-5) {
			t.Fatalf("dR/dw_%d = %v, want %v", k, g[k], want)
		}
	}
	uniform := float64(EntropyRegulariser(vec(0.25, 0.25, 0.25, 0.25), 1).Data().Data()[0])
	if !near(uniform, math.Log(4), 1e-5) {
		t.Fatalf("R(uniform over 4) = %v, want log 4 = %v", uniform, math.Log(4))
	}
	if skew := float64(EntropyRegulariser(vec(0.4, 0.3, 0.2, 0.1), 1).Data().Data()[0]); !(skew > uniform) {
		t.Fatalf("R(0.4, 0.3, 0.2, 0.1) = %v, not above R(uniform) = %v", skew, uniform)
	}
	m := NewMixture(make([]nn.Layer, 3))
	copy(m.Logits.Data().Data(), []float32{2, 0, -1})
	before := m.WeightValues()
	gl := ag.Grad([]*ag.Value{EntropyRegulariser(m.Weights(), 0.1)}, []*ag.Value{m.Logits}, nil, false)[0].Data().Data()
	for k := range gl {
		m.Logits.Data().Data()[k] -= 0.5 * gl[k]
	}
	after := m.WeightValues()
	if !(after[0] < before[0] && after[2] > before[2]) {
		t.Fatalf("a descent step on R moved the weights from %v to %v, not towards uniform", before, after)
	}
}

// TestChooseFollowsCDF checks the component choice: u below the first
// cumulative weight picks 0, each boundary belongs to the next component,
// a zero weight is never chosen, and u = 1 (rounding) picks the last
// component with weight; ChoiceUniform maps the priors' values through
// their CDFs; and the frequencies of normal choice coordinates match the
// weights.
func TestChooseFollowsCDF(t *testing.T) {
	w := []float64{0.2, 0.5, 0.3}
	for _, c := range []struct {
		u    float64
		want int
	}{{0, 0}, {0.19, 0}, {0.2, 1}, {0.69, 1}, {0.7, 2}, {0.999, 2}, {1, 2}} {
		if got := Choose(c.u, w); got != c.want {
			t.Errorf("Choose(%v, %v) = %d, want %d", c.u, w, got, c.want)
		}
	}
	if got := Choose(0.5, []float64{0.5, 0, 0.5}); got != 2 {
		t.Errorf("Choose(0.5, [0.5 0 0.5]) = %d, want 2 (the zero weight skipped)", got)
	}
	if got := Choose(1, []float64{0.5, 0.5, 0}); got != 1 {
		t.Errorf("Choose(1, [0.5 0.5 0]) = %d, want 1 (the last with weight)", got)
	}
	for _, c := range []struct {
		v    float64
		kind string
		want float64
	}{{0, "normal", 0.5}, {-1.6448536, "normal", 0.05}, {1.2815516, "normal", 0.9}, {-1, "uniform", 0}, {0, "uniform", 0.5}, {0.5, "uniform", 0.75}} {
		if got := ChoiceUniform(c.v, c.kind); !near(got, c.want, 1e-6) {
			t.Errorf("ChoiceUniform(%v, %s) = %v, want %v", c.v, c.kind, got, c.want)
		}
	}
	rng := tensor.NewRNG(5)
	const n = 40000
	for _, kind := range []string{"normal", "uniform"} {
		z := gan.Prior{Kind: kind, Dim: 1}.Sample(rng, n)
		count := make([]float64, 3)
		for _, v := range z.Data() {
			count[Choose(ChoiceUniform(float64(v), kind), w)]++
		}
		for k := range w {
			// 4 standard errors of a frequency near 0.5 at n = 40000 is 0.01.
			if !near(count[k]/n, w[k], 0.01) {
				t.Errorf("%s prior: component %d drawn %.4f of the time, weight %v", kind, k, count[k]/n, w[k])
			}
		}
	}
}

// TestGenerateRoutesRowsByChoice checks that each noise row goes through
// the generator its last coordinate chooses, with the row's other
// coordinates as input, so a sample is a function of its noise alone.
func TestGenerateRoutesRowsByChoice(t *testing.T) {
	rng := tensor.NewRNG(2)
	nets := make([]nn.Layer, 3)
	for i := range nets {
		g, err := models.NewMLP(models.MLPConfig{In: 4, Out: 2, Hidden: []int{8}, Act: "relu"}, rng)
		if err != nil {
			t.Fatal(err)
		}
		nets[i] = g
	}
	m := NewMixture(nets)
	copy(m.Logits.Data().Data(), []float32{0.5, -1, 0.2})
	gen := &Generator{G: m, Noise: gan.Prior{Kind: "normal", Dim: 4}, Post: func(x *tensor.Tensor) *tensor.Tensor { return x }}
	if gen.Prior().Dim != 5 {
		t.Fatalf("prior dimension %d, want 4 + 1", gen.Prior().Dim)
	}
	z := gen.Prior().Sample(rng, 64)
	out, err := gen.Generate(z, family.Request{})
	if err != nil {
		t.Fatal(err)
	}
	comps := gen.Components(z)
	seen := map[int]bool{}
	w := m.WeightValues()
	for r, k := range comps {
		seen[k] = true
		if want := Choose(ChoiceUniform(float64(z.Data()[r*5+4]), "normal"), w); k != want {
			t.Fatalf("row %d: component %d, want %d", r, k, want)
		}
		one := tensor.FromSlice(append([]float32(nil), z.Data()[r*5:r*5+4]...), 1, 4)
		var y *tensor.Tensor
		ag.NoGrad(func() { y = nets[k].Forward(ag.Const(one)).Data() })
		for c := 0; c < 2; c++ {
			if !near(float64(out.Data()[r*2+c]), float64(y.Data()[c]), 1e-5) {
				t.Fatalf("row %d (component %d): output %v, G_%d gives %v", r, k, out.Data()[r*2:r*2+2], k, y.Data())
			}
		}
	}
	if len(seen) != 3 {
		t.Fatalf("64 rows chose only components %v", seen)
	}
	if _, err := gen.Generate(tensor.New(3, 4), family.Request{}); err == nil || !strings.Contains(err.Error(), "[N, 5]") {
		t.Fatalf("noise without the choice coordinate: %v", err)
	}
	if _, err := gen.Generate(z, family.Request{Labels: make([]int, 64)}); err == nil {
		t.Fatal("labels accepted by an unconditional generator")
	}
}

// TestDiscriminatorPayoffMatchesPairs rebuilds D's payoff of a two-by-two
// game by hand from the same draws: the batch's noise split in chunks
// (3 rows for G_0 and 2 for G_1 of 5), each D scoring the real batch and
// every fake row, phi_ij the ns loss of D_j on the real batch and G_i's
// rows, and the weights' softmax.
func TestDiscriminatorPayoffMatchesPairs(t *testing.T) {
	rng := tensor.NewRNG(3)
	mk := func(in, out int) nn.Layer {
		n, err := models.NewMLP(models.MLPConfig{In: in, Out: out, Hidden: []int{6}, Act: "relu"}, rng)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	g, d := NewMixture([]nn.Layer{mk(3, 2), mk(3, 2)}), NewMixture([]nn.Layer{mk(2, 1), mk(2, 1)})
	copy(g.Logits.Data().Data(), []float32{0.3, -0.4})
	copy(d.Logits.Data().Data(), []float32{-0.2, 0.5})
	obj, err := gan.LookupObjective("ns", 0)
	if err != nil {
		t.Fatal(err)
	}
	real := rng.Normal(0, 1, 5, 2)
	game := &Game{G: g, D: d, Objective: obj, Prior: gan.Prior{Kind: "normal", Dim: 3}, Batch: 5, RNG: tensor.NewRNG(9),
		Real: func(int) *tensor.Tensor { return real.Clone() }, Entropy: 0.1}
	terms := game.DiscriminatorTerms(0)
	if len(terms) != 2 || terms[0].Name != "ns" || terms[1].Name != "entropy" {
		t.Fatalf("terms %v", terms)
	}
	z := game.Prior.Sample(tensor.NewRNG(9), 5)
	wu, wv := g.WeightValues(), d.WeightValues()
	var want float64
	for i, rows := range [][2]int{{0, 3}, {3, 5}} {
		zi := tensor.FromSlice(append([]float32(nil), z.Data()[rows[0]*3:rows[1]*3]...), rows[1]-rows[0], 3)
		var fi *tensor.Tensor
		ag.NoGrad(func() { fi = g.Nets[i].Forward(ag.Const(zi)).Data() })
		for j := range 2 {
			var dr, df *tensor.Tensor
			ag.NoGrad(func() { dr, df = d.Nets[j].Forward(ag.Const(real)).Data(), d.Nets[j].Forward(ag.Const(fi)).Data() })
			// ns's D loss: mean softplus(-D(x)) + mean softplus(D(G(z))).
			var lr, lf float64
			for _, v := range dr.Data() {
				lr += math.Log1p(math.Exp(-float64(v))) / 5
			}
			for _, v := range df.Data() {
				lf += math.Log1p(math.Exp(float64(v))) / float64(rows[1]-rows[0])
			}
			want += wu[i] * wv[j] * (lr + lf)
		}
	}
	if got := float64(terms[0].Value.Data().Data()[0]); !near(got, want, 1e-5) {
		t.Fatalf("D's payoff %v, by hand %v", got, want)
	}
	ent := -0.1 / 2 * (math.Log(wv[0]+1e-6) + math.Log(wv[1]+1e-6))
	if got := float64(terms[1].Value.Data().Data()[0]); !near(got, ent, 1e-6) {
		t.Fatalf("D's entropy term %v, want %v (D's weights)", got, ent)
	}
}

// TestChunks checks that the rows are split whole, in order, sizes
// differing by at most one.
func TestChunks(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want [][2]int
	}{{128, 5, [][2]int{{0, 26}, {26, 52}, {52, 78}, {78, 103}, {103, 128}}}, {5, 5, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}}, {6, 1, [][2]int{{0, 6}}}} {
		got := Chunks(c.n, c.k)
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Fatalf("Chunks(%d, %d) = %v, want %v", c.n, c.k, got, c.want)
			}
		}
	}
}

// TestConfigErrors checks that each wrong setting is refused with an error
// naming its field.
func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.components=0"}, "model.components"},
		{[]string{"model.components=9", "train.batch=8"}, "train.batch"},
		{[]string{"model.entropy=-0.1"}, "model.entropy"},
		{[]string{"model.net=dcgan"}, "model.net"},
		{[]string{"model.net=resnet"}, "model.net"},
		{[]string{"model.width=32"}, "model.width"},
		{[]string{"model.d_no_batchnorm=true"}, "model.d_no_batchnorm"},
		{[]string{"model.g_hidden=[0]"}, "model.g_hidden"},
		{[]string{"model.prior=cauchy"}, "model.prior"},
		{[]string{"loss.name=rsgan"}, "loss.name"},
		{[]string{"loss.feature_matching=1"}, "loss.feature_matching"},
		{[]string{"train.reuse_fake=true"}, "train.reuse_fake"},
		{[]string{"model.pack=2"}, "pack"},
		{[]string{"data.kind=synthetic", "model.net=mlp"}, "model.net"},
		{[]string{"data.kind=synthetic", "model.g_hidden=[8]"}, "model.g_hidden"},
		{[]string{"data.kind=synthetic", "model.width=-1"}, "model.width"},
		{[]string{"data.kind=synthetic", "loss.penalty=r1", "loss.penalty_weight=1"}, "model.d_no_batchnorm"},
	} {
		cfg := config.Default()
		err := cfg.Set("model.kind=mixgan")
		for _, kv := range c.sets {
			if err == nil {
				err = cfg.Set(kv)
			}
		}
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %s", c.sets, err, c.want)
		}
	}
	for _, sets := range [][]string{{}, {"data.kind=synthetic"}, {"data.kind=synthetic", "model.width=16", "model.components=2"}} {
		cfg := config.Default()
		for _, kv := range append([]string{"model.kind=mixgan"}, sets...) {
			if err := cfg.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%v: %v", sets, err)
		}
	}
}
