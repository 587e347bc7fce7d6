package gan

import (
	"math"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestOrthogonalValueAndGradient checks the term against a direct sum, its
// gradient against the closed form 4 w (W W^T ⊙ (1 - I)) W (twice the
// gradient BigGAN's code adds for the same beta), zero for orthogonal rows
// of any norm, and that vectors are skipped.
func TestOrthogonalValueAndGradient(t *testing.T) {
	rng := tensor.NewRNG(9)
	conv := ag.Param(rng.Normal(0, 1, 3, 2, 2, 2)) // rows of 8
	lin := ag.Param(rng.Normal(0, 1, 4, 5))
	bias := ag.Param(rng.Normal(0, 1, 4))
	o, err := NewOrthogonal([]*ag.Value{conv, lin, bias}, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Params) != 2 {
		t.Fatalf("%d weights regularised, want 2 (the bias skipped)", len(o.Params))
	}
	v := o.Term()
	ag.Backward(v)
	var want float64
	for _, p := range []*ag.Value{conv, lin} {
		rows := p.Shape()[0]
		cols := p.Data().Len() / rows
		w := p.Data().Data()
		gram := make([]float64, rows*rows)
		for i := range rows {
			for j := range rows {
				for k := range cols {
					gram[i*rows+j] += float64(w[i*cols+k]) * float64(w[j*cols+k])
				}
				if i != j {
					want += 0.5 * gram[i*rows+j] * gram[i*rows+j]
				}
			}
		}
		g := p.Grad().Data()
		for i := range rows {
			for k := range cols {
				var e float64
				for j := range rows {
					if j != i {
						e += gram[i*rows+j] * float64(w[j*cols+k])
					}
				}
				e *= 4 * 0.5
				if math.Abs(float64(g[i*cols+k])-e) > 1e-4*(1+math.Abs(e)) {
					t.Fatalf("gradient [%d, %d] of a %v weight: %g, closed form %g", i, k, p.Shape(), g[i*cols+k], e)
				}
			}
		}
	}
	if got := float64(v.Item()); math.Abs(got-want) > 1e-4*want {
		t.Fatalf("term %g, direct sum %g", got, want)
	}
	// Orthogonal rows of different norms: zero.
	q := ag.Param(tensor.FromSlice([]float32{3, 0, 0, 0, 0.5, 0}, 2, 3))
	oq, err := NewOrthogonal([]*ag.Value{q}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if z := oq.Term().Item(); z != 0 {
		t.Fatalf("orthogonal rows: term %g", z)
	}
	if _, err := NewOrthogonal([]*ag.Value{bias}, 1); err == nil {
		t.Fatal("no error for vectors only")
	}
	if _, err := NewOrthogonal([]*ag.Value{lin}, 0); err == nil {
		t.Fatal("no error for weight 0")
	}
}
