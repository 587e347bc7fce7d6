package picture

import (
	"errors"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// TestSavePNGRoundTrip saves gray and RGB grids, decodes the files and
// compares every pixel; it also checks the mode, that overwriting works and
// that no temporary file is left behind.
func TestSavePNGRoundTrip(t *testing.T) {
	dir := t.TempDir()
	g := tensor.NewRNG(7)
	for _, c := range []int{1, 3} {
		img := Grid(g.Uniform(-1.2, 1.2, 5, c, 6, 7), 3, 2)
		path := filepath.Join(dir, "grid.png")
		for range 2 { // the second save replaces the first
			if err := SavePNG(path, img); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if dec.Bounds() != img.Bounds() {
			t.Fatalf("C=%d: decoded %v, want %v", c, dec.Bounds(), img.Bounds())
		}
		for y := range img.Bounds().Dy() {
			for x := range img.Bounds().Dx() {
				r1, g1, b1, a1 := dec.At(x, y).RGBA()
				r2, g2, b2, a2 := img.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
					t.Fatalf("C=%d pixel (%d,%d): decoded %v, want %v", c, x, y, dec.At(x, y), img.At(x, y))
				}
			}
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Fatalf("C=%d: stat %v, %v; want mode 0644", c, st, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory holds %d entries (%v), want only grid.png", len(entries), err)
	}
}

// TestSavePNGErrors checks a missing directory is made, a parent that is
// a file is an error naming the path asked for (not the temporary file),
// and a failed encode leaves neither file nor temporary file.
func TestSavePNGErrors(t *testing.T) {
	dir := t.TempDir()
	made := filepath.Join(t.TempDir(), "missing", "a.png")
	if err := SavePNG(made, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatalf("missing dir: %v, want it made", err)
	}
	if _, err := os.Stat(made); err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := SavePNG(filepath.Join(blocker, "a.png"), image.NewGray(image.Rect(0, 0, 1, 1)))
	if err == nil || strings.Contains(err.Error(), ".tmp") || !strings.Contains(err.Error(), blocker) {
		t.Fatalf("parent is a file: %v, want an error naming %s, not a temporary file", err, blocker)
	}
	// png.Encode refuses an empty image.
	err = SavePNG(filepath.Join(dir, "empty.png"), image.NewGray(image.Rect(0, 0, 0, 0)))
	if err == nil {
		t.Fatal("saving an empty image succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("failed save left %d entries in the directory", len(entries))
	}
}

// TestSaveByExtension: Save writes the format the name says (JPEG close to
// the pixels, GIF and PNG exact), and refuses an extension it cannot write
// without leaving a file.
func TestSaveByExtension(t *testing.T) {
	dir := t.TempDir()
	img := Grid(tensor.NewRNG(3).Uniform(-1, 1, 4, 1, 8, 8), 2, 2)
	for _, c := range []struct {
		name, format string
		tol          float64 // largest mean absolute difference per pixel, of 255
	}{{"g.png", "png", 0}, {"g.PNG", "png", 0}, {"g", "png", 0}, {"g.jpg", "jpeg", 12}, {"g.jpeg", "jpeg", 12}, {"g.gif", "gif", 0}} {
		path := filepath.Join(dir, c.name)
		if err := Save(path, img); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		dec, format, err := image.Decode(f)
		f.Close()
		if err != nil || format != c.format {
			t.Fatalf("%s: decoded as %q (%v), want %s", c.name, format, err, c.format)
		}
		if dec.Bounds().Size() != img.Bounds().Size() {
			t.Fatalf("%s: %v, want %v", c.name, dec.Bounds(), img.Bounds())
		}
		var sum float64
		b := img.Bounds()
		for y := range b.Dy() {
			for x := range b.Dx() {
				r1, _, _, _ := dec.At(dec.Bounds().Min.X+x, dec.Bounds().Min.Y+y).RGBA()
				r2, _, _, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				sum += math.Abs(float64(r1>>8) - float64(r2>>8))
			}
		}
		if mean := sum / float64(b.Dx()*b.Dy()); mean > c.tol {
			t.Errorf("%s: mean difference %.2f of 255, want at most %g", c.name, mean, c.tol)
		}
	}
	path := filepath.Join(dir, "g.bmp")
	if err := Save(path, img); err == nil || !strings.Contains(err.Error(), ".bmp") || !strings.Contains(err.Error(), ".png, .jpg or .gif") {
		t.Errorf("g.bmp: %v, want an error naming .bmp and the formats", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("g.bmp was written: %v", err)
	}
}
