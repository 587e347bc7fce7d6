package main

import (
	"bytes"
	"context"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/internal/famtest/shift"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
)

// solidGray is a w x h gray image of value v.
func solidGray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// trainShiftFolder trains a testshift run of 4 steps (checkpoints at 2 and 4)
// on 8x8 gray images: paired (A/ and B/) for two domains, or three
// domain subfolders x, y, z for multi. It returns the run folder and the
// EMA of b at the end (what the translations add).
func trainShiftFolder(t *testing.T, multi bool, sets ...string) (string, float32) {
	t.Helper()
	dataDir := t.TempDir()
	kind := "paired"
	for i := range 6 {
		name := string(rune('a'+i)) + ".png"
		if multi {
			writeImage(t, filepath.Join(dataDir, []string{"x", "y", "z"}[i%3], name), solidGray(8, 8, 100))
			kind = "folder"
			continue
		}
		writeImage(t, filepath.Join(dataDir, "A", name), solidGray(8, 8, 100))
		writeImage(t, filepath.Join(dataDir, "B", name), solidGray(8, 8, 155))
	}
	c := config.Default()
	for _, kv := range append([]string{"data.kind=" + kind, "data.dir=" + dataDir, "data.size=8", "data.channels=1", "model.kind=testshift",
		"train.batch=2", "train.steps=4", "train.sample_every=0", "train.checkpoint_every=2", "train.ema=0.9", "train.lr_g=0.1", "train.log_every=0"}, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	tr, _, err := pipeline.LoadTranslator(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return dir, tr.Translator.(*shift.Translator).Net.B.Data().Data()[0]
}

// grayPNG reads a gray PNG's top-left byte and size.
func grayPNG(t *testing.T, path string) (v uint8, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s: %T, want a gray image", path, img)
	}
	return g.Pix[0], g.Rect.Dx(), g.Rect.Dy()
}

func cmdRun(f func([]string, io.Writer, io.Writer) int, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = f(args, &o, &e)
	return code, o.String(), e.String()
}

// TestTranslate runs kallima translate end to end on a testshift run
// (A to B is -x + b, B to A gives x back): the translations under the
// inputs' names, the notes for resized and converted images, the grid
// with its reconstruction row, and the errors.
func TestTranslate(t *testing.T) {
	dir, b := trainShiftFolder(t, false)
	in := t.TempDir()
	writeImage(t, filepath.Join(in, "a.png"), solidGray(8, 8, 64))
	rgb := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for i := range rgb.Pix {
		rgb.Pix[i] = 200
	}
	writeImage(t, filepath.Join(in, "sub", "b.jpg"), rgb)
	os.WriteFile(filepath.Join(in, "notes.txt"), []byte("x"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"skipping " + filepath.Join(in, "notes.txt"), "b.jpg: 16x12 pixels resized to the model's 8x8 (not square: stretched)",
		"b.jpg: colour converted to gray", "step 4, ema weights"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "A to B: 2 images") || !strings.Contains(stdout, "reconstructions (translated back to A)") {
		t.Errorf("stdout: %s", stdout)
	}
	if v, w, h := grayPNG(t, filepath.Join(out, "a.png")); v != picture.ToByte(-(64/127.5-1)+b) || w != 8 || h != 8 {
		t.Errorf("a.png: %d (%dx%d), want %d (8x8)", v, w, h, picture.ToByte(-(64/127.5-1)+b))
	}
	if v, _, _ := grayPNG(t, filepath.Join(out, "sub", "b.png")); int(v) < int(picture.ToByte(-(200/127.5-1)+b))-3 || int(v) > int(picture.ToByte(-(200/127.5-1)+b))+3 { // give or take JPEG
		t.Errorf("sub/b.png: %d, want about %d", v, picture.ToByte(-(200/127.5-1)+b))
	}
	// The grid: 2 columns, 3 rows (inputs, translations, reconstructions).
	if v, w, h := grayPNG(t, filepath.Join(out, gridFile)); w != 2+2*10 || h != 2+3*10 || v != 0 {
		t.Errorf("grid %dx%d, corner %d: want 22x32 with black padding", w, h, v)
	}
	// inspect describes the run's data kind.
	if code, stdout, stderr := cmdRun(runInspect, dir); code != exitOK || !strings.Contains(stdout, "paired, 1x8x8") {
		t.Errorf("inspect: exit %d: %s%s", code, stdout, stderr)
	}
	// B to A, from a checkpoint file of the run.
	ck := filepath.Join(dir, runfolder.CheckpointsDir, "step-000002.safetensors")
	code, _, stderr = cmdRun(runTranslate, dir, "-in", filepath.Join(in, "a.png"), "-out", out+"2", "-from", "B", "-to", "0", "-checkpoint", ck, "-raw")
	if code != exitOK || !strings.Contains(stderr, "step 2, g weights") {
		t.Fatalf("B to A at step 2: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out+"2", "a.png")); err != nil {
		t.Error(err)
	}
	// -to alone picks the direction: -to A is B to A, the same as above.
	code, stdout, stderr = cmdRun(runTranslate, dir, "-in", filepath.Join(in, "a.png"), "-out", out+"3", "-to", "A", "-checkpoint", ck, "-raw")
	if code != exitOK || !strings.Contains(stdout+stderr, "B to A") || !bytes.Equal(readFile(t, filepath.Join(out+"3", "a.png")), readFile(t, filepath.Join(out+"2", "a.png"))) {
		t.Errorf("-to A: exit %d, %s%s; want B to A's translation", code, stdout, stderr)
	}

	// Errors: each names what is wrong, and none panics.
	corrupt := t.TempDir()
	os.WriteFile(filepath.Join(corrupt, "bad.png"), []byte("\x89PNG\r\n\x1a\nnot a png"), 0o644)
	twice := t.TempDir()
	writeImage(t, filepath.Join(twice, "x.png"), solidGray(8, 8, 0))
	writeImage(t, filepath.Join(twice, "x.jpg"), solidGray(8, 8, 0))
	other, _ := trainShiftFolder(t, false, "model.one_way=true")
	otherCk := filepath.Join(other, runfolder.CheckpointsDir, "step-000004.safetensors")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{dir, "-in", in, "-out", out, "-to", "C"}, exitUsage, "-to C: the model's domains are A, B (or their numbers 0 to 1)"},
		{[]string{dir, "-in", in, "-out", out, "-from", "7"}, exitUsage, "-from 7: the model's domains are A, B"},
		{[]string{dir, "-in", corrupt, "-out", out}, exitError, filepath.Join(corrupt, "bad.png")},
		{[]string{dir, "-in", twice, "-out", out}, exitError, "would both be written as x.png"},
		{[]string{dir, "-in", filepath.Join(in, "nope"), "-out", out}, exitError, "no such file"},
		{[]string{dir, "-in", in}, exitUsage, "-in (an image or a folder of images) and -out"},
		{[]string{dir, "-in", in, "-out", out, "-checkpoint", otherCk}, exitUsage, "belongs to the run"},
		{[]string{other, "-in", in, "-out", out, "-from", "B"}, exitError, "B to A: testshift: translates A to B only"},
		{[]string{filepath.Join(dir, "nope"), "-in", in, "-out", out}, exitUsage, "no such file"},
	} {
		code, _, stderr := cmdRun(runTranslate, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("translate %v: exit %d, %s\nwant exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	// A model that does not translate back: no reconstruction row.
	code, stdout, _ = cmdRun(runTranslate, other, "-in", filepath.Join(in, "a.png"), "-out", out+"3")
	if _, _, h := grayPNG(t, filepath.Join(out+"3", gridFile)); code != exitOK || h != 2+2*10 || strings.Contains(stdout, "reconstructions") {
		t.Errorf("one-way model: exit %d, grid height %d, %s", code, h, stdout)
	}
}

// TestTranslateDomains: a multi-domain model needs -from, then translates
// to every other domain by default, each into its subfolder, or to the one
// -to names.
func TestTranslateDomains(t *testing.T) {
	dir, b := trainShiftFolder(t, true)
	in := t.TempDir()
	writeImage(t, filepath.Join(in, "a.png"), solidGray(8, 8, 64))
	out := t.TempDir()
	if code, _, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out); code != exitUsage || !strings.Contains(stderr, "3 domains (x, y, z)") {
		t.Errorf("no -from: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out, "-from", "x")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	x := float32(64/127.5 - 1)
	for k, d := range []string{"y", "z"} {
		want := picture.ToByte(x + b + 0.25*float32(k+1))
		if v, _, _ := grayPNG(t, filepath.Join(out, d, "a.png")); v != want {
			t.Errorf("to %s: %d, want %d", d, v, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "x")); err == nil || !strings.Contains(stdout, "x to z") {
		t.Errorf("translated to the source domain too, or: %s", stdout)
	}
	out2 := t.TempDir()
	if code, _, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out2, "-from", "x", "-to", "z"); code != exitOK {
		t.Fatalf("-to z: exit %d: %s", code, stderr)
	}
	if v, _, _ := grayPNG(t, filepath.Join(out2, "a.png")); v != picture.ToByte(x+b+0.5) {
		t.Errorf("-to z: %d", v)
	}
	if code, _, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out2, "-from", "x", "-to", "w"); code != exitUsage || !strings.Contains(stderr, "domains are x, y, z") {
		t.Errorf("-to w: exit %d: %s", code, stderr)
	}
}
