package gan

import (
	"math"
	"testing"
)

// TestPlane: the grid walks dimension 0 across and 1 down at the prior's
// quantiles, symmetric about 0, the other dimensions 0.
func TestPlane(t *testing.T) {
	z := Prior{Kind: "normal", Dim: 3}.Plane(4)
	if s := z.Shape(); s[0] != 16 || s[1] != 3 {
		t.Fatalf("shape %v, want [16 3]", s)
	}
	// Phi^-1(0.125) = -1.1503, Phi^-1(0.375) = -0.3186.
	want := []float64{-1.1503, -0.3186, 0.3186, 1.1503}
	for r := range 4 {
		for c := range 4 {
			i := r*4 + c
			if math.Abs(float64(z.At(i, 0))-want[c]) > 1e-4 || math.Abs(float64(z.At(i, 1))-want[r]) > 1e-4 || z.At(i, 2) != 0 {
				t.Fatalf("cell (%d, %d) = %v, want (%v, %v, 0)", r, c, z.Data()[i*3:i*3+3], want[c], want[r])
			}
		}
	}
	u := Prior{Kind: "uniform", Dim: 2}.Plane(2)
	if u.At(0, 0) != -0.5 || u.At(1, 0) != 0.5 || u.At(2, 1) != 0.5 {
		t.Errorf("uniform plane %v, want the cells' centres -0.5 and 0.5", u.Data())
	}
}
