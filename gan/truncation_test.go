package gan

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// phi is the standard normal CDF.
func phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// TestTruncationResamples checks that "resample" draws the prior truncated
// to [-t, t]: no value outside or piled on the bound, and the share within
// t/2 that of the truncated normal; and that "clamp" differs exactly there.
func TestTruncationResamples(t *testing.T) {
	const n, dim = 2000, 50
	for _, thr := range []float64{0.25, 0.5, 1, 2} {
		p := Prior{Kind: "normal", Dim: dim, Truncation: Truncation{Threshold: thr}}
		z := p.Sample(tensor.NewRNG(7), n).Data()
		inner, atBound := 0, 0
		for _, v := range z {
			a := math.Abs(float64(v))
			if a > thr {
				t.Fatalf("threshold %g: value %g outside", thr, v)
			}
			if a <= thr/2 {
				inner++
			}
			if float32(a) == float32(thr) {
				atBound++
			}
		}
		want := (phi(thr/2) - phi(-thr/2)) / (phi(thr) - phi(-thr))
		got := float64(inner) / float64(len(z))
		// 100000 draws: the share's standard error is below 0.0016.
		if math.Abs(got-want) > 0.008 {
			t.Errorf("threshold %g: %.4f of values within t/2, truncated normal %.4f", thr, got, want)
		}
		if atBound > 0 {
			t.Errorf("threshold %g: %d values on the bound", thr, atBound)
		}
		// Clamping piles the tails, 2(1 - Phi(t)) of the mass, on the bound.
		c := Prior{Kind: "normal", Dim: dim, Truncation: Truncation{Threshold: thr, Mode: "clamp"}}
		atBound = 0
		for _, v := range c.Sample(tensor.NewRNG(7), n).Data() {
			if float32(math.Abs(float64(v))) == float32(thr) {
				atBound++
			}
		}
		if got, want := float64(atBound)/float64(n*dim), 2*(1-phi(thr)); math.Abs(got-want) > 0.008 {
			t.Errorf("clamp at %g: %.4f on the bound, want %.4f", thr, got, want)
		}
	}
	// Uniform prior: resampling at 0.5 is uniform on [-0.5, 0.5].
	u := Prior{Kind: "uniform", Dim: dim, Truncation: Truncation{Threshold: 0.5}}
	var sum float64
	for _, v := range u.Sample(tensor.NewRNG(8), n).Data() {
		if math.Abs(float64(v)) > 0.5 {
			t.Fatalf("uniform at 0.5: value %g outside", v)
		}
		sum += math.Abs(float64(v))
	}
	if m := sum / float64(n*dim); math.Abs(m-0.25) > 0.005 {
		t.Errorf("uniform at 0.5: mean |z| %.4f, want 0.25", m)
	}
}

// TestTruncationScaleAndNone checks that "scale" multiplies the same draw
// by psi, that no truncation is the plain prior, and that a seed fixes the
// resampled noise.
func TestTruncationScaleAndNone(t *testing.T) {
	plain := Prior{Kind: "normal", Dim: 8}.Sample(tensor.NewRNG(3), 16).Data()
	scaled := Prior{Kind: "normal", Dim: 8, Truncation: Truncation{Threshold: 0.5, Mode: "scale"}}.Sample(tensor.NewRNG(3), 16).Data()
	none := Prior{Kind: "normal", Dim: 8, Truncation: Truncation{Mode: "clamp"}}.Sample(tensor.NewRNG(3), 16).Data()
	for i := range plain {
		if scaled[i] != float32(float64(plain[i])*0.5) || none[i] != plain[i] {
			t.Fatalf("element %d: plain %g, scaled %g, untruncated %g", i, plain[i], scaled[i], none[i])
		}
	}
	p := Prior{Kind: "normal", Dim: 8, Truncation: Truncation{Threshold: 0.3}}
	a, b := p.Sample(tensor.NewRNG(4), 16).Data(), p.Sample(tensor.NewRNG(4), 16).Data()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("element %d: %g and %g from one seed", i, a[i], b[i])
		}
	}
}

func TestTruncationValidate(t *testing.T) {
	for _, tc := range []struct {
		tr   Truncation
		want string
	}{
		{Truncation{Threshold: -1}, "positive threshold"},
		{Truncation{Threshold: math.NaN()}, "positive threshold"},
		{Truncation{Threshold: 0.001}, "at least 0.01"},
		{Truncation{Threshold: 1.5, Mode: "scale"}, "psi in (0, 1]"},
		{Truncation{Threshold: 0.5, Mode: "cut"}, `mode "cut"`},
	} {
		err := Prior{Kind: "normal", Dim: 4, Truncation: tc.tr}.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.tr, err, tc.want)
		}
	}
	for _, tr := range []Truncation{{}, {Threshold: 0.5}, {Threshold: 2, Mode: "clamp"}, {Threshold: 0.7, Mode: "scale"}} {
		if err := (Prior{Kind: "normal", Dim: 4, Truncation: tr}).Validate(); err != nil {
			t.Errorf("%+v: %v", tr, err)
		}
	}
	if s := (Truncation{Threshold: 0.5}).String(); s != "resample at 0.5" {
		t.Errorf("String: %q", s)
	}
}
