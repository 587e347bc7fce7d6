// Package gan holds the adversarial game: losses, regularisers and the
// trainer. Losses are plain functions in generator/discriminator pairs named
// after their objective (the shape of TF-GAN's losses_impl.py): each takes
// the discriminator's raw outputs (logits for the classifier losses, critic
// values for the Wasserstein and hinge losses) as [N] or [N, 1] Values and
// returns the scalar to minimise.
package gan

import (
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
)

// logSigmoid is log(sigmoid(x)) = -softplus(-x), stable for large |x|.
func logSigmoid(x *ag.Value) *ag.Value { return ag.Neg(ag.Softplus(ag.Neg(x))) }

func mean(x *ag.Value) *ag.Value { return ag.Mean(x, nil, false) }

// MinimaxDiscriminatorLoss is the discriminator's side of the original GAN
// game (Goodfellow et al. 2014, arXiv:1406.2661):
//
//	L_D = -E[log D(x)] - E[log(1 - D(G(z)))],  D = sigmoid(logit)
//
// computed as mean(softplus(-real)) + mean(softplus(fake)). With one-sided
// label smoothing s > 0 (Salimans et al. 2016, arXiv:1606.03498) the real
// target is 1-s: the real term becomes binary cross-entropy against 1-s.
func MinimaxDiscriminatorLoss(real, fake *ag.Value, smoothing float32) *ag.Value {
	r := ag.Softplus(ag.Neg(real)) // -log D(x)
	if smoothing != 0 {
		// -(1-s) log D(x) - s log(1 - D(x))
		r = ag.Add(ag.Scale(r, 1-smoothing), ag.Scale(ag.Softplus(real), smoothing))
	}
	return ag.Add(mean(r), mean(ag.Softplus(fake)))
}

// MinimaxGeneratorLoss is the generator's side of the original minimax game:
// L_G = E[log(1 - D(G(z)))] = -mean(softplus(fake)). It saturates when D
// rejects the samples confidently; see NonSaturatingGeneratorLoss.
func MinimaxGeneratorLoss(fake *ag.Value) *ag.Value {
	return ag.Neg(mean(ag.Softplus(fake)))
}

// NonSaturatingGeneratorLoss is the heuristic generator loss of Goodfellow
// et al. 2014: L_G = -E[log D(G(z))] = mean(softplus(-fake)).
func NonSaturatingGeneratorLoss(fake *ag.Value) *ag.Value {
	return mean(ag.Softplus(ag.Neg(fake)))
}

// LSCoding holds the a-b-c targets of least-squares GAN: a for fake, b for
// real in D's loss, c the value G wants D to give fakes. Mao et al. 2017
// (arXiv:1611.04076) use a=0, b=1, c=1 or a=-1, b=1, c=0.
type LSCoding struct{ A, B, C float32 }

// LSCoding01 is the 0-1 coding a=0, b=1, c=1.
var LSCoding01 = LSCoding{A: 0, B: 1, C: 1}

// LeastSquaresDiscriminatorLoss is LSGAN's discriminator loss:
// L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2] on raw outputs.
func LeastSquaresDiscriminatorLoss(real, fake *ag.Value, c LSCoding) *ag.Value {
	r := mean(ag.Square(ag.AddScalar(real, -c.B)))
	f := mean(ag.Square(ag.AddScalar(fake, -c.A)))
	return ag.Scale(ag.Add(r, f), 0.5)
}

// LeastSquaresGeneratorLoss is LSGAN's generator loss:
// L_G = 1/2 E[(D(G(z)) - c)^2].
func LeastSquaresGeneratorLoss(fake *ag.Value, c LSCoding) *ag.Value {
	return ag.Scale(mean(ag.Square(ag.AddScalar(fake, -c.C))), 0.5)
}

// WassersteinCriticLoss is the WGAN critic loss (Arjovsky et al. 2017,
// arXiv:1701.07875): L_D = E[D(G(z))] - E[D(x)], the negated estimate of
// the Wasserstein-1 distance. It needs a Lipschitz constraint: weight
// clipping, a gradient penalty or spectral norm.
func WassersteinCriticLoss(real, fake *ag.Value) *ag.Value {
	return ag.Sub(mean(fake), mean(real))
}

// WassersteinGeneratorLoss is L_G = -E[D(G(z))]; the hinge and WGAN-GP
// generators use it too.
func WassersteinGeneratorLoss(fake *ag.Value) *ag.Value { return ag.Neg(mean(fake)) }

