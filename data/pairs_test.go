package data

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// grayImage is a w x h gray image whose pixel (x, y) is f(x, y).
func grayImage(w, h int, f func(x, y int) uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{f(x, y)})
		}
	}
	return img
}

func TestLoadPairedFolders(t *testing.T) {
	root := t.TempDir()
	// Pairs by name across extensions (y.png with y.jpg) and subfolders;
	// B's images are larger and resized.
	for i, name := range []string{"x", "y", "sub/z"} {
		a := uint8(10 + 40*i)
		writeImage(t, filepath.Join(root, "A", name+".png"), grayImage(4, 4, func(x, y int) uint8 { return a }))
		ext := ".png"
		if i == 1 {
			ext = ".jpg"
		}
		writeImage(t, filepath.Join(root, "B", name+ext), grayImage(8, 8, func(x, y int) uint8 { return 255 - a }))
	}
	a, b, layout, skipped, err := LoadPaired(root, FolderConfig{Height: 4, Width: 4, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if layout != LayoutPairedFolders || skipped != 0 || a.Len() != 3 || b.Len() != 3 {
		t.Fatalf("layout %q, skipped %d, %d and %d images", layout, skipped, a.Len(), b.Len())
	}
	// A's listing: root files (x, y) as class ".", then sub/ as class "sub".
	if !slices.Equal(a.Labels, []int{0, 0, 1}) || !slices.Equal(b.Labels, a.Labels) || !slices.Equal(a.Classes, []string{".", "sub"}) {
		t.Fatalf("labels %v %v, classes %v", a.Labels, b.Labels, a.Classes)
	}
	for i := range 3 {
		ia, _ := a.Get(i)
		ib, _ := b.Get(i)
		want := float64(10 + 40*i)
		if !near(float64(ia[5]), v8(want), 1e-6) || !near(float64(ib[5]), v8(255-want), 3/127.5) {
			t.Errorf("pair %d: A %g B %g, want %g and %g", i, ia[5], ib[5], v8(want), v8(255-want))
		}
	}
}

func TestLoadPairedSideBySide(t *testing.T) {
	root := t.TempDir()
	for i := range 3 {
		writeImage(t, filepath.Join(root, string(rune('a'+i))+".png"), grayImage(16, 8, func(x, y int) uint8 {
			if x < 8 {
				return uint8(20 * i) // A
			}
			return uint8(200 + x - 8) // B: a ramp 200..207 from the half's left edge
		}))
	}
	a, b, layout, _, err := LoadPaired(root, FolderConfig{Height: 8, Width: 8, Gray: true, CenterCrop: true})
	if err != nil {
		t.Fatal(err)
	}
	if layout != LayoutSideBySide || a.Len() != 3 || b.Len() != 3 {
		t.Fatalf("layout %q, %d and %d images", layout, a.Len(), b.Len())
	}
	for i := range 3 {
		ia, _ := a.Get(i)
		ib, _ := b.Get(i)
		for x := range 8 {
			if !near(float64(ia[8+x]), v8(float64(20*i)), 1e-6) || !near(float64(ib[8+x]), v8(float64(200+x)), 1e-6) {
				t.Fatalf("pair %d, x %d: A %g B %g", i, x, ia[8+x], ib[8+x])
			}
		}
	}
	// Halves are resized each by itself.
	a, b, _, _, err = LoadPaired(root, FolderConfig{Height: 4, Width: 4, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	ib, _ := b.Get(0)
	if !near(float64(ib[0]), v8(200.5), 1e-5) || !near(float64(ib[3]), v8(206.5), 1e-5) {
		t.Fatalf("B halved: %v", ib[:4])
	}
}

func TestLoadPairedErrors(t *testing.T) {
	// A name on one side only, listed (at most five, then a count).
	root := t.TempDir()
	for i := range 8 {
		writeImage(t, filepath.Join(root, "A", string(rune('a'+i))+".png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	}
	writeImage(t, filepath.Join(root, "B", "a.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	writeImage(t, filepath.Join(root, "B", "zz.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	_, _, _, _, err := LoadPaired(root, FolderConfig{Height: 4, Width: 4})
	for _, want := range []string{"7 in A/ only", filepath.Join(root, "A", "b.png"), "f.png and 2 more", "1 in B/ only", "zz.png"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unmatched names: %v, want %q", err, want)
		}
	}
	// A name twice on one side.
	dup := t.TempDir()
	writeImage(t, filepath.Join(dup, "A", "x.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	writeImage(t, filepath.Join(dup, "A", "x.jpg"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	writeImage(t, filepath.Join(dup, "B", "x.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	if _, _, _, _, err := LoadPaired(dup, FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), "have the same name") {
		t.Fatalf("duplicate name: %v", err)
	}
	// A side-by-side image of the wrong shape is an error naming it, even
	// with Skip.
	sbs := t.TempDir()
	writeImage(t, filepath.Join(sbs, "good.png"), grayImage(8, 4, func(x, y int) uint8 { return 0 }))
	writeImage(t, filepath.Join(sbs, "square.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	_, _, _, _, err = LoadPaired(sbs, FolderConfig{Height: 4, Width: 4, Skip: true})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(sbs, "square.png")+" is 4x4 pixels") {
		t.Fatalf("square side-by-side image: %v", err)
	}
	// An unreadable file: an error naming it, or with Skip its pair is
	// skipped with a warning; nothing left is an error.
	bad := t.TempDir()
	writeImage(t, filepath.Join(bad, "A", "ok.png"), grayImage(4, 4, func(x, y int) uint8 { return 255 }))
	writeImage(t, filepath.Join(bad, "B", "ok.png"), grayImage(4, 4, func(x, y int) uint8 { return 255 }))
	writeImage(t, filepath.Join(bad, "A", "broken.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	broken := filepath.Join(bad, "B", "broken.png")
	os.WriteFile(broken, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	if _, _, _, _, err := LoadPaired(bad, FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), broken) {
		t.Fatalf("broken file: %v", err)
	}
	var warn bytes.Buffer
	a, b, _, skipped, err := LoadPaired(bad, FolderConfig{Height: 4, Width: 4, Gray: true, Skip: true, Warnings: &warn})
	if err != nil || skipped != 1 || a.Len() != 1 || b.Len() != 1 || !strings.Contains(warn.String(), broken) {
		t.Fatalf("skipping: %v, skipped %d, warnings %q", err, skipped, warn.String())
	}
	if ia, _ := a.Get(0); ia[0] != 1 {
		t.Fatalf("kept pair: A = %g, want the white ok.png", ia[0])
	}
	os.Remove(filepath.Join(bad, "A", "ok.png"))
	os.Remove(filepath.Join(bad, "B", "ok.png"))
	if _, _, _, _, err := LoadPaired(bad, FolderConfig{Height: 4, Width: 4, Skip: true}); err == nil || !strings.Contains(err.Error(), "none of its 1 pairs") {
		t.Fatalf("nothing readable: %v", err)
	}
	if _, _, _, _, err := LoadPaired(filepath.Join(bad, "nope"), FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing folder: %v", err)
	}
}

func TestLoadUnpaired(t *testing.T) {
	for _, sides := range [][2]string{{"trainA", "trainB"}, {"A", "B"}} {
		root := t.TempDir()
		for i := range 3 {
			writeImage(t, filepath.Join(root, sides[0], string(rune('a'+i))+".png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
		}
		for i := range 2 {
			writeImage(t, filepath.Join(root, sides[1], string(rune('a'+i))+".png"), grayImage(4, 4, func(x, y int) uint8 { return 255 }))
		}
		a, b, layout, _, err := LoadUnpaired(root, FolderConfig{Height: 4, Width: 4, Gray: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"trainA": LayoutTrainAB, "A": LayoutAB}[sides[0]]
		ia, _ := a.Get(0)
		ib, _ := b.Get(1)
		if layout != want || a.Len() != 3 || b.Len() != 2 || ia[0] != -1 || ib[0] != 1 {
			t.Fatalf("%v: layout %q, %d and %d images, %g %g", sides, layout, a.Len(), b.Len(), ia[0], ib[0])
		}
	}
	root := t.TempDir()
	writeImage(t, filepath.Join(root, "trainA", "a.png"), grayImage(4, 4, func(x, y int) uint8 { return 0 }))
	if _, _, _, _, err := LoadUnpaired(root, FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), "no folder "+filepath.Join(root, "trainB")) {
		t.Fatalf("missing trainB: %v", err)
	}
	if _, _, _, _, err := LoadUnpaired(t.TempDir(), FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), "want trainA/ and trainB/, or A/ and B/") {
		t.Fatalf("empty folder: %v", err)
	}
}
