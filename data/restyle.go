package data

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// Restyle writes to dst each of the n single-channel side x side images of
// src (flat, values in [-1, 1], background -1) with its handwriting style
// changed at random and its digit kept: the strokes thickened (a 3x3
// dilation), thinned (the one-pixel erosion of the thin-digits task) or
// left as they are, each with probability 1/3, then slanted by a
// horizontal shear of k pixels per row about the centre row, k uniform in
// [-maxShear, maxShear] (linear interpolation, background from outside).
// Per image it draws the thickness, then k. It panics if dst or src is
// shorter than n images or maxShear is negative or not finite.
func Restyle(dst, src []float32, n, side int, maxShear float32, rng *tensor.RNG) {
	px := side * side
	if maxShear < 0 || math.IsInf(float64(maxShear), 0) || math.IsNaN(float64(maxShear)) || len(dst) < n*px || len(src) < n*px {
		panic(fmt.Sprintf("data.Restyle: %d images of %dx%d need %d values, have dst %d and src %d (maxShear %g)", n, side, side, n*px, len(dst), len(src), maxShear))
	}
	tmp := make([]float32, px)
	for i := range n {
		in, out := src[i*px:(i+1)*px], dst[i*px:(i+1)*px]
		switch rng.Intn(3) {
		case 0:
			dilate(tmp, in, side, side)
		case 1:
			erode(tmp, in, side, side)
		default:
			copy(tmp, in)
		}
		k := maxShear * float32(2*rng.Float64()-1)
		Shear(out, tmp, side, k)
	}
}

// Shear writes into dst the side x side image src slanted by k pixels per
// row: row y is moved right by k (y - c), c the centre row, so a positive
// k leans the top of a digit left and its bottom right. Pixels are
// interpolated linearly along the row; those from outside are -1.
func Shear(dst, src []float32, side int, k float32) {
	c := float32(side-1) / 2
	for y := range side {
		off := k * (float32(y) - c)
		for x := range side {
			sx := float32(x) - off
			x0 := int(math.Floor(float64(sx)))
			t := sx - float32(x0)
			a, b := float32(-1), float32(-1)
			if x0 >= 0 && x0 < side {
				a = src[y*side+x0]
			}
			if x0+1 >= 0 && x0+1 < side {
				b = src[y*side+x0+1]
			}
			dst[y*side+x] = a*(1-t) + b*t
		}
	}
}
