package gan

import (
	"math"
	"slices"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestCategoricalNLL checks hand-computed cross-entropies: two Cat(3)
// rows, logits (0, 0, 0) with code 1 (-log 1/3 = ln 3) and (ln 3, 0, 0)
// with code 0 (softmax 3/5, 1/5, 1/5: -log 3/5), so the mean is ln 5 / 2;
// a second code Cat(2) with logits (0, ln 4) and code 1 in both rows adds
// -log 4/5 = ln 5/4. The continuous mean column after them is ignored.
func TestCategoricalNLL(t *testing.T) {
	l3 := float32(math.Log(3))
	l4 := float32(math.Log(4))
	q := tensor.FromSlice([]float32{0, 0, 0, 0, l4, 9, l3, 0, 0, 0, l4, -9}, 2, 6)
	l := LatentCodes{Categorical: []int{3, 2}, Continuous: 1}
	b := CodeBatch{Cat: [][]int{{1, 0}, {1, 1}}, Cont: tensor.New(2, 1)}
	got := float64(l.CategoricalNLL(ag.Const(q), b).Item())
	want := math.Log(5)/2 + math.Log(5.0/4)
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("CategoricalNLL = %v, want %v", got, want)
	}
	if (LatentCodes{Continuous: 1}).CategoricalNLL(ag.Const(q), b) != nil {
		t.Fatal("CategoricalNLL without categorical codes is not nil")
	}
}

// TestContinuousNLL checks the Gaussian NLL: codes 0.5 and -1 with means 0
// and fixed unit variance give (0.125 + 0.5) / 2 + log(2 pi)/2; with a
// learnt log-variance of ln 4 (sigma^2 = 4) in both rows, each row adds
// ln 4 / 2 and divides its square by 4: (ln 4 + 0.125/4 + 0.5/4) / 2 + ...
func TestContinuousNLL(t *testing.T) {
	half := 0.5 * math.Log(2*math.Pi)
	b := CodeBatch{Cont: tensor.FromSlice([]float32{0.5, -1}, 2, 1)}
	fixed := LatentCodes{Continuous: 1}
	q := tensor.FromSlice([]float32{0, 0}, 2, 1)
	if got, want := float64(fixed.ContinuousNLL(ag.Const(q), b).Item()), 0.3125+half; math.Abs(got-want) > 1e-6 {
		t.Fatalf("fixed variance: %v, want %v", got, want)
	}
	learnt := LatentCodes{Continuous: 1, LearnVariance: true}
	l4 := float32(math.Log(4))
	q = tensor.FromSlice([]float32{0, l4, 0, l4}, 2, 2)
	want := (math.Log(4)+0.125/4+0.5/4)/2 + half
	if got := float64(learnt.ContinuousNLL(ag.Const(q), b).Item()); math.Abs(got-want) > 1e-6 {
		t.Fatalf("learnt variance: %v, want %v", got, want)
	}
	if learnt.QDim() != 2 || fixed.QDim() != 1 {
		t.Fatalf("QDim %d and %d, want 2 and 1", learnt.QDim(), fixed.QDim())
	}
}

// TestMITermsBackward checks both MI terms' gradients with respect to Q's
// outputs against finite differences (first and second order).
func TestMITermsBackward(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, learn := range []bool{false, true} {
		l := LatentCodes{Categorical: []int{4, 3}, Continuous: 2, LearnVariance: learn}
		b := l.Sample(rng, 5)
		f := func(xs []*ag.Value) *ag.Value {
			return ag.Add(l.CategoricalNLL(xs[0], b), l.ContinuousNLL(xs[0], b))
		}
		q := rng.Normal(0, 1, 5, l.QDim())
		if err := ag.GradCheck(f, []*tensor.Tensor{q}, ag.CheckOptions{SecondOrder: true, Seed: 7}); err != nil {
			t.Fatalf("learn variance %v: %v", learn, err)
		}
	}
}