// HingeDiscriminatorLoss is the hinge loss of Lim & Ye 2017
// (arXiv:1705.02894), used by SN-GAN and BigGAN:
// L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]. The generator uses
// WassersteinGeneratorLoss.
func HingeDiscriminatorLoss(real, fake *ag.Value) *ag.Value {
	return ag.Add(mean(ag.Relu(ag.AddScalar(ag.Neg(real), 1))), mean(ag.Relu(ag.AddScalar(fake, 1))))
}

// RelativisticDiscriminatorLoss is RSGAN's discriminator loss
// (Jolicoeur-Martineau 2018, arXiv:1807.00734), on paired samples:
// L_D = -E[log sigmoid(C(x) - C(G(z)))] = mean(softplus(fake - real)).
func RelativisticDiscriminatorLoss(real, fake *ag.Value) *ag.Value {
	return mean(ag.Softplus(ag.Sub(fake, real)))
}

// RelativisticGeneratorLoss is RSGAN's generator loss:
// L_G = -E[log sigmoid(C(G(z)) - C(x))] = mean(softplus(real - fake)).
func RelativisticGeneratorLoss(real, fake *ag.Value) *ag.Value {
	return mean(ag.Softplus(ag.Sub(real, fake)))
}

// relative returns the relativistic average differences
// C(x) - E[C(G(z))] and C(G(z)) - E[C(x)].
func relative(real, fake *ag.Value) (*ag.Value, *ag.Value) {
	return ag.Sub(real, mean(fake)), ag.Sub(fake, mean(real))
}

// RelativisticAverageDiscriminatorLoss is RaSGAN's discriminator loss
// (Jolicoeur-Martineau 2018): with Dr = C(x) - E[C(G(z))] and
// Df = C(G(z)) - E[C(x)],
// L_D = -E[log sigmoid(Dr)] - E[log(1 - sigmoid(Df))]
// = mean(softplus(-Dr)) + mean(softplus(Df)).
func RelativisticAverageDiscriminatorLoss(real, fake *ag.Value) *ag.Value {
	dr, df := relative(real, fake)
	return ag.Add(mean(ag.Softplus(ag.Neg(dr))), mean(ag.Softplus(df)))
}

// RelativisticAverageGeneratorLoss is RaSGAN's generator loss, the
// discriminator's with the roles of real and fake swapped:
// L_G = mean(softplus(-Df)) + mean(softplus(Dr)).
func RelativisticAverageGeneratorLoss(real, fake *ag.Value) *ag.Value {
	dr, df := relative(real, fake)
	return ag.Add(mean(ag.Softplus(ag.Neg(df))), mean(ag.Softplus(dr)))
}

// RelativisticAverageLSDiscriminatorLoss is RaLSGAN's discriminator loss:
// L_D = E[(Dr - 1)^2] + E[(Df + 1)^2].
func RelativisticAverageLSDiscriminatorLoss(real, fake *ag.Value) *ag.Value {
	dr, df := relative(real, fake)
	return ag.Add(mean(ag.Square(ag.AddScalar(dr, -1))), mean(ag.Square(ag.AddScalar(df, 1))))
}

// RelativisticAverageLSGeneratorLoss is RaLSGAN's generator loss:
// L_G = E[(Df - 1)^2] + E[(Dr + 1)^2].
func RelativisticAverageLSGeneratorLoss(real, fake *ag.Value) *ag.Value {
	dr, df := relative(real, fake)
	return ag.Add(mean(ag.Square(ag.AddScalar(df, -1))), mean(ag.Square(ag.AddScalar(dr, 1))))
}

// RelativisticAverageHingeDiscriminatorLoss is RaHinge's discriminator loss:
// L_D = E[relu(1 - Dr)] + E[relu(1 + Df)].
func RelativisticAverageHingeDiscriminatorLoss(real, fake *ag.Value) *ag.Value {
	dr, df := relative(real, fake)
	return ag.Add(mean(ag.Relu(ag.AddScalar(ag.Neg(dr), 1))), mean(ag.Relu(ag.AddScalar(df, 1))))
}

// RelativisticAverageHingeGeneratorLoss is RaHinge's generator loss:
// L_G = E[relu(1 - Df)] + E[relu(1 + Dr)].
func RelativisticAverageHingeGeneratorLoss(real, fake *ag.Value) *ag.Value {
	dr, df := relative(real, fake)
	return ag.Add(mean(ag.Relu(ag.AddScalar(ag.Neg(df), 1))), mean(ag.Relu(ag.AddScalar(dr, 1))))
}

