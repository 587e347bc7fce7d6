package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Embedding is a lookup table of n vectors of size dim, like
// torch.nn.Embedding: row i of Weight is the embedding of index i. Class
// embeddings of conditional GANs (projection discriminators, conditional
// batch norm) are Embeddings.
type Embedding struct {
	Weight *autograd.Value // [n, dim], init N(0, 1) as PyTorch
	SN     *SpectralNorm   // when set, W / sigma(W) replaces W
}

// NewEmbedding returns an Embedding of n vectors of size dim drawn from
// N(0, 1) by rng.
func NewEmbedding(n, dim int, rng *tensor.RNG) *Embedding {
	return &Embedding{Weight: autograd.Param(rng.Normal(0, 1, n, dim))}
}

// WithSpectralNorm wraps the table in spectral normalisation (dim 0), as
// BigGAN does, and returns e.
func (e *Embedding) WithSpectralNorm(rng *tensor.RNG) *Embedding {
	e.SN = NewSpectralNorm(e.Weight.Shape(), 0, rng)
	return e
}

// Forward returns the rows idx of the table, [len(idx), dim]; the gradient
// adds back into those rows (repeats add up). It panics on an index out of
// range.
func (e *Embedding) Forward(idx []int) *autograd.Value {
	n := e.Weight.Shape()[0]
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("nn.Embedding: index %d out of range for %d embeddings", i, n))
		}
	}
	return autograd.IndexSelect(snWeight(e.Weight, e.SN), 0, idx)
}

// Params lists weight (weight_orig under spectral norm).
func (e *Embedding) Params(prefix string) []Param {
	return weightParams(prefix, e.Weight, nil, e.SN)
}

// Buffers lists spectral norm's weight_u and weight_v, if any.
func (e *Embedding) Buffers(prefix string) []Buffer { return snBuffers(prefix, e.Weight, e.SN) }

// SetTraining sets spectral norm's mode, if any.
func (e *Embedding) SetTraining(on bool) {
	if e.SN != nil {
		e.SN.SetTraining(on)
	}
}
