package family

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// ReconError holds mean L2 distances per image in [0, 1] pixel units over
// images x, with x' another of the images.
type ReconError struct {
	// Recon is mean ||G(E(x)) - x|| (the BiGAN authors' EGr).
	Recon float64 `json:"recon"`
	// RandomPair is mean ||x' - x||, the data's own baseline.
	RandomPair float64 `json:"random_pair"`
	// RandomRecon is mean ||x' - G(E(x))||, the authors' EGr_b.
	RandomRecon float64 `json:"random_recon"`
}

// reconChunk is the number of images reconstructed per arena.
const reconChunk = 5000

// ReconErrors returns the mean L2 distances of ReconError over the images
// x [N, C, H, W] in [-1, 1] (measured in [0, 1] units), x' drawn as a
// random derangement of x from rng. rec runs in whatever mode it is in.
func ReconErrors(rec Reconstructor, x *tensor.Tensor, rng *tensor.RNG) (ReconError, error) {
	n := x.Size(0)
	if n < 2 {
		return ReconError{}, fmt.Errorf("reconstruction baselines need at least 2 images, have %d", n)
	}
	other := derangement(n, rng)
	px := x.Len() / n
	xd := x.Data()
	// dist is the L2 distance in [0, 1] units between rows of [-1, 1]
	// values: half the distance in [-1, 1].
	dist := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			s += d * d
		}
		return math.Sqrt(s) / 2
	}
	var r ReconError
	for lo := 0; lo < n; lo += reconChunk {
		hi := min(lo+reconChunk, n)
		arena := tensor.OpenArena()
		out, err := rec.Reconstruct(tensor.Slice(x, 0, lo, hi))
		if err != nil {
			arena.Close()
			return ReconError{}, err
		}
		od := out.Data()
		for i := lo; i < hi; i++ {
			xi, xo, gi := xd[i*px:(i+1)*px], xd[other[i]*px:(other[i]+1)*px], od[(i-lo)*px:(i-lo+1)*px]
			r.Recon += dist(gi, xi)
			r.RandomPair += dist(xo, xi)
			r.RandomRecon += dist(xo, gi)
		}
		arena.Close()
	}
	r.Recon /= float64(n)
	r.RandomPair /= float64(n)
	r.RandomRecon /= float64(n)
	return r, nil
}

// derangement returns a random permutation of 0..n-1 (n >= 2) without
// fixed points, drawn from rng: a shuffled order, each index paired with
// the next one in it.
func derangement(n int, rng *tensor.RNG) []int {
	order := rng.Perm(n)
	p := make([]int, n)
	for k, i := range order {
		p[i] = order[(k+1)%n]
	}
	return p
}
