package picture

import (
	"image"
	"math"
	"testing"
)

// TestLinesPlacesPoints checks the layout of Lines and that each panel's
// curve goes where its values say: the highest point at the largest y, the
// lowest at the smallest, a second panel with its own y range, and the
// reference line between.
func TestLinesPlacesPoints(t *testing.T) {
	img := Lines("caption", "x", []Panel{
		{Title: "a", X: []float64{0, 1, 2}, Y: []float64{0, 10, 5}, Ref: math.NaN()},
		{Title: "b", X: []float64{0, 1, 2}, Y: []float64{0.3, 0.1, math.NaN()}, Ref: 0.2},
		{Title: "c", X: []float64{1}, Y: []float64{1}, Ref: math.NaN()},
	})
	if b := img.Bounds(); b.Dx() != 2*panelW || b.Dy() != panelCaptionSpace+2*panelH {
		t.Fatalf("size %v", b)
	}
	// extremes returns the x of the topmost and of the bottommost curve
	// pixel in r, and the rows of the reference line's pixels.
	extremes := func(r image.Rectangle) (topX, botX int, refRows map[int]bool) {
		top, bot := r.Max.Y, r.Min.Y-1
		refRows = map[int]bool{}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				switch img.RGBAAt(x, y) {
				case fakeColor:
					if y < top {
						top, topX = y, x
					}
					if y > bot {
						bot, botX = y, x
					}
				case realColor:
					refRows[y] = true
				}
			}
		}
		return topX, botX, refRows
	}
	a := image.Rect(0, panelCaptionSpace, panelW, panelCaptionSpace+panelH)
	plotW := panelW - panelLeft - panelRight
	mid, left := panelLeft+(plotW-1)/2, panelLeft
	topX, botX, ref := extremes(a)
	if abs(topX-mid) > panelPointRadius+1 || abs(botX-left) > panelPointRadius+1 || len(ref) != 0 {
		t.Errorf("panel a: top at x %d (want ~%d), bottom at x %d (want ~%d), %d reference rows", topX, mid, botX, left, len(ref))
	}
	b := a.Add(image.Pt(panelW, 0))
	topX, botX, ref = extremes(b)
	if abs(topX-(panelW+left)) > panelPointRadius+1 || abs(botX-(panelW+mid)) > panelPointRadius+1 || len(ref) != 1 {
		t.Errorf("panel b: top at x %d, bottom at x %d, %d reference rows (want 1)", topX, botX, len(ref))
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a panel with more x than y values")
		}
	}()
	Lines("", "", []Panel{{X: []float64{1, 2}, Y: []float64{1}}})
}