// Divergence is an f-divergence of f-GAN (Nowozin et al. 2016,
// arXiv:1606.00709, Table 2): its output activation g_f, mapping the
// discriminator's raw output v into the domain of the conjugate, and the
// convex conjugate f* of its generator function f.
type Divergence struct {
	Name        string
	Activation  func(v *ag.Value) *ag.Value // g_f
	Conjugate   func(t *ag.Value) *ag.Value // f*
	description string
}

// String returns the divergence's name and what it measures.
func (d Divergence) String() string { return d.Name + ": " + d.description }

// Divergences lists the f-GAN divergences by name.
var Divergences = map[string]Divergence{
	"kl": {Name: "kl", description: "Kullback-Leibler; g(v) = v, f*(t) = exp(t - 1)",
		Activation: func(v *ag.Value) *ag.Value { return v },
		Conjugate:  func(t *ag.Value) *ag.Value { return ag.Exp(ag.AddScalar(t, -1)) }},
	"reverse-kl": {Name: "reverse-kl", description: "reverse KL; g(v) = -exp(-v), f*(t) = -1 - log(-t)",
		Activation: func(v *ag.Value) *ag.Value { return ag.Neg(ag.Exp(ag.Neg(v))) },
		Conjugate:  func(t *ag.Value) *ag.Value { return ag.AddScalar(ag.Neg(ag.Log(ag.Neg(t))), -1) }},
	"pearson": {Name: "pearson", description: "Pearson chi-squared; g(v) = v, f*(t) = t^2/4 + t",
		Activation: func(v *ag.Value) *ag.Value { return v },
		Conjugate:  func(t *ag.Value) *ag.Value { return ag.Add(ag.Scale(ag.Square(t), 0.25), t) }},
	"hellinger": {Name: "hellinger", description: "squared Hellinger; g(v) = 1 - exp(-v), f*(t) = t/(1 - t)",
		Activation: func(v *ag.Value) *ag.Value { return ag.AddScalar(ag.Neg(ag.Exp(ag.Neg(v))), 1) },
		Conjugate:  func(t *ag.Value) *ag.Value { return ag.Div(t, ag.AddScalar(ag.Neg(t), 1)) }},
	"js": {Name: "js", description: "Jensen-Shannon; g(v) = log 2 - log(1 + exp(-v)), f*(t) = -log(2 - exp(t))",
		Activation: func(v *ag.Value) *ag.Value { return ag.AddScalar(ag.Neg(ag.Softplus(ag.Neg(v))), ln2) },
		Conjugate:  func(t *ag.Value) *ag.Value { return ag.Neg(ag.Log(ag.AddScalar(ag.Neg(ag.Exp(t)), 2))) }},
	"gan": {Name: "gan", description: "the original GAN's divergence; g(v) = -log(1 + exp(-v)), f*(t) = -log(1 - exp(t))",
		Activation: func(v *ag.Value) *ag.Value { return ag.Neg(ag.Softplus(ag.Neg(v))) },
		Conjugate:  func(t *ag.Value) *ag.Value { return ag.Neg(ag.Log(ag.AddScalar(ag.Neg(ag.Exp(t)), 1))) }},
	"tv": {Name: "tv", description: "total variation; g(v) = tanh(v)/2, f*(t) = t",
		Activation: func(v *ag.Value) *ag.Value { return ag.Scale(ag.Tanh(v), 0.5) },
		Conjugate:  func(t *ag.Value) *ag.Value { return t }},
}

const ln2 = 0.6931471805599453

// LookupDivergence returns the named f-divergence, or an error listing the
// names that exist.
func LookupDivergence(name string) (Divergence, error) {
	d, ok := Divergences[name]
	if !ok {
		return Divergence{}, fmt.Errorf("unknown f-divergence %q (have kl, reverse-kl, pearson, hellinger, js, gan, tv)", name)
	}
	return d, nil
}

// FDiscriminatorLoss is f-GAN's variational objective negated for
// minimisation (Nowozin et al. 2016, eq. 6):
// L_D = -(E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))]).
func FDiscriminatorLoss(d Divergence, real, fake *ag.Value) *ag.Value {
	tr := d.Activation(real)
	tf := d.Activation(fake)
	return ag.Neg(ag.Sub(mean(tr), mean(d.Conjugate(tf))))
}

// FGeneratorLoss is f-GAN's generator loss in the paper's recommended
// non-saturating form (section 3.2): L_G = -E_Q[g_f(V(G(z)))].
func FGeneratorLoss(d Divergence, fake *ag.Value) *ag.Value {
	return ag.Neg(mean(d.Activation(fake)))
}

func sqrt(x float64) float64 { return math.Sqrt(x) }