// softmax64 is the softmax of logits in float64.
func softmax64(row []float32) []float64 {
	z, out := 0.0, make([]float64, len(row))
	for _, v := range row {
		z += math.Exp(float64(v))
	}
	for c, v := range row {
		out[c] = math.Exp(float64(v)) / z
	}
	return out
}

// realInfo64 computes RealInfo's formula directly in float64 from the
// logits of each categorical code.
func realInfo64(q []float32, n, w int, cats []int) float64 {
	total, off := 0.0, 0
	for _, k := range cats {
		mean := make([]float64, k)
		cond := 0.0
		for i := range n {
			for c, p := range softmax64(q[i*w+off : i*w+off+k]) {
				cond -= p * math.Log(p) / float64(n)
				mean[c] += p / float64(n)
			}
		}
		marg := 0.0
		for _, m := range mean {
			marg -= m * math.Log(m)
		}
		total += cond - marg
		off += k
	}
	return total
}

// TestRealInfo checks RealInfo at its two ends and in between: sure and
// balanced readings (two rows, each sure of a different category) give
// -log 2 for that code; rows that all read the same uniform distribution
// give 0 (H(p_i) = H(mean) = log K); random logits for two codes match the
// formula computed in float64 directly. Its gradients (first and second
// order) match finite differences.
func TestRealInfo(t *testing.T) {
	l := LatentCodes{Categorical: []int{2}, Continuous: 1}
	sure := tensor.FromSlice([]float32{30, -30, 0.3, -30, 30, -0.7}, 2, 3)
	if got := float64(l.RealInfo(ag.Const(sure)).Item()); math.Abs(got+math.Log(2)) > 1e-6 {
		t.Fatalf("sure and balanced: %v, want -log 2 = %v", got, -math.Log(2))
	}
	flat := tensor.FromSlice([]float32{1, 1, 5, 1, 1, -5}, 2, 3)
	if got := float64(l.RealInfo(ag.Const(flat)).Item()); math.Abs(got) > 1e-6 {
		t.Fatalf("uniform readings: %v, want 0", got)
	}
	rng := tensor.NewRNG(11)
	two := LatentCodes{Categorical: []int{4, 3}, Continuous: 2}
	q := rng.Normal(0, 2, 5, two.QDim())
	got := float64(two.RealInfo(ag.Const(q)).Item())
	if want := realInfo64(q.Data(), 5, two.QDim(), two.Categorical); math.Abs(got-want) > 1e-5 {
		t.Fatalf("random logits: %v, want %v", got, want)
	}
	if (LatentCodes{Continuous: 1}).RealInfo(ag.Const(q)) != nil {
		t.Fatal("RealInfo without categorical codes is not nil")
	}
	f := func(xs []*ag.Value) *ag.Value { return two.RealInfo(xs[0]) }
	if err := ag.GradCheck(f, []*tensor.Tensor{q}, ag.CheckOptions{SecondOrder: true, Seed: 7}); err != nil {
		t.Fatal(err)
	}
}

// pairInfo64 computes PairInfo's formula directly in float64.
func pairInfo64(q, q2 []float32, n, w int, cats []int) float64 {
	total, off := 0.0, 0
	for _, k := range cats {
		joint := make([][]float64, k)
		for a := range joint {
			joint[a] = make([]float64, k)
		}
		for i := range n {
			p, p2 := softmax64(q[i*w+off:i*w+off+k]), softmax64(q2[i*w+off:i*w+off+k])
			for a := range k {
				for b := range k {
					joint[a][b] += (p[a]*p2[b] + p[b]*p2[a]) / 2 / float64(n)
				}
			}
		}
		rows, cols := make([]float64, k), make([]float64, k)
		for a := range k {
			for b := range k {
				rows[a] += joint[a][b]
				cols[b] += joint[a][b]
			}
		}
		for a := range k {
			for b := range k {
				j := joint[a][b]
				total -= j * (math.Log(j+1e-8) - math.Log(rows[a]+1e-8) - math.Log(cols[b]+1e-8))
			}
		}
		off += k
	}
	return total
}

