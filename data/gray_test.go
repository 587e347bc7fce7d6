package data

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// grayBytes returns n seeded random gray images of side x side bytes,
// every byte value present when there is room for it.
func grayBytes(n, side int, seed uint64) []byte {
	rng := tensor.NewRNG(seed)
	b := make([]byte, n*side*side)
	for i := range b {
		b[i] = byte(rng.Intn(256))
	}
	for v := 0; v < min(256, len(b)); v++ {
		b[v] = byte(v)
	}
	return b
}

// writeNPY writes x at path.
func writeNPY(t *testing.T, path string, x *NPY) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteNPY(&buf, x); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// f32NPY returns float32 values as a little-endian NPY of shape.
func f32NPY(vs []float32, shape ...int) *NPY {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return &NPY{Kind: 'f', Size: 4, Shape: shape, Data: b}
}

// TestLoadGrayExact writes the same byte images as gray PNGs, as RGB PNGs
// with equal channels (torchvision's save_image of a gray tensor), as a
// uint8 array in each accepted layout and as float arrays in each range,
// and checks every one loads bit-identical to LoadIDXImages' mapping of
// those bytes.
func TestLoadGrayExact(t *testing.T) {
	const n, side = 5, 28
	pix := grayBytes(n, side, 1)
	want := make([]float32, len(pix))
	for i, v := range pix {
		want[i] = float32(v)/127.5 - 1
	}
	floats := func(f func(b byte) float32) []float32 {
		out := make([]float32, len(pix))
		for i, v := range pix {
			out[i] = f(v)
		}
		return out
	}
	dir := t.TempDir()
	grayDir, rgbDir := filepath.Join(dir, "gray"), filepath.Join(dir, "rgb")
	for i := range n {
		g := image.NewGray(image.Rect(0, 0, side, side))
		copy(g.Pix, pix[i*side*side:(i+1)*side*side])
		writeImage(t, filepath.Join(grayDir, "img"+string(rune('0'+i))+".png"), g)
		c := image.NewRGBA(image.Rect(0, 0, side, side))
		for k, v := range g.Pix {
			c.Pix[4*k], c.Pix[4*k+1], c.Pix[4*k+2], c.Pix[4*k+3] = v, v, v, 255
		}
		writeImage(t, filepath.Join(rgbDir, "img"+string(rune('0'+i))+".png"), c)
	}
	arrays := []struct {
		name string
		x    *NPY
		r    PixelRange
	}{
		{"u1 [N,H,W]", &NPY{Kind: 'u', Size: 1, Shape: []int{n, side, side}, Data: pix}, RangeAuto},
		{"u1 [N,1,H,W]", &NPY{Kind: 'u', Size: 1, Shape: []int{n, 1, side, side}, Data: pix}, RangeAuto},
		{"u1 [N,H,W,1]", &NPY{Kind: 'u', Size: 1, Shape: []int{n, side, side, 1}, Data: pix}, RangeAuto},
		{"f4 0..255 auto", f32NPY(floats(func(b byte) float32 { return float32(b) }), n, side, side), RangeAuto},
		{"f4 0..255 given", f32NPY(floats(func(b byte) float32 { return float32(b) }), n, side, side), Range255},
		{"f4 [-1,1] auto", f32NPY(want, n, 1, side, side), RangeAuto},
		{"f4 [-1,1] given", f32NPY(want, n, 1, side, side), RangeSigned},
	}
	paths := []struct {
		name string
		path string
		r    PixelRange
	}{{"gray PNG folder", grayDir, RangeAuto}, {"RGB PNG folder", rgbDir, Range01}}
	for i, a := range arrays {
		p := filepath.Join(dir, "a"+string(rune('0'+i))+".npy")
		writeNPY(t, p, a.x)
		paths = append(paths, struct {
			name string
			path string
			r    PixelRange
		}{a.name, p, a.r})
	}
	for _, p := range paths {
		set, err := LoadGray(p.path, side, p.r)
		if err != nil {
			t.Errorf("%s: %v", p.name, err)
			continue
		}
		if !slices.Equal(set.Images.Shape(), []int{n, 1, side, side}) || !slices.Equal(set.Images.Data(), want) {
			t.Errorf("%s (%s): images %v differ from the bytes' levels", p.name, set.Format, set.Images.Shape())
		}
	}
}

