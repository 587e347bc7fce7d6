package avb

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// linear is p(z) = N(0, 1) in one dimension and p(x|z) = N(w z + b, s^2 I)
// in two, whose marginal N(b, w w^T + s^2 I) and posterior are known in
// closed form. Its implicit encoder draws z = mean + sd g(eps) with eps ~
// N(0, 1): g(e) = e samples the exact posterior; skew makes g(e) =
// exp(e) - 1, a shifted log-normal, far from any Gaussian.
type linear struct {
	w, b [2]float64
	s    float64
	skew bool
}

var lin = linear{w: [2]float64{1.5, -0.8}, b: [2]float64{0.3, -0.2}, s: 0.6}

// posterior returns the exact posterior's mean and variance.
func (l linear) posterior(x []float32) (mean, v float64) {
	n2 := l.w[0]*l.w[0] + l.w[1]*l.w[1]
	v = 1 / (1 + n2/(l.s*l.s))
	dot := l.w[0]*(float64(x[0])-l.b[0]) + l.w[1]*(float64(x[1])-l.b[1])
	return v * dot / (l.s * l.s), v
}

// exact returns log N(x; b, w w^T + s^2 I): det = s^2 (s^2 + |w|^2),
// inverse (I - w w^T / (s^2 + |w|^2)) / s^2.
func (l linear) exact(x []float32) float64 {
	s2 := l.s * l.s
	n2 := l.w[0]*l.w[0] + l.w[1]*l.w[1]
	r := [2]float64{float64(x[0]) - l.b[0], float64(x[1]) - l.b[1]}
	wr := l.w[0]*r[0] + l.w[1]*r[1]
	quad := (r[0]*r[0] + r[1]*r[1] - wr*wr/(s2+n2)) / s2
	return -math.Log(2*math.Pi) - 0.5*math.Log(s2*(s2+n2)) - 0.5*quad
}

func (l linear) Sample(x *tensor.Tensor, s int, rng *tensor.RNG) *tensor.Tensor {
	n := x.Size(0)
	z := tensor.New(n*s, 1)
	for i := range n {
		mean, v := l.posterior(x.Data()[2*i : 2*i+2])
		for r := range s {
			e := rng.NormFloat64()
			if l.skew {
				e = math.Exp(e) - 1
			}
			z.Data()[i*s+r] = float32(mean + math.Sqrt(v)*e)
		}
	}
	return z
}

func (l linear) LogLik(x []float32, z *tensor.Tensor) []float64 {
	out := make([]float64, z.Size(0))
	for r := range out {
		for i := range 2 {
			d := (float64(x[i]) - l.w[i]*float64(z.Data()[r]) - l.b[i]) / l.s
			out[r] += -0.5*math.Log(2*math.Pi) - math.Log(l.s) - 0.5*d*d
		}
	}
	return out
}

var linData = tensor.FromSlice([]float32{1.2, -0.3, -2.0, 0.8, 0.1, 0.6}, 3, 2)

// TestProposalIWAEExactPosterior: when the encoder samples the exact
// posterior, the fitted Gaussian is that posterior up to the error of m =
// 20000 samples, so every importance weight is p(x) to that error: the
// estimate matches the closed form at k = 1 already.
func TestProposalIWAEExactPosterior(t *testing.T) {
	for _, k := range []int{1, 50} {
		got, err := ProposalIWAE(lin, linData, 200000, k, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			want := lin.exact(linData.Data()[2*i : 2*i+2])
			t.Logf("k %d, x %d: error %.2g", k, i, v-want)
			if math.Abs(v-want) > 3e-3 {
				t.Errorf("k %d, x %d: %v, exact %v", k, i, v, want)
			}
		}
	}
}

// TestProposalIWAESkewed: with a log-normal encoder the Gaussian fitted to
// its samples is not the posterior; the estimate, averaged over repeats,
// rises towards the exact log p(x) as k grows, from below, and is within
// 0.01 nats at k = 5000.
func TestProposalIWAESkewed(t *testing.T) {
	q := lin
	q.skew = true
	const repeats = 10
	prev := math.Inf(1)
	for _, k := range []int{1, 100, 5000} {
		rng := tensor.NewRNG(uint64(k))
		gap := 0.0
		for range repeats {
			got, err := ProposalIWAE(q, linData, 64, k, rng)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				gap += lin.exact(linData.Data()[2*i:2*i+2]) - v
			}
		}
		gap /= repeats * 3
		t.Logf("k %4d: mean gap %.5f nats", k, gap)
		if gap >= prev || gap < -0.01 {
			t.Errorf("k %d: gap %v after %v: want a positive gap shrinking with k", k, gap, prev)
		}
		prev = gap
	}
	if prev > 0.01 {
		t.Errorf("gap %v at k = 5000, want below 0.01 nats", prev)
	}
}

// TestProposalIWAEErrors: too few samples for a variance, no importance
// samples; the same stream gives the same estimates.
func TestProposalIWAEErrors(t *testing.T) {
	if _, err := ProposalIWAE(lin, linData, 1, 10, tensor.NewRNG(1)); err == nil {
		t.Error("m = 1: no error")
	}
	if _, err := ProposalIWAE(lin, linData, 10, 0, tensor.NewRNG(1)); err == nil {
		t.Error("k = 0: no error")
	}
	a, _ := ProposalIWAE(lin, linData, 10, 30, tensor.NewRNG(3))
	b, _ := ProposalIWAE(lin, linData, 10, 30, tensor.NewRNG(3))
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("x %d: %v and %v from the same stream", i, a[i], b[i])
		}
	}
}
