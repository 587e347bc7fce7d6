package vae

import (
	"math"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestKL compares KL with the closed form written with variances,
// sum_j log(1/sigma_j) + (sigma_j^2 + mu_j^2)/2 - 1/2, and with a Monte-Carlo
// estimate of E_q[log q(z) - log p(z)] within four standard errors.
func TestKL(t *testing.T) {
	mu := tensor.FromSlice([]float32{0, 0, 0.5, -1.5, 2, 0.3}, 2, 3)
	logVar := tensor.FromSlice([]float32{0, 0, -1, 0.7, -2.5, 1.2}, 2, 3)
	got := KL(ag.Const(mu), ag.Const(logVar)).Data().Data()
	rng := tensor.NewRNG(5)
	const samples = 200000
	for i := range 2 {
		want := 0.0
		for j := range 3 {
			m, v := float64(mu.At(i, j)), math.Exp(float64(logVar.At(i, j)))
			want += -0.5*math.Log(v) + (v+m*m)/2 - 0.5
		}
		if math.Abs(float64(got[i])-want) > 1e-5*max(1, want) {
			t.Errorf("row %d: KL %v, closed form %v", i, got[i], want)
		}
		var sum, sumSq float64
		for range samples {
			var lw float64
			for j := range 3 {
				m, sd := float64(mu.At(i, j)), math.Exp(0.5*float64(logVar.At(i, j)))
				e := rng.NormFloat64()
				z := m + sd*e
				lw += (-0.5*e*e - math.Log(sd)) - (-0.5 * z * z)
			}
			sum += lw
			sumSq += lw * lw
		}
		mc := sum / samples
		se := math.Sqrt((sumSq/samples - mc*mc) / samples)
		if math.Abs(mc-float64(got[i])) > 4*se {
			t.Errorf("row %d: KL %v, Monte Carlo %v ± %v", i, got[i], mc, se)
		}
	}
	if z := KL(ag.Const(tensor.New(1, 3)), ag.Const(tensor.New(1, 3))).Item(); z != 0 {
		t.Errorf("KL of N(0, I) against itself: %v, want 0", z)
	}
}

// TestBernoulliLogLik compares BernoulliLogLik with the textbook
// x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)) in float64, far into the
// tails, and its float64 twin used by IWAE.
func TestBernoulliLogLik(t *testing.T) {
	l := []float32{-30, -3, -0.5, 0, 0.2, 4, 25, 1, -1, 0}
	x := []float32{0, 1, 0, 1, 1, 0, 1, 0.3, 0.8, 0.5}
	got := BernoulliLogLik(ag.Const(tensor.FromSlice(l, 2, 5)), ag.Const(tensor.FromSlice(x, 2, 5))).Data().Data()
	for i := range 2 {
		want := 0.0
		for j := i * 5; j < i*5+5; j++ {
			p := 1 / (1 + math.Exp(-float64(l[j])))
			want += float64(x[j])*math.Log(p) + (1-float64(x[j]))*math.Log(1-p)
		}
		if math.Abs(float64(got[i])-want) > 1e-5*math.Abs(want) {
			t.Errorf("row %d: %v, want %v", i, got[i], want)
		}
		if r := bernoulliLogLik(x[i*5:i*5+5], l[i*5:i*5+5]); math.Abs(r-want) > 1e-9*math.Abs(want) {
			t.Errorf("row %d: float64 twin %v, want %v", i, r, want)
		}
	}
}

// TestBernoulliLogLikLongRow checks the float64 twin's blocks of 512
// pixels on a row of 1100 against the sum of textbook terms.
func TestBernoulliLogLikLongRow(t *testing.T) {
	rng := tensor.NewRNG(8)
	l, x := rng.Normal(0, 6, 1100).Data(), rng.Bernoulli(0.3, 1100).Data()
	want := 0.0
	for j := range l {
		p := 1 / (1 + math.Exp(-float64(l[j])))
		want += float64(x[j])*math.Log(p) + (1-float64(x[j]))*math.Log(1-p)
	}
	if got := bernoulliLogLik(x, l); math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("%v, want %v", got, want)
	}
}

// TestGaussianLogLik compares GaussianLogLik with the density's formula,
// for a shared log sigma, and its float64 twin (mean sigmoid(pre)).
func TestGaussianLogLik(t *testing.T) {
	pre := []float32{-2, 0, 1.5, 0.3, -0.7, 3}
	x := []float32{0.1, 0.5, 1, 0, 0.25, 0.9}
	for _, ls := range []float64{math.Log(0.1), 0, 0.4} {
		mean := make([]float32, len(pre))
		for j, v := range pre {
			mean[j] = float32(1 / (1 + math.Exp(-float64(v))))
		}
		got := GaussianLogLik(ag.Const(tensor.FromSlice(mean, 2, 3)), ag.Const(tensor.Full(float32(ls), 1)), ag.Const(tensor.FromSlice(x, 2, 3))).Data().Data()
		for i := range 2 {
			want := 0.0
			s := math.Exp(ls)
			for j := i * 3; j < i*3+3; j++ {
				d := float64(x[j]) - float64(mean[j])
				want += math.Log(1/(s*math.Sqrt(2*math.Pi))) - d*d/(2*s*s)
			}
			if math.Abs(float64(got[i])-want) > 1e-5*max(1, math.Abs(want)) {
				t.Errorf("log sigma %g, row %d: %v, want %v", ls, i, got[i], want)
			}
			if r := gaussianLogLik(x[i*3:i*3+3], pre[i*3:i*3+3], ls); math.Abs(r-want) > 1e-5*max(1, math.Abs(want)) {
				t.Errorf("log sigma %g, row %d: float64 twin %v, want %v", ls, i, r, want)
			}
		}
	}
}

// TestELBOTermsBackward checks the terms' first and second derivatives
// against finite differences.
func TestELBOTermsBackward(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, c := range []struct {
		name   string
		f      func(xs []*ag.Value) *ag.Value
		inputs []*tensor.Tensor
	}{
		{"kl", func(xs []*ag.Value) *ag.Value { return KL(xs[0], xs[1]) },
			[]*tensor.Tensor{rng.Normal(0, 1, 3, 4), rng.Normal(0, 0.5, 3, 4)}},
		{"bernoulli", func(xs []*ag.Value) *ag.Value { return BernoulliLogLik(xs[0], xs[1]) },
			[]*tensor.Tensor{rng.Normal(0, 2, 3, 5), rng.Uniform(0, 1, 3, 5)}},
		{"gaussian", func(xs []*ag.Value) *ag.Value { return GaussianLogLik(xs[0], xs[1], xs[2]) },
			[]*tensor.Tensor{rng.Uniform(0, 1, 3, 5), tensor.Full(-0.3, 1), rng.Uniform(0, 1, 3, 5)}},
	} {
		if err := ag.GradCheck(c.f, c.inputs, ag.CheckOptions{SecondOrder: true, Seed: 7}); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
