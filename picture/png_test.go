package picture

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// randomGrid is a 4x4 grid of 28x28 images of noise in [-1, 1], channels c.
func randomGrid(c int) image.Image {
	r := rand.New(rand.NewPCG(1, 2))
	t := tensor.New(16, c, 28, 28)
	for i := range t.Data() {
		t.Data()[i] = float32(r.Float64()*2 - 1)
	}
	return Grid(t, 4, 2)
}

// TestEncodePNGRoundTrip decodes what EncodePNG writes with image/png and
// checks every pixel: gray, opaque RGBA (written as RGB), a sub-image whose
// bounds do not start at 0, and images that go to image/png (translucent
// RGBA, NRGBA).
func TestEncodePNGRoundTrip(t *testing.T) {
	translucent := image.NewRGBA(image.Rect(0, 0, 5, 3))
	translucent.Set(1, 1, color.RGBA{10, 20, 30, 40})
	nrgba := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	nrgba.Set(2, 3, color.NRGBA{200, 100, 50, 255})
	gray := randomGrid(1).(*image.Gray)
	cases := map[string]image.Image{
		"gray":        gray,
		"rgb":         randomGrid(3),
		"sub-image":   gray.SubImage(image.Rect(7, 11, 60, 40)),
		"one pixel":   gray.SubImage(image.Rect(3, 3, 4, 4)),
		"translucent": translucent,
		"nrgba":       nrgba,
	}
	for name, img := range cases {
		var buf bytes.Buffer
		if err := EncodePNG(&buf, img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("%s: image/png cannot decode it: %v", name, err)
		}
		b := img.Bounds()
		if back.Bounds().Dx() != b.Dx() || back.Bounds().Dy() != b.Dy() {
			t.Fatalf("%s: decoded %v, want the size of %v", name, back.Bounds(), b)
		}
		for y := range b.Dy() {
			for x := range b.Dx() {
				want := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y))
				got := color.NRGBAModel.Convert(back.At(back.Bounds().Min.X+x, back.Bounds().Min.Y+y))
				if got != want {
					t.Fatalf("%s: pixel (%d, %d) = %v, want %v", name, x, y, got, want)
				}
			}
		}
	}
}

// TestEncodePNGSize checks that skipping row filters costs little: a grid
// of noise images is at most 10% larger than image/png's at BestSpeed.
func TestEncodePNGSize(t *testing.T) {
	for _, c := range []int{1, 3} {
		img := randomGrid(c)
		var fast, std bytes.Buffer
		if err := EncodePNG(&fast, img); err != nil {
			t.Fatal(err)
		}
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&std, img); err != nil {
			t.Fatal(err)
		}
		if float64(fast.Len()) > 1.1*float64(std.Len()) {
			t.Errorf("%d channels: %d bytes, image/png at BestSpeed %d", c, fast.Len(), std.Len())
		}
	}
}

// TestEncodePNGEmpty returns image/png's error for an empty image.
func TestEncodePNGEmpty(t *testing.T) {
	if err := EncodePNG(&bytes.Buffer{}, image.NewGray(image.Rect(0, 0, 0, 4))); err == nil {
		t.Fatal("no error for an empty image")
	}
}

func BenchmarkEncodePNG(b *testing.B) {
	img := randomGrid(1)
	var buf bytes.Buffer
	b.Run("EncodePNG", func(b *testing.B) {
		for b.Loop() {
			buf.Reset()
			if err := EncodePNG(&buf, img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-png-BestSpeed", func(b *testing.B) {
		e := png.Encoder{CompressionLevel: png.BestSpeed}
		for b.Loop() {
			buf.Reset()
			if err := e.Encode(&buf, img); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEncodePNGCompresses checks that a grid of clean strokes on a black
// background (what a trained model draws) compresses to under a quarter of
// its raw size: Huffman coding alone gives a background pixel about one
// bit. image/png with LZ77 makes it smaller still (654 bytes against 2060
// here); that is the price of the speed.
func TestEncodePNGCompresses(t *testing.T) {
	batch := tensor.New(16, 1, 28, 28)
	d := batch.Data()
	for i := range d {
		d[i] = -1
		y, x := i%784/28-14, i%784%28-14
		if r := y*y + x*x; r > 20 && r < 40 { // a ring
			d[i] = 1
		}
	}
	img := Grid(batch, 4, 2)
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	raw := img.Bounds().Dx() * img.Bounds().Dy()
	if buf.Len() > raw/4 {
		t.Errorf("%d bytes for %d pixels", buf.Len(), raw)
	}
}
