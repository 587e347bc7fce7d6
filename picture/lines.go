package picture

import (
	"fmt"
	"image"
	"image/draw"
	"math"
)

// Panel is one plot of Lines: a curve y(x) with its own y axis.
type Panel struct {
	Title string
	X, Y  []float64
	// Ref, when not NaN, is drawn as a horizontal dashed line (a baseline,
	// such as the untruncated score).
	Ref float64
}

// Layout of one Lines panel, in pixels.
const (
	panelW, panelH    = 300, 230
	panelLeft         = 56
	panelRight        = 12
	panelTop          = 26
	panelBottom       = 36
	panelsPerRow      = 2
	panelPointRadius  = 3
	panelCaptionSpace = 20
)

// Lines draws panels side by side, panelsPerRow to a row, under a caption,
// each with its own y range fitted to its points (and Ref); xLabel names
// the shared x axis. Points that are not finite are skipped. It is for
// small result figures (a score against a parameter), not general plotting.
func Lines(caption, xLabel string, panels []Panel) *image.RGBA {
	rows := (len(panels) + panelsPerRow - 1) / panelsPerRow
	cols := min(len(panels), panelsPerRow)
	img := image.NewRGBA(image.Rect(0, 0, max(cols, 1)*panelW, panelCaptionSpace+max(rows, 1)*panelH))
	draw.Draw(img, img.Rect, image.NewUniform(background), image.Point{}, draw.Src)
	text(img, 8, 2+textAscent, caption)
	for i, p := range panels {
		x0, y0 := (i%panelsPerRow)*panelW, panelCaptionSpace+(i/panelsPerRow)*panelH
		drawPanel(img, image.Rect(x0, y0, x0+panelW, y0+panelH), p, xLabel)
	}
	return img
}

func drawPanel(img *image.RGBA, r image.Rectangle, p Panel, xLabel string) {
	if len(p.X) != len(p.Y) {
		panic(fmt.Sprintf("picture.Lines: panel %q has %d x and %d y values", p.Title, len(p.X), len(p.Y)))
	}
	plot := image.Rect(r.Min.X+panelLeft, r.Min.Y+panelTop, r.Max.X-panelRight, r.Max.Y-panelBottom)
	xlo, xhi := span(p.X, math.NaN())
	ylo, yhi := span(p.Y, p.Ref)
	if ylo == yhi {
		ylo, yhi = ylo-0.5, yhi+0.5
	}
	pad := (yhi - ylo) * 0.08
	ylo, yhi = ylo-pad, yhi+pad
	if xlo == xhi {
		xlo, xhi = xlo-0.5, xhi+0.5
	}
	px := func(x float64) int {
		return plot.Min.X + int(math.Round((x-xlo)/(xhi-xlo)*float64(plot.Dx()-1)))
	}
	py := func(y float64) int {
		return plot.Max.Y - 1 - int(math.Round((y-ylo)/(yhi-ylo)*float64(plot.Dy()-1)))
	}
	xs, ys := niceStep((xhi-xlo)/4), niceStep((yhi-ylo)/4)
	for _, v := range ticks(xlo, xhi-xlo, xs) {
		fill(img, image.Rect(px(v), plot.Min.Y, px(v)+1, plot.Max.Y), gridColor)
		s := tickLabel(v, xs)
		text(img, px(v)-len(s)*textCharWidth/2, plot.Max.Y+4+textAscent, s)
	}
	for _, v := range ticks(ylo, yhi-ylo, ys) {
		fill(img, image.Rect(plot.Min.X, py(v), plot.Max.X, py(v)+1), gridColor)
		s := tickLabel(v, ys)
		text(img, plot.Min.X-4-len(s)*textCharWidth, py(v)-6+textAscent, s)
	}
	outline := plot.Inset(-1)
	for _, e := range []image.Rectangle{
		image.Rect(outline.Min.X, outline.Min.Y, outline.Max.X, plot.Min.Y),
		image.Rect(outline.Min.X, plot.Max.Y, outline.Max.X, outline.Max.Y),
		image.Rect(outline.Min.X, outline.Min.Y, plot.Min.X, outline.Max.Y),
		image.Rect(plot.Max.X, outline.Min.Y, outline.Max.X, outline.Max.Y),
	} {
		fill(img, e, axisColor)
	}
	if !math.IsNaN(p.Ref) {
		for x := plot.Min.X; x < plot.Max.X; x += 8 {
			fill(img, image.Rect(x, py(p.Ref), min(x+4, plot.Max.X), py(p.Ref)+1), realColor)
		}
	}
	prevX, prevY, have := 0, 0, false
	for i := range p.X {
		if !finite(p.X[i]) || !finite(p.Y[i]) {
			have = false
			continue
		}
		x, y := px(p.X[i]), py(p.Y[i])
		if have {
			line(img, prevX, prevY, x, y, plot)
		}
		disk(img, x, y, panelPointRadius, plot, fakeColor, 1)
		prevX, prevY, have = x, y, true
	}
	text(img, plot.Min.X, r.Min.Y+4+textAscent, p.Title)
	text(img, plot.Max.X-len(xLabel)*textCharWidth, r.Max.Y-6, xLabel)
}

// span returns the range of the finite values of v and ref.
func span(v []float64, ref float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range append(v, ref) {
		if finite(x) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// line draws a 2-pixel line from (x0, y0) to (x1, y1) in the curve's
// color, clipped to clip.
func line(img *image.RGBA, x0, y0, x1, y1 int, clip image.Rectangle) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		paint(img, image.Rect(x, y, x+2, y+2), clip, fakeColor, 1)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
