package avb

import (
	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/family/vae"
)

// The losses of Adversarial Variational Bayes (Mescheder et al. 2017,
// "Adversarial Variational Bayes: Unifying Variational Autoencoders and
// Generative Adversarial Networks", arXiv:1701.04722). Each is built from
// autograd ops and returns one value per row [N] unless it says otherwise.

// AdversaryLoss returns the two terms of T's logistic loss (the paper's
// equation 3.3, negated), each averaged over its batch: for the logits
// tq = T(x, z), z ~ q(z|x), labelled 1, and tp = T(x, z), z ~ p(z),
// labelled 0,
//
//	q = mean -log sigmoid(tq) = mean softplus(-tq)
//	p = mean -log(1 - sigmoid(tp)) = mean softplus(tp)
//
// Its minimiser over all functions is T*(x, z) = log q(z|x) - log p(z)
// (the paper's proposition 1). d/dtq = -sigmoid(-tq)/N, d/dtp = sigmoid(tp)/N.
func AdversaryLoss(tq, tp *ag.Value) (q, p *ag.Value) {
	return ag.Mean(ag.Softplus(ag.Neg(tq)), nil, false), ag.Mean(ag.Softplus(tp), nil, false)
}

// Normalise returns the adaptive contrast's normalised codes
// (z - mu) exp(-logVar / 2) [N, D] for codes z and the mean and
// log-variance of the auxiliary Gaussian r(z|x) = N(mu, diag(exp(logVar)))
// (the paper's section 4): T sees them instead of z, and they are
// compared with draws from N(0, I).
func Normalise(z, mu, logVar *ag.Value) *ag.Value {
	return ag.Mul(ag.Sub(z, mu), ag.Exp(ag.Scale(logVar, -0.5)))
}

// ContrastKL returns the adaptive contrast's second term per row of codes
// z [N, D] drawn from q(z|x), with r(z|x) = N(mu, diag(exp(logVar))) fitted
// to q's moments (the paper's section 4):
//
//	E_q[log r(z|x) - log p(z)] = KL(r || p) = 1/2 sum_j (mu_j^2 + exp(logVar_j) - 1 - logVar_j)
//
// exact because log r - log p is quadratic in z and r has q's first two
// moments. Its value is this closed form (vae.KL; mu and logVar are
// constants: moments of samples, not differentiated), and its gradient with
// respect to z is that of the per-sample log r(z|x) - log p(z):
//
//	d/dz_j = z_j - (z_j - mu_j) / exp(logVar_j)
//
// which, through z = f(x, eps), is the encoder's gradient of KL(r || p)
// with r following q's moments (the gradient of E_q of a quadratic
// depends on q only through its mean and variance). The value is the
// closed form plus g - g, g the per-sample term with its gradient and the
// second g a constant copy.
func ContrastKL(z, mu, logVar *ag.Value) *ag.Value {
	zt := Normalise(z, mu, logVar)
	g := ag.Scale(ag.Sum(ag.Sub(ag.Sub(ag.Mul(z, z), ag.Mul(zt, zt)), logVar), []int{1}, false), 0.5)
	return ag.Add(vae.KL(mu, logVar), ag.Sub(g, ag.Const(g.Data().Clone())))
}
