package data

import (
	"math"
	"strings"
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
	Restyle(a, src, n, side, Style{}, tensor.NewRNG(4))
	Restyle(b, src, n, side, Style{}, tensor.NewRNG(4))
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
	Restyle(a, src, n, side, Style{Shear: 0.3}, tensor.NewRNG(5))
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

// TestWarp: no change copies; a shear alone is Shear's; a quarter turn
// lays a vertical bar flat (clockwise on screen: its top goes right); a
// shift moves every pixel; doubling the size doubles the bar's length.
func TestWarp(t *testing.T) {
	const side = 9
	src := make([]float32, side*side)
	for i := range src {
		src[i] = -1
	}
	for y := 2; y <= 4; y++ { // the upper half of a vertical bar at column 4
		src[y*side+4] = 1
	}
	dst := make([]float32, len(src))
	same := func(what string, want []float32) {
		t.Helper()
		for i := range want {
			if d := dst[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s: pixel (%d, %d) = %v, want %v", what, i/side, i%side, dst[i], want[i])
			}
		}
	}
	warp(dst, src, side, 0, 0, 1, 0, 0)
	same("identity", src)
	sheared := make([]float32, len(src))
	Shear(sheared, src, side, 0.3)
	warp(dst, src, side, 0.3, 0, 1, 0, 0)
	same("shear 0.3", sheared)
	turned := make([]float32, len(src))
	for i := range turned {
		turned[i] = -1
	}
	for x := 4; x <= 6; x++ { // the bar from the centre up, turned clockwise: from the centre right
		turned[4*side+x] = 1
	}
	warp(dst, src, side, 0, math.Pi/2, 1, 0, 0)
	same("quarter turn", turned)
	shifted := make([]float32, len(src))
	for i := range shifted {
		shifted[i] = -1
	}
	for y := 3; y <= 5; y++ { // down one row, left two columns
		shifted[y*side+2] = 1
	}
	warp(dst, src, side, 0, 0, 1, -2, 1)
	same("shift (-2, 1)", shifted)
	warp(dst, src, side, 0, 0, 2, 0, 0) // rows 2..4 about centre 4 go to 0..4
	for y := range side {
		v := dst[y*side+4]
		if (y <= 4) != (v == 1) {
			t.Fatalf("zoom 2: column 4, row %d = %v, want ink in rows 0-4 only", y, v)
		}
	}
}

// TestRestyleStyle: rotation, zoom and shift each move the ink of most
// images beyond what a thickness change alone does (the bar's slant, its
// length, its centre), values stay in [-1, 1], and bad bounds are refused
// by name.
func TestRestyleStyle(t *testing.T) {
	const side, n = 28, 40
	px := side * side
	bar := make([]float32, px)
	for i := range bar {
		bar[i] = -1
	}
	for y := 6; y < 22; y++ {
		for x := 12; x < 15; x++ {
			bar[y*side+x] = 1
		}
	}
	src := make([]float32, 0, n*px)
	for range n {
		src = append(src, bar...)
	}
	// moments returns the ink's centre, its vertical spread and the slope
	// of x on y (zero for an upright bar).
	moments := func(img []float32) (cx, cy, vy, slope float64) {
		var w, sxy float64
		for j, v := range img {
			m := float64(v+1) / 2
			w += m
			cx += m * float64(j%side)
			cy += m * float64(j/side)
		}
		cx, cy = cx/w, cy/w
		for j, v := range img {
			m := float64(v+1) / 2
			dx, dy := float64(j%side)-cx, float64(j/side)-cy
			vy += m * dy * dy
			sxy += m * dx * dy
		}
		return cx, cy, vy / w, sxy / vy
	}
	// The three thickness choices alone, for reference.
	var ref [3][4]float64
	tmp := make([]float32, px)
	for c, f := range []func(dst, src []float32, h, w int){dilate, erode, func(dst, src []float32, _, _ int) { copy(dst, src) }} {
		f(tmp, bar, side, side)
		ref[c][0], ref[c][1], ref[c][2], ref[c][3] = moments(tmp)
	}
	a := make([]float32, len(src))
	for _, tc := range []struct {
		s     Style
		moved func(cx, cy, vy, slope float64, r [4]float64) bool
	}{
		{Style{Rotate: 20}, func(_, _, _, slope float64, _ [4]float64) bool { return math.Abs(slope) > 0.03 }},
		{Style{Zoom: 0.2}, func(_, _, vy float64, _ float64, r [4]float64) bool { return math.Abs(vy/r[2]-1) > 0.04 }},
		{Style{Shift: 2}, func(cx, cy, _, _ float64, r [4]float64) bool { return math.Hypot(cx-r[0], cy-r[1]) > 0.2 }},
	} {
		Restyle(a, src, n, side, tc.s, tensor.NewRNG(6))
		moved := 0
		for i := range n {
			img := a[i*px : (i+1)*px]
			for j, v := range img {
				if v < -1-1e-6 || v > 1+1e-6 {
					t.Fatalf("%+v: image %d pixel %d = %v, outside [-1, 1]", tc.s, i, j, v)
				}
			}
			cx, cy, vy, slope := moments(img)
			all := true // moved beyond every thickness choice
			for _, r := range ref {
				all = all && tc.moved(cx, cy, vy, slope, r)
			}
			if all {
				moved++
			}
		}
		if moved < n/2 {
			t.Fatalf("%+v: only %d of %d bars moved beyond a thickness change", tc.s, moved, n)
		}
	}
	for _, tc := range []struct {
		s    Style
		want string
	}{{Style{Shear: -1}, "shear: -1"}, {Style{Rotate: float32(math.NaN())}, "rotate: NaN"}, {Style{Zoom: 1}, "zoom: 1"}, {Style{Shift: float32(math.Inf(1))}, "shift: +Inf"}} {
		if err := tc.s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%+v: error %v, want one naming %q", tc.s, err, tc.want)
		}
	}
}
