package family

import (
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// identity reconstructs every image as itself; shift adds a constant.
type shiftRecon struct{ by float32 }

func (s shiftRecon) Reconstruct(x *tensor.Tensor) (*tensor.Tensor, error) {
	out := x.Clone()
	for i := range out.Data() {
		out.Data()[i] += s.by
	}
	return out, nil
}

// TestReconErrors: a perfect reconstruction scores 0 and its random-pair
// errors agree; a shift of 0.2 in [-1, 1] is 0.1 per pixel in [0, 1], so
// sqrt(P)/10 per image of P pixels; x' is never x itself.
func TestReconErrors(t *testing.T) {
	x := tensor.New(3, 1, 2, 2)
	copy(x.Data(), []float32{-1, -1, -1, -1, 1, 1, 1, 1, -1, 1, -1, 1})
	r, err := ReconErrors(shiftRecon{0}, x, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Recon != 0 || r.RandomPair != r.RandomRecon || !(r.RandomPair > 0) {
		t.Errorf("perfect reconstruction: %+v", r)
	}
	// Pairs of the three images are at distance 2 (all four pixels apart by
	// one) or sqrt 2 (two pixels): a derangement of 3 is a 3-cycle, which
	// meets each pair once: (2 + sqrt2 + sqrt2)/3.
	if want := (2 + 2*math.Sqrt2) / 3; math.Abs(r.RandomPair-want) > 1e-6 {
		t.Errorf("random pairs %v, want %v", r.RandomPair, want)
	}
	r, err = ReconErrors(shiftRecon{0.2}, x, tensor.NewRNG(1))
	if err != nil || math.Abs(r.Recon-0.2) > 1e-6 {
		t.Errorf("shift 0.2 on 4 pixels: %+v, %v (want 0.2 = sqrt(4)/10)", r, err)
	}
	if _, err := ReconErrors(shiftRecon{0}, tensor.New(1, 1, 2, 2), tensor.NewRNG(1)); err == nil {
		t.Errorf("one image accepted")
	}
	for n := 2; n < 40; n++ {
		p := derangement(n, tensor.NewRNG(uint64(n)))
		s := slices.Clone(p)
		slices.Sort(s)
		for i := range p {
			if p[i] == i || s[i] != i {
				t.Fatalf("n %d: %v is not a derangement", n, p)
			}
		}
	}
}
