package data

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// Style bounds how far Restyle moves a digit's handwriting. Each bound is
// the largest change drawn, uniformly on [-bound, bound]; zero turns that
// change off (and draws nothing for it).
type Style struct {
	// Shear is the slant in pixels per row about the centre row: 0.3
	// moves a 28-pixel digit's top and bottom rows about 4 pixels apart,
	// a slant of about 17 degrees.
	Shear float32
	// Rotate is the rotation about the image centre, in degrees.
	Rotate float32
	// Zoom is the relative change of size: the digit is scaled by
	// 1 + u, u in [-Zoom, Zoom]; it must be below 1.
	Zoom float32
	// Shift is the translation of each axis, in pixels.
	Shift float32
}

// Validate says which bound is negative, not finite, or (Zoom) 1 or more.
func (s Style) Validate() error {
	for _, b := range []struct {
		name string
		v    float32
	}{{"shear", s.Shear}, {"rotate", s.Rotate}, {"zoom", s.Zoom}, {"shift", s.Shift}} {
		if b.v < 0 || math.IsInf(float64(b.v), 0) || math.IsNaN(float64(b.v)) {
			return fmt.Errorf("%s: %g: want a finite bound of 0 or more", b.name, b.v)
		}
	}
	if s.Zoom >= 1 {
		return fmt.Errorf("zoom: %g: want less than 1 (a digit scaled by 1 - zoom must keep a size)", s.Zoom)
	}
	return nil
}

// Restyle writes to dst each of the n single-channel side x side images of
// src (flat, values in [-1, 1], background -1) with its handwriting style
// changed at random and its digit kept: the strokes thickened (a 3x3
// dilation), thinned (the one-pixel erosion of the thin-digits task) or
// left as they are, each with probability 1/3, then moved by a random
// affine map within style's bounds: a horizontal shear about the centre
// row, a rotation and a zoom about the centre, then a shift (bilinear
// interpolation, background from outside). Per image it draws the
// thickness, then the shear, rotation, zoom and the x and y shifts, each
// only when its bound is positive. It panics if dst or src is shorter than
// n images or the style is not valid.
func Restyle(dst, src []float32, n, side int, style Style, rng *tensor.RNG) {
	px := side * side
	if err := style.Validate(); err != nil || len(dst) < n*px || len(src) < n*px {
		panic(fmt.Sprintf("data.Restyle: %d images of %dx%d need %d values, have dst %d and src %d (style %+v: %v)", n, side, side, n*px, len(dst), len(src), style, err))
	}
	draw := func(bound float32) float32 {
		if bound == 0 {
			return 0
		}
		return bound * float32(2*rng.Float64()-1)
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
		k := draw(style.Shear)
		// A shear alone keeps Shear's arithmetic, so runs measured before
		// the other changes existed repeat bit for bit.
		if style.Rotate == 0 && style.Zoom == 0 && style.Shift == 0 {
			Shear(out, tmp, side, k)
			continue
		}
		theta := float64(draw(style.Rotate)) * math.Pi / 180
		scale := 1 + float64(draw(style.Zoom))
		tx, ty := float64(draw(style.Shift)), float64(draw(style.Shift))
		warp(out, tmp, side, float64(k), theta, scale, tx, ty)
	}
}

// warp writes into dst the side x side image src sheared by k pixels per
// row (as Shear), rotated by theta radians (clockwise on screen, y down),
// scaled by scale about the centre, then shifted by (tx, ty) pixels. Each
// output pixel reads src bilinearly at the inverse map of its centre;
// pixels from outside are -1.
func warp(dst, src []float32, side int, k, theta, scale, tx, ty float64) {
	c := float64(side-1) / 2
	cos, sin := math.Cos(theta), math.Sin(theta)
	px := func(y, x int) float64 { return float64(at(src, y, x, side, side)) }
	for y := range side {
		for x := range side {
			// Undo the shift and the zoom, the rotation, then the shear.
			u, v := (float64(x)-c-tx)/scale, (float64(y)-c-ty)/scale
			u, v = cos*u+sin*v, -sin*u+cos*v
			sx, sy := u-k*v+c, v+c
			x0, y0 := math.Floor(sx), math.Floor(sy)
			fx, fy := sx-x0, sy-y0
			ix, iy := int(x0), int(y0)
			top := px(iy, ix)*(1-fx) + px(iy, ix+1)*fx
			bot := px(iy+1, ix)*(1-fx) + px(iy+1, ix+1)*fx
			dst[y*side+x] = float32(top*(1-fy) + bot*fy)
		}
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
