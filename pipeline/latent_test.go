package pipeline

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/tensor"
)

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func angle(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return math.Acos(max(-1, min(1, d/(norm(a)*norm(b)))))
}

// TestSlerp checks that slerp starts at a and ends at b, that at every t
// the norm is (1-t)|a| + t|b| and the direction is at angle t·ω from a and
// (1-t)·ω from b, and that Lerp ends at its inputs with the midpoint the
// mean.
func TestSlerp(t *testing.T) {
	rng := tensor.NewRNG(42)
	cases := []struct {
		name string
		a, b []float32
	}{
		{"gaussian 64", rng.Normal(0, 1, 64).Data(), rng.Normal(0, 1, 64).Data()},
		{"different norms", rng.Normal(0, 1, 16).Data(), rng.Normal(0, 3, 16).Data()},
		{"orthogonal", []float32{2, 0, 0}, []float32{0, 1, 0}},
	}
	for _, c := range cases {
		for i, want := range map[float64][]float32{0: c.a, 1: c.b} {
			got := Slerp(c.a, c.b, i)
			for j := range got {
				if math.Abs(float64(got[j]-want[j])) > 1e-5*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("%s: slerp(t=%v)[%d] = %v, want %v", c.name, i, j, got[j], want[j])
				}
			}
		}
		na, nb, omega := norm(c.a), norm(c.b), angle(c.a, c.b)
		for _, tt := range []float64{0.25, 0.5, 0.8} {
			s := Slerp(c.a, c.b, tt)
			if got, want := norm(s), (1-tt)*na+tt*nb; math.Abs(got-want) > 1e-5*want {
				t.Errorf("%s: |slerp(%v)| = %v, want %v", c.name, tt, got, want)
			}
			if got := angle(c.a, s); math.Abs(got-tt*omega) > 1e-3 {
				t.Errorf("%s: angle(a, slerp(%v)) = %v, want %v", c.name, tt, got, tt*omega)
			}
			if got := angle(s, c.b); math.Abs(got-(1-tt)*omega) > 1e-3 {
				t.Errorf("%s: angle(slerp(%v), b) = %v, want %v", c.name, tt, got, (1-tt)*omega)
			}
		}
		m := Lerp(c.a, c.b, 0.5)
		for j := range m {
			if want := (c.a[j] + c.b[j]) / 2; math.Abs(float64(m[j]-want)) > 1e-6 {
				t.Fatalf("%s: lerp midpoint [%d] = %v, want %v", c.name, j, m[j], want)
			}
		}
	}
	// Parallel vectors fall back to Lerp (no division by sin 0).
	if got := Slerp([]float32{1, 1}, []float32{3, 3}, 0.5); got[0] != 2 || got[1] != 2 {
		t.Errorf("parallel: %v, want [2 2]", got)
	}
}

// TestLatentPath checks that the path starts and ends at the seeds' noise
// and that the slerp path differs from the lerp one in between.
func TestLatentPath(t *testing.T) {
	p := gan.Prior{Kind: "normal", Dim: 8}
	a, b := p.Sample(tensor.NewRNG(1), 1).Data(), p.Sample(tensor.NewRNG(2), 1).Data()
	lin, sph := LatentPath(p, 1, 2, 5, false), LatentPath(p, 1, 2, 5, true)
	for j := range 8 {
		if lin.At(0, j) != a[j] || lin.At(4, j) != b[j] || math.Abs(float64(sph.At(4, j)-b[j])) > 1e-5 {
			t.Fatalf("ends: lerp %v %v, slerp %v, want %v %v", lin.At(0, j), lin.At(4, j), sph.At(4, j), a[j], b[j])
		}
	}
	if lin.At(2, 0) == sph.At(2, 0) {
		t.Fatalf("slerp midpoint equals lerp's (%v)", lin.At(2, 0))
	}
}