// TestLoadGrayConversions checks the rules for what is not plain gray
// bytes: colour and alpha (color.GrayModel), [0, 1] floats (2v - 1) and the
// ranges RangeAuto picks.
func TestLoadGrayConversions(t *testing.T) {
	dir := t.TempDir()
	// Luma 0.299*200 + 0.587*100 + 0.114*50 = 124.2; white at half alpha
	// over black is 128; equal channels keep their byte; 16-bit gray
	// 0x4bff keeps its high byte.
	col := image.NewNRGBA64(image.Rect(0, 0, 2, 2))
	col.Set(0, 0, color.NRGBA{R: 200, G: 100, B: 50, A: 255})
	col.Set(1, 0, color.NRGBA{R: 255, G: 255, B: 255, A: 128})
	col.Set(0, 1, color.NRGBA{R: 77, G: 77, B: 77, A: 255})
	col.Set(1, 1, color.Gray16{Y: 0x4bff})
	writeImage(t, filepath.Join(dir, "colour", "a.png"), col)
	level := func(b byte) float32 { return float32(b)/127.5 - 1 }
	cases := []struct {
		name   string
		path   string
		x      *NPY
		side   int
		r      PixelRange
		want   []float32
		format string
	}{
		{"colour, alpha, 16 bits", filepath.Join(dir, "colour"), nil, 2, RangeAuto,
			[]float32{level(124), level(128), level(77), level(0x4b)}, "folder of 1 PNG/JPEG files"},
		{"[0,1] auto", "", f32NPY([]float32{0, 0.25, 0.5, 1}, 1, 2, 2), 2, RangeAuto, []float32{-1, -0.5, 0, 1}, "values in [0,1] (auto)"},
		{"[0,1] overshoot within 1%", "", f32NPY([]float32{0, 0.25, 0.5, 1.005}, 1, 2, 2), 2, RangeAuto, []float32{-1, -0.5, 0, 1.01}, "[0,1] (auto)"},
		{"[-1,1] auto", "", f32NPY([]float32{-1, 0.25, 0.5, 1}, 1, 2, 2), 2, RangeAuto, []float32{-1, 0.25, 0.5, 1}, "[-1,1] (auto)"},
		{"[0,255] auto", "", f32NPY([]float32{0, 51, 127.5, 255}, 1, 2, 2), 2, RangeAuto, []float32{-1, -0.6, 0, 1}, "[0,255] (auto)"},
		{"dark [0,255] read as [0,1] unless given", "", f32NPY([]float32{0, 1, 0, 1}, 1, 2, 2), 2, Range255,
			[]float32{-1, float32(1)/127.5 - 1, -1, float32(1)/127.5 - 1}, "[0,255] (given)"},
		{"f8", "", &NPY{Kind: 'f', Size: 8, Shape: []int{1, 1, 1}, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5))}, 1, Range01, []float32{0}, "<f8"},
	}
	for i, c := range cases {
		if c.x != nil {
			c.path = filepath.Join(dir, "c"+string(rune('0'+i))+".npy")
			writeNPY(t, c.path, c.x)
		}
		set, err := LoadGray(c.path, c.side, c.r)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := set.Images.Data()
		ok := len(got) == len(c.want)
		for k := range got {
			ok = ok && math.Abs(float64(got[k]-c.want[k])) <= 1e-6
		}
		if !ok || !strings.Contains(set.Format, c.format) {
			t.Errorf("%s: %v (%s), want %v (%q)", c.name, got, set.Format, c.want, c.format)
		}
	}
}

