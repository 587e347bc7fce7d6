package picture

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/kallima-gan/kallima/tensor"
)

// Layout of Scatter's picture, in pixels: a square plot area of plotSize
// with margins for the title (top), tick labels (left, bottom) and the legend
// (bottom).
const (
	marginLeft   = 60
	marginTop    = 36
	marginRight  = 20
	marginBottom = 52
	plotSize     = 480
	scatterW     = marginLeft + plotSize + marginRight
	scatterH     = marginTop + plotSize + marginBottom
	extentMargin = 0.05 // fraction of the span added on each side
)

// How Scatter draws the two sets. Each point is painted over what is below
// it with its opacity, so where points pile up the color deepens to the
// set's own: a thin scatter stays pale and a mode stays dark, and the
// generated points, on top, never vanish under the real ones.
const (
	realRadius = 4    // real points: disks of this radius in pixels
	realAlpha  = 0.12 // opacity of one real disk
	fakeSide   = 2    // generated points: squares of this side in pixels
	fakeAlpha  = 0.55 // opacity of one generated square
)

// Colors of Scatter's picture: a blue and an orange that stay apart for
// the common color-vision deficiencies.
var (
	realColor     = color.RGBA{49, 130, 189, 255} // real points, underneath
	fakeColor     = color.RGBA{217, 72, 1, 255}   // generated points, on top
	background    = color.RGBA{255, 255, 255, 255}
	gridColor     = color.RGBA{232, 232, 232, 255}
	axisColor     = color.RGBA{64, 64, 64, 255}
	textFace      = basicfont.Face7x13
	textAscent    = 11 // basicfont.Face7x13's ascent
	textCharWidth = 7
)

// paint blends c with opacity a over the pixels of img in r (clipped to
// clip), each pixel becoming blend(old, c, a).
func paint(img *image.RGBA, r, clip image.Rectangle, c color.RGBA, a float64) {
	r = r.Intersect(clip)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, blend(img.RGBAAt(x, y), c, a))
		}
	}
}

// blend returns old moved the fraction a of the way to c, each channel
// (1-a)*old + a*c rounded towards c, so that blending again and again
// reaches c exactly rather than stalling short of it.
func blend(old, c color.RGBA, a float64) color.RGBA {
	mix := func(o, n uint8) uint8 {
		v := (1-a)*float64(o) + a*float64(n)
		if n > o {
			return uint8(math.Ceil(v - 1e-9))
		}
		return uint8(math.Floor(v + 1e-9))
	}
	return color.RGBA{mix(old.R, c.R), mix(old.G, c.G), mix(old.B, c.B), 255}
}

// disk blends c with opacity a over the pixels of img within radius of
// (cx, cy), clipped to clip.
func disk(img *image.RGBA, cx, cy, radius int, clip image.Rectangle, c color.RGBA, a float64) {
	for dy := -radius; dy <= radius; dy++ {
		for dx := -radius; dx <= radius; dx++ {
			if dx*dx+dy*dy <= radius*radius {
				paint(img, image.Rect(cx+dx, cy+dy, cx+dx+1, cy+dy+1), clip, c, a)
			}
		}
	}
}

// extent is the square data window of a scatter plot: [x0, x0+span] ×
// [y0, y0+span].
type extent struct{ x0, y0, span float64 }

// fitExtent returns the smallest square window centered on the bounding box
// of the finite points, widened by extentMargin of its side on each side
// (equal scales on both axes, so circles stay round). With no finite point
// it is [-1, 1]²; a zero-size box gets side 1.
func fitExtent(sets ...[][2]float64) extent {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, pts := range sets {
		for _, p := range pts {
			minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
			minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
		}
	}
	if minX > maxX {
		return extent{-1, -1, 2}
	}
	span := math.Max(maxX-minX, maxY-minY)
	if span == 0 {
		span = 1
	}
	span *= 1 + 2*extentMargin
	return extent{(minX+maxX)/2 - span/2, (minY+maxY)/2 - span/2, span}
}

// cell maps a point to integer cell coordinates on an n×n grid over the
// extent, row 0 at the top (largest y), clamped to [0, n-1].
func (e extent) cell(p [2]float64, n int) (col, row int) {
	col = int(math.Floor((p[0] - e.x0) / e.span * float64(n)))
	row = int(math.Floor((e.y0 + e.span - p[1]) / e.span * float64(n)))
	return min(max(col, 0), n-1), min(max(row, 0), n-1)
}

// pixel returns the picture coordinates of a point.
func (e extent) pixel(p [2]float64) (x, y int) {
	c, r := e.cell(p, plotSize)
	return marginLeft + c, marginTop + r
}

// points returns the finite rows of an [n, 2] tensor and the number of rows
// skipped for holding NaN or ±Inf. A nil tensor has no points.
func points(op string, t *tensor.Tensor) ([][2]float64, int) {
	if t == nil {
		return nil, 0
	}
	s := t.Shape()
	if len(s) != 2 || s[1] != 2 {
		panic(fmt.Sprintf("picture.%s: points shape %v, want [n, 2]", op, s))
	}
	d := t.Data()
	pts := make([][2]float64, 0, s[0])
	for i := range s[0] {
		x, y := float64(d[2*i]), float64(d[2*i+1])
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		pts = append(pts, [2]float64{x, y})
	}
	return pts, s[0] - len(pts)
}

