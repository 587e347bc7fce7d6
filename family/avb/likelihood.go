package avb

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/family/vae"
	"github.com/kallima-gan/kallima/tensor"
)

// Implicit is what the proposal-based likelihood needs of a latent
// variable model with the prior N(0, I) and an encoder known only by its
// samples.
type Implicit interface {
	// Sample draws s codes from q(z|x) for each observation of x [N, ...],
	// [N s, D], rows i s .. i s + s - 1 for observation i, with noise
	// from rng.
	Sample(x *tensor.Tensor, s int, rng *tensor.RNG) *tensor.Tensor
	// LogLik returns log p(x|z_j) for one flattened observation x and each
	// row z_j of z [M, D].
	LogLik(x []float32, z *tensor.Tensor) []float64
}

// ProposalIWAE estimates log p(x) for each observation of x [N, ...] by
// importance sampling with an explicit proposal, since an implicit q(z|x)
// has no density to divide by: for each observation, m codes from q give a
// mean mu and an unbiased variance sigma^2 per dimension (plus 1e-4), and
// the proposal is N(mu, diag(sigma^2)); then, as vae.IWAE with that
// proposal and k samples z_j,
//
//	log p(x) ~= logsumexp_j [log p(x|z_j) + log p(z_j) - log N(z_j; mu, sigma^2)] - log k
//
// which is consistent for any proposal with full support (it converges to
// log p(x) as k grows; below it in expectation at finite k), and exact at
// any k when the proposal is the true posterior. rng gives the m codes of
// all observations first, then the k samples (vae.IWAE's order).
//
// The authors (github.com/LMescheder/AdversarialVariationalBayes,
// avb/validate/ais.py) estimate log p(x) by annealed importance sampling
// instead: 8 chains of 2000 annealing steps with HMC (10 leapfrog steps,
// adaptive step size) from the adaptive contrast's Gaussian (mean and
// variance of q's noise basis) to the posterior; this estimator needs no
// gradients and stands on the proposal alone, so it is looser where q's
// Gaussian fit is poor.
func ProposalIWAE(q Implicit, x *tensor.Tensor, m, k int, rng *tensor.RNG) ([]float64, error) {
	if m < 2 {
		return nil, fmt.Errorf("avb: %d encoder samples per image for the proposal (want at least 2 for a variance)", m)
	}
	if k < 1 {
		return nil, fmt.Errorf("avb: k = %d importance samples (want at least 1)", k)
	}
	return vae.IWAE(&proposal{q: q, m: m, rng: rng}, x, k, vae.DefaultChunk, rng)
}

// proposal is an Implicit seen as a vae.Density whose q(z|x) is the
// Gaussian fitted to m samples.
type proposal struct {
	q   Implicit
	m   int
	rng *tensor.RNG
}

// Posterior returns the fitted Gaussians' means and log-variances [N, D].
func (p *proposal) Posterior(x *tensor.Tensor) (mu, logVar *tensor.Tensor) {
	return fitGaussian(p.q.Sample(x, p.m, p.rng), p.m)
}

// fitGaussian returns the mean and log-variance [N, D] of each group of s
// consecutive rows of codes z [N s, D]: the unbiased variance plus 1e-4
// (the authors' floor), accumulated in float64.
func fitGaussian(z *tensor.Tensor, s int) (mu, logVar *tensor.Tensor) {
	n, d := z.Size(0)/s, z.Size(1)
	mu, logVar = tensor.New(n, d), tensor.New(n, d)
	zd := z.Data()
	for i := range n {
		for j := range d {
			var sum, sq float64
			for r := range s {
				v := float64(zd[(i*s+r)*d+j])
				sum += v
				sq += v * v
			}
			mean := sum / float64(s)
			mu.Data()[i*d+j] = float32(mean)
			logVar.Data()[i*d+j] = float32(math.Log(max(sq-float64(s)*mean*mean, 0)/float64(s-1) + 1e-4))
		}
	}
	return mu, logVar
}

// LogLik is the model's decoder term.
func (p *proposal) LogLik(x []float32, z *tensor.Tensor) []float64 { return p.q.LogLik(x, z) }
