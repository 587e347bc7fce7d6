package metrics

import (
	"math"
	"math/rand/v2"
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

// TestKLParts checks the split of the Stacked MNIST KL: channels coupled
// with uniform digits put it all in the dependence, independent skewed
// channels all in the positional terms, and on any histogram the parts sum
// to the KL.
func TestKLParts(t *testing.T) {
	score := func(labels []int) ModeScore { return stackedScore(t, labels) }
	// 000, 111, ..., 999 equally: each channel uniform, the three equal.
	var coupled []int
	for d := range 10 {
		for range 7 {
			coupled = append(coupled, 111*d)
		}
	}
	_, pos, dep, err := KLParts(score(coupled), 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(dep-math.Log(100)) > 1e-12 || math.Abs(pos[0])+math.Abs(pos[1])+math.Abs(pos[2]) > 1e-12 {
		t.Errorf("coupled: positional %v, dependence %g; want 0 and log 100", pos, dep)
	}
	// Independent channels: the red one draws digit 0 three times as often
	// as each other digit, green and blue uniform; every combination once
	// per weight.
	var indep []int
	for k := range 1000 {
		reps := 1
		if k/100 == 0 {
			reps = 3
		}
		for range reps {
			indep = append(indep, k)
		}
	}
	s := score(indep)
	shares, pos, dep, err := KLParts(s, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(shares[0][0]-0.25) > 1e-12 || math.Abs(shares[1][5]-0.1) > 1e-12 {
		t.Errorf("independent: shares %v, want red 0 at 0.25 and green 5 at 0.1", shares)
	}
	p0, p1 := 3.0/12, 1.0/12 // the red digits' shares
	wantRed := p0*math.Log(10*p0) + 9*p1*math.Log(10*p1)
	if math.Abs(pos[0]-wantRed) > 1e-12 || math.Abs(pos[1])+math.Abs(pos[2])+dep > 1e-12 {
		t.Errorf("independent: positional %v, dependence %g; want [%g 0 0] and 0", pos, dep, wantRed)
	}
	// Any histogram: the parts sum to the KL.
	rng := rand.New(rand.NewPCG(1, 2))
	var hist []int
	for range 5000 {
		hist = append(hist, int(rng.ExpFloat64()*150)%1000)
	}
	s = score(hist)
	_, pos, dep, err = KLParts(s, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sum := pos[0] + pos[1] + pos[2] + dep; math.Abs(sum-s.KL) > 1e-9 || dep <= 0 {
		t.Errorf("parts %v + %g = %g, KL %g", pos, dep, sum, s.KL)
	}
	if _, _, _, err := KLParts(s, 10, 2); err == nil {
		t.Error("1000 modes split as 10^2: no error")
	}
}

// TestPairMI checks the dependence by pairs: green copying red and blue
// independent of both gives I(R;G) = log 10 and 0 for the other pairs;
// skewed but independent channels give 0 everywhere; and on a random
// histogram each pair's value is the mutual information of its 10x10
// table, computed here from the labels directly.
func TestPairMI(t *testing.T) {
	score := func(labels []int) ModeScore { return stackedScore(t, labels) }
	var copied, indep []int
	for k := range 1000 {
		if r, g := k/100, k/10%10; r == g {
			copied = append(copied, k)
		}
		reps := 1
		if k%10 == 7 { // blue draws 7 four times as often
			reps = 4
		}
		for range reps {
			indep = append(indep, k)
		}
	}
	mi, err := PairMI(score(copied), 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(mi) != 3 || math.Abs(mi[0]-math.Log(10)) > 1e-12 || mi[1] > 1e-12 || mi[2] > 1e-12 {
		t.Errorf("green copies red: pairs %v, want [log 10, 0, 0]", mi)
	}
	if mi, err = PairMI(score(indep), 10, 3); err != nil || mi[0]+mi[1]+mi[2] > 1e-12 {
		t.Errorf("independent channels: pairs %v (%v), want 0", mi, err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var hist []int
	for range 5000 {
		hist = append(hist, int(rng.ExpFloat64()*150)%1000)
	}
	mi, err = PairMI(score(hist), 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	digit := func(k, c int) int { return []int{k / 100, k / 10 % 10, k % 10}[c] }
	for i, p := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		var joint [10][10]float64
		var pa, pb [10]float64
		for _, k := range hist {
			joint[digit(k, p[0])][digit(k, p[1])]++
			pa[digit(k, p[0])]++
			pb[digit(k, p[1])]++
		}
		n, want := float64(len(hist)), 0.0
		for a := range 10 {
			for b := range 10 {
				if joint[a][b] > 0 {
					want += joint[a][b] / n * math.Log(joint[a][b]*n/(pa[a]*pb[b]))
				}
			}
		}
		if math.Abs(mi[i]-want) > 1e-9 || want <= 0 {
			t.Errorf("random histogram, pair %v: %g, want %g", p, mi[i], want)
		}
	}
	if _, err := PairMI(score(hist), 10, 2); err == nil {
		t.Error("1000 modes split as 10^2: no error")
	}
}

// stackedScore is ModeCoverage over 1000 modes, failing t on an error.
func stackedScore(t *testing.T, labels []int) ModeScore {
	t.Helper()
	s, err := ModeCoverage(labels, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
