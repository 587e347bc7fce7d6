package picture

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func pts(xy ...float32) *tensor.Tensor { return tensor.FromSlice(xy, len(xy)/2, 2) }

// TestFitExtent checks the square window on hand-computed cases.
func TestFitExtent(t *testing.T) {
	cases := []struct {
		name string
		sets [][][2]float64
		want extent
	}{
		{"square box", [][][2]float64{{{-1, -1}, {1, 1}}}, extent{-1.1, -1.1, 2.2}},
		{"wide box, two sets", [][][2]float64{{{0, 0}}, {{4, 1}}}, extent{2 - 2.2, 0.5 - 2.2, 4.4}},
		{"one point", [][][2]float64{{{3, -2}}}, extent{3 - 0.55, -2 - 0.55, 1.1}},
		{"no points", [][][2]float64{nil, {}}, extent{-1, -1, 2}},
	}
	for _, c := range cases {
		got := fitExtent(c.sets...)
		if math.Abs(got.x0-c.want.x0) > 1e-12 || math.Abs(got.y0-c.want.y0) > 1e-12 || math.Abs(got.span-c.want.span) > 1e-12 {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestBlend checks blend on hand-computed channels and that blending again
// and again reaches the color exactly.
func TestBlend(t *testing.T) {
	got := blend(color.RGBA{255, 255, 255, 255}, color.RGBA{49, 130, 189, 255}, 0.12)
	// 0.88*255 + 0.12*49 = 230.28, + 0.12*130 = 240, + 0.12*189 = 247.08,
	// each rounded down, towards the darker color.
	if want := (color.RGBA{230, 240, 247, 255}); got != want {
		t.Errorf("blend = %v, want %v", got, want)
	}
	for _, a := range []float64{realAlpha, fakeAlpha} {
		c := background
		for range 200 {
			c = blend(c, realColor, a)
		}
		if c != realColor {
			t.Errorf("200 blends at opacity %v reach %v, want %v", a, c, realColor)
		}
	}
}

// TestScatterPoints checks where single points land and what they paint. The
// real points (-1,-1) and (1,1) fix the window to [-1.1, 1.1]² (ticks every
// 0.5), so (0.3, -0.3) lands at column floor(1.4/2.2*480) = 305 and row
// floor(1.4/2.2*480) = 305 of the plot area, pixel (365, 341), off the grid
// lines: a lone real point there is one realAlpha disk of radius realRadius
// over white, and a lone generated point at (-0.3, 0.3), pixel (234, 210),
// one fakeAlpha square of side fakeSide (column and row floor(0.8/2.2*480) = 174).
func TestScatterPoints(t *testing.T) {
	img := Scatter(pts(-1, -1, 1, 1, 0.3, -0.3), pts(-0.3, 0.3), "")
	if img.Bounds() != image.Rect(0, 0, 560, 568) {
		t.Fatalf("bounds %v, want 560x568", img.Bounds())
	}
	ext := fitExtent([][2]float64{{-1, -1}, {1, 1}})
	if x, y := ext.pixel([2]float64{0.3, -0.3}); x != 365 || y != 341 {
		t.Fatalf("(0.3,-0.3) at (%d,%d), want (365,341)", x, y)
	}
	lone := blend(background, realColor, realAlpha)
	for _, d := range []image.Point{{0, 0}, {realRadius, 0}, {0, -realRadius}, {-2, 2}} {
		if got := img.RGBAAt(365+d.X, 341+d.Y); got != lone {
			t.Errorf("real disk pixel %+d%+d = %v, want %v", d.X, d.Y, got, lone)
		}
	}
	for _, d := range []image.Point{{realRadius + 1, 0}, {realRadius, realRadius}} {
		if got := img.RGBAAt(365+d.X, 341+d.Y); got != background {
			t.Errorf("pixel %+d%+d outside the real disk = %v, want white", d.X, d.Y, got)
		}
	}
	if x, y := ext.pixel([2]float64{-0.3, 0.3}); x != 234 || y != 210 {
		t.Fatalf("(-0.3,0.3) at (%d,%d), want (234,210)", x, y)
	}
	dot := blend(background, fakeColor, fakeAlpha)
	for _, d := range []image.Point{{0, 0}, {fakeSide - 1, fakeSide - 1}} {
		if got := img.RGBAAt(234+d.X, 210+d.Y); got != dot {
			t.Errorf("generated square pixel %+d%+d = %v, want %v", d.X, d.Y, got, dot)
		}
	}
	if got := img.RGBAAt(234+fakeSide, 210); got != background {
		t.Errorf("pixel right of the generated square = %v, want white", got)
	}
	// Far from every point, the plot area is background or grid.
	if got := img.RGBAAt(60+470, 36+470); got != background && got != gridColor {
		t.Errorf("empty corner is %v", got)
	}
}

// TestScatterGeneratedOverReal puts one generated point and then a pile of
// 200 on a pile of 200 real points (a captured mode): the generated point is
// on top, so its pixel is nearer fakeColor than realColor, and the real disk
// still shows around it at full realColor.
func TestScatterGeneratedOverReal(t *testing.T) {
	pile := func(n int, x, y float32) *tensor.Tensor {
		var xy []float32
		for range n {
			xy = append(xy, x, y)
		}
		return pts(xy...)
	}
	dist := func(a, b color.RGBA) float64 {
		dr, dg, db := float64(a.R)-float64(b.R), float64(a.G)-float64(b.G), float64(a.B)-float64(b.B)
		return math.Sqrt(dr*dr + dg*dg + db*db)
	}
	real := tensor.Concat([]*tensor.Tensor{pts(-1, -1, 1, 1), pile(200, 0.3, -0.3)}, 0)
	for _, n := range []int{1, 200} {
		img := Scatter(real, pile(n, 0.3, -0.3), "")
		under := img.RGBAAt(365+realRadius, 341) // real disk, no generated point
		if under != realColor {
			t.Errorf("%d generated: edge of a pile of 200 real points is %v, want %v", n, under, realColor)
		}
		want := realColor
		for range n {
			want = blend(want, fakeColor, fakeAlpha)
		}
		got := img.RGBAAt(365, 341)
		if got != want {
			t.Errorf("%d generated over 200 real: %v, want %v", n, got, want)
		}
		if dist(got, fakeColor) >= dist(got, realColor) {
			t.Errorf("%d generated over 200 real: %v is nearer the real color than the generated one", n, got)
		}
	}
}

// TestScatterText checks the title and tick labels leave text pixels where
// they should: the title row holds text only when a title is given.
func TestScatterText(t *testing.T) {
	textPixels := func(img *image.RGBA, r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if img.RGBAAt(x, y) != background {
					n++
				}
			}
		}
		return n
	}
	titleRow := image.Rect(0, 0, scatterW, marginTop-2)
	withTitle := Scatter(pts(0, 0, 1, 1), nil, "toy ring, step 100")
	if n := textPixels(withTitle, titleRow); n < 50 {
		t.Errorf("title row has %d text pixels, want a drawn title", n)
	}
	if n := textPixels(Scatter(pts(0, 0, 1, 1), nil, ""), titleRow); n != 0 {
		t.Errorf("untitled row has %d non-background pixels", n)
	}
	// Tick labels under the x axis and left of the y axis.
	if n := textPixels(withTitle, image.Rect(marginLeft, marginTop+plotSize+6, marginLeft+plotSize, marginTop+plotSize+20)); n < 50 {
		t.Errorf("x tick label band has %d text pixels", n)
	}
	if n := textPixels(withTitle, image.Rect(0, marginTop, marginLeft-6, marginTop+plotSize)); n < 50 {
		t.Errorf("y tick label band has %d text pixels", n)
	}
}

// TestTicks checks step choice, tick positions and labels.
func TestTicks(t *testing.T) {
	for _, c := range []struct{ raw, want float64 }{{0.44, 0.5}, {1, 1}, {0.0123, 0.02}, {7, 10}, {2, 2}, {250, 500}} {
		if got := niceStep(c.raw); math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("niceStep(%v) = %v, want %v", c.raw, got, c.want)
		}
	}
	got := ticks(-1.1, 2.2, 0.5)
	if want := []float64{-1, -0.5, 0, 0.5, 1}; !slices.Equal(got, want) {
		t.Errorf("ticks(-1.1, 2.2, 0.5) = %v, want %v", got, want)
	}
	var labels []string
	for _, v := range got {
		labels = append(labels, tickLabel(v, 0.5))
	}
	if want := []string{"-1.0", "-0.5", "0.0", "0.5", "1.0"}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	if s := tickLabel(math.Copysign(0, -1), 1); s != "0" {
		t.Errorf("tickLabel(-0, 1) = %q, want 0", s)
	}
	if s := tickLabel(20, 20); s != "20" {
		t.Errorf("tickLabel(20, 20) = %q", s)
	}
}