// TestPairInfo: pairs read surely and alike, every category once, give
// -log K; pairs whose second reading is uniform give 0; random logits for
// two codes match the formula in float64; gradients match finite
// differences to second order.
func TestPairInfo(t *testing.T) {
	l := LatentCodes{Categorical: []int{3}}
	sure := tensor.FromSlice([]float32{40, 0, 0, 0, 40, 0, 0, 0, 40}, 3, 3)
	if got := float64(l.PairInfo(ag.Const(sure), ag.Const(sure)).Item()); math.Abs(got+math.Log(3)) > 1e-5 {
		t.Fatalf("sure matching pairs: %v, want -log 3 = %v", got, -math.Log(3))
	}
	flat := tensor.New(3, 3)
	if got := float64(l.PairInfo(ag.Const(sure), ag.Const(flat)).Item()); math.Abs(got) > 1e-5 {
		t.Fatalf("uniform second readings: %v, want 0", got)
	}
	rng := tensor.NewRNG(12)
	two := LatentCodes{Categorical: []int{4, 3}, Continuous: 1}
	q, q2 := rng.Normal(0, 2, 6, two.QDim()), rng.Normal(0, 2, 6, two.QDim())
	got := float64(two.PairInfo(ag.Const(q), ag.Const(q2)).Item())
	if want := pairInfo64(q.Data(), q2.Data(), 6, two.QDim(), two.Categorical); math.Abs(got-want) > 1e-5 {
		t.Fatalf("random logits: %v, want %v", got, want)
	}
	if (LatentCodes{Continuous: 1}).PairInfo(ag.Const(q), ag.Const(q2)) != nil {
		t.Fatal("PairInfo without categorical codes is not nil")
	}
	f := func(xs []*ag.Value) *ag.Value { return two.PairInfo(xs[0], xs[1]) }
	if err := ag.GradCheck(f, []*tensor.Tensor{q, q2}, ag.CheckOptions{SecondOrder: true, Seed: 8}); err != nil {
		t.Fatal(err)
	}
}

// TestLatentCodesSampleEncode: categorical codes are one-hot at their
// drawn category, continuous ones uniform in [-1, 1] (not normal: none
// outside, and about a quarter beyond ±0.5 on each side).
func TestLatentCodesSampleEncode(t *testing.T) {
	l := LatentCodes{Categorical: []int{3, 2}, Continuous: 2}
	b := l.Sample(tensor.NewRNG(1), 4000)
	x := l.Encode(b, 4000)
	if x.Size(1) != l.Dim() || l.Dim() != 7 {
		t.Fatalf("encoded width %d, Dim %d, want 7", x.Size(1), l.Dim())
	}
	beyond := 0
	for i := range 4000 {
		row := x.Data()[i*7 : (i+1)*7]
		for j, k := range []int{0, 3} {
			for c := range l.Categorical[j] {
				want := float32(0)
				if c == b.Cat[j][i] {
					want = 1
				}
				if row[k+c] != want {
					t.Fatalf("row %d: %v, code %d = %d", i, row, j, b.Cat[j][i])
				}
			}
		}
		for _, v := range row[5:] {
			if v < -1 || v > 1 {
				t.Fatalf("continuous code %v outside [-1, 1]", v)
			}
			if v > 0.5 {
				beyond++
			}
		}
	}
	if frac := float64(beyond) / 8000; math.Abs(frac-0.25) > 0.03 {
		t.Fatalf("%.3f of continuous codes above 0.5, want about 0.25 (uniform on [-1, 1])", frac)
	}
	if err := (LatentCodes{Categorical: []int{1}}).Validate(); err == nil {
		t.Fatal("a one-category code was accepted")
	}
	if err := (LatentCodes{}).Validate(); err == nil {
		t.Fatal("no codes was accepted")
	}
}

// touched reports, for each module, whether any of its parameters got
// a non-zero gradient.
func touched(ms ...nn.Module) []bool {
	r := make([]bool, len(ms))
	for i, m := range ms {
		for _, p := range nn.Parameters(m) {
			if g := p.Grad(); g != nil && slices.ContainsFunc(g.Data(), func(v float32) bool { return v != 0 }) {
				r[i] = true
			}
		}
	}
	return r
}

