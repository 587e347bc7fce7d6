package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// softmaxRows returns softmax(scale * logits) row by row, as float32.
func softmaxRows(logits [][]float64, scale float64) *tensor.Tensor {
	n, k := len(logits), len(logits[0])
	out := tensor.New(n, k)
	for i, row := range logits {
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, scale*v)
		}
		s := 0.0
		for _, v := range row {
			s += math.Exp(scale*v - m)
		}
		for j, v := range row {
			out.Set(float32(math.Exp(scale*v-m)/s), i, j)
		}
	}
	return out
}

func TestInceptionScoreExtremes(t *testing.T) {
	const n, k = 1000, 10
	oneHot := func(class func(i int) int) *tensor.Tensor {
		p := tensor.New(n, k)
		for i := 0; i < n; i++ {
			p.Set(1, i, class(i))
		}
		return p
	}
	// Confident predictions near one-hot, classes cycling.
	logits := make([][]float64, n)
	for i := range logits {
		logits[i] = make([]float64, k)
		logits[i][i%k] = 1
	}
	for _, c := range []struct {
		name     string
		p        *tensor.Tensor
		lo, hi   float64
		stdBelow float64
	}{
		{"uniform p(y|x)", tensor.Full(1.0/k, n, k), 1 - 1e-6, 1 + 1e-6, 1e-6},
		{"one class for all", oneHot(func(int) int { return 3 }), 1, 1, 0},
		{"certain, classes evenly spread", oneHot(func(i int) int { return i % k }), k - 1e-9, k + 1e-9, 1e-9},
		{"confident softmax, evenly spread", softmaxRows(logits, 20), 0.99 * k, k, 1e-9},
		{"certain, two classes only", oneHot(func(i int) int { return i % 2 }), 2 - 1e-9, 2 + 1e-9, 1e-9},
	} {
		s, err := InceptionScore(c.p, ISConfig{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Mean < c.lo || s.Mean > c.hi || s.Std > c.stdBelow {
			t.Errorf("%s: IS = %.12g ± %.3g, want in [%g, %g] with std <= %g", c.name, s.Mean, s.Std, c.lo, c.hi, c.stdBelow)
		}
		if s.N != n || s.Classes != k || s.Splits != 10 {
			t.Errorf("%s: protocol %+v", c.name, s)
		}
	}
}

func TestInceptionScoreSplits(t *testing.T) {
	// 4 rows, 2 splits: split 0 is certain of two different classes
	// (IS 2), split 1 predicts the same distribution twice (IS 1).
	p := tensor.FromSlice([]float32{
		1, 0,
		0, 1,
		0.3, 0.7,
		0.3, 0.7,
	}, 4, 2)
	s, err := InceptionScore(p, ISConfig{Splits: 2})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Mean-1.5) > 1e-12 || math.Abs(s.Std-0.5) > 1e-12 {
		t.Errorf("IS = %g ± %g, want 1.5 ± 0.5 (ddof 0)", s.Mean, s.Std)
	}
	// Uneven splits: 5 rows in 2 splits are rows [0, 2) and [2, 5).
	p5 := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 0, 1, 0, 1, 0}, 5, 2)
	s, err = InceptionScore(p5, ISConfig{Splits: 2})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.Mean-1.5) > 1e-12 {
		t.Errorf("uneven splits: IS = %g, want (2 + 1)/2", s.Mean)
	}
}

func TestInceptionScoreErrors(t *testing.T) {
	logits := tensor.FromSlice([]float32{2, 1, 0.5, 0, 3, 2}, 2, 3) // non-negative, rows not summing to 1
	neg := tensor.FromSlice([]float32{1.2, -0.2, 0.5, 0.5}, 2, 2)
	nan := tensor.FromSlice([]float32{float32(math.NaN()), 1, 0.5, 0.5}, 2, 2)
	ok := tensor.Full(0.5, 20, 2)
	for _, c := range []struct {
		name string
		p    *tensor.Tensor
		cfg  ISConfig
		want string
	}{
		{"logits", logits, ISConfig{Splits: 1}, "not logits"},
		{"negative", neg, ISConfig{Splits: 1}, "negative"},
		{"NaN", nan, ISConfig{Splits: 1}, "[0, 0]"},
		{"fewer rows than splits", ok, ISConfig{Splits: 21}, "21 splits"},
		{"3-D", tensor.New(2, 2, 2), ISConfig{}, "[n, d]"},
		{"negative tolerance", ok, ISConfig{SumTolerance: -1}, "positive"},
	} {
		_, err := InceptionScore(c.p, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := InceptionScore(ok, ISConfig{Splits: 21}); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("too few rows: %v does not wrap ErrTooFewSamples", err)
	}
	// A row off by 1e-4 passes the default tolerance and fails a tighter one.
	off := tensor.FromSlice([]float32{0.5, 0.5001, 0.5, 0.5}, 2, 2)
	if _, err := InceptionScore(off, ISConfig{Splits: 1}); err != nil {
		t.Errorf("row sum 1.0001 with tolerance 1e-3: %v", err)
	}
	if _, err := InceptionScore(off, ISConfig{Splits: 1, SumTolerance: 1e-5}); err == nil {
		t.Error("row sum 1.0001 with tolerance 1e-5 accepted")
	}
}
