package picture

import (
	"errors"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
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

// TestSavePNGErrors checks a missing directory is an error wrapping
// fs.ErrNotExist, and a failed encode leaves neither file nor temporary file.
func TestSavePNGErrors(t *testing.T) {
	dir := t.TempDir()
	err := SavePNG(filepath.Join(dir, "missing", "a.png"), image.NewGray(image.Rect(0, 0, 1, 1)))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing dir: %v, want fs.ErrNotExist", err)
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
