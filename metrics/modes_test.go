package metrics

import (
	"math"
	"strings"
	"testing"
)

// TestModeCoverage checks the count of modes and the KL against its
// formula, KL(p || u) = sum_k p_k log(p_k K), on hand-made histograms.
func TestModeCoverage(t *testing.T) {
	repeat := func(modes []int, times int) []int {
		var out []int
		for range times {
			out = append(out, modes...)
		}
		return out
	}
	all := make([]int, 1000)
	for i := range all {
		all[i] = i
	}
	for _, c := range []struct {
		name   string
		labels []int
		total  int
		modes  int
		kl     float64
	}{
		{"every mode once", all, 1000, 1000, 0},
		{"one mode", repeat([]int{7}, 50), 1000, 1, math.Log(1000)},
		{"10 modes equally", repeat([]int{0, 11, 222, 333, 444, 555, 666, 777, 888, 999}, 3), 1000, 10, math.Log(1000) - math.Log(10)},
		// p = (3/4, 1/4) over K = 4: 3/4 log 3 + 1/4 log 1.
		{"unequal", []int{2, 2, 2, 0}, 4, 2, 0.75 * math.Log(3)},
	} {
		s, err := ModeCoverage(c.labels, c.total)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Modes != c.modes || s.Total != c.total || s.N != len(c.labels) {
			t.Errorf("%s: %d of %d modes in %d samples, want %d of %d in %d", c.name, s.Modes, s.Total, s.N, c.modes, c.total, len(c.labels))
		}
		if math.Abs(s.KL-c.kl) > 1e-12 {
			t.Errorf("%s: KL %.15g, want %.15g", c.name, s.KL, c.kl)
		}
	}
}

// TestModeCoverageErrors: bad arguments are errors naming the problem.
func TestModeCoverageErrors(t *testing.T) {
	for _, c := range []struct {
		labels []int
		total  int
		want   string
	}{
		{nil, 10, "no samples"},
		{[]int{1}, 0, "0 modes"},
		{[]int{1, 10}, 10, "sample 1 is in mode 10"},
		{[]int{-1}, 10, "mode -1"},
	} {
		if _, err := ModeCoverage(c.labels, c.total); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ModeCoverage(%v, %d): error %v, want one saying %q", c.labels, c.total, err, c.want)
		}
	}
}