// TestScatterNonFinite checks NaN and Inf rows are skipped: the window is the
// one of the finite points alone.
func TestScatterNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	a := Scatter(pts(-1, -1, 1, 1), pts(0, 0, nan, 0, 0, inf), "")
	b := Scatter(pts(-1, -1, 1, 1), pts(0, 0), "")
	// Same plot area (the legends differ in their counts).
	for y := 0; y < marginTop+plotSize+1; y++ {
		for x := range scatterW {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				t.Fatalf("pixel (%d,%d) differs: %v vs %v", x, y, a.RGBAAt(x, y), b.RGBAAt(x, y))
			}
		}
	}
}

// TestScatterPlotFile saves the plot and decodes it.
func TestScatterPlotFile(t *testing.T) {
	g := tensor.NewRNG(11)
	path := filepath.Join(t.TempDir(), "toy.png")
	real, fake := g.Normal(0, 1, 500, 2), g.Normal(0.5, 0.5, 500, 2)
	if err := ScatterPlot(path, real, fake, "gaussians"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, scatterW, scatterH) {
		t.Fatalf("decoded %v", img.Bounds())
	}
	// Missing folders are made; a parent that is a file is an error.
	made := filepath.Join(t.TempDir(), "no", "such", "dir.png")
	if err := ScatterPlot(made, real, fake, ""); err != nil {
		t.Fatalf("ScatterPlot into a missing directory: %v", err)
	}
	if err := ScatterPlot(filepath.Join(made, "x.png"), real, fake, ""); err == nil {
		t.Fatal("ScatterPlot under a file succeeded")
	}
}