// TestInfoGANTermsReachTheRightPlayers builds a tiny InfoGAN and checks,
// term by term with every parameter unfrozen, what each term's gradient
// reaches: in D's update the MI terms train Q and D's trunk and never G
// (its batch is detached); in G's update they reach G. So the terms are in
// both updates and not swapped.
func TestInfoGANTermsReachTheRightPlayers(t *testing.T) {
	rng := tensor.NewRNG(5)
	codes := LatentCodes{Categorical: []int{3}, Continuous: 2}
	nets := models.DCGANConfig{Size: 28, Channels: 1, Width: 2, ZDim: 4 + codes.Dim(), NormalInit: true}
	g, err := models.NewDCGANGenerator(nets, rng)
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.NewInfoDiscriminator(nets, 5, codes.QDim(), rng)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := LookupObjective("ns", 0)
	if err != nil {
		t.Fatal(err)
	}
	real := rng.Uniform(-1, 1, 6, 1, 28, 28)
	game := &InfoGAN{G: g, D: d, Objective: obj, Prior: Prior{Kind: "uniform", Dim: 4}, Codes: codes, LambdaCat: 1, LambdaCont: 1,
		Real: func(int) *tensor.Tensor { return real }, Batch: 6, RNG: rng}
	if err := game.Validate(); err != nil {
		t.Fatal(err)
	}
	q := nn.Children{{Name: "fc", Module: d.QFC}, {Name: "bn", Module: d.QBN}, {Name: "out", Module: d.QOut}}
	// want[term] = touched (G, D's trunk, Q)
	want := map[string]map[string][3]bool{
		"d": {"ns": {false, true, false}, "mi_cat": {false, true, true}, "mi_cont": {false, true, true}, "real_info": {false, true, true}},
		"g": {"ns": {true, true, false}, "mi_cat": {true, true, true}, "mi_cont": {true, true, true}},
	}
	restyled := 0
	for _, realInfo := range []float32{0, 0.5, 0.25} {
		game.RealInfo = realInfo
		if realInfo == 0.25 { // the paired form: Q on each real image and its restyled copy
			game.Restyle = func(x *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor {
				restyled++
				return tensor.Map(x, func(v float32) float32 { return -v })
			}
		}
		for _, phase := range []struct {
			name  string
			terms func(int) []Term
			names []string
		}{
			{"d", game.DiscriminatorTerms, []string{"ns", "mi_cat", "mi_cont"}},
			{"g", game.GeneratorTerms, []string{"ns", "mi_cat", "mi_cont"}},
		} {
			if phase.name == "d" && realInfo > 0 {
				phase.names = append(phase.names, "real_info")
			}
			terms := phase.terms(0)
			var names []string
			for _, term := range terms {
				names = append(names, term.Name)
			}
			if !slices.Equal(names, phase.names) {
				t.Fatalf("real_info %g: %s terms %v, want %v", realInfo, phase.name, names, phase.names)
			}
			for _, term := range terms {
				for _, m := range []nn.Module{g, d} {
					for _, p := range nn.Parameters(m) {
						p.ZeroGrad()
					}
				}
				ag.Backward(term.Value)
				got := touched(g, d.D, q)
				w := want[phase.name][term.Name]
				if got[0] != w[0] || got[1] != w[1] || got[2] != w[2] {
					t.Errorf("real_info %g: %s/%s reaches (G, D trunk, Q) = %v, want %v", realInfo, phase.name, term.Name, got, w)
				}
			}
		}
	}
	if restyled != 1 {
		t.Fatalf("Restyle called %d times over the two phases, want once (D's update only)", restyled)
	}
	game.RealInfo = -1
	if err := game.Validate(); err == nil {
		t.Error("a negative real_info weight validated")
	}
	game.RealInfo, game.Codes = 1, LatentCodes{Continuous: 2}
	if err := game.Validate(); err == nil {
		t.Error("real_info without a categorical code validated")
	}
}