// Scatter draws the 2-D toy benchmark's picture: the real points
// underneath as translucent blue disks (realColor, radius realRadius,
// opacity realAlpha each) and the generated points on top as translucent
// orange squares (fakeColor, fakeSide pixels, opacity fakeAlpha each), so
// both distributions show where they overlap and a pile of points is darker
// than a lone one. The axes share one scale and fit both sets (see
// fitExtent); ticks fall on round numbers (1, 2 or 5 × 10^k apart) with
// labels; the title is drawn centered on top and a legend with the point
// counts below (rows with NaN or ±Inf are skipped and counted there). Either
// tensor may be nil for no points, and is then left out of the legend. Text
// is ASCII in basicfont's 7×13 face; other runes show as a box.
//
// The picture is 560×568 pixels, with the plot area at
// [60, 540) × [36, 516). It panics if a tensor is not [n, 2].
func Scatter(real, fake *tensor.Tensor, title string) *image.RGBA {
	rp, rBad := points("Scatter", real)
	fp, fBad := points("Scatter", fake)
	ext := fitExtent(rp, fp)
	img := image.NewRGBA(image.Rect(0, 0, scatterW, scatterH))
	draw.Draw(img, img.Rect, image.NewUniform(background), image.Point{}, draw.Src)
	plot := image.Rect(marginLeft, marginTop, marginLeft+plotSize, marginTop+plotSize)

	step := niceStep(ext.span / 5)
	xt, yt := ticks(ext.x0, ext.span, step), ticks(ext.y0, ext.span, step)
	for _, v := range xt {
		x, _ := ext.pixel([2]float64{v, ext.y0})
		fill(img, image.Rect(x, plot.Min.Y, x+1, plot.Max.Y), gridColor)
	}
	for _, v := range yt {
		_, y := ext.pixel([2]float64{ext.x0, v})
		fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), gridColor)
	}

	for _, p := range rp {
		x, y := ext.pixel(p)
		disk(img, x, y, realRadius, plot, realColor, realAlpha)
	}
	for _, p := range fp {
		x, y := ext.pixel(p)
		paint(img, image.Rect(x, y, x+fakeSide, y+fakeSide), plot, fakeColor, fakeAlpha)
	}

	// Frame, tick marks and labels.
	outline := plot.Inset(-1)
	fill(img, image.Rect(outline.Min.X, outline.Min.Y, outline.Max.X, plot.Min.Y), axisColor)
	fill(img, image.Rect(outline.Min.X, plot.Max.Y, outline.Max.X, outline.Max.Y), axisColor)
	fill(img, image.Rect(outline.Min.X, outline.Min.Y, plot.Min.X, outline.Max.Y), axisColor)
	fill(img, image.Rect(plot.Max.X, outline.Min.Y, outline.Max.X, outline.Max.Y), axisColor)
	for _, v := range xt {
		x, _ := ext.pixel([2]float64{v, ext.y0})
		fill(img, image.Rect(x, outline.Max.Y, x+1, outline.Max.Y+4), axisColor)
		s := tickLabel(v, step)
		text(img, x-len(s)*textCharWidth/2, outline.Max.Y+6+textAscent, s)
	}
	for _, v := range yt {
		_, y := ext.pixel([2]float64{ext.x0, v})
		fill(img, image.Rect(outline.Min.X-4, y, outline.Min.X, y+1), axisColor)
		s := tickLabel(v, step)
		text(img, outline.Min.X-6-len(s)*textCharWidth, y-6+textAscent, s)
	}

	if maxRunes := scatterW / textCharWidth; len([]rune(title)) > maxRunes {
		title = string([]rune(title)[:maxRunes-3]) + "..."
	}
	text(img, (scatterW-len([]rune(title))*textCharWidth)/2, 12+textAscent, title)

	// Legend: a swatch and a label for each set given (nil is left out).
	type item struct {
		c     color.RGBA
		label string
	}
	var items []item
	if real != nil {
		items = append(items, item{realColor, legend("real", len(rp), rBad)})
	}
	if fake != nil {
		items = append(items, item{fakeColor, legend("generated", len(fp), fBad)})
	}
	x, y := marginLeft, marginTop+plotSize+34
	for _, item := range items {
		fill(img, image.Rect(x, y, x+10, y+10), item.c)
		text(img, x+14, y+textAscent-1, item.label)
		x += 14 + len(item.label)*textCharWidth + 20
	}
	return img
}

// ScatterPlot draws Scatter(real, fake, title) and saves it as a PNG at path
// atomically (see SavePNG).
func ScatterPlot(path string, real, fake *tensor.Tensor, title string) error {
	return SavePNG(path, Scatter(real, fake, title))
}

func legend(name string, n, bad int) string {
	s := name + " (" + strconv.Itoa(n) + ")"
	if bad > 0 {
		s += " +" + strconv.Itoa(bad) + " non-finite"
	}
	return s
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// text draws s with its left end at x and its baseline at y.
func text(img *image.RGBA, x, y int, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(axisColor), Face: textFace, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// niceStep returns the smallest of 1, 2, 5 × 10^k that is at least raw.
func niceStep(raw float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// ticks returns the multiples of step in [lo, lo+span].
func ticks(lo, span, step float64) []float64 {
	var ts []float64
	for k := math.Ceil(lo / step); k*step <= lo+span; k++ {
		ts = append(ts, k*step)
	}
	return ts
}

// tickLabel formats v with as many decimals as step needs.
func tickLabel(v, step float64) string {
	dec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if s == "-"+strconv.FormatFloat(0, 'f', dec, 64) {
		s = s[1:]
	}
	return s
}
