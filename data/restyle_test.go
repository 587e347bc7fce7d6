package data

import (
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// TestShear: a zero shear copies; a vertical line at column 4 of a 9x9
// image, sheared by k = 1, ends at column 4 - 4 = 0 in the top row, stays
// at 4 in the centre row and reaches 8 in the bottom row; half a pixel
// splits the ink evenly between two columns.
func TestShear(t *testing.T) {
	const side = 9
	src := make([]float32, side*side)
	for i := range src {
		src[i] = -1
	}
	for y := range side {
		src[y*side+4] = 1
	}
	dst := make([]float32, len(src))
	Shear(dst, src, side, 0)
	for i := range src {
		if dst[i] != src[i] {
			t.Fatalf("shear 0 changed pixel %d: %v -> %v", i, src[i], dst[i])
		}
	}
	Shear(dst, src, side, 1)
	for y, want := range map[int]int{0: 0, 4: 4, 8: 8, 2: 2} {
		for x := range side {
			v := dst[y*side+x]
			if (x == want) != (v == 1) || (x != want && v != -1) {
				t.Fatalf("shear 1, row %d: column %d = %v, want the line at column %d only", y, x, v, want)
			}
		}
	}
	Shear(dst, src, side, 0.125) // row 0 moves by -0.5
	if a, b := dst[3], dst[4]; a != 0 || b != 0 {
		t.Fatalf("half-pixel shear: columns 3 and 4 of row 0 = %v, %v, want 0 and 0 (half ink each)", a, b)
	}
}

// TestRestyle: every thickness choice occurs (ink grows, shrinks or stays
// the same before the shear), the same seed gives the same images, values
// stay in [-1, 1], and the source is untouched.
func TestRestyle(t *testing.T) {
	const side, n = 28, 60
	src := make([]float32, n*side*side)
	for i := range src {
		src[i] = -1
	}
	for i := range n { // a 3-pixel-wide vertical bar in each image
		for y := 6; y < 22; y++ {
			for x := 12; x < 15; x++ {
				src[i*side*side+y*side+x] = 1
			}
		}
	}
	orig := append([]float32(nil), src...)
	a := make([]float32, len(src))
	b := make([]float32, len(src))
	Restyle(a, src, n, side, 0, tensor.NewRNG(4))
	Restyle(b, src, n, side, 0, tensor.NewRNG(4))
	ink := func(p []float32) (s float32) {
		for _, v := range p {
			s += (v + 1) / 2
		}
		return s
	}
	base := ink(src[:side*side])
	var more, less, same int
	for i := range n {
		img := a[i*side*side : (i+1)*side*side]
		for j, v := range img {
			if v < -1 || v > 1 || v != b[i*side*side+j] {
				t.Fatalf("image %d pixel %d: %v (again %v)", i, j, v, b[i*side*side+j])
			}
		}
		switch s := ink(img); {
		case s > base:
			more++
		case s < base:
			less++
		default:
			same++
		}
	}
	if more == 0 || less == 0 || same == 0 {
		t.Fatalf("thicker %d, thinner %d, unchanged %d of %d: want each choice drawn", more, less, same, n)
	}
	for i := range src {
		if src[i] != orig[i] {
			t.Fatal("Restyle changed its source")
		}
	}
	Restyle(a, src, n, side, 0.3, tensor.NewRNG(5))
	slanted := 0
	for i := range n {
		if a[i*side*side+6*side+11] != a[i*side*side+21*side+11] {
			slanted++
		}
	}
	if slanted < n/2 {
		t.Fatalf("with maxShear 0.3 only %d of %d bars lean", slanted, n)
	}
}
