package aae

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// The priors an AAE's code is matched to (Makhzani et al. 2015, sections 2,
// 5 and 6). Each has two faces: Sample draws a batch of prior codes for the
// adversary's "real" side during training, and FromNoise maps the
// generator's N(0, I) noise to a prior code deterministically, so sampling
// through family.Generator draws from the same distribution.

// Petal layout of the mixture prior: component k of K has its mean at
// radius MixtureRadius in the direction theta_k = 2 pi k / K of the first two
// coordinates, with standard deviation MixtureRadialStd along that
// direction and MixtureTangentStd across it, the radial "petals" of the
// paper's figures 2b and 4 for 2-d codes. For a code of more than two
// dimensions, the first two coordinates carry the layout and every further
// coordinate is an independent N(0, 1).
const (
	MixtureRadius     = 2.5
	MixtureRadialStd  = 0.5
	MixtureTangentStd = 0.1
)

// priorSpec is a section's prior: its kind, the code (or style) dimension
// and the number of components or categories.
type priorSpec struct {
	kind    string // "normal", "mixture" or "categorical"
	dim     int    // z_dim
	classes int    // mixture components or categories
}

// noiseDim is the dimension of the generator's N(0, I) noise: the code's,
// plus one coordinate that picks the mixture component or category.
func (p priorSpec) noiseDim() int {
	if p.kind == "normal" {
		return p.dim
	}
	return p.dim + 1
}

// Sample draws n prior codes from rng: [n, dim] for normal and mixture;
// for categorical, the one-hot categories [n, classes] (uniform) and the
// style [n, dim] from N(0, I). Draw order: normal, the noise [n, dim];
// mixture, n components then the noise [n, dim]; categorical, n categories
// then the style.
func (p priorSpec) Sample(rng *tensor.RNG, n int) (code, style *tensor.Tensor) {
	switch p.kind {
	case "mixture":
		ks := make([]int, n)
		for i := range ks {
			ks[i] = rng.Intn(p.classes)
		}
		return p.mixture(rng.Normal(0, 1, n, p.dim), ks), nil
	case "categorical":
		ks := make([]int, n)
		for i := range ks {
			ks[i] = rng.Intn(p.classes)
		}
		return oneHot(ks, p.classes), rng.Normal(0, 1, n, p.dim)
	}
	return rng.Normal(0, 1, n, p.dim), nil
}

// mixture places standard normal noise e [n, dim] in component ks[i]'s
// petal: mean + rotation diag(radial, tangent) e in the first two
// coordinates, the rest as they are.
func (p priorSpec) mixture(e *tensor.Tensor, ks []int) *tensor.Tensor {
	n, d := e.Size(0), e.Size(1)
	out := tensor.New(n, d)
	od, ed := out.Data(), e.Data()
	copy(od, ed)
	for i, k := range ks {
		th := 2 * math.Pi * float64(k) / float64(p.classes)
		c, s := math.Cos(th), math.Sin(th)
		r := MixtureRadius + MixtureRadialStd*float64(ed[i*d])
		t := MixtureTangentStd * float64(ed[i*d+1])
		od[i*d] = float32(c*r - s*t)
		od[i*d+1] = float32(s*r + c*t)
	}
	return out
}

// component maps an N(0, 1) coordinate to one of k equally likely choices
// through its CDF: floor(k Phi(u)).
func component(u float32, k int) int {
	phi := 0.5 * (1 + math.Erf(float64(u)/math.Sqrt2))
	return min(max(int(phi*float64(k)), 0), k-1)
}

// FromNoise maps generator noise z [n, noiseDim] to prior codes as Sample
// distributes them: normal, z itself; mixture and categorical, the last
// coordinate picks the component or category (Phi of it, in k equal
// parts) unless labels gives it, and the first dim coordinates are the
// petal's noise or the style. For categorical it returns the one-hot
// categories and the style.
func (p priorSpec) FromNoise(z *tensor.Tensor, labels []int) (code, style *tensor.Tensor, err error) {
	if z.Dim() != 2 || z.Size(1) != p.noiseDim() {
		return nil, nil, fmt.Errorf("aae: noise of shape %v, want [N %d]", z.Shape(), p.noiseDim())
	}
	if p.kind == "normal" {
		return z, nil, nil
	}
	n, w := z.Size(0), p.noiseDim()
	ks := labels
	if ks == nil {
		ks = make([]int, n)
		for i := range ks {
			ks[i] = component(z.Data()[i*w+p.dim], p.classes)
		}
	}
	e := tensor.Slice(z, 1, 0, p.dim)
	if p.kind == "mixture" {
		return p.mixture(e, ks), nil, nil
	}
	return oneHot(ks, p.classes), e, nil
}

// oneHot returns [len(ks), classes] with row i's column ks[i] one.
func oneHot(ks []int, classes int) *tensor.Tensor {
	t := tensor.New(len(ks), classes)
	for i, k := range ks {
		t.Data()[i*classes+k] = 1
	}
	return t
}
