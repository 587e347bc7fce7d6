package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RNG is a seeded random generator (PCG) whose state can be saved and
// restored exactly, and which can be split into independent streams.
// It is not safe for concurrent use; give each goroutine its own Split.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &RNG{src: src, r: rand.New(src)}
}

// Split returns a new generator whose stream is independent of g's; it
// advances g by two draws, so splits are reproducible from g's seed.
func (g *RNG) Split() *RNG {
	src := rand.NewPCG(g.r.Uint64(), g.r.Uint64())
	return &RNG{src: src, r: rand.New(src)}
}

// State returns the generator's state for a checkpoint.
func (g *RNG) State() []byte {
	b, _ := g.src.MarshalBinary() // PCG's marshal cannot fail
	return b
}

// SetState restores a state returned by State.
func (g *RNG) SetState(b []byte) error {
	if err := g.src.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("rng state: %w", err)
	}
	return nil
}

// Float64 returns a uniform number in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// NormFloat64 returns a standard normal number.
func (g *RNG) NormFloat64() float64 { return g.r.NormFloat64() }

// Intn returns a uniform integer in [0, n).
func (g *RNG) Intn(n int) int { return g.r.IntN(n) }

// Perm returns a uniform random permutation of 0..n-1.
func (g *RNG) Perm(n int) []int { return g.r.Perm(n) }

// Normal returns a tensor of independent N(mean, std^2) samples.
func (g *RNG) Normal(mean, std float32, shape ...int) *Tensor {
	t := empty(shape...)
	for i := range t.data {
		t.data[i] = mean + std*float32(g.r.NormFloat64())
	}
	return t
}

// Uniform returns a tensor of independent samples from U[lo, hi), for
// lo < hi (lo == hi gives lo). Each sample is lo + (hi-lo)*u computed in
// float64; one that rounds up to hi in float32 is replaced by the largest
// float32 below hi, so hi itself never occurs.
func (g *RNG) Uniform(lo, hi float32, shape ...int) *Tensor {
	t := empty(shape...)
	l, w := float64(lo), float64(hi)-float64(lo)
	below := math.Nextafter32(hi, lo)
	for i := range t.data {
		v := float32(l + w*g.r.Float64())
		if v >= hi && hi > lo {
			v = below
		}
		t.data[i] = v
	}
	return t
}

// Bernoulli returns a tensor of independent 0/1 samples that are 1 with
// probability p.
func (g *RNG) Bernoulli(p float64, shape ...int) *Tensor {
	t := empty(shape...)
	for i := range t.data {
		t.data[i] = b2f(g.r.Float64() < p)
	}
	return t
}

// Categorical draws n indices from the distribution proportional to the
// non-negative weights. It panics if a weight is negative, NaN or infinite,
// or if they are all zero.
func (g *RNG) Categorical(weights []float32, n int) []int {
	cum := make([]float64, len(weights))
	s := 0.0
	for i, w := range weights {
		if w < 0 || !finite(w) {
			panic(fmt.Sprintf("tensor.Categorical: weight %d is %g", i, w))
		}
		s += float64(w)
		cum[i] = s
	}
	if s <= 0 {
		panic("tensor.Categorical: weights sum to 0")
	}
	out := make([]int, n)
	for k := range out {
		u := g.r.Float64() * s
		lo, hi := 0, len(cum)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if cum[mid] > u {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		out[k] = lo
	}
	return out
}
