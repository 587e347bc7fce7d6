package main

import (
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/data"
)

func init() {
	// Tiny encoder runs: a gray BiGAN and a colour one at 16x16.
	tinyRuns["bigan"] = `
name: tiny-bigan
seed: 8
data: {kind: synthetic, size: 28, n: 32}
model: {kind: bigan, z_dim: 4, width: 8}
train: {steps: 3, batch: 8, log_every: 0, sample_every: 0, checkpoint_every: 0}
`
	tinyRuns["bigan-rgb"] = `
name: tiny-bigan-rgb
seed: 9
data: {kind: synthetic, size: 16, channels: 3, n: 32}
model: {kind: bigan, z_dim: 4, width: 8}
train: {steps: 3, batch: 8, log_every: 0, sample_every: 0, checkpoint_every: 0}
`
}

// writeImage writes img as a PNG or, by the name's extension, a JPEG.
func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 95})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// grayDigit is a w x h gray image with a bright stroke whose place
// depends on k.
func grayDigit(w, h, k int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := h / 4; y < 3*h/4; y++ {
		for x := k % w; x < min(w, k%w+4); x++ {
			g.SetGray(x, y, color.Gray{Y: 230})
		}
	}
	return g
}

// readCodes reads codes.npy as float32 rows.
func readCodes(t *testing.T, path string) (rows, dim int, v []float32) {
	t.Helper()
	x, err := data.ReadNPYFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if x.Kind != 'f' || x.Size != 4 || len(x.Shape) != 2 {
		t.Fatalf("%s: %s %v, want float32 [N, D]", path, x.Descr(), x.Shape)
	}
	v = make([]float32, x.Len())
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(x.Data[4*i:]))
	}
	return x.Shape[0], x.Shape[1], v
}

