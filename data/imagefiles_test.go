package data

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadImages lists a folder (images at any depth, other files
// skipped, dot files left out), reads its images with what each held, and
// reports an empty folder and an undecodable file by name.
func TestReadImages(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, img image.Image) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 4, 4))
	gray.SetGray(1, 1, color.Gray{Y: 255})
	rgb := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for i := range rgb.Pix {
		rgb.Pix[i] = 255 // white, opaque
	}
	write("b.png", gray)
	write("sub/a.png", rgb)
	write(".hidden.png", gray)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, skipped, err := ListImageFiles(dir)
	if err != nil || !slices.Equal(files, []string{filepath.Join(dir, "b.png"), filepath.Join(dir, "sub", "a.png")}) || !slices.Equal(skipped, []string{filepath.Join(dir, "notes.txt")}) {
		t.Fatalf("list: %v, skipped %v, %v", files, skipped, err)
	}
	x, info, err := ReadImages(files, FolderConfig{Height: 4, Width: 4, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape(), []int{2, 1, 4, 4}) || info[0] != (ImageFile{Path: files[0], Width: 4, Height: 4, Gray: true}) || info[1] != (ImageFile{Path: files[1], Width: 8, Height: 6}) {
		t.Fatalf("read: %v, %+v", x.Shape(), info)
	}
	if v := x.Data()[5]; v != 1 { // the white pixel (1, 1) of the gray image
		t.Errorf("pixel (1, 1) %v, want 1", v)
	}
	for _, v := range x.Data()[16:] { // white resized is white
		if v != 1 {
			t.Fatalf("resized white image has value %v", v)
		}
	}
	if one, _, err := ListImageFiles(files[1]); err != nil || !slices.Equal(one, files[1:]) {
		t.Errorf("one file: %v, %v", one, err)
	}
	empty := t.TempDir()
	if _, _, err := ListImageFiles(empty); err == nil || !strings.Contains(err.Error(), "holds no .png") {
		t.Errorf("empty folder: %v", err)
	}
	bad := filepath.Join(dir, "bad.png")
	if err := os.WriteFile(bad, []byte("text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadImages([]string{files[0], bad}, FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), "bad.png: not a PNG or JPEG image") {
		t.Errorf("undecodable file: %v", err)
	}
}

// TestDecodeImage decodes an image held in memory as ReadImages decodes a
// file: converted to gray and resized, with what it held, and the notes
// NoteConversions writes; and refuses bytes that are not an image.
func TestDecodeImage(t *testing.T) {
	rgb := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for i := range rgb.Pix {
		rgb.Pix[i] = 255 // white, opaque
	}
	var buf strings.Builder
	if err := png.Encode(&buf, rgb); err != nil {
		t.Fatal(err)
	}
	x, info, err := DecodeImage("up.png", []byte(buf.String()), FolderConfig{Height: 4, Width: 4, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Shape(), []int{1, 1, 4, 4}) || info.Width != 8 || info.Height != 6 || info.Gray || info.Path != "up.png" {
		t.Fatalf("shape %v, info %+v", x.Shape(), info)
	}
	for _, v := range x.Data() {
		if v < 0.99 {
			t.Fatalf("white decoded to %v, want 1", v)
		}
	}
	var notes strings.Builder
	NoteConversions([]ImageFile{info}, 1, 4, 4, &notes)
	if got := notes.String(); !strings.Contains(got, "up.png: 8x6 pixels resized to the model's 4x4 (not square: stretched)") || !strings.Contains(got, "colour converted to gray") {
		t.Errorf("notes %q", got)
	}
	if _, _, err := DecodeImage("junk", []byte("GIF89a nonsense"), FolderConfig{Height: 4, Width: 4}); err == nil || !strings.Contains(err.Error(), "junk") {
		t.Errorf("junk: %v, want an error naming it", err)
	}
}
