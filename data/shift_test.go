package data

import (
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// TestShift checks every pixel of shifted two-channel images: both channels
// move by the same (dy, dx), within [-2, 2], and uncovered pixels are -1.
func TestShift(t *testing.T) {
	const side, ch, n = 12, 2, 3
	px := side * side
	src := make([]float32, n*ch*px)
	for i := range src {
		src[i] = float32(i)
	}
	dst := make([]float32, len(src))
	rng := tensor.NewRNG(5)
	seen := map[[2]int]bool{}
	for k := 0; k < 20; k++ {
		Shift(dst, src, n, ch, side, 2, rng)
		for i := 0; i < n; i++ {
			// Find the shift from the first channel's centre pixel.
			base := i * ch * px
			c := int(dst[base+6*side+6]) - base
			dy, dx := 6-c/side, 6-c%side
			if dy < -2 || dy > 2 || dx < -2 || dx > 2 {
				t.Fatalf("image %d: shift (%d, %d) beyond 2", i, dy, dx)
			}
			seen[[2]int{dy, dx}] = true
			for c := 0; c < ch; c++ {
				off := base + c*px
				for y := 0; y < side; y++ {
					for x := 0; x < side; x++ {
						want := float32(-1)
						if sy, sx := y-dy, x-dx; sy >= 0 && sy < side && sx >= 0 && sx < side {
							want = src[off+sy*side+sx]
						}
						if dst[off+y*side+x] != want {
							t.Fatalf("image %d channel %d shift (%d, %d): pixel (%d, %d) = %g, want %g", i, c, dy, dx, y, x, dst[off+y*side+x], want)
						}
					}
				}
			}
		}
	}
	if len(seen) < 10 {
		t.Errorf("60 shifts took only %d of the 25 offsets", len(seen))
	}
}
