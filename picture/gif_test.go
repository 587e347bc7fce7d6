package picture

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kallima-gan/kallima/tensor"
)

// decodeGIF encodes frames and decodes the result.
func decodeGIF(t *testing.T, frames []image.Image, delay time.Duration) *gif.GIF {
	t.Helper()
	var buf bytes.Buffer
	if err := EncodeGIF(&buf, frames, delay); err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// samePixels reports the first pixel where a and b differ.
func samePixels(a, b image.Image) (image.Point, bool) {
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			ca := color.RGBAModel.Convert(a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y))
			cb := color.RGBAModel.Convert(b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y))
			if ca != cb {
				return image.Pt(x, y), false
			}
		}
	}
	return image.Point{}, true
}

// TestGIFGrayExact interpolates gray grids over 12 frames: the GIF decodes to
// 12 frames with the right delay, loops forever, uses the 256-level gray
// palette and reproduces every pixel exactly.
func TestGIFGrayExact(t *testing.T) {
	g := tensor.NewRNG(3)
	a, b := g.Uniform(-1, 1, 4, 1, 8, 8), g.Uniform(-1, 1, 4, 1, 8, 8)
	var frames []image.Image
	for f := range 12 {
		s := float32(f) / 11
		z := tensor.New(4, 1, 8, 8)
		for i := range z.Data() {
			z.Data()[i] = (1-s)*a.Data()[i] + s*b.Data()[i]
		}
		frames = append(frames, Grid(z, 2, 1))
	}
	dec := decodeGIF(t, frames, 80*time.Millisecond)
	if len(dec.Image) != 12 || len(dec.Delay) != 12 {
		t.Fatalf("%d frames, %d delays; want 12", len(dec.Image), len(dec.Delay))
	}
	if dec.LoopCount != 0 {
		t.Errorf("loop count %d, want 0 (forever)", dec.LoopCount)
	}
	for i, p := range dec.Image {
		if dec.Delay[i] != 8 {
			t.Errorf("frame %d delay %d, want 8 (80 ms)", i, dec.Delay[i])
		}
		if len(p.Palette) != 256 || p.Palette[17] != (color.RGBA{17, 17, 17, 255}) {
			t.Fatalf("frame %d palette has %d colors, [17] = %v; want 256 grays", i, len(p.Palette), p.Palette[17])
		}
		if at, ok := samePixels(p, frames[i]); !ok {
			t.Fatalf("frame %d differs at %v", i, at)
		}
	}
}

// TestGIFFewColorsExact checks RGB frames with at most 256 colors are kept
// exactly, with the palette sorted.
func TestGIFFewColorsExact(t *testing.T) {
	var frames []image.Image
	for f := range 3 {
		img := image.NewRGBA(image.Rect(0, 0, 10, 4))
		for y := range 4 {
			for x := range 10 {
				img.SetRGBA(x, y, color.RGBA{uint8(25 * x), uint8(60 * y), uint8(100 * f), 255})
			}
		}
		frames = append(frames, img)
	}
	dec := decodeGIF(t, frames, 0)
	if len(dec.Image) != 3 {
		t.Fatalf("%d frames, want 3", len(dec.Image))
	}
	for i, p := range dec.Image {
		if dec.Delay[i] != 1 {
			t.Errorf("frame %d delay %d, want the minimum 1", i, dec.Delay[i])
		}
		if at, ok := samePixels(p, frames[i]); !ok {
			t.Fatalf("frame %d differs at %v", i, at)
		}
	}
	// 10*4*3 = 120 colors, padded by the encoder to a power of two.
	if got := dec.Image[0].Palette[0]; got != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("palette[0] = %v, want the smallest color, black", got)
	}
}

// TestGIFManyColorsDithered checks frames with more than 256 colors use the
// Plan 9 palette with dithering: each channel's mean over the frame stays
// within 2 of the original's.
func TestGIFManyColorsDithered(t *testing.T) {
	g := tensor.NewRNG(5)
	var frames []image.Image
	for range 4 {
		frames = append(frames, Grid(g.Uniform(-1, 1, 4, 3, 16, 16), 2, 0))
	}
	dec := decodeGIF(t, frames, 100*time.Millisecond)
	if len(dec.Image) != 4 {
		t.Fatalf("%d frames, want 4", len(dec.Image))
	}
	for i, p := range dec.Image {
		if len(p.Palette) != 256 {
			t.Fatalf("frame %d: palette of %d colors, want Plan 9's 256", i, len(p.Palette))
		}
		var sum [2][3]float64
		for y := range 32 {
			for x := range 32 {
				for k, img := range []image.Image{p, frames[i]} {
					c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
					sum[k][0] += float64(c.R)
					sum[k][1] += float64(c.G)
					sum[k][2] += float64(c.B)
				}
			}
		}
		for ch := range 3 {
			if d := (sum[0][ch] - sum[1][ch]) / 1024; d > 2 || d < -2 {
				t.Errorf("frame %d channel %d: mean differs by %.2f", i, ch, d)
			}
		}
	}
}

// TestSaveGIF writes a file atomically and reads it back.
func TestSaveGIF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lerp.gif")
	frames := []image.Image{image.NewGray(image.Rect(0, 0, 3, 3)), image.NewGray(image.Rect(0, 0, 3, 3))}
	if err := SaveGIF(path, frames, time.Second); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil || len(g.Image) != 2 || g.Delay[0] != 100 {
		t.Fatalf("decoded %d frames, delay %v, err %v; want 2 frames of 100", len(g.Image), g.Delay, err)
	}
}

// TestEncodeGIFPanics checks empty and mismatched frame lists panic.
func TestEncodeGIFPanics(t *testing.T) {
	cases := map[string][]image.Image{
		"no frames": nil,
		"sizes":     {image.NewGray(image.Rect(0, 0, 3, 3)), image.NewGray(image.Rect(0, 0, 3, 4))},
	}
	for name, frames := range cases {
		func() {
			defer func() {
				s, _ := recover().(string)
				if !strings.HasPrefix(s, "picture.EncodeGIF:") {
					t.Errorf("%s: panic %q, want picture.EncodeGIF: ...", name, s)
				}
			}()
			EncodeGIF(&bytes.Buffer{}, frames, time.Second)
		}()
	}
}

func BenchmarkEncodeGIF30x64x3x32x32(b *testing.B) {
	g := tensor.NewRNG(1)
	frames := make([]image.Image, 30)
	for i := range frames {
		frames[i] = Grid(g.Uniform(-1, 1, 64, 3, 32, 32), 8, 2)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := EncodeGIF(io.Discard, frames, 100*time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
}
