package vae

import (
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
)

// The terms of the evidence lower bound (Kingma & Welling 2014,
// "Auto-Encoding Variational Bayes", arXiv:1312.6114, equation 10):
//
//	ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || p(z))
//
// with q(z|x) = N(mu, diag(exp(logVar))) and p(z) = N(0, I). Each function
// returns one value per row [N], in nats, built from autograd ops (so
// gradients of any order flow through them).

// halfLog2Pi is log(2 pi) / 2.
var halfLog2Pi = 0.5 * math.Log(2*math.Pi)

// KL returns KL(N(mu, diag(exp(logVar))) || N(0, I)) per row of mu and
// logVar [N, D], in closed form (Kingma & Welling, appendix B):
//
//	KL = 1/2 sum_j (mu_j^2 + exp(logVar_j) - 1 - logVar_j)
//
// d/dmu = mu, d/dlogVar = (exp(logVar) - 1) / 2. It panics if the shapes
// differ.
func KL(mu, logVar *ag.Value) *ag.Value {
	t := ag.Sub(ag.Add(ag.Mul(mu, mu), ag.Exp(logVar)), ag.AddScalar(logVar, 1))
	return ag.Scale(ag.Sum(t, []int{1}, false), 0.5)
}

// BernoulliLogLik returns log p(x|logits) per row of a Bernoulli decoder's
// logits l [N, P] for observations x [N, P] in [0, 1] (binary pixels, or
// intensities for a cross-entropy):
//
//	log p(x|l) = sum_j x_j log sigmoid(l_j) + (1 - x_j) log sigmoid(-l_j)
//	           = sum_j x_j l_j - softplus(l_j)
//
// which never overflows. d/dl = x - sigmoid(l).
func BernoulliLogLik(logits, x *ag.Value) *ag.Value {
	return ag.Sum(ag.Sub(ag.Mul(x, logits), ag.Softplus(logits)), []int{1}, false)
}

// GaussianLogLik returns log N(x; mean, sigma^2 I) per row of mean [N, P]
// for observations x [N, P], with logSigma the log standard deviation
// (broadcast against mean: [1] for one shared by every pixel):
//
//	log p(x|mean) = sum_j -log(2 pi)/2 - logSigma_j - (x_j - mean_j)^2 / (2 exp(2 logSigma_j))
func GaussianLogLik(mean, logSigma, x *ag.Value) *ag.Value {
	d := ag.Mul(ag.Sub(x, mean), ag.Exp(ag.Neg(logSigma)))
	t := ag.Add(ag.Scale(ag.Mul(d, d), 0.5), ag.AddScalar(ag.BroadcastTo(logSigma, mean.Shape()), float32(halfLog2Pi)))
	return ag.Neg(ag.Sum(t, []int{1}, false))
}
