package vae

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// linearGaussian is p(z) = N(0, I_2), p(x|z) = N(W z + b, s^2 I_3), whose
// marginal is N(b, W W^T + s^2 I) in closed form. W's columns are
// orthogonal, so the exact posterior is diagonal: with q set to it every
// importance weight is p(x). shift and scale move q away from it.
type linearGaussian struct {
	w            [3][2]float64
	b            [3]float64
	s            float64
	shift, scale float64 // q's mean is the posterior's + shift, its variance scale times the posterior's
}

func newLinearGaussian(shift, scale float64) *linearGaussian {
	return &linearGaussian{w: [3][2]float64{{1, 1}, {0, 1}, {1, -1}}, b: [3]float64{0.5, -1, 0.2}, s: 0.7, shift: shift, scale: scale}
}

// posterior returns the exact posterior's means and variances for x.
func (m *linearGaussian) posterior(x []float32) (mean, v [2]float64) {
	for j := range 2 {
		var n2, dot float64
		for i := range 3 {
			n2 += m.w[i][j] * m.w[i][j]
			dot += m.w[i][j] * (float64(x[i]) - m.b[i])
		}
		v[j] = 1 / (1 + n2/(m.s*m.s))
		mean[j] = v[j] * dot / (m.s * m.s)
	}
	return mean, v
}

func (m *linearGaussian) Posterior(x *tensor.Tensor) (mu, logVar *tensor.Tensor) {
	n := x.Size(0)
	mu, logVar = tensor.New(n, 2), tensor.New(n, 2)
	for r := range n {
		mean, v := m.posterior(x.Data()[r*3 : r*3+3])
		for j := range 2 {
			mu.Set(float32(mean[j]+m.shift), r, j)
			logVar.Set(float32(math.Log(m.scale*v[j])), r, j)
		}
	}
	return mu, logVar
}

func (m *linearGaussian) LogLik(x []float32, z *tensor.Tensor) []float64 {
	out := make([]float64, z.Size(0))
	for r := range out {
		for i := range 3 {
			mean := m.b[i]
			for j := range 2 {
				mean += m.w[i][j] * float64(z.At(r, j))
			}
			d := (float64(x[i]) - mean) / m.s
			out[r] += -halfLog2Pi - math.Log(m.s) - 0.5*d*d
		}
	}
	return out
}

// exact returns log N(x; b, W W^T + s^2 I), by Gaussian elimination
// (the covariance is positive definite: no pivoting).
func (m *linearGaussian) exact(x []float32) float64 {
	var a [3][3]float64
	var r, r0 [3]float64
	for i := range 3 {
		for k := range 3 {
			for j := range 2 {
				a[i][k] += m.w[i][j] * m.w[k][j]
			}
		}
		a[i][i] += m.s * m.s
		r[i] = float64(x[i]) - m.b[i]
	}
	r0 = r
	logDet := 0.0
	for p := range 3 {
		logDet += math.Log(a[p][p])
		for i := p + 1; i < 3; i++ {
			f := a[i][p] / a[p][p]
			for k := p; k < 3; k++ {
				a[i][k] -= f * a[p][k]
			}
			r[i] -= f * r[p]
		}
	}
	var y [3]float64
	for i := 2; i >= 0; i-- {
		y[i] = r[i]
		for k := i + 1; k < 3; k++ {
			y[i] -= a[i][k] * y[k]
		}
		y[i] /= a[i][i]
	}
	quad := r0[0]*y[0] + r0[1]*y[1] + r0[2]*y[2]
	return -3*halfLog2Pi - 0.5*logDet - 0.5*quad
}

var lgData = tensor.FromSlice([]float32{1.2, -0.3, 2.0, -0.8, -2.5, 0.4, 0.0, 0.6, -1.1}, 3, 3)

// TestIWAEExactPosterior: with q the exact posterior every importance
// weight is p(x), so any k gives the closed form.
func TestIWAEExactPosterior(t *testing.T) {
	m := newLinearGaussian(0, 1)
	for _, k := range []int{1, 7, 300} {
		got, err := IWAE(m, lgData, k, 64, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if want := m.exact(lgData.Data()[i*3 : i*3+3]); math.Abs(v-want) > 1e-5 {
				t.Errorf("k %d, x %d: %v, exact %v", k, i, v, want)
			}
		}
	}
}

// TestIWAEApproachesExact: with a mismatched q, the estimate (averaged over
// repeats) rises towards the exact log p(x) as k grows, from below, and is
// within 0.01 nats at k = 5000; k = 1 is the one-sample ELBO, log p(x|z) +
// log p(z) - log q(z|x) at the z drawn from the same stream.
func TestIWAEApproachesExact(t *testing.T) {
	m := newLinearGaussian(0.6, 2.5)
	x := lgData
	const repeats = 20
	prevGap := math.Inf(1)
	for _, k := range []int{1, 10, 100, 5000} {
		rng := tensor.NewRNG(uint64(k))
		gap := 0.0
		for range repeats {
			got, err := IWAE(m, x, k, 1000, rng)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got {
				gap += m.exact(x.Data()[i*3:i*3+3]) - v
			}
		}
		gap /= repeats * 3
		t.Logf("k %5d: mean gap to the exact log p(x) %.5f nats", k, gap)
		if !(gap < prevGap) || gap < -0.005 {
			t.Errorf("k %d: mean gap %v after %v: want it positive and shrinking", k, gap, prevGap)
		}
		prevGap = gap
	}
	if prevGap > 0.01 {
		t.Errorf("k 5000: mean gap %v nats, want under 0.01", prevGap)
	}
	// k = 1: the ELBO sample at the z the stream gives.
	rng := tensor.NewRNG(9)
	got, err := IWAE(m, x, 1, 0, rng)
	if err != nil {
		t.Fatal(err)
	}
	mu, logVar := m.Posterior(x)
	eps := tensor.NewRNG(9)
	for i := range 3 {
		e := eps.Normal(0, 1, 1, 2)
		z := tensor.New(1, 2)
		lq, lp := 0.0, 0.0
		for j := range 2 {
			sd := math.Exp(0.5 * float64(logVar.At(i, j)))
			z.Set(mu.At(i, j)+float32(sd)*e.At(0, j), 0, j)
			zj := float64(z.At(0, j))
			d := (zj - float64(mu.At(i, j))) / sd
			lq += -halfLog2Pi - math.Log(sd) - 0.5*d*d
			lp += -halfLog2Pi - 0.5*zj*zj
		}
		want := m.LogLik(x.Data()[i*3:i*3+3], z)[0] + lp - lq
		if math.Abs(got[i]-want) > 1e-9*math.Abs(want) {
			t.Errorf("k 1, x %d: %v, ELBO sample %v", i, got[i], want)
		}
	}
}

// TestIWAEChunks: the chunk size changes memory, not the estimate.
func TestIWAEChunks(t *testing.T) {
	m := newLinearGaussian(0.3, 1.7)
	a, err1 := IWAE(m, lgData, 1000, 1000, tensor.NewRNG(4))
	b, err2 := IWAE(m, lgData, 1000, 7, tensor.NewRNG(4))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*math.Abs(a[i]) {
			t.Errorf("x %d: %v in one chunk, %v in chunks of 7", i, a[i], b[i])
		}
	}
	if _, err := IWAE(m, lgData, 0, 0, tensor.NewRNG(4)); err == nil {
		t.Error("k = 0: no error")
	}
}
