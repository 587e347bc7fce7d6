package pipeline

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/tensor"
)

// LatentPath returns the noise [steps, p.Dim] of a walk from the noise
// vector of seed from (the first row of p.Sample(NewRNG(from), 1)) to that
// of seed to, both ends included, along a straight line or, with slerp,
// along Slerp's great circle: what kallima interpolate and the server's
// interpolate.png draw. It panics if steps < 2.
func LatentPath(p gan.Prior, from, to uint64, steps int, slerp bool) *tensor.Tensor {
	if steps < 2 {
		panic(fmt.Sprintf("LatentPath: %d steps, want at least 2", steps))
	}
	a := p.Sample(tensor.NewRNG(from), 1).Data()
	b := p.Sample(tensor.NewRNG(to), 1).Data()
	d := len(a)
	z := tensor.New(steps, d)
	for i := range steps {
		t := float64(i) / float64(steps-1)
		zi := Lerp(a, b, t)
		if slerp {
			zi = Slerp(a, b, t)
		}
		copy(z.Data()[i*d:], zi)
	}
	return z
}

// Lerp returns (1-t)·a + t·b. It panics if a and b differ in length.
func Lerp(a, b []float32, t float64) []float32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("Lerp: lengths %d and %d", len(a), len(b)))
	}
	out := make([]float32, len(a))
	for i := range a {
		out[i] = float32((1-t)*float64(a[i]) + t*float64(b[i]))
	}
	return out
}

// Slerp interpolates from a (t = 0) to b (t = 1) spherically: the
// direction moves along the great circle from â = a/|a| to b̂ = b/|b| at
// constant angular speed,
//
//	u(t) = sin((1-t)ω)/sin ω · â + sin(tω)/sin ω · b̂,  cos ω = â·b̂,
//
// (Shoemake 1985; White 2016, arXiv:1609.04468) and the norm moves
// linearly, |out| = (1-t)|a| + t|b|. For vectors of equal norm this is
// White's slerp. When the directions are (nearly) parallel or one vector is
// zero it falls back to Lerp; for (nearly) opposite directions the great
// circle is not unique and it also falls back to Lerp. It panics if a and
// b differ in length.
func Slerp(a, b []float32, t float64) []float32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("Slerp: lengths %d and %d", len(a), len(b)))
	}
	var na, nb, dot float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		na += x * x
		nb += y * y
		dot += x * y
	}
	na, nb = math.Sqrt(na), math.Sqrt(nb)
	if na == 0 || nb == 0 {
		return Lerp(a, b, t)
	}
	cos := max(-1, min(1, dot/(na*nb)))
	omega := math.Acos(cos)
	so := math.Sin(omega)
	if so < 1e-6 {
		return Lerp(a, b, t)
	}
	wa := math.Sin((1-t)*omega) / so / na
	wb := math.Sin(t*omega) / so / nb
	norm := (1-t)*na + t*nb
	out := make([]float32, len(a))
	for i := range a {
		out[i] = float32(norm * (wa*float64(a[i]) + wb*float64(b[i])))
	}
	return out
}
