package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
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

	"github.com/kallima-gan/kallima/tensor"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestResize(t *testing.T) {
	ramp := make([]float32, 16) // 4x4: 0..15
	for i := range ramp {
		ramp[i] = float32(i)
	}
	checker := make([]float32, 16) // 4x4 checkerboard of 1x1 squares
	for i := range checker {
		checker[i] = float32((i/4 + i%4) % 2)
	}
	blocks := make([]float32, 16) // 4x4 of 2x2 blocks valued 1, 2, 3, 4
	for i := range blocks {
		blocks[i] = float32(1 + (i/4)/2*2 + (i%4)/2)
	}
	cases := []struct {
		name      string
		src       []float32
		c, sh, sw int
		dh, dw    int
		want      []float32
	}{
		{"ramp 4x4 to 2x2 block means", ramp, 1, 4, 4, 2, 2, []float32{2.5, 4.5, 10.5, 12.5}},
		{"checkerboard 4x4 to 2x2", checker, 1, 4, 4, 2, 2, []float32{0.5, 0.5, 0.5, 0.5}},
		{"2x2 blocks 4x4 to 2x2", blocks, 1, 4, 4, 2, 2, []float32{1, 2, 3, 4}},
		{"4x4 to 1x1 mean", ramp, 1, 4, 4, 1, 1, []float32{7.5}},
		{"row 3 to 2: fractional area", []float32{3, 6, 9}, 1, 1, 3, 1, 2, []float32{(3 + 0.5*6) / 1.5, (0.5*6 + 9) / 1.5}},
		{"row 2 to 4: bilinear", []float32{0, 1}, 1, 1, 2, 1, 4, []float32{0, 0.25, 0.75, 1}},
		{"column 3 to 5: bilinear", []float32{10, 20, 40}, 1, 3, 1, 5, 1, []float32{10, 0.6*10 + 0.4*20, 20, 0.4*20 + 0.6*40, 40}},
		{"2x4 to 4x2: enlarge y, shrink x", []float32{0, 2, 4, 6, 8, 10, 12, 14}, 1, 2, 4, 4, 2,
			[]float32{1, 5, 3, 7, 7, 11, 9, 13}},
		{"two channels kept apart", []float32{1, 1, 1, 1, 5, 7, 9, 11}, 2, 2, 2, 1, 1, []float32{1, 8}},
		{"same size is a copy", ramp, 1, 4, 4, 4, 4, ramp},
	}
	for _, c := range cases {
		got := resize(c.src, c.c, c.sh, c.sw, c.dh, c.dw)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d values, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			if !near(float64(got[i]), float64(c.want[i]), 1e-5) {
				t.Fatalf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
	// Every filter's weights sum to 1: a constant image stays constant.
	rng := tensor.NewRNG(1)
	for range 200 {
		sh, sw, dh, dw := 1+rng.Intn(40), 1+rng.Intn(40), 1+rng.Intn(40), 1+rng.Intn(40)
		src := make([]float32, sh*sw)
		for i := range src {
			src[i] = 0.7
		}
		for i, v := range resize(src, 1, sh, sw, dh, dw) {
			if !near(float64(v), 0.7, 1e-5) {
				t.Fatalf("%dx%d to %dx%d: value %d is %g, want 0.7", sh, sw, dh, dw, i, v)
			}
		}
	}
	// Shrinking by a whole factor keeps the mean.
	src := rng.Uniform(0, 1, 12*18).Data()
	mean := func(v []float32) (s float64) {
		for _, x := range v {
			s += float64(x)
		}
		return s / float64(len(v))
	}
	if m, m2 := mean(src), mean(resize(src, 1, 12, 18, 4, 6)); !near(m, m2, 1e-5) {
		t.Fatalf("mean %g before, %g after a 3x box downsample", m, m2)
	}
}

// writeImage writes img as PNG or, with a .jpg name, as JPEG of quality 100.
func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func v8(b float64) float64 { return b/127.5 - 1 }

func TestLoadFolderClasses(t *testing.T) {
	root := t.TempDir()
	red := color.NRGBA{255, 0, 51, 255}
	writeImage(t, filepath.Join(root, "cat", "b.png"), solid(8, 8, red))
	writeImage(t, filepath.Join(root, "cat", "a.png"), solid(3, 5, color.NRGBA{0, 255, 0, 255}))
	gray := image.NewGray(image.Rect(0, 0, 6, 6))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	writeImage(t, filepath.Join(root, "dog", "x.jpg"), gray)
	writeImage(t, filepath.Join(root, "dog", "deeper", "y.PNG"), solid(2, 2, color.NRGBA{0, 0, 255, 128}))
	writeImage(t, filepath.Join(root, ".hidden", "z.png"), solid(2, 2, red))
	writeImage(t, filepath.Join(root, "dog", ".z.png"), solid(2, 2, red))
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	os.WriteFile(filepath.Join(root, "cat", "notes.txt"), []byte("not an image"), 0o644)

	s, skipped, err := LoadFolder(root, FolderConfig{Height: 4, Width: 4})
	if err != nil || skipped != 0 {
		t.Fatal(err, skipped)
	}
	if !slices.Equal(s.Classes, []string{"cat", "dog"}) || !slices.Equal(s.Labels, []int{0, 0, 1, 1}) {
		t.Fatalf("classes %v labels %v", s.Classes, s.Labels)
	}
	if sh := s.Shape(); !slices.Equal(sh, []int{3, 4, 4}) || s.Len() != 4 {
		t.Fatalf("shape %v len %d", sh, s.Len())
	}
	// Each image is solid, so every output pixel of a channel has its value.
	want := [][3]float64{
		{v8(0), v8(255), v8(0)},               // cat/a.png: green, 3x5 stretched
		{v8(255), v8(0), v8(51)},              // cat/b.png
		{v8(0), v8(0), v8(255 * 128.0 / 255)}, // dog/deeper/y.PNG: half-transparent blue over black
		{v8(128), v8(128), v8(128)},           // dog/x.jpg: gray, through JPEG
	}
	for i := range 4 {
		img, _ := s.Get(i)
		for ch := range 3 {
			for p := range 16 {
				tol := 1e-5
				if i == 3 {
					tol = 2.5 / 127.5 // JPEG
				}
				if v := float64(img[ch*16+p]); !near(v, want[i][ch], tol) {
					t.Fatalf("image %d channel %d pixel %d = %g, want %g", i, ch, p, v, want[i][ch])
				}
			}
		}
	}

	// Gray output: BT.601 luma.
	g, _, err := LoadFolder(root, FolderConfig{Height: 2, Width: 3, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if sh := g.Shape(); !slices.Equal(sh, []int{1, 2, 3}) {
		t.Fatalf("gray shape %v", sh)
	}
	img, _ := g.Get(1)
	if wantY := v8(0.299*255 + 0.114*51); !near(float64(img[0]), wantY, 1e-5) {
		t.Fatalf("gray red = %g, want %g", img[0], wantY)
	}
}

func TestLoadFolderRootFiles(t *testing.T) {
	root := t.TempDir()
	writeImage(t, filepath.Join(root, "1.png"), solid(4, 4, color.White))
	writeImage(t, filepath.Join(root, "2.jpg"), solid(4, 4, color.Black))
	s, _, err := LoadFolder(root, FolderConfig{Height: 4, Width: 4, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Classes, []string{"."}) || !slices.Equal(s.Labels, []int{0, 0}) {
		t.Fatalf("classes %v labels %v", s.Classes, s.Labels)
	}
	if a, _ := s.Get(0); a[5] != 1 {
		t.Fatalf("white = %g", a[5])
	}
	// Root files next to class folders are a class of their own, first.
	writeImage(t, filepath.Join(root, "a", "3.png"), solid(4, 4, color.White))
	s, _, err = LoadFolder(root, FolderConfig{Height: 4, Width: 4, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Classes, []string{".", "a"}) || !slices.Equal(s.Labels, []int{0, 0, 1}) {
		t.Fatalf("classes %v labels %v", s.Classes, s.Labels)
	}
}

func TestLoadFolderResizes(t *testing.T) {
	root := t.TempDir()
	// A 4x4 gray ramp 0, 16, ..., 240: box-downsampled to 2x2 it gives the
	// means of its 2x2 blocks.
	ramp := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range ramp.Pix {
		ramp.Pix[i] = uint8(16 * i)
	}
	writeImage(t, filepath.Join(root, "ramp.png"), ramp)
	s, _, err := LoadFolder(root, FolderConfig{Height: 2, Width: 2, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := s.Get(0)
	for i, m := range []float64{2.5, 4.5, 10.5, 12.5} {
		if !near(float64(img[i]), v8(16*m), 1e-5) {
			t.Fatalf("pixel %d = %g, want %g", i, img[i], v8(16*m))
		}
	}
	// Enlarged to 8x8, bilinear: row 0 starts at the corner value and
	// rises by a quarter step at each half-step.
	s, _, err = LoadFolder(root, FolderConfig{Height: 8, Width: 8, Gray: true})
	if err != nil {
		t.Fatal(err)
	}
	img, _ = s.Get(0)
	for x, want := range []float64{0, 4, 12, 20, 28, 36, 44, 48} {
		if !near(float64(img[x]), v8(want), 1e-5) {
			t.Fatalf("enlarged row 0 pixel %d = %g, want %g", x, img[x], v8(want))
		}
	}
	// CenterCrop: a 6x4 image whose outer columns are white keeps only its
	// black 4x4 centre when cropped to a square.
	wide := solid(6, 4, color.Black)
	for y := range 4 {
		wide.Set(0, y, color.White)
		wide.Set(5, y, color.White)
	}
	os.Remove(filepath.Join(root, "ramp.png"))
	writeImage(t, filepath.Join(root, "wide.png"), wide)
	for _, crop := range []bool{true, false} {
		s, _, err = LoadFolder(root, FolderConfig{Height: 2, Width: 2, Gray: true, CenterCrop: crop})
		if err != nil {
			t.Fatal(err)
		}
		img, _ = s.Get(0)
		want := -1.0 // all black
		if !crop {
			want = v8(255.0 / 3) // each output column averages 3 source columns, one white
		}
		for i, v := range img {
			if !near(float64(v), want, 1e-5) {
				t.Fatalf("crop %v: pixel %d = %g, want %g", crop, i, v, want)
			}
		}
	}
}

func TestLoadFolderBadFiles(t *testing.T) {
	root := t.TempDir()
	writeImage(t, filepath.Join(root, "a", "good.png"), solid(4, 4, color.White))
	writeImage(t, filepath.Join(root, "b", "good.jpg"), solid(4, 4, color.White))
	corrupt := filepath.Join(root, "a", "corrupt.png")
	os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\nthis is not the rest of a PNG"), 0o644)
	truncated := filepath.Join(root, "b", "truncated.jpg")
	var buf bytes.Buffer
	jpeg.Encode(&buf, solid(16, 16, color.White), nil)
	os.WriteFile(truncated, buf.Bytes()[:buf.Len()/2], 0o644)

	_, _, err := LoadFolder(root, FolderConfig{Height: 4, Width: 4})
	if err == nil || !strings.Contains(err.Error(), "read "+corrupt+": decode: ") {
		t.Fatalf("corrupt file: %v", err)
	}
	var warn bytes.Buffer
	s, skipped, err := LoadFolder(root, FolderConfig{Height: 4, Width: 4, Skip: true, Warnings: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if skipped != 2 || s.Len() != 2 || !slices.Equal(s.Labels, []int{0, 1}) {
		t.Fatalf("skipped %d, kept %d with labels %v", skipped, s.Len(), s.Labels)
	}
	lines := strings.Split(strings.TrimSpace(warn.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], corrupt) || !strings.Contains(lines[1], truncated) {
		t.Fatalf("warnings:\n%s", warn.String())
	}
	for i := range 2 {
		if img, _ := s.Get(i); !near(float64(img[0]), 1, 2/127.5) {
			t.Fatalf("kept image %d = %g, want white", i, img[0])
		}
	}
	// A PNG whose header claims 100000x100000 pixels is refused before
	// anything is allocated for it.
	var small bytes.Buffer
	png.Encode(&small, solid(1, 1, color.White))
	huge := small.Bytes() // IHDR: length at 8, "IHDR" at 12, width at 16, height at 20, CRC at 29
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	hugeDir := t.TempDir()
	os.WriteFile(filepath.Join(hugeDir, "huge.png"), huge, 0o644)
	var err2 error
	if a := allocated(func() { _, _, err2 = LoadFolder(hugeDir, FolderConfig{Height: 4, Width: 4}) }); a > 1<<20 {
		t.Fatalf("a huge PNG header cost %d bytes", a)
	}
	if err2 == nil || !strings.Contains(err2.Error(), "huge.png: 100000x100000 pixels, more than the 134217728") {
		t.Fatalf("huge PNG: %v", err2)
	}
	// Nothing readable, and config errors.
	only := t.TempDir()
	os.WriteFile(filepath.Join(only, "x.png"), []byte("junk"), 0o644)
	cases := []struct {
		root string
		cfg  FolderConfig
		msg  string
	}{
		{only, FolderConfig{Height: 4, Width: 4, Skip: true}, "none of its 1 image files could be read"},
		{t.TempDir(), FolderConfig{Height: 4, Width: 4}, "no .png, .jpg or .jpeg files"},
		{filepath.Join(root, "nope"), FolderConfig{Height: 4, Width: 4}, "no such file or directory"},
		{root, FolderConfig{Height: 0, Width: 4}, "output size 0x4"},
	}
	for _, c := range cases {
		if _, _, err := LoadFolder(c.root, c.cfg); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("LoadFolder(%s, %+v): %v, want %q", c.root, c.cfg, err, c.msg)
		}
	}
}

func ExampleLoadFolder() {
	root, _ := os.MkdirTemp("", "kallima-example-")
	defer os.RemoveAll(root)
	for i, class := range []string{"circles", "squares", "circles"} {
		var buf bytes.Buffer
		png.Encode(&buf, solid(32, 32, color.Gray{uint8(80 * i)}))
		os.MkdirAll(filepath.Join(root, class), 0o755)
		os.WriteFile(filepath.Join(root, class, fmt.Sprintf("%d.png", i)), buf.Bytes(), 0o644)
	}
	set, skipped, err := LoadFolder(root, FolderConfig{Height: 16, Width: 16, Gray: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Images.Shape(), set.Classes, set.Labels, skipped)
	// Output: [3 1 16 16] [circles squares] [0 0 1] 0
}

// BenchmarkLoadFolder decodes and box-resizes 64 CelebA-sized (178x218)
// JPEGs to 64x64 RGB; images/s is the metric.
func BenchmarkLoadFolder(b *testing.B) {
	root := b.TempDir()
	rng := tensor.NewRNG(1)
	for i := range 64 {
		img := image.NewNRGBA(image.Rect(0, 0, 178, 218))
		for j := range img.Pix {
			img.Pix[j] = uint8(rng.Intn(256))
		}
		var buf bytes.Buffer
		jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
		os.WriteFile(filepath.Join(root, fmt.Sprintf("%02d.jpg", i)), buf.Bytes(), 0o644)
	}
	b.Run("jpeg-218x178-to-64x64", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, _, err := LoadFolder(root, FolderConfig{Height: 64, Width: 64, CenterCrop: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "images/s")
	})
}
