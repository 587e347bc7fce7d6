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
