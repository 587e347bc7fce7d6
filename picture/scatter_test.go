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

// TestScatterRealPoints checks the real points' pixels. With real points
// (-1,-1) and (1,1) the window is [-1.1, 1.1]², so (1, 1) lands at column
// floor(2.1/2.2*480) = 458 and row floor(0.1/2.2*480) = 21 of the plot area,
// pixel (60+458, 36+21) = (518, 57); (-1, -1) at column 21, row 458, pixel
// (81, 494).
func TestScatterRealPoints(t *testing.T) {
	img := Scatter(pts(-1, -1, 1, 1, 0.25, -0.5), pts(0, 0, 0.5, 0.5), "")
	if img.Bounds() != image.Rect(0, 0, 560, 568) {
		t.Fatalf("bounds %v, want 560x568", img.Bounds())
	}
	for _, p := range []image.Point{{518, 57}, {81, 494}} {
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if got := img.RGBAAt(p.X+dx, p.Y+dy); got != realColor {
					t.Errorf("pixel %v%+d%+d = %v, want real color %v", p, dx, dy, got, realColor)
				}
			}
		}
	}
	// The third point, through the shared mapping, and a generated point.
	ext := fitExtent([][2]float64{{-1, -1}, {1, 1}})
	if x, y := ext.pixel([2]float64{0.25, -0.5}); img.RGBAAt(x, y) != realColor {
		t.Errorf("real point (0.25,-0.5) at (%d,%d) is %v", x, y, img.RGBAAt(x, y))
	}
	if x, y := ext.pixel([2]float64{0.5, 0.5}); img.RGBAAt(x, y) != fakeColor {
		t.Errorf("generated point (0.5,0.5) at (%d,%d) is %v, want %v", x, y, img.RGBAAt(x, y), fakeColor)
	}
	// Far from every point, the plot area is background or grid.
	if got := img.RGBAAt(60+470, 36+470); got != background && got != gridColor {
		t.Errorf("empty corner is %v", got)
	}
}

// TestScatterHeat puts 100, 25 and 4 generated points in three bins (each
// group on one spot, so one pixel per bin is a dot and the rest is heat): the
// bins take heatColor(1), heatColor(0.5), heatColor(0.2), each strictly paler
// than the denser one, and an empty bin stays white.
func TestScatterHeat(t *testing.T) {
	var fake []float32
	groups := []struct {
		x, y float32
		n    int
		t    float64
	}{{0.3, 0.3, 100, 1}, {-1.5, 1.5, 25, 0.5}, {1.5, -1.5, 4, 0.2}}
	for _, g := range groups {
		for range g.n {
			fake = append(fake, g.x, g.y)
		}
	}
	real := pts(-2, -2, 2, 2) // fixes the window to [-2.2, 2.2]²
	img := Scatter(real, pts(fake...), "heat")
	ext := fitExtent([][2]float64{{-2, -2}, {2, 2}})
	const binPx = plotSize / heatBins
	binColor := func(p [2]float64) color.RGBA {
		c, r := ext.cell(p, heatBins)
		x0, y0 := marginLeft+c*binPx, marginTop+r*binPx
		counts := map[color.RGBA]int{}
		for y := y0; y < y0+binPx; y++ {
			for x := x0; x < x0+binPx; x++ {
				counts[img.RGBAAt(x, y)]++
			}
		}
		// The most common color in the bin is its fill (dots, grid lines
		// and ticks cover only a few pixels).
		var best color.RGBA
		for c, n := range counts {
			if n > counts[best] {
				best = c
			}
		}
		return best
	}
	var blues []uint8
	for _, g := range groups {
		got := binColor([2]float64{float64(g.x), float64(g.y)})
		if want := heatColor(g.t); got != want {
			t.Errorf("bin of %d points: %v, want heatColor(%.1f) = %v", g.n, got, g.t, want)
		}
		x, y := ext.pixel([2]float64{float64(g.x), float64(g.y)})
		if img.RGBAAt(x, y) != fakeColor {
			t.Errorf("bin of %d points: dot at (%d,%d) is %v", g.n, x, y, img.RGBAAt(x, y))
		}
		blues = append(blues, got.B)
	}
	if !(blues[0] < blues[1] && blues[1] < blues[2] && blues[2] < 255) {
		t.Errorf("blue channel by density %v, want strictly increasing towards white as counts fall", blues)
	}
	if got := binColor([2]float64{-1.5, -1.5}); got != background {
		t.Errorf("empty bin is %v, want white", got)
	}
}

// TestHeatColorMonotone checks no channel brightens as density grows.
func TestHeatColorMonotone(t *testing.T) {
	prev := heatColor(0)
	if prev != background {
		t.Fatalf("heatColor(0) = %v, want white", prev)
	}
	for i := 1; i <= 1000; i++ {
		c := heatColor(float64(i) / 1000)
		if c.R > prev.R || c.G > prev.G || c.B > prev.B {
			t.Fatalf("heatColor(%v) = %v brighter than %v", float64(i)/1000, c, prev)
		}
		prev = c
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
	if err := ScatterPlot(filepath.Join(t.TempDir(), "no", "such", "dir.png"), real, fake, ""); err == nil {
		t.Fatal("ScatterPlot into a missing directory succeeded")
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
