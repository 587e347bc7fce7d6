package gan

import (
	"math"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

func vec(xs ...float64) *ag.Value {
	d := make([]float32, len(xs))
	for i, x := range xs {
		d[i] = float32(x)
	}
	return ag.Const(tensor.FromSlice(d, len(d)))
}

func meanOf(xs []float64, f func(float64) float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += f(x)
	}
	return s / float64(len(xs))
}

func sp(x float64) float64  { return math.Log1p(math.Exp(x)) }
func sig(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestLossValues checks every loss against its formula evaluated directly
// in float64 on fixed logits.
func TestLossValues(t *testing.T) {
	r := []float64{1.2, -0.4, 2.5}
	f := []float64{0.3, -1.7, 0.9}
	real, fake := vec(r...), vec(f...)
	mr, mf := meanOf(r, func(x float64) float64 { return x }), meanOf(f, func(x float64) float64 { return x })
	relu := func(x float64) float64 { return math.Max(x, 0) }
	cases := []struct {
		name string
		got  *ag.Value
		want float64
	}{
		{"minimax D", MinimaxDiscriminatorLoss(real, fake, 0),
			-meanOf(r, func(x float64) float64 { return math.Log(sig(x)) }) - meanOf(f, func(x float64) float64 { return math.Log(1 - sig(x)) })},
		{"minimax D smoothed", MinimaxDiscriminatorLoss(real, fake, 0.1),
			-meanOf(r, func(x float64) float64 { return 0.9*math.Log(sig(x)) + 0.1*math.Log(1-sig(x)) }) - meanOf(f, func(x float64) float64 { return math.Log(1 - sig(x)) })},
		{"minimax G", MinimaxGeneratorLoss(fake), meanOf(f, func(x float64) float64 { return math.Log(1 - sig(x)) })},
		{"non-saturating G", NonSaturatingGeneratorLoss(fake), -meanOf(f, func(x float64) float64 { return math.Log(sig(x)) })},
		{"LS D", LeastSquaresDiscriminatorLoss(real, fake, LSCoding{A: -1, B: 1, C: 0}),
			0.5*meanOf(r, func(x float64) float64 { return (x - 1) * (x - 1) }) + 0.5*meanOf(f, func(x float64) float64 { return (x + 1) * (x + 1) })},
		// The 0-1 coding the lsgan objective uses: real target b = 1,
		// fake target a = 0 (Mao et al. 2017, arXiv:1611.04076, eq. 9).
		{"LS D 0-1", LeastSquaresDiscriminatorLoss(real, fake, LSCoding01),
			0.5*meanOf(r, func(x float64) float64 { return (x - 1) * (x - 1) }) + 0.5*meanOf(f, func(x float64) float64 { return x * x })},
		{"LS G", LeastSquaresGeneratorLoss(fake, LSCoding01), 0.5 * meanOf(f, func(x float64) float64 { return (x - 1) * (x - 1) })},
		{"W critic", WassersteinCriticLoss(real, fake), mf - mr},
		{"W G", WassersteinGeneratorLoss(fake), -mf},
		{"hinge D", HingeDiscriminatorLoss(real, fake),
			meanOf(r, func(x float64) float64 { return relu(1 - x) }) + meanOf(f, func(x float64) float64 { return relu(1 + x) })},
		{"RS D", RelativisticDiscriminatorLoss(real, fake), (sp(f[0]-r[0]) + sp(f[1]-r[1]) + sp(f[2]-r[2])) / 3},
		{"RS G", RelativisticGeneratorLoss(real, fake), (sp(r[0]-f[0]) + sp(r[1]-f[1]) + sp(r[2]-f[2])) / 3},
		{"RaS D", RelativisticAverageDiscriminatorLoss(real, fake),
			-meanOf(r, func(x float64) float64 { return math.Log(sig(x - mf)) }) - meanOf(f, func(x float64) float64 { return math.Log(1 - sig(x-mr)) })},
		{"RaS G", RelativisticAverageGeneratorLoss(real, fake),
			-meanOf(f, func(x float64) float64 { return math.Log(sig(x - mr)) }) - meanOf(r, func(x float64) float64 { return math.Log(1 - sig(x-mf)) })},
		{"RaLS D", RelativisticAverageLSDiscriminatorLoss(real, fake),
			meanOf(r, func(x float64) float64 { return math.Pow(x-mf-1, 2) }) + meanOf(f, func(x float64) float64 { return math.Pow(x-mr+1, 2) })},
		{"RaLS G", RelativisticAverageLSGeneratorLoss(real, fake),
			meanOf(f, func(x float64) float64 { return math.Pow(x-mr-1, 2) }) + meanOf(r, func(x float64) float64 { return math.Pow(x-mf+1, 2) })},
		{"RaHinge D", RelativisticAverageHingeDiscriminatorLoss(real, fake),
			meanOf(r, func(x float64) float64 { return relu(1 - (x - mf)) }) + meanOf(f, func(x float64) float64 { return relu(1 + (x - mr)) })},
		{"RaHinge G", RelativisticAverageHingeGeneratorLoss(real, fake),
			meanOf(f, func(x float64) float64 { return relu(1 - (x - mr)) }) + meanOf(r, func(x float64) float64 { return relu(1 + (x - mf)) })},
	}
	for _, c := range cases {
		if got := float64(c.got.Item()); math.Abs(got-c.want) > 1e-5*(1+math.Abs(c.want)) {
			t.Errorf("%s = %.7g, want %.7g", c.name, got, c.want)
		}
	}
}

// discrete builds the samples of two distributions over a few points,
// each point repeated in proportion to its probability (in quarters), so a
// mean over samples is an expectation.
func discrete(p, q []int) (ps, qs []int) {
	for i, k := range p {
		for j := 0; j < k; j++ {
			ps = append(ps, i)
		}
	}
	for i, k := range q {
		for j := 0; j < k; j++ {
			qs = append(qs, i)
		}
	}
	return
}

// TestMinimaxAtOptimalDiscriminator checks V(D*, G) = -log 4 + 2 JSD(p, q)
// with D* = p/(p+q), its value -log 4 when p = q, and that D* is a maximum.
func TestMinimaxAtOptimalDiscriminator(t *testing.T) {
	for _, pq := range [][2][]int{{{2, 1, 1}, {1, 1, 2}}, {{1, 2, 1}, {1, 2, 1}}, {{3, 1, 0}, {1, 1, 2}}} {
		p, q := pq[0], pq[1]
		ps, qs := discrete(p, q)
		logit := func(i int, shift float64) float64 {
			if p[i] == 0 {
				return -30 // D* = 0 where p = 0
			}
			return math.Log(float64(p[i])/float64(q[i])) + shift
		}
		value := func(shift float64) float64 {
			var r, f []float64
			for _, i := range ps {
				r = append(r, logit(i, shift))
			}
			for _, i := range qs {
				f = append(f, logit(i, shift))
			}
			return -float64(MinimaxDiscriminatorLoss(vec(r...), vec(f...), 0).Item())
		}
		js := 0.0
		for i := range p {
			pi, qi := float64(p[i])/4, float64(q[i])/4
			m := (pi + qi) / 2
			if pi > 0 {
				js += 0.5 * pi * math.Log(pi/m)
			}
			if qi > 0 {
				js += 0.5 * qi * math.Log(qi/m)
			}
		}
		want := -math.Log(4) + 2*js
		if got := value(0); math.Abs(got-want) > 1e-5 {
			t.Errorf("p=%v q=%v: V(D*) = %.7f, want %.7f", p, q, got, want)
		}
		if value(0.3) >= value(0) || value(-0.3) >= value(0) {
			t.Errorf("p=%v q=%v: D* is not a maximum of V", p, q)
		}
	}
}

// TestFDivergencesAtOptimum checks each f-GAN pair (g_f, f*): at the
// optimal critic T*(x) = f'(p(x)/q(x)) the objective
// E_P[T] - E_Q[f*(T)] equals D_f(P||Q) = sum q f(p/q) (Nowozin et al. 2016).
func TestFDivergencesAtOptimum(t *testing.T) {
	type div struct {
		f, fp func(u float64) float64 // generator function and its derivative
		inv   func(t float64) float64 // g_f^{-1}: the raw output giving T
	}
	divs := map[string]div{
		"kl": {func(u float64) float64 { return u * math.Log(u) }, func(u float64) float64 { return math.Log(u) + 1 }, func(t float64) float64 { return t }},
		"reverse-kl": {func(u float64) float64 { return -math.Log(u) }, func(u float64) float64 { return -1 / u },
			func(t float64) float64 { return -math.Log(-t) }},
		"pearson": {func(u float64) float64 { return (u - 1) * (u - 1) }, func(u float64) float64 { return 2 * (u - 1) }, func(t float64) float64 { return t }},
		"hellinger": {func(u float64) float64 { return (math.Sqrt(u) - 1) * (math.Sqrt(u) - 1) }, func(u float64) float64 { return 1 - 1/math.Sqrt(u) },
			func(t float64) float64 { return -math.Log(1 - t) }},
		"js": {func(u float64) float64 { return u*math.Log(u) - (u+1)*math.Log((1+u)/2) }, func(u float64) float64 { return math.Log(2 * u / (1 + u)) },
			func(t float64) float64 { return -math.Log(math.Exp(math.Ln2-t) - 1) }},
		"gan": {func(u float64) float64 { return u*math.Log(u) - (u+1)*math.Log(u+1) }, func(u float64) float64 { return math.Log(u / (u + 1)) },
			func(t float64) float64 { return -math.Log(math.Exp(-t) - 1) }},
		// TV's optimum T = sign(u-1)/2 sits on the boundary of g_f's range,
		// so the test uses T = 0.499*sign(u-1), a hair below the supremum.
		"tv": {func(u float64) float64 { return math.Abs(u-1) / 2 }, func(u float64) float64 { return 0.499 * math.Copysign(1, u-1) },
			func(t float64) float64 { return math.Atanh(2 * t) }},
	}
	// An asymmetric pair: with p and q mirror images, some wrong
	// conjugates give the right value by symmetry.
	p, q := []int{4, 1, 1}, []int{1, 2, 3}
	ps, qs := discrete(p, q)
	for name, dv := range divs {
		d, err := LookupDivergence(name)
		if err != nil {
			t.Fatal(err)
		}
		want := 0.0
		raw := make([]float64, len(p))
		for i := range p {
			u := float64(p[i]) / float64(q[i])
			want += float64(q[i]) / 6 * dv.f(u)
			raw[i] = dv.inv(dv.fp(u))
		}
		var r, f []float64
		for _, i := range ps {
			r = append(r, raw[i])
		}
		for _, i := range qs {
			f = append(f, raw[i])
		}
		got := -float64(FDiscriminatorLoss(d, vec(r...), vec(f...)).Item())
		tol := 1e-4
		if name == "tv" {
			tol = 2e-3
		}
		if math.Abs(got-want) > tol {
			t.Errorf("%s: objective at optimum %.6f, want D_f = %.6f", name, got, want)
		}
		if len(d.String()) == 0 {
			t.Errorf("%s has no description", name)
		}
	}
	if _, err := LookupDivergence("nope"); err == nil {
		t.Error("unknown divergence accepted")
	}
}

// linearCritic is D(x) = sum(w * x) per sample: its input gradient is w.
func linearCritic(w *ag.Value) Critic {
	return func(x *ag.Value) *ag.Value {
		return ag.Sum(ag.Mul(x, w), []int{1}, false)
	}
}

// TestGradientPenaltyLinearCritic checks WGAN-GP on a critic whose input
// gradient is w everywhere: penalty = lambda (|w| - 1)^2 and its gradient
// with respect to w is 2 lambda (|w| - 1) w/|w|: a second derivative.
func TestGradientPenaltyLinearCritic(t *testing.T) {
	w := ag.Param(tensor.FromSlice([]float32{3, 4}, 1, 2)) // |w| = 5
	rng := tensor.NewRNG(1)
	real := rng.Normal(0, 1, 6, 2)
	fake := rng.Normal(0, 1, 6, 2)
	gp := GradientPenalty(linearCritic(w), Interpolate(real, fake, rng), 10, false)
	if got := gp.Item(); math.Abs(float64(got)-160) > 1e-3 {
		t.Fatalf("penalty %g, want 160", got)
	}
	g := ag.Grad([]*ag.Value{gp}, []*ag.Value{w}, nil, false)[0].Data().Data()
	want := []float64{2 * 10 * 4 * 3 / 5.0, 2 * 10 * 4 * 4 / 5.0}
	for i := range want {
		if math.Abs(float64(g[i])-want[i]) > 1e-3 {
			t.Fatalf("d penalty / dw = %v, want %v", g, want)
		}
	}
	// One-sided: a norm below 1 costs nothing.
	small := ag.Param(tensor.FromSlice([]float32{0.3, 0.4}, 1, 2))
	if v := GradientPenalty(linearCritic(small), Interpolate(real, fake, rng), 10, true).Item(); v != 0 {
		t.Fatalf("one-sided penalty %g for |w| = 0.5, want 0", v)
	}
	// WGAN-div: k E[|w|^p] = 2 * 5^6.
	if v := DivergencePenalty(linearCritic(w), Interpolate(real, fake, rng), 2, 6).Item(); math.Abs(float64(v)-2*15625)/31250 > 1e-5 {
		t.Fatalf("divergence penalty %g, want %g", v, 2*15625.0)
	}
	// R1: gamma/2 |w|^2.
	if v := R1Penalty(linearCritic(w), real, 10).Item(); math.Abs(float64(v)-125) > 1e-3 {
		t.Fatalf("R1 %g, want 125", v)
	}
}

// TestGradientPenaltyImageCritic is TestGradientPenaltyLinearCritic on
// [N, C, H, W] inputs, where a norm over each sample's whole gradient
// differs from one per channel or per pixel (on [N, 2] inputs they agree):
// D(x) = sum(w * x) with w [1, 2, 2, 2], |w| = 3, its channels' norms
// sqrt(5) and 2, its pixels' norms 1, 2, 2 and 0.
func TestGradientPenaltyImageCritic(t *testing.T) {
	w := ag.Param(tensor.FromSlice([]float32{1, 2, 0, 0, 0, 0, 2, 0}, 1, 2, 2, 2))
	critic := func(x *ag.Value) *ag.Value {
		return ag.Sum(ag.Mul(x, w), []int{1, 2, 3}, false)
	}
	rng := tensor.NewRNG(2)
	real := rng.Normal(0, 1, 5, 2, 2, 2)
	fake := rng.Normal(0, 1, 5, 2, 2, 2)
	gp := GradientPenalty(critic, Interpolate(real, fake, rng), 10, false)
	if got := gp.Item(); math.Abs(float64(got)-40) > 1e-3 { // 10 (3 - 1)^2
		t.Fatalf("penalty %g, want 40", got)
	}
	g := ag.Grad([]*ag.Value{gp}, []*ag.Value{w}, nil, false)[0].Data().Data()
	for i, wi := range w.Data().Data() {
		want := 2 * 10 * 2 * float64(wi) / 3 // 2 lambda (|w| - 1) w/|w|
		if math.Abs(float64(g[i])-want) > 1e-3 {
			t.Fatalf("d penalty / dw = %v, want 2*10*2*w/3", g)
		}
	}
	if v := DivergencePenalty(critic, Interpolate(real, fake, rng), 2, 6).Item(); math.Abs(float64(v)-2*729)/1458 > 1e-5 {
		t.Fatalf("divergence penalty %g, want %g", v, 2*729.0)
	}
	if v := R1Penalty(critic, real, 10).Item(); math.Abs(float64(v)-45) > 1e-3 { // 10/2 * 9
		t.Fatalf("R1 %g, want 45", v)
	}
}

func TestInterpolateLiesBetween(t *testing.T) {
	rng := tensor.NewRNG(3)
	real := tensor.Full(1, 5, 3)
	fake := tensor.Full(-1, 5, 3)
	x := Interpolate(real, fake, rng).Data()
	for n := 0; n < 5; n++ {
		v := x.At(n, 0)
		if v < -1 || v > 1 || x.At(n, 1) != v || x.At(n, 2) != v {
			t.Fatalf("sample %d: %v, want one coefficient per sample in [-1, 1]", n, x.Data()[n*3:n*3+3])
		}
	}
	p := DRAGANPoints(real, rng, 0.5)
	if !tensor.SameShape(p.Shape(), real.Shape()) {
		t.Fatalf("DRAGAN points shape %v", p.Shape())
	}
}
