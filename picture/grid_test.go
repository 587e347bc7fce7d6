package picture

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// constantBatch returns [n, c, h, w] where image i, channel ch holds the
// constant value(i, ch).
func constantBatch(n, c, h, w int, value func(i, ch int) float32) *tensor.Tensor {
	t := tensor.New(n, c, h, w)
	d := t.Data()
	for i := range n {
		for ch := range c {
			for k := range h * w {
				d[((i*c)+ch)*h*w+k] = value(i, ch)
			}
		}
	}
	return t
}

// TestGridLayout builds batches of constant images and checks the picture's
// size (computed by hand in the table) and every pixel: inside image i's cell
// it holds image i's bytes, elsewhere black.
func TestGridLayout(t *testing.T) {
	cases := []struct {
		n, c, h, w, nrow, pad int
		wantW, wantH          int
	}{
		{5, 1, 3, 4, 2, 1, 2*(4+1) + 1, 3*(3+1) + 1}, // 2 columns, 3 rows, last row half empty
		{6, 3, 2, 3, 3, 2, 3*(3+2) + 2, 2*(2+2) + 2}, // RGB, full rows
		{3, 3, 4, 4, 8, 0, 3 * 4, 4},                 // nrow > n: one row of n
		{1, 1, 1, 1, 1, 0, 1, 1},                     // a single pixel
		{7, 1, 2, 2, 3, 3, 3*(2+3) + 3, 3*(2+3) + 3}, // wide padding
	}
	for _, tc := range cases {
		// Distinct in-range values per image and channel.
		value := func(i, ch int) float32 { return -0.9 + 1.8*float32(i*3+ch)/float32(tc.n*3) }
		img := Grid(constantBatch(tc.n, tc.c, tc.h, tc.w, value), tc.nrow, tc.pad)
		if b := img.Bounds(); b != image.Rect(0, 0, tc.wantW, tc.wantH) {
			t.Fatalf("%+v: bounds %v, want %dx%d", tc, b, tc.wantW, tc.wantH)
		}
		if _, gray := img.(*image.Gray); gray != (tc.c == 1) {
			t.Fatalf("%+v: image type %T", tc, img)
		}
		cols := min(tc.nrow, tc.n)
		for y := range tc.wantH {
			for x := range tc.wantW {
				// Which cell, if any, covers (x, y)?
				col, ox := (x-tc.pad)/(tc.w+tc.pad), (x-tc.pad)%(tc.w+tc.pad)
				row, oy := (y-tc.pad)/(tc.h+tc.pad), (y-tc.pad)%(tc.h+tc.pad)
				inside := x >= tc.pad && y >= tc.pad && ox < tc.w && oy < tc.h && col < cols && row*cols+col < tc.n
				var want [3]uint8
				if inside {
					i := row*cols + col
					for ch := range 3 {
						want[ch] = ToByte(value(i, min(ch, tc.c-1)))
					}
				}
				r, g, b, a := img.At(x, y).RGBA()
				got := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
				if got != want || a != 0xffff {
					t.Fatalf("%+v: pixel (%d,%d) = %v alpha %d, want %v opaque (inside a cell: %v)", tc, x, y, got, a, want, inside)
				}
			}
		}
	}
}

// TestGridChannels checks that channel 0, 1, 2 land in R, G, B and that one
// image's pixels keep their positions (a gradient, not a constant).
func TestGridChannels(t *testing.T) {
	const h, w = 3, 5
	batch := tensor.New(2, 3, h, w)
	d := batch.Data()
	for i := range 2 {
		for ch := range 3 {
			for y := range h {
				for x := range w {
					d[((i*3+ch)*h+y)*w+x] = float32(x+y*w+ch*20+i*60)/100 - 0.9
				}
			}
		}
	}
	img := Grid(batch, 2, 1).(*image.RGBA)
	for i := range 2 {
		for y := range h {
			for x := range w {
				px := img.RGBAAt(1+i*(w+1)+x, 1+y)
				for ch, got := range []uint8{px.R, px.G, px.B} {
					if want := ToByte(batch.At(i, ch, y, x)); got != want {
						t.Fatalf("image %d channel %d (%d,%d): %d, want %d", i, ch, x, y, got, want)
					}
				}
			}
		}
	}
}

// TestToByte checks the mapping at hand-computed points, clamping and NaN.
func TestToByte(t *testing.T) {
	inf := float32(math.Inf(1))
	cases := []struct {
		in   float32
		want uint8
	}{
		{-1, 0}, {1, 255}, {0, 128}, // 0.5*255+0.5 = 128
		{0.5, 191}, // 0.75*255+0.5 = 191.75
		{-0.5, 64}, // 0.25*255+0.5 = 64.25
		{-3, 0}, {3, 255}, {inf, 255}, {-inf, 0}, {float32(math.NaN()), 0},
	}
	for _, c := range cases {
		if got := ToByte(c.in); got != c.want {
			t.Errorf("ToByte(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestToByteGolden compares ToByte with torch's ops (testdata/tobyte.py) on
// random values and on both sides of every rounding edge.
func TestToByteGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/tobyte.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		In  []float32 `json:"in"`
		Out []uint8   `json:"out"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.In) != len(g.Out) || len(g.In) < 1000 {
		t.Fatalf("golden has %d inputs and %d outputs", len(g.In), len(g.Out))
	}
	for i, v := range g.In {
		if got := ToByte(v); got != g.Out[i] {
			t.Errorf("ToByte(%v) = %d, torch %d", v, got, g.Out[i])
		}
	}
}

// TestGridPanicsOnShape checks misuse panics naming the function and shape.
func TestGridPanicsOnShape(t *testing.T) {
	cases := []struct {
		name      string
		shape     []int
		nrow, pad int
	}{
		{"3-D", []int{1, 4, 4}, 1, 0},
		{"two channels", []int{1, 2, 4, 4}, 1, 0},
		{"empty batch", []int{0, 1, 4, 4}, 1, 0},
		{"nrow 0", []int{1, 1, 4, 4}, 0, 0},
		{"negative padding", []int{1, 1, 4, 4}, 1, -1},
	}
	for _, c := range cases {
		func() {
			defer func() {
				s, _ := recover().(string)
				if !strings.HasPrefix(s, "picture.Grid: batch shape") {
					t.Errorf("%s: panic %q, want picture.Grid: batch shape ...", c.name, s)
				}
			}()
			Grid(tensor.New(c.shape...), c.nrow, c.pad)
		}()
	}
}

func BenchmarkGrid64x3x64x64(b *testing.B) {
	batch := tensor.NewRNG(1).Uniform(-1, 1, 64, 3, 64, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Grid(batch, 8, 2)
	}
}
