package gan

import (
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// LatentCodes describes InfoGAN's latent codes (Chen et al. 2016,
// "InfoGAN: Interpretable Representation Learning by Information
// Maximizing Generative Adversarial Nets", arXiv:1606.03657): categorical
// codes c ~ Cat(K) with uniform probabilities, one size K per code, and
// Continuous codes c ~ U(-1, 1) (uniform, as the paper and its official
// code draw them, not normal). G sees the codes beside the noise: each
// categorical code one-hot, then the continuous ones, Dim() columns in all.
//
// Q, the posterior network, gives per sample [N, QDim()] outputs: each
// categorical code's logits (K columns each), then the continuous codes'
// means, then (with LearnVariance) their log-variances; without it every
// continuous code's variance is fixed at 1, as in the official code's
// fix_std.
type LatentCodes struct {
	Categorical   []int
	Continuous    int
	LearnVariance bool
}

// Validate reports codes no model can have.
func (l LatentCodes) Validate() error {
	for i, k := range l.Categorical {
		if k < 2 {
			return fmt.Errorf("categorical code %d has %d categories (want at least 2)", i+1, k)
		}
	}
	if l.Continuous < 0 {
		return fmt.Errorf("%d continuous codes (want 0 or more)", l.Continuous)
	}
	if len(l.Categorical) == 0 && l.Continuous == 0 {
		return fmt.Errorf("no latent codes: want at least one categorical or continuous code")
	}
	return nil
}

// Count is the number of codes, categorical and continuous.
func (l LatentCodes) Count() int { return len(l.Categorical) + l.Continuous }

// Dim is the number of columns the codes add to G's input: the sum of the
// categorical sizes plus the continuous count.
func (l LatentCodes) Dim() int {
	n := l.Continuous
	for _, k := range l.Categorical {
		n += k
	}
	return n
}

// QDim is the width of Q's output: the categorical logits, the continuous
// means and, with LearnVariance, their log-variances.
func (l LatentCodes) QDim() int {
	n := l.Dim()
	if l.LearnVariance {
		n += l.Continuous
	}
	return n
}

// CodeBatch is one value of every code for each of N samples.
type CodeBatch struct {
	// Cat[j][i] is categorical code j of sample i, in 0 .. K_j-1.
	Cat [][]int
	// Cont is [N, Continuous], the continuous codes (nil without any).
	Cont *tensor.Tensor
}

// Sample draws n code rows from the prior: each categorical code
// uniformly over its categories, then the continuous codes from U(-1, 1).
func (l LatentCodes) Sample(rng *tensor.RNG, n int) CodeBatch {
	var b CodeBatch
	for _, k := range l.Categorical {
		b.Cat = append(b.Cat, SampleLabels(rng, n, k))
	}
	if l.Continuous > 0 {
		b.Cont = rng.Uniform(-1, 1, n, l.Continuous)
	}
	return b
}

// Encode returns the codes as G's extra input columns [n, Dim()]: each
// categorical code one-hot, then the continuous codes.
func (l LatentCodes) Encode(b CodeBatch, n int) *tensor.Tensor {
	dim := l.Dim()
	out := tensor.New(n, dim)
	od := out.Data()
	off := 0
	for j, k := range l.Categorical {
		for i, c := range b.Cat[j] {
			od[i*dim+off+c] = 1
		}
		off += k
	}
	for i := range n {
		for j := range l.Continuous {
			od[i*dim+off+j] = b.Cont.Data()[i*l.Continuous+j]
		}
	}
	return out
}

// Input joins noise z [n, zDim] and the encoded codes into G's input
// [n, zDim + Dim()].
func (l LatentCodes) Input(z *tensor.Tensor, b CodeBatch) *tensor.Tensor {
	return tensor.Concat([]*tensor.Tensor{z, l.Encode(b, z.Size(0))}, 1)
}

// CategoricalNLL is the categorical part of InfoGAN's mutual-information
// term: the cross-entropy -log Q(c_j | x) summed over the categorical codes
// and averaged over the batch, from Q's outputs q [N, QDim()]. The lower
// bound L_I of the paper is H(c) minus it (H(c) = sum_j log K_j is a
// constant). It returns nil without categorical codes.
func (l LatentCodes) CategoricalNLL(q *ag.Value, b CodeBatch) *ag.Value {
	n := q.Shape()[0]
	return l.sumCategorical(func(j, off, k int) *ag.Value {
		logp := ag.LogSoftmax(ag.Slice(q, 1, off, off+k), 1)
		idx := make([]int32, n)
		for i, c := range b.Cat[j] {
			idx[i] = int32(i*k + c)
		}
		return ag.Scale(ag.Sum(ag.Gather(logp, idx, n), nil, false), -1/float32(n))
	})
}

// sumCategorical adds f's term over the categorical codes, f getting each
// code's index j, its first column off in Q's outputs and its size k; nil
// without categorical codes.
func (l LatentCodes) sumCategorical(f func(j, off, k int) *ag.Value) *ag.Value {
	var total *ag.Value
	off := 0
	for j, k := range l.Categorical {
		if v := f(j, off, k); total == nil {
			total = v
		} else {
			total = ag.Add(total, v)
		}
		off += k
	}
	return total
}

// RealInfo is minus the plug-in estimate of the mutual information between
// the images of a batch and Q's reading of their categorical codes, from
// Q's outputs q [N, QDim()] on those images: summed over the categorical
// codes,
//
//	mean_i H(p_i) - H(mean_i p_i),  p_i = softmax of code j's logits for image i,
//
// so minimising it makes Q sure of each image's category (the first part)
// while using every category equally over the batch (the second). It is
// regularised information maximisation (Krause, Perona and Gomes 2010,
// "Discriminative Clustering by Regularized Information Maximization"),
// the real-data half of CatGAN's discriminator loss (Springenberg 2016,
// arXiv:1511.06390). It lies in [-sum_j log K_j, 0] and returns nil
// without categorical codes.
func (l LatentCodes) RealInfo(q *ag.Value) *ag.Value {
	n := q.Shape()[0]
	return l.sumCategorical(func(_, off, k int) *ag.Value {
		logp := ag.LogSoftmax(ag.Slice(q, 1, off, off+k), 1)
		// mean_i H(p_i) = -sum_ik p_ik log p_ik / n.
		cond := ag.Scale(ag.Sum(ag.Mul(ag.Exp(logp), logp), nil, false), -1/float32(n))
		// log mean_i p_i, stably: logsumexp over the batch minus log n.
		logm := ag.AddScalar(ag.LogSumExp(logp, []int{0}, false), -float32(math.Log(float64(n))))
		marg := ag.Neg(ag.Sum(ag.Mul(ag.Exp(logm), logm), nil, false))
		return ag.Sub(cond, marg)
	})
}

// pairEps keeps PairInfo's logarithms finite where a joint probability is 0.
const pairEps = 1e-8

// PairInfo is minus the mutual information between Q's readings of the
// categorical codes of paired images: q and q2 [N, QDim()] are Q's outputs
// on N images and on another version of each (restyled, say). For each
// categorical code, with p_i and p2_i the softmax readings of pair i, the
// joint P = sym(mean_i p_i p2_i^T) (sym(A) = (A + A^T) / 2) and its
// marginals P_k, P_l give
//
//	I = sum_kl P_kl (log P_kl - log P_k - log P_l)
//
// (IIC, Ji, Henriques and Vedaldi 2019, arXiv:1807.06653), and PairInfo is
// minus its sum over the codes, each log taken of the probability plus
// 1e-8. Minimising it makes Q read the same category in both images of a
// pair, surely, with every category used equally: it is RealInfo's
// sorting made blind to whatever the pairing changes. It lies in
// [-sum_j log K_j, 0] (up to the 1e-8) and returns nil without
// categorical codes.
func (l LatentCodes) PairInfo(q, q2 *ag.Value) *ag.Value {
	n := q.Shape()[0]
	return l.sumCategorical(func(_, off, k int) *ag.Value {
		p := ag.Softmax(ag.Slice(q, 1, off, off+k), 1)
		p2 := ag.Softmax(ag.Slice(q2, 1, off, off+k), 1)
		joint := ag.Scale(ag.MatMul(p, p2, true, false), 1/float32(n)) // [k, k]
		joint = ag.Scale(ag.Add(joint, ag.Transpose(joint)), 0.5)
		rows := ag.Sum(joint, []int{1}, true) // [k, 1]
		cols := ag.Sum(joint, []int{0}, true) // [1, k]
		logs := ag.Sub(ag.Sub(ag.Log(ag.AddScalar(joint, pairEps)), ag.Log(ag.AddScalar(rows, pairEps))), ag.Log(ag.AddScalar(cols, pairEps)))
		return ag.Neg(ag.Sum(ag.Mul(joint, logs), nil, false))
	})
}

// halfLog2Pi is log(2 pi) / 2, the Gaussian density's constant.
var halfLog2Pi = float32(0.5 * math.Log(2*math.Pi))

// ContinuousNLL is the continuous part of the mutual-information term: the
// Gaussian negative log-likelihood
//
//	-log N(c; mu, sigma^2) = log(2 pi)/2 + log(sigma^2)/2 + (c - mu)^2 / (2 sigma^2)
//
// summed over the continuous codes and averaged over the batch, with mu
// Q's means and log(sigma^2) its log-variances (LearnVariance) or 0
// (sigma = 1). It returns nil without continuous codes.
func (l LatentCodes) ContinuousNLL(q *ag.Value, b CodeBatch) *ag.Value {
	if l.Continuous == 0 {
		return nil
	}
	n := q.Shape()[0]
	off := l.Dim() - l.Continuous
	mu := ag.Slice(q, 1, off, off+l.Continuous)
	d := ag.Sub(ag.Const(b.Cont), mu)
	var per *ag.Value // [N, Continuous]
	if l.LearnVariance {
		lv := ag.Slice(q, 1, off+l.Continuous, off+2*l.Continuous)
		per = ag.Add(ag.Scale(lv, 0.5), ag.Scale(ag.Mul(ag.Square(d), ag.Exp(ag.Neg(lv))), 0.5))
	} else {
		per = ag.Scale(ag.Square(d), 0.5)
	}
	sum := ag.Scale(ag.Sum(per, nil, false), 1/float32(n))
	return ag.AddScalar(sum, halfLog2Pi*float32(l.Continuous))
}

// InfoDiscriminator is InfoGAN's discriminator with its Q head: one module
// (one player) whose body is shared by D's logit and Q's outputs.
type InfoDiscriminator interface {
	nn.Module
	// Forward returns D's logits [N, 1] (penalties take it as the critic).
	Forward(x *ag.Value) *ag.Value
	// ForwardQ returns D's logits [N, 1] and Q's outputs [N, QDim] of one
	// pass through the shared body.
	ForwardQ(x *ag.Value) (logits, q *ag.Value)
}

// InfoGAN is the InfoGAN game (Chen et al. 2016, arXiv:1606.03657): G maps
// noise and latent codes to a sample; D scores samples and its Q head
// recovers the codes of generated ones. Both players add the
// mutual-information terms to their GAN losses, as in the paper's
// objective min_{G,Q} max_D V(D, G) - lambda L_I(G, Q) and the official
// code (which subtracts lambda * MI from both losses):
//
//	D's update (D's body, D's logit head and Q's head; G frozen, its
//	  samples detached):
//	    Objective.D(D(x), D(G(z, c)))
//	    mi_cat:  LambdaCat  * CategoricalNLL(Q(G(z, c)), c)
//	    mi_cont: LambdaCont * ContinuousNLL(Q(G(z, c)), c)
//	    real_info (not the paper's; only with RealInfo > 0): RealInfo *
//	      RealInfo(Q(x)) on the real batch x, or PairInfo(Q(x), Q(Restyle(x)))
//	G's update (G's weights only; D and Q frozen, so the MI terms make G
//	  produce samples whose codes Q can read back):
//	    Objective.G(D(G(z, c)))
//	    mi_cat, mi_cont as above, through G
//
// The MI terms train Q (with D's body) in D's update and G in G's update;
// neither update takes the other's term, so the two are not swapped. The
// terms are logged under those names; each is lambda times the
// cross-entropy, so the bound is L_I = H(c) - mi / lambda.
type InfoGAN struct {
	// G takes [N, Prior.Dim + Codes.Dim()]: the noise, then the codes.
	G         nn.Layer
	D         InfoDiscriminator
	Objective Objective
	Penalty   Penalty
	Noise     InstanceNoise
	Prior     Prior
	Codes     LatentCodes
	// LambdaCat and LambdaCont weigh the categorical and continuous MI
	// terms.
	LambdaCat, LambdaCont float32
	// RealInfo, when positive, weighs a term of D's update that is not the
	// paper's: Codes.RealInfo of Q on the real batch (logged as
	// real_info), which makes Q sort real images into confident,
	// equally used categories; G's mi_cat then makes it draw those
	// categories. It trains D's body and Q only, like mi_cat there.
	RealInfo float32
	// Restyle, when set with RealInfo, pairs each real image with
	// Restyle's version of it (the batch [N, C, H, W] in, a new batch out)
	// and makes the term Codes.PairInfo of Q's readings of the two, so
	// that Q's categories must survive what Restyle changes.
	Restyle func(real *tensor.Tensor, rng *tensor.RNG) *tensor.Tensor
	// Real draws a batch of n real samples.
	Real  func(n int) *tensor.Tensor
	Batch int
	RNG   *tensor.RNG
	// ReuseFake makes G's update score the fake batch (and codes) of D's
	// last update in the step (see FakeReuser).
	ReuseFake bool

	kept      *ag.Value
	keptCodes CodeBatch
}

// ReusesFake reports ReuseFake (FakeReuser).
func (g *InfoGAN) ReusesFake() bool { return g.ReuseFake }

// Validate reports a game a config got wrong.
func (g *InfoGAN) Validate() error {
	switch {
	case g.G == nil || g.D == nil:
		return fmt.Errorf("infogan game: missing generator or discriminator")
	case g.Real == nil:
		return fmt.Errorf("infogan game: no real data")
	case g.RNG == nil:
		return fmt.Errorf("infogan game: no random source")
	case g.Objective.D == nil || g.Objective.G == nil:
		return fmt.Errorf("infogan game: no objective")
	case g.Batch <= 0:
		return fmt.Errorf("infogan game: batch size %d must be positive", g.Batch)
	case g.LambdaCat < 0 || g.LambdaCont < 0:
		return fmt.Errorf("infogan game: negative MI weight (lambda_cat %g, lambda_cont %g)", g.LambdaCat, g.LambdaCont)
	case g.RealInfo < 0:
		return fmt.Errorf("infogan game: negative real_info weight %g", g.RealInfo)
	case g.RealInfo > 0 && len(g.Codes.Categorical) == 0:
		return fmt.Errorf("infogan game: real_info %g needs a categorical code", g.RealInfo)
	}
	if err := g.Codes.Validate(); err != nil {
		return fmt.Errorf("infogan game: %w", err)
	}
	if err := g.Prior.Validate(); err != nil {
		return fmt.Errorf("infogan game: %w", err)
	}
	if err := g.Penalty.Validate(); err != nil {
		return fmt.Errorf("infogan game: %w", err)
	}
	return nil
}

// fakes draws noise and codes and G's samples for them.
func (g *InfoGAN) fakes() (*ag.Value, CodeBatch) {
	z := g.Prior.Sample(g.RNG, g.Batch)
	c := g.Codes.Sample(g.RNG, g.Batch)
	return g.G.Forward(ag.Const(g.Codes.Input(z, c))), c
}

// miTerms are the weighted MI terms of Q's outputs q for codes c.
func (g *InfoGAN) miTerms(q *ag.Value, c CodeBatch) []Term {
	var t []Term
	if v := g.Codes.CategoricalNLL(q, c); v != nil {
		t = append(t, Term{Name: "mi_cat", Value: ag.Scale(v, g.LambdaCat)})
	}
	if v := g.Codes.ContinuousNLL(q, c); v != nil {
		t = append(t, Term{Name: "mi_cont", Value: ag.Scale(v, g.LambdaCont)})
	}
	return t
}

// DiscriminatorTerms scores a real batch and a detached fake batch, and
// trains Q (with D's body) to read the fake batch's codes back (and, with
// RealInfo, to sort the real batch into categories).
func (g *InfoGAN) DiscriminatorTerms(step int) []Term {
	real := g.Real(g.Batch)
	var fake *tensor.Tensor
	var codes CodeBatch
	if g.ReuseFake {
		g.kept, g.keptCodes = g.fakes()
		fake, codes = g.kept.Data(), g.keptCodes
	} else {
		ag.NoGrad(func() {
			f, c := g.fakes()
			fake, codes = f.Data(), c
		})
	}
	var dr, qr *ag.Value
	if g.RealInfo > 0 {
		dr, qr = g.D.ForwardQ(g.Noise.Apply(g.RNG, ag.Const(real), step))
	} else {
		dr = g.D.Forward(g.Noise.Apply(g.RNG, ag.Const(real), step))
	}
	df, q := g.D.ForwardQ(g.Noise.Apply(g.RNG, ag.Const(fake), step))
	terms := []Term{{Name: g.Objective.Name, Value: g.Objective.D(dr, df)}}
	terms = append(terms, g.miTerms(q, codes)...)
	if qr != nil {
		var v *ag.Value
		if g.Restyle != nil {
			_, qt := g.D.ForwardQ(g.Noise.Apply(g.RNG, ag.Const(g.Restyle(real, g.RNG)), step))
			v = g.Codes.PairInfo(qr, qt)
		} else {
			v = g.Codes.RealInfo(qr)
		}
		terms = append(terms, Term{Name: "real_info", Value: ag.Scale(v, g.RealInfo)})
	}
	if g.Penalty.Kind != "" {
		terms = append(terms, Term{Name: g.Penalty.Kind, Value: g.Penalty.Term(g.D.Forward, real, fake, g.RNG)})
	}
	return terms
}

// GeneratorTerms scores a fresh fake batch (D's with ReuseFake) with D and
// with Q against its codes (and a real batch for the relativistic
// objectives).
func (g *InfoGAN) GeneratorTerms(step int) []Term {
	fake, codes := takeKept(&g.kept), g.keptCodes
	if fake == nil {
		fake, codes = g.fakes()
	}
	df, q := g.D.ForwardQ(g.Noise.Apply(g.RNG, fake, step))
	var dr *ag.Value
	if g.Objective.GUsesReal {
		dr = g.D.Forward(g.Noise.Apply(g.RNG, ag.Const(g.Real(g.Batch)), step))
	}
	return append([]Term{{Name: g.Objective.Name, Value: g.Objective.G(dr, df)}}, g.miTerms(q, codes)...)
}
