package optim

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
)

// ClipGradNorm rescales the gradients of params in place so that their
// global p-norm (all gradients seen as one vector) is at most maxNorm, and
// returns that norm before clipping, like torch.nn.utils.clip_grad_norm_:
//
//	total = (Σ |g|ᵖ)^(1/p)        (max |g| for p = +Inf)
//	g ← g · maxNorm/(total + 1e-6)   when that factor is below 1
//
// Parameters without a gradient are ignored; with none at all it returns 0.
// The norm is accumulated in float64. If the total is NaN or infinite the
// gradients are left as they are (PyTorch would scale them by the
// non-finite factor): the caller should check the returned norm and skip
// the step. It panics if maxNorm is negative or NaN or normType is not
// positive.
func ClipGradNorm(params []*autograd.Value, maxNorm float32, normType float64) float32 {
	if !(maxNorm >= 0) {
		panic(fmt.Sprintf("optim.ClipGradNorm: invalid maxNorm %v", maxNorm))
	}
	if !(normType > 0) {
		panic(fmt.Sprintf("optim.ClipGradNorm: invalid normType %v, want > 0 or +Inf", normType))
	}
	var acc float64
	for _, p := range params {
		g := p.Grad()
		if g == nil {
			continue
		}
		d := g.Data()
		switch {
		case math.IsInf(normType, 1):
			for _, x := range d {
				a := math.Abs(float64(x))
				if a > acc || a != a {
					acc = a
				}
			}
		case normType == 2:
			for _, x := range d {
				acc += float64(x) * float64(x)
			}
		case normType == 1:
			for _, x := range d {
				acc += math.Abs(float64(x))
			}
		default:
			for _, x := range d {
				acc += math.Pow(math.Abs(float64(x)), normType)
			}
		}
	}
	var total float64
	switch {
	case math.IsInf(normType, 1), normType == 1:
		total = acc
	case normType == 2:
		total = math.Sqrt(acc)
	default:
		total = math.Pow(acc, 1/normType)
	}
	t32 := float32(total)
	if math.IsNaN(total) || math.IsInf(float64(t32), 0) {
		return t32
	}
	coef := maxNorm / (t32 + 1e-6)
	if coef < 1 {
		for _, p := range params {
			if g := p.Grad(); g != nil {
				d := g.Data()
				for j := range d {
					d[j] *= coef
				}
			}
		}
	}
	return t32
}

// ClipGradValue clamps every gradient element of params to
// [−clip, clip] in place, like torch.nn.utils.clip_grad_value_. NaNs stay
// NaN. Parameters without a gradient are ignored. It panics if clip is
// negative or NaN.
func ClipGradValue(params []*autograd.Value, clip float32) {
	if !(clip >= 0) {
		panic(fmt.Sprintf("optim.ClipGradValue: invalid clip %v", clip))
	}
	for _, p := range params {
		g := p.Grad()
		if g == nil {
			continue
		}
		d := g.Data()
		for j, x := range d {
			if x > clip {
				d[j] = clip
			} else if x < -clip {
				d[j] = -clip
			}
		}
	}
}
