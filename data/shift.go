package data

import (
	"fmt"

	"github.com/kallima-gan/kallima/tensor"
)

// Shift writes each of the n square images of src ([n, channels, side,
// side], flat) into dst translated by a random (dy, dx) in [-s, s]^2, the
// same for all of an image's channels; uncovered pixels are -1, the
// background of images in [-1, 1]. It draws dy then dx per image from rng,
// so the same rng gives the same shifts whatever the channel count. It
// panics if dst or src is shorter than n images or s is negative.
func Shift(dst, src []float32, n, channels, side, s int, rng *tensor.RNG) {
	px := side * side
	if s < 0 || len(dst) < n*channels*px || len(src) < n*channels*px {
		panic(fmt.Sprintf("data.Shift: %d images of %dx%dx%d need %d values, have dst %d and src %d (s %d)", n, channels, side, side, n*channels*px, len(dst), len(src), s))
	}
	for i := 0; i < n; i++ {
		dy, dx := rng.Intn(2*s+1)-s, rng.Intn(2*s+1)-s
		for c := 0; c < channels; c++ {
			off := (i*channels + c) * px
			in, out := src[off:off+px], dst[off:off+px]
			for y := 0; y < side; y++ {
				sy := y - dy
				for x := 0; x < side; x++ {
					sx := x - dx
					if sy < 0 || sy >= side || sx < 0 || sx >= side {
						out[y*side+x] = -1
					} else {
						out[y*side+x] = in[sy*side+sx]
					}
				}
			}
		}
	}
}
