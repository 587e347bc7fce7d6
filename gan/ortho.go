package gan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Orthogonal is BigGAN's orthogonal regularisation of G (Brock et al.
// 2019, arXiv:1809.11096, eq. 3): for every weight W of two or more
// dimensions, viewed as a matrix [W.shape[0], rest] (one row per output
// unit), the term
//
//	Weight * || W W^T ⊙ (1 - I) ||_F^2
//
// pushes the rows towards orthogonality without constraining their norms.
// The paper gives beta = 1e-4. Note that BigGAN's reference code
// (ajbrock/BigGAN-PyTorch, utils.ortho) adds the gradient
// 2 beta (W W^T ⊙ (1 - I)) W directly, which is the gradient of half this
// term; here the term itself is a loss, so Weight = beta / 2 matches that
// code and Weight = beta the paper's formula.
type Orthogonal struct {
	// Params are the regularised weights; vectors (biases, gains) are
	// skipped by NewOrthogonal.
	Params []*ag.Value
	Weight float32
	masks  map[int]*tensor.Tensor
}

// NewOrthogonal regularises the weights among params that have two or more
// dimensions.
func NewOrthogonal(params []*ag.Value, weight float32) (*Orthogonal, error) {
	if !(weight > 0) {
		return nil, fmt.Errorf("orthogonal regularisation weight %v: want > 0", weight)
	}
	o := &Orthogonal{Weight: weight, masks: map[int]*tensor.Tensor{}}
	for _, p := range params {
		if len(p.Shape()) >= 2 {
			o.Params = append(o.Params, p)
		}
	}
	if len(o.Params) == 0 {
		return nil, fmt.Errorf("orthogonal regularisation: no weight with two or more dimensions among %d parameters", len(params))
	}
	return o, nil
}

// offDiagonal returns the [n, n] mask 1 - I, made once per size outside
// any arena.
func (o *Orthogonal) offDiagonal(n int) *tensor.Tensor {
	if m, ok := o.masks[n]; ok {
		return m
	}
	var m *tensor.Tensor
	tensor.Persistent(func() {
		m = tensor.Full(1, n, n)
		d := m.Data()
		for i := range n {
			d[i*n+i] = 0
		}
	})
	o.masks[n] = m
	return m
}

// Term is the regularisation's value with its graph.
func (o *Orthogonal) Term() *ag.Value {
	var total *ag.Value
	for _, p := range o.Params {
		sh := p.Shape()
		rows := sh[0]
		w := ag.Reshape(p, rows, p.Data().Len()/rows)
		gram := ag.Mul(ag.MatMul(w, w, false, true), ag.Const(o.offDiagonal(rows)))
		s := ag.Sum(ag.Square(gram), nil, false)
		if total == nil {
			total = s
		} else {
			total = ag.Add(total, s)
		}
	}
	return ag.Scale(total, o.Weight)
}

// Terms is Term as a source of terms for WithTerms (the generator's side):
// "ortho".
func (o *Orthogonal) Terms(int) []Term { return []Term{{Name: "ortho", Value: o.Term()}} }