// TestEncode encodes a folder (PNG and JPEG, a subfolder, a file that is
// not an image), a single image, and the error cases: an undecodable
// file, an empty folder, a model without an encoder, missing flags.
func TestEncode(t *testing.T) {
	run := trainTiny(t, "bigan")
	in := filepath.Join(t.TempDir(), "in")
	writeImage(t, filepath.Join(in, "a.png"), grayDigit(28, 28, 3))
	writeImage(t, filepath.Join(in, "a-copy.png"), grayDigit(28, 28, 3))
	rgb := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 7)
	}
	writeImage(t, filepath.Join(in, "c.jpg"), rgb)
	writeImage(t, filepath.Join(in, "sub", "b.png"), grayDigit(28, 28, 15))
	if err := os.WriteFile(filepath.Join(in, "notes.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := call(runEncode, run, "-in", in, "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"skipping " + filepath.Join(in, "notes.txt"), "c.jpg: 40x30 pixels resized to the model's 28x28 (not square: stretched)", "c.jpg: colour converted to gray by luma"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "a.png:") || strings.Contains(stderr, "b.png:") {
		t.Errorf("a note for an image that needed no change:\n%s", stderr)
	}
	if !strings.Contains(stdout, "4 images x 4 dimensions") || !strings.Contains(stdout, "reconstructions.png") {
		t.Errorf("stdout %q", stdout)
	}
	if names := string(readFile(t, filepath.Join(out, "names.txt"))); names != "a-copy.png\na.png\nc.jpg\nsub/b.png\n" {
		t.Errorf("names.txt %q", names)
	}
	rows, dim, v := readCodes(t, filepath.Join(out, "codes.npy"))
	if rows != 4 || dim != 4 {
		t.Fatalf("codes [%d %d], want [4 4]", rows, dim)
	}
	row := func(i int) []float32 { return v[i*dim : (i+1)*dim] }
	if !slices.Equal(row(0), row(1)) || slices.Equal(row(1), row(3)) {
		t.Errorf("codes %v: want a.png's equal to its copy's and b.png's different", v)
	}
	for _, x := range v {
		if !(x > -1 && x < 1) {
			t.Errorf("code %v outside the uniform prior's (-1, 1)", x)
		}
	}
	img := decodePNG(t, filepath.Join(out, "reconstructions.png"))
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != 4*30+2 || h != 2*30+2 {
		t.Errorf("reconstructions %dx%d, want a row of 4 images and one of their reconstructions (122x62)", w, h)
	}
	// One image: the same code as in the folder.
	one := filepath.Join(t.TempDir(), "one")
	if code, _, stderr := call(runEncode, run, "-in", filepath.Join(in, "sub", "b.png"), "-out", one); code != exitOK {
		t.Fatalf("one image: exit %d: %s", code, stderr)
	}
	if names := string(readFile(t, filepath.Join(one, "names.txt"))); names != "b.png\n" {
		t.Errorf("one image: names.txt %q", names)
	}
	if _, _, w := readCodes(t, filepath.Join(one, "codes.npy")); !slices.Equal(w, row(3)) {
		t.Errorf("one image: code %v, in the folder %v", w, row(3))
	}
	// A colour model reads a gray image by copying it to three channels.
	rgbRun := trainTiny(t, "bigan-rgb")
	if code, _, stderr := call(runEncode, rgbRun, "-in", filepath.Join(in, "a.png"), "-out", filepath.Join(t.TempDir(), "rgb")); code != exitOK ||
		!strings.Contains(stderr, "a.png: gray copied to R, G and B") || !strings.Contains(stderr, "28x28 pixels resized to the model's 16x16") {
		t.Errorf("gray into a colour model: exit %d, %q", code, stderr)
	}

	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "broken.png"), []byte("no image here"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "readme.txt")
	if err := os.WriteFile(text, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	dcgan := trainTiny(t, "dcgan")
	o := filepath.Join(t.TempDir(), "o")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{run, "-in", bad, "-out", o}, exitError, "broken.png: not a PNG or JPEG image"},
		{[]string{run, "-in", text, "-out", o}, exitError, "readme.txt: not a PNG or JPEG image"},
		{[]string{run, "-in", empty, "-out", o}, exitError, "holds no .png, .jpg or .jpeg files"},
		{[]string{run, "-in", filepath.Join(in, "nosuch.png"), "-out", o}, exitError, "nosuch.png"},
		{[]string{dcgan, "-in", in, "-out", o}, exitError, "model.kind dcgan) has no encoder"},
		{[]string{run, "-in", in}, exitUsage, "-out (a folder) are both required"},
		{[]string{"-in", in, "-out", o}, exitUsage, "give one run folder"},
	} {
		code, _, stderr := call(runEncode, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(o); !os.IsNotExist(err) {
		t.Errorf("a failed encode made %s", o)
	}
}

// TestEncodeOutInsideIn: with -out equal to -in, or a folder inside it,
// encode never reads its own output back: a second run encodes the same
// images (not an earlier reconstructions.png) and says what it skipped.
func TestEncodeOutInsideIn(t *testing.T) {
	run := trainTiny(t, "bigan")
	in := filepath.Join(t.TempDir(), "in")
	writeImage(t, filepath.Join(in, "a.png"), grayDigit(28, 28, 3))
	writeImage(t, filepath.Join(in, "b.png"), grayDigit(28, 28, 15))
	for _, out := range []string{in, filepath.Join(in, "codes")} {
		for round := 1; round <= 2; round++ {
			code, _, stderr := call(runEncode, run, "-in", in, "-out", out)
			if code != exitOK {
				t.Fatalf("-out %s, run %d: exit %d: %s", out, round, code, stderr)
			}
			if rows, _, _ := readCodes(t, filepath.Join(out, "codes.npy")); rows != 2 {
				t.Errorf("-out %s, run %d: %d codes, want 2 (a.png, b.png)", out, round, rows)
			}
			if names := string(readFile(t, filepath.Join(out, "names.txt"))); names != "a.png\nb.png\n" {
				t.Errorf("-out %s, run %d: names.txt %q", out, round, names)
			}
			if strings.Contains(stderr, "reconstructions.png: ") || strings.Contains(stderr, "codes.npy: not a") {
				t.Errorf("-out %s, run %d: own output read or noted as an input:\n%s", out, round, stderr)
			}
			want := "skipping " + filepath.Join(out, "reconstructions.png") + ", " + filepath.Join(out, "codes.npy") + ", " +
				filepath.Join(out, "names.txt") + ": encode's own output"
			if round == 2 && !strings.Contains(stderr, want) {
				t.Errorf("-out %s, run %d: no note %q:\n%s", out, round, want, stderr)
			}
		}
		if out == in {
			// Leave only a.png and b.png for the nested case.
			for _, name := range []string{"codes.npy", "names.txt", "reconstructions.png"} {
				os.Remove(filepath.Join(in, name))
			}
		}
	}
	// A folder holding nothing but encode's own output has no inputs.
	only := filepath.Join(t.TempDir(), "only")
	writeImage(t, filepath.Join(only, "reconstructions.png"), grayDigit(28, 28, 3))
	code, _, stderr := call(runEncode, run, "-in", only, "-out", only)
	if code != exitError || !strings.Contains(stderr, "no images besides encode's own output") {
		t.Errorf("only own output: exit %d, %q", code, stderr)
	}
	// -h says so.
	if _, stdout, _ := call(runEncode, "-h"); !strings.Contains(stdout, "-out may be -in or a folder inside it") {
		t.Errorf("-h does not say -out may be -in:\n%s", stdout)
	}
}
