package metrics

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// ISConfig fixes the Inception Score protocol. Zero fields take the
// defaults of Salimans et al.'s code: 10 splits; rows must sum to 1 within
// 1e-3.
type ISConfig struct {
	Splits       int     // equal consecutive splits the score is averaged over; default 10
	SumTolerance float64 // largest accepted |sum_k p(k|x) - 1|; default 1e-3
}

func (c ISConfig) withDefaults() ISConfig {
	if c.Splits == 0 {
		c.Splits = 10
	}
	if c.SumTolerance == 0 {
		c.SumTolerance = 1e-3
	}
	return c
}

// ISScore is an Inception Score with what it was computed from.
type ISScore struct {
	Mean    float64 // mean of the per-split scores
	Std     float64 // their standard deviation (ddof 0, as in the original code)
	Splits  int     // splits
	N       int     // rows (generated samples)
	Classes int     // classes K
}

// InceptionScore returns the Inception Score of Salimans et al. 2016,
// "Improved Techniques for Training GANs" (arXiv:1606.03498), from class
// probabilities p(y|x), [n, K], of n generated samples under any
// classifier:
//
//	IS = exp(E_x KL(p(y|x) || p(y))),  p(y) = E_x p(y|x),
//
// computed separately on cfg.Splits consecutive splits (split i holds
// rows [i n / splits, (i+1) n / splits), with its own marginal p(y)) and
// reported as mean and standard deviation (ddof 0) over splits. It lies in
// [1, K]: 1 when every p(y|x) is the same, K when each sample is certain
// of its class and the classes are used equally. Terms with p(y|x) = 0
// count 0 (the limit of p log p). Sums run in float64.
//
// It returns an error when probs is not [n, K], when n < splits, or when
// an entry is negative or not finite or a row does not sum to 1 within
// cfg.SumTolerance (pass softmax outputs, not logits).
func InceptionScore(probs *tensor.Tensor, cfg ISConfig) (ISScore, error) {
	const op = "inception score"
	cfg = cfg.withDefaults()
	if cfg.Splits < 0 || cfg.SumTolerance < 0 {
		return ISScore{}, fmt.Errorf("%s: %d splits, sum tolerance %g: want positive values", op, cfg.Splits, cfg.SumTolerance)
	}
	n, k, err := checkFeatures(op, "class probability", probs)
	if err != nil {
		return ISScore{}, err
	}
	if n < cfg.Splits {
		return ISScore{}, fmt.Errorf("%s: %d rows for %d splits: want at least one row per split: %w", op, n, cfg.Splits, ErrTooFewSamples)
	}
	p := probs.Data()
	for i := 0; i < n; i++ {
		s := 0.0
		for j, v := range p[i*k : (i+1)*k] {
			if v < 0 {
				return ISScore{}, fmt.Errorf("%s: p(y=%d|x_%d) = %g is negative", op, j, i, v)
			}
			s += float64(v)
		}
		if math.Abs(s-1) > cfg.SumTolerance {
			return ISScore{}, fmt.Errorf("%s: row %d sums to %g, not 1 within %g: want probabilities (softmax), not logits", op, i, s, cfg.SumTolerance)
		}
	}
	scores := make([]float64, cfg.Splits)
	marginal := make([]float64, k)
	for s := range scores {
		lo, hi := s*n/cfg.Splits, (s+1)*n/cfg.Splits
		clear(marginal)
		for i := lo; i < hi; i++ {
			for j, v := range p[i*k : (i+1)*k] {
				marginal[j] += float64(v)
			}
		}
		for j := range marginal {
			marginal[j] /= float64(hi - lo)
		}
		kl := 0.0
		for i := lo; i < hi; i++ {
			for j, v := range p[i*k : (i+1)*k] {
				if v > 0 {
					q := float64(v)
					kl += q * (math.Log(q) - math.Log(marginal[j]))
				}
			}
		}
		scores[s] = math.Exp(kl / float64(hi-lo))
	}
	mean, std := meanStd(scores)
	return ISScore{Mean: mean, Std: std, Splits: cfg.Splits, N: n, Classes: k}, nil
}

// Result reports the score with where its class probabilities came from
// (p.Network is the classifier; p.Reference is normally empty).
func (s ISScore) Result(p Provenance) Result {
	return Result{
		Metric:     "IS",
		Provenance: p,
		NFake:      s.N,
		Dim:        s.Classes,
		Protocol:   fmt.Sprintf("exp(E KL(p(y|x) || p(y))), mean±std (ddof 0) over %d consecutive splits", s.Splits),
		Values:     []Value{{Name: "is", Value: s.Mean, Std: s.Std, Runs: s.Splits}},
	}
}
