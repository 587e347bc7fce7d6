package metrics

import (
	"fmt"
	"math"
)

// ModeScore is how a generator covers a data set's discrete modes, from the
// mode each of its samples falls in.
type ModeScore struct {
	// Modes is the number of distinct modes the samples fall in, out of
	// Total.
	Modes int `json:"modes"`
	Total int `json:"total"`
	// KL is KL(p || u) in nats, p the samples' mode histogram (counts over
	// N) and u the uniform distribution over Total modes:
	// sum_k p_k log(p_k Total) = log Total - H(p), with 0 log 0 = 0. It is 0
	// when every mode holds the same share and log(Total/m) when m modes
	// hold equal shares and the rest none.
	KL float64 `json:"kl"`
	// N is the number of samples.
	N int `json:"n"`
	// Counts is the histogram: Counts[k] samples fall in mode k.
	Counts []int `json:"-"`
}

// ModeCoverage returns the mode score of samples whose modes are labels,
// each in 0..total-1: the distinct modes found and KL(histogram || uniform)
// in nats, the measure of VEEGAN (Srivastava et al. 2017,
// arXiv:1705.07761, section 5.2: "the KL divergence between the
// distribution of generated modes and the uniform distribution") and
// PacGAN (Lin et al. 2018, arXiv:1712.04086, Tables 3-5), whose code
// computes it with the natural log, the generated histogram first. It
// returns an error for no labels, total < 1 or a label out of range.
func ModeCoverage(labels []int, total int) (ModeScore, error) {
	if total < 1 {
		return ModeScore{}, fmt.Errorf("mode coverage: %d modes: want at least 1", total)
	}
	if len(labels) == 0 {
		return ModeScore{}, fmt.Errorf("mode coverage: no samples")
	}
	counts := make([]int, total)
	for i, l := range labels {
		if l < 0 || l >= total {
			return ModeScore{}, fmt.Errorf("mode coverage: sample %d is in mode %d, outside 0..%d", i, l, total-1)
		}
		counts[l]++
	}
	s := ModeScore{Total: total, N: len(labels), Counts: counts}
	n := float64(len(labels))
	for _, c := range counts {
		if c == 0 {
			continue
		}
		s.Modes++
		p := float64(c) / n
		s.KL += p * math.Log(p*float64(total))
	}
	s.KL = max(s.KL, 0) // rounding of a uniform histogram can leave -1e-16
	return s, nil
}

// KLParts splits a product space's mode score: with each mode k a tuple of
// digits, k = sum_c d_c base^(C-1-c) over C positions (Stacked MNIST: base
// 10, 3 channels, mode 100 R + 10 G + B), KL(p || u) is exactly the sum of
// each position's KL(p_c || uniform over base) and the dependence
// KL(p || p_1 ... p_C) (the total correlation of the positions). So it
// tells a generator that over- or under-draws some digits in a channel
// (the positional terms) from one that couples the channels (the
// dependence). shares[c][d] is digit d's share of position c. It returns an
// error when s.Total is not base^channels.
func KLParts(s ModeScore, base, channels int) (shares [][]float64, positional []float64, dependence float64, err error) {
	total := 1
	for range channels {
		total *= base
	}
	if base < 2 || channels < 1 || total != s.Total || len(s.Counts) != s.Total || s.N < 1 {
		return nil, nil, 0, fmt.Errorf("mode KL parts: %d modes (%d counted over %d samples) are not %d^%d", s.Total, len(s.Counts), s.N, base, channels)
	}
	marg := make([][]float64, channels) // marg[c][d]: share of digit d in position c
	for c := range marg {
		marg[c] = make([]float64, base)
	}
	n := float64(s.N)
	for k, cnt := range s.Counts {
		for c, rest := channels-1, k; c >= 0; c, rest = c-1, rest/base {
			marg[c][rest%base] += float64(cnt) / n
		}
	}
	positional = make([]float64, channels)
	for c, m := range marg {
		for _, p := range m {
			if p > 0 {
				positional[c] += p * math.Log(p*float64(base))
			}
		}
	}
	for k, cnt := range s.Counts {
		if cnt == 0 {
			continue
		}
		p, q := float64(cnt)/n, 1.0
		for c, rest := channels-1, k; c >= 0; c, rest = c-1, rest/base {
			q *= marg[c][rest%base]
		}
		dependence += p * math.Log(p/q)
	}
	return marg, positional, max(dependence, 0), nil
}

// PairMI splits KLParts' dependence by pairs of positions: the mutual
// information I(c_a; c_b) in nats of every pair a < b, in the order (0,1),
// (0,2), ..., (1,2), ... (Stacked MNIST: R-G, R-B, G-B). It says which
// channels a generator couples; with more than two positions the
// dependence is not their sum (the rest is coupling beyond pairs). A
// finite sample of independent positions has I near (base-1)^2/(2 N), not
// 0. It returns an error when s.Total is not base^channels.
func PairMI(s ModeScore, base, channels int) ([]float64, error) {
	marg, _, _, err := KLParts(s, base, channels)
	if err != nil {
		return nil, err
	}
	n := float64(s.N)
	var mi []float64
	for a := range channels {
		for b := a + 1; b < channels; b++ {
			joint := make([]float64, base*base)
			for k, cnt := range s.Counts {
				da, db := digitAt(k, a, base, channels), digitAt(k, b, base, channels)
				joint[da*base+db] += float64(cnt) / n
			}
			var m float64
			for i, p := range joint {
				if p > 0 {
					m += p * math.Log(p/(marg[a][i/base]*marg[b][i%base]))
				}
			}
			mi = append(mi, max(m, 0))
		}
	}
	return mi, nil
}

// digitAt is position c (0 the most significant) of mode k written in base
// over channels positions.
func digitAt(k, c, base, channels int) int {
	for range channels - 1 - c {
		k /= base
	}
	return k % base
}
