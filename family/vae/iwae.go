package vae

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/kallima-gan/kallima/tensor"
)

// Density is what the importance-sampled likelihood needs of a latent
// variable model with a standard normal prior p(z) = N(0, I) and a
// Gaussian encoder q(z|x) = N(mu, diag(exp(logVar))).
type Density interface {
	// Posterior returns q(z|x)'s means and log-variances [N, D] for the
	// observations x [N, ...].
	Posterior(x *tensor.Tensor) (mu, logVar *tensor.Tensor)
	// LogLik returns log p(x|z_j) for one observation x (flattened) and
	// each row z_j of z [M, D].
	LogLik(x []float32, z *tensor.Tensor) []float64
}

// DefaultChunk is the number of importance samples IWAE decodes at once:
// the decoder's output for a chunk is Chunk x pixels floats.
const DefaultChunk = 1000

// IWAE returns, for each observation (row) of x, the importance-weighted
// estimate of log p(x) with k samples (Burda et al. 2016, "Importance
// Weighted Autoencoders", arXiv:1509.00519, equation 8):
//
//	log p(x) ~= log (1/k) sum_{j=1..k} p(x|z_j) p(z_j) / q(z_j|x),  z_j ~ q(z|x)
//	          = logsumexp_j [log p(x|z_j) + log p(z_j) - log q(z_j|x)] - log k
//
// a lower bound in expectation that tightens as k grows and, for k = 1, is
// a one-sample estimate of the ELBO. The samples of each observation are
// drawn from rng in chunks of at most chunk rows (DefaultChunk when chunk
// <= 0), so memory stays bounded for any k; the log-sum-exp is kept
// running in float64. Observation i's samples are drawn before i+1's, so
// the same rng state gives the same estimates.
func IWAE(m Density, x *tensor.Tensor, k, chunk int, rng *tensor.RNG) ([]float64, error) {
	if k < 1 {
		return nil, fmt.Errorf("iwae: k = %d importance samples (want at least 1)", k)
	}
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	n := x.Size(0)
	var mu, logVar *tensor.Tensor
	tensor.Persistent(func() { mu, logVar = m.Posterior(x) })
	d := mu.Size(1)
	flat := tensor.Reshape(x, n, -1)
	px := flat.Size(1)
	out := make([]float64, n)
	for i := range n {
		xi := flat.Data()[i*px : (i+1)*px]
		mi, lv := mu.Data()[i*d:(i+1)*d], logVar.Data()[i*d:(i+1)*d]
		sd := make([]float64, d)
		for j := range d {
			sd[j] = math.Exp(0.5 * float64(lv[j]))
		}
		var lse runningLSE
		for done := 0; done < k; done += chunk {
			c := min(chunk, k-done)
			arena := tensor.OpenArena()
			z := rng.Normal(0, 1, c, d)
			zd := z.Data()
			for r := range c {
				for j := range d {
					zd[r*d+j] = mi[j] + float32(sd[j])*zd[r*d+j]
				}
			}
			ll := m.LogLik(xi, z)
			for r := range c {
				lw := ll[r]
				for j := range d {
					zj := float64(zd[r*d+j])
					e := (zj - float64(mi[j])) / sd[j]
					// log p(z) - log q(z|x), the 2 pi terms cancelling.
					lw += -0.5*zj*zj + 0.5*e*e + 0.5*float64(lv[j])
				}
				lse.add(lw)
			}
			arena.Close()
		}
		out[i] = lse.value() - math.Log(float64(k))
	}
	return out, nil
}

// runningLSE is a log-sum-exp accumulated one term at a time.
type runningLSE struct {
	max, sum float64 // sum of exp(term - max)
	n        int
}

func (l *runningLSE) add(v float64) {
	switch {
	case l.n == 0:
		l.max, l.sum = v, 1
	case v > l.max:
		l.sum = l.sum*math.Exp(l.max-v) + 1
		l.max = v
	default:
		l.sum += math.Exp(v - l.max)
	}
	l.n++
}

func (l *runningLSE) value() float64 { return l.max + math.Log(l.sum) }

// forRows runs body over the rows [lo, hi) of n in one goroutine per CPU;
// each row is computed by one goroutine alone, so results do not depend on
// the split.
func forRows(n int, body func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for p := range w {
		lo, hi := p*n/w, (p+1)*n/w
		wg.Add(1)
		go func() { defer wg.Done(); body(lo, hi) }()
	}
	wg.Wait()
}

// bernoulliLogLik returns sum_j x_j l_j - softplus(l_j) over one row of
// logits l, in float64: BernoulliLogLik for one row. softplus(l) is
// max(l, 0) + log(1 + e^-|l|); the logs are summed as the log of a product
// of up to 512 factors in (1, 2] (below 2^512, far from overflow), one log
// per 512 pixels instead of one each: the estimator's hot loop.
func bernoulliLogLik(x, l []float32) float64 {
	var s float64
	prod, n := 1.0, 0
	for j, v := range l {
		lv := float64(v)
		s += float64(x[j])*lv - max(lv, 0)
		prod *= 1 + math.Exp(-math.Abs(lv))
		if n++; n == 512 {
			s -= math.Log(prod)
			prod, n = 1, 0
		}
	}
	return s - math.Log(prod)
}

// gaussianLogLik returns log N(x; mean, sigma^2 I) over one row, with the
// mean sigmoid(pre) of the decoder's pre-activations: GaussianLogLik of
// one row.
func gaussianLogLik(x, pre []float32, logSigma float64) float64 {
	inv := math.Exp(-logSigma)
	s := -float64(len(x)) * (halfLog2Pi + logSigma)
	for j, v := range pre {
		mean := 1 / (1 + math.Exp(-float64(v)))
		d := (float64(x[j]) - mean) * inv
		s -= 0.5 * d * d
	}
	return s
}