// TestScatterPanicsOnShape checks a tensor that is not [n, 2] panics.
func TestScatterPanicsOnShape(t *testing.T) {
	for _, shape := range [][]int{{4, 3}, {8}, {2, 2, 2}} {
		func() {
			defer func() {
				s, _ := recover().(string)
				if !strings.HasPrefix(s, "picture.Scatter: points shape") {
					t.Errorf("shape %v: panic %q", shape, s)
				}
			}()
			Scatter(tensor.New(shape...), nil, "")
		}()
	}
}

func BenchmarkScatter2000(b *testing.B) {
	g := tensor.NewRNG(1)
	real, fake := g.Normal(0, 1, 2000, 2), g.Normal(0, 1, 2000, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Scatter(real, fake, "bench")
	}
}

// TestScatterLegendLeavesOutNil: a set passed as nil has no swatch in the
// legend (kallima sample draws generated points alone); an empty set does.
func TestScatterLegendLeavesOutNil(t *testing.T) {
	swatches := func(img *image.RGBA, c color.RGBA) int {
		n := 0
		y0 := marginTop + plotSize + 34
		for y := y0; y < y0+10; y++ {
			for x := range scatterW {
				if img.RGBAAt(x, y) == c {
					n++
				}
			}
		}
		return n
	}
	p := pts(0, 0, 1, 1)
	if n := swatches(Scatter(nil, p, ""), realColor); n != 0 {
		t.Errorf("real left out: %d pixels of its swatch in the legend", n)
	}
	if n := swatches(Scatter(nil, p, ""), fakeColor); n != 100 {
		t.Errorf("generated: %d pixels of its swatch, want 100", n)
	}
	if n := swatches(Scatter(tensor.New(0, 2), p, ""), realColor); n != 100 {
		t.Errorf("real empty: %d pixels of its swatch, want 100", n)
	}
}