// TestLoadGrayErrors checks that sets Kallima cannot score as they are
// give errors that say what is wrong and how to fix it.
func TestLoadGrayErrors(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "big", "a.png"), image.NewGray(image.Rect(0, 0, 32, 32)))
	writeImage(t, filepath.Join(dir, "ok", "a.png"), image.NewGray(image.Rect(0, 0, 28, 28)))
	os.WriteFile(filepath.Join(dir, "ok", "b.png"), []byte("not a png"), 0o644)
	os.MkdirAll(filepath.Join(dir, "none"), 0o755)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("x"), 0o644)
	u1 := func(shape ...int) *NPY {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return &NPY{Kind: 'u', Size: 1, Shape: shape, Data: make([]byte, n)}
	}
	f := func(v float32) *NPY {
		vs := make([]float32, 28*28)
		vs[3] = v
		return f32NPY(vs, 1, 28, 28)
	}
	arrays := map[string]*NPY{
		"rgb.npy":    u1(2, 3, 28, 28),
		"hwc.npy":    u1(2, 28, 28, 3),
		"small.npy":  u1(2, 14, 14),
		"empty.npy":  u1(0, 28, 28),
		"i2.npy":     {Kind: 'i', Size: 2, Shape: []int{1, 28, 28}, Data: make([]byte, 2*28*28)},
		"nan.npy":    f(float32(math.NaN())),
		"inf.npy":    f(float32(math.Inf(1))),
		"300.npy":    f(300),
		"neg.npy":    f(-1.5),
		"given.npy":  f(0.5),
		"broken.npy": nil,
	}
	for name, x := range arrays {
		if x == nil {
			os.WriteFile(filepath.Join(dir, name), []byte(npyMagic+"\x09"), 0o644)
			continue
		}
		writeNPY(t, filepath.Join(dir, name), x)
	}
	cases := []struct {
		path string
		r    PixelRange
		msg  string
	}{
		{"big", RangeAuto, "32x32 pixels, want 28x28"},
		{"ok", RangeAuto, "b.png: decode"},
		{"none", RangeAuto, "no .png"},
		{"missing", RangeAuto, "no such file"},
		{"a.txt", RangeAuto, "neither a folder"},
		{"rgb.npy", RangeAuto, "convert colour images to gray"},
		{"hwc.npy", RangeAuto, "[2 28 28 3]"},
		{"small.npy", RangeAuto, "[2 14 14]"},
		{"empty.npy", RangeAuto, "N > 0"},
		{"i2.npy", RangeAuto, "want uint8"},
		{"nan.npy", RangeAuto, "value 3 (image 0) is NaN"},
		{"inf.npy", RangeAuto, "is +Inf"},
		{"300.npy", RangeAuto, "outside the pixel range [0,255] (auto)"},
		{"neg.npy", RangeAuto, "outside the pixel range [-1,1] (auto)"},
		{"given.npy", PixelRange(9), "not a pixel range"},
		{"broken.npy", RangeAuto, "NPY header"},
	}
	for _, c := range cases {
		if _, err := LoadGray(filepath.Join(dir, c.path), 28, c.r); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", c.path, err, c.msg)
		}
	}
}

// TestParsePixelRange checks the names ParsePixelRange takes and String
// gives.
func TestParsePixelRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want PixelRange
		ok   bool
	}{
		{"auto", RangeAuto, true}, {"0,1", Range01, true}, {"-1, 1", RangeSigned, true}, {"0,255", Range255, true},
		{"0..1", 0, false}, {"", 0, false},
	} {
		got, err := ParsePixelRange(c.in)
		if (err == nil) != c.ok || c.ok && (got != c.want || strings.ReplaceAll(c.in, " ", "") != got.String()) {
			t.Errorf("%q: %v, %v", c.in, got, err)
		}
	}
}
