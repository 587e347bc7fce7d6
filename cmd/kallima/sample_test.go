package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
)

// tinyRuns are runs small enough to train in-process in about a second:
// an unconditional DCGAN with EMA (and one with the uniform prior),
// conditional ones with 4 classes (cgan
// with a learnt label embedding), and an InfoGAN.
var tinyRuns = map[string]string{
	"dcgan": `
name: tiny-dcgan
seed: 5
data: {kind: synthetic, size: 28, n: 32}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 6, batch: 8, ema: 0.9, log_every: 0, sample_every: 0, checkpoint_every: 2, keep_checkpoints: -1}
`,
	"dcgan-uniform": `
name: tiny-dcgan-uniform
seed: 5
data: {kind: synthetic, size: 28, n: 32}
model: {kind: dcgan, z_dim: 8, width: 4, prior: uniform}
train: {steps: 6, batch: 8, ema: 0.9, log_every: 0, sample_every: 0, checkpoint_every: 2}
`,
	"cgan": `
name: tiny-cgan
seed: 6
data: {kind: synthetic, size: 28, n: 32, classes: 4}
model: {kind: cgan, z_dim: 8, width: 4, embed_dim: 3}
train: {steps: 4, batch: 8, ema: 0.9, log_every: 0, sample_every: 0, checkpoint_every: 2}
`,
	"acgan": `
name: tiny-acgan
seed: 7
data: {kind: synthetic, size: 28, n: 32, classes: 4}
model: {kind: acgan, z_dim: 8, width: 4}
train: {steps: 4, batch: 8, ema: 0.9, log_every: 0, sample_every: 0, checkpoint_every: 2}
`,
	"infogan": `
name: tiny-infogan
seed: 7
data: {kind: synthetic, size: 28, n: 32}
model: {kind: infogan, z_dim: 6, width: 4, cat_codes: [4], cont_codes: 1, q_hidden: 8}
train: {steps: 4, batch: 8, ema: 0.9, log_every: 0, sample_every: 0, checkpoint_every: 2}
`,
}

// trainTiny trains tinyRuns[kind] into a new folder and returns it.
func trainTiny(t *testing.T, kind string) string {
	t.Helper()
	c, err := config.Parse(strings.NewReader(tinyRuns[kind]))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), kind)
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatalf("train %s: %v", kind, err)
	}
	return dir
}

// decodePNG reads a PNG file.
func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// call runs a command function and returns its exit code and output.
func call(f func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := f(args, &o, &e)
	return code, o.String(), e.String()
}

// readFile returns a file's bytes.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSampleGrid samples grids of n images and checks the picture has
// ceil(sqrt(n)) cells per row and the right number of rows, that the same
// seed gives the same file and another seed or -raw a different one, and
// that a weights file with its config gives what -raw gives.
func TestSampleGrid(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	out := t.TempDir()
	cases := []struct {
		n, cols, rows int
	}{{1, 1, 1}, {10, 4, 3}, {16, 4, 4}, {70, 9, 8}}
	for _, c := range cases {
		p := filepath.Join(out, "grid.png")
		code, stdout, stderr := call(runSample, dir, "-n", strconv.Itoa(c.n), "-out", p)
		if code != exitOK {
			t.Fatalf("n=%d: exit %d: %s", c.n, code, stderr)
		}
		if !strings.Contains(stdout, "EMA weights") || !strings.Contains(stdout, "step 6") {
			t.Errorf("n=%d: stdout %q does not name the EMA weights of step 6", c.n, stdout)
		}
		b := decodePNG(t, p).Bounds()
		// 28x28 cells with 2 pixels of padding (picture.Grid).
		if w, h := c.cols*30+2, c.rows*30+2; b.Dx() != w || b.Dy() != h {
			t.Errorf("n=%d: grid %dx%d, want %dx%d", c.n, b.Dx(), b.Dy(), w, h)
		}
	}
	grid := func(args ...string) []byte {
		p := filepath.Join(out, "g.png")
		if code, _, stderr := call(runSample, append([]string{dir, "-n", "9", "-out", p}, args...)...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return readFile(t, p)
	}
	a, again, other, raw := grid("-seed", "4"), grid("-seed", "4"), grid("-seed", "5"), grid("-seed", "4", "-raw")
	if !bytes.Equal(a, again) {
		t.Error("same seed, different images")
	}
	if bytes.Equal(a, other) {
		t.Error("seeds 4 and 5 give the same images")
	}
	if bytes.Equal(a, raw) {
		t.Error("-raw gives the same images as the EMA weights")
	}
	// The newest checkpoint file as a weights file: G's live weights.
	ck := filepath.Join(dir, runfolder.CheckpointsDir, "step-000006.safetensors")
	p := filepath.Join(out, "w.png")
	if code, _, stderr := call(runSample, ck, "-config", filepath.Join(dir, runfolder.ConfigFile), "-n", "9", "-seed", "4", "-out", p); code != exitOK {
		t.Fatalf("weights file: exit %d: %s", code, stderr)
	}
	if !bytes.Equal(readFile(t, p), raw) {
		t.Error("the checkpoint as a weights file does not give -raw's images")
	}
}

// TestSampleSeparate writes one PNG per image.
func TestSampleSeparate(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	sep := filepath.Join(t.TempDir(), "each")
	code, _, stderr := call(runSample, dir, "-n", "5", "-separate", sep)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(sep, "sample-*.png"))
	if len(files) != 5 {
		t.Fatalf("%d files %q, want 5", len(files), files)
	}
	for _, f := range files {
		if b := decodePNG(t, f).Bounds(); b.Dx() != 28 || b.Dy() != 28 {
			t.Errorf("%s: %v, want 28x28", f, b)
		}
	}
	if _, err := os.Stat("grid.png"); err == nil {
		t.Error("-separate also wrote the default grid.png")
	}
}

// TestSampleClass draws one class from a conditional run (cgan, acgan) and rejects a
// class out of range (that the class changes the images is checked on the
// tensors in pipeline's TestLoadSampler: a tiny run's images are too faint
// to differ after 8-bit quantization).
func TestSampleClass(t *testing.T) {
	for _, kind := range []string{"cgan", "acgan"} {
		t.Run(kind, func(t *testing.T) { testSampleClass(t, kind) })
	}
}

func testSampleClass(t *testing.T, kind string) {
	dir := trainTiny(t, kind)
	out := t.TempDir()
	draw := func(k string) []byte {
		p := filepath.Join(out, "c"+k+".png")
		code, stdout, stderr := call(runSample, dir, "-class", k, "-n", "4", "-out", p)
		if code != exitOK {
			t.Fatalf("class %s: exit %d: %s", k, code, stderr)
		}
		if b := decodePNG(t, p).Bounds(); b.Dx() != 62 || b.Dy() != 62 {
			t.Errorf("class %s: grid %v, want 62x62", k, b)
		}
		if !strings.Contains(stdout, "4 images") {
			t.Errorf("stdout %q", stdout)
		}
		return readFile(t, p)
	}
	draw("0")
	draw("3")
	code, _, stderr := call(runSample, dir, "-class", "4", "-out", filepath.Join(out, "x.png"))
	if code != exitUsage || !strings.Contains(stderr, "out of range") || !strings.Contains(stderr, "0 to 3") {
		t.Errorf("class 4 of 4: exit %d, stderr %q", code, stderr)
	}
}

// TestSamplePerClass: -per-class K gives one row per class, K columns, and
// row k holds exactly the images -class k -n K draws with the same seed.
func TestSamplePerClass(t *testing.T) {
	dir := trainTiny(t, "cgan")
	out := t.TempDir()
	grid, rows := filepath.Join(out, "grid.png"), filepath.Join(out, "rows")
	code, stdout, stderr := call(runSample, dir, "-per-class", "3", "-seed", "4", "-out", grid, "-separate", rows)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b := decodePNG(t, grid).Bounds(); b.Dx() != 2+3*30 || b.Dy() != 2+4*30 || !strings.Contains(stdout, "12 images, 3 per row") {
		t.Fatalf("grid %v (want 92x122), stdout %q", b, stdout)
	}
	for k := range 4 {
		one := filepath.Join(out, "class"+strconv.Itoa(k))
		if code, _, stderr := call(runSample, dir, "-class", strconv.Itoa(k), "-n", "3", "-seed", "4", "-separate", one); code != exitOK {
			t.Fatalf("class %d: exit %d: %s", k, code, stderr)
		}
		for j := range 3 {
			a := readFile(t, filepath.Join(rows, "sample-"+fmt.Sprintf("%03d", 3*k+j)+".png"))
			b := readFile(t, filepath.Join(one, "sample-"+fmt.Sprintf("%03d", j)+".png"))
			if !bytes.Equal(a, b) {
				t.Errorf("row %d column %d differs from -class %d image %d", k, j, k, j)
			}
		}
	}
	dcgan := trainTiny(t, "dcgan")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{dir, "-per-class", "0"}, "-per-class 0"},
		{[]string{dir, "-per-class", "2", "-class", "1"}, "without -class or -n"},
		{[]string{dir, "-per-class", "2", "-n", "8"}, "without -class or -n"},
		{[]string{dir, "-per-class", "5000", "-out", filepath.Join(out, "x.png")}, "more than 10000"},
		{[]string{dcgan, "-per-class", "2", "-out", filepath.Join(out, "x.png")}, "unconditional"},
	} {
		if code, _, stderr := call(runSample, c.args...); code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args[1:], code, stderr, exitUsage, c.want)
		}
	}
}

// TestSampleErrors checks bad command lines and missing runs.
func TestSampleErrors(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	out := filepath.Join(t.TempDir(), "x.png")
	empty := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no run", []string{"-n", "4"}, exitUsage, "want one run folder"},
		{"two runs", []string{dcgan, dcgan}, exitUsage, "got 2 arguments"},
		{"missing run", []string{filepath.Join(empty, "nope"), "-out", out}, exitUsage, "no such file"},
		{"not a run", []string{empty, "-out", out}, exitError, "not a run folder"},
		{"bad flag", []string{dcgan, "-bogus"}, exitUsage, "-bogus"},
		{"bad n", []string{dcgan, "-n", "0"}, exitUsage, "-n 0"},
		{"class of dcgan", []string{dcgan, "-class", "0", "-out", out}, exitUsage, "unconditional"},
		{"negative class", []string{dcgan, "-class", "-2"}, exitUsage, "-class -2"},
		{"file without config", []string{filepath.Join(dcgan, runfolder.ConfigFile)}, exitUsage, "-config FILE"},
		{"config with a folder", []string{dcgan, "-config", filepath.Join(dcgan, runfolder.ConfigFile)}, exitUsage, "-config goes with a weights file"},
	}
	for _, c := range cases {
		code, _, stderr := call(runSample, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", c.name, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed command wrote its output")
	}
	code, stdout, _ := call(runSample, "-h")
	if code != exitOK || strings.Count(stdout, "Usage: kallima sample") != 1 || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: exit %d, stdout %q", code, stdout)
	}
}

// TestOutputFoldersMade: every command that writes a file makes its
// missing parent folders, and no error names the hidden temporary file.
func TestOutputFoldersMade(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	toy := trainRing8(t)
	root := filepath.Join(t.TempDir(), "new")
	for _, c := range []struct {
		name string
		f    func([]string, io.Writer, io.Writer) int
		args []string
		out  string
	}{
		{"sample grid", runSample, []string{dcgan, "-n", "2"}, "a/g.png"},
		{"sample npy", runSample, []string{dcgan, "-n", "2"}, "b/x.npy"},
		{"sample csv", runSample, []string{toy, "-n", "2"}, "c/p.csv"},
		{"interpolate", runInterpolate, []string{dcgan, "-steps", "3"}, "d/i.png"},
		{"average", runAverage, []string{dcgan}, "e/avg.safetensors"},
	} {
		out := filepath.Join(root, filepath.FromSlash(c.out))
		code, _, stderr := call(c.f, append(c.args, "-out", out)...)
		if code != exitOK {
			t.Errorf("%s: exit %d: %s", c.name, code, stderr)
			continue
		}
		if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// A parent that is a file cannot be made: the error names the output.
	blocker := filepath.Join(root, "a", "g.png")
	code, _, stderr := call(runSample, dcgan, "-n", "2", "-out", filepath.Join(blocker, "g.png"))
	if code == exitOK || strings.Contains(stderr, ".tmp") || !strings.Contains(stderr, blocker) {
		t.Errorf("parent is a file: exit %d, %q; want an error naming %s and no temporary file", code, stderr, blocker)
	}
}

// TestSampleLatestPointer: RUN/checkpoints/latest, the run's pointer to its
// newest checkpoint, is followed by every command that takes a checkpoint
// file: the same images as from the file it names.
func TestSampleLatestPointer(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	ckDir := filepath.Join(dcgan, runfolder.CheckpointsDir)
	out := t.TempDir()
	viaPointer, viaFile := filepath.Join(out, "pointer.png"), filepath.Join(out, "file.png")
	code, stdout, stderr := call(runSample, filepath.Join(ckDir, runfolder.LatestFile), "-n", "4", "-out", viaPointer)
	if code != exitOK || !strings.Contains(stdout, "step 6") {
		t.Fatalf("latest: exit %d, %q, %q", code, stdout, stderr)
	}
	if code, _, stderr := call(runSample, filepath.Join(ckDir, "step-000006.safetensors"), "-n", "4", "-out", viaFile); code != exitOK {
		t.Fatalf("step-000006: exit %d: %s", code, stderr)
	}
	if !bytes.Equal(readFile(t, viaPointer), readFile(t, viaFile)) {
		t.Error("the pointer and the file it names gave different images")
	}
	if code, _, stderr := call(runInterpolate, filepath.Join(ckDir, runfolder.LatestFile), "-steps", "3", "-out", filepath.Join(out, "i.png")); code != exitOK {
		t.Errorf("interpolate latest: exit %d: %s", code, stderr)
	}
	// A pointer that names no checkpoint says what the file is.
	if err := os.WriteFile(filepath.Join(ckDir, runfolder.LatestFile), []byte("junk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = call(runSample, filepath.Join(ckDir, runfolder.LatestFile), "-n", "4", "-out", viaPointer)
	if code == exitOK || !strings.Contains(stderr, "pointer to its newest checkpoint") || strings.Contains(stderr, "header length") {
		t.Errorf("junk pointer: exit %d, %q", code, stderr)
	}
}

// TestSamplePlane: -plane P draws a PxP grid of the latent plane, the same
// file twice, a conditional model's plane needs -class, and -plane refuses
// -n, -seed (the plane draws no noise) and sizes outside 2..100.
func TestSamplePlane(t *testing.T) {
	dcgan, cgan := trainTiny(t, "dcgan"), trainTiny(t, "cgan")
	out := t.TempDir()
	a, b, c := filepath.Join(out, "a.png"), filepath.Join(out, "b.png"), filepath.Join(out, "c.png")
	for _, p := range []string{a, b} {
		code, stdout, stderr := call(runSample, dcgan, "-plane", "3", "-out", p)
		if code != exitOK || !strings.Contains(stdout, "9 images, 3 per row") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	}
	if g := decodePNG(t, a).Bounds(); g.Dx() != 2+3*30 || g.Dy() != 2+3*30 {
		t.Errorf("grid %v, want 92x92", g)
	}
	if !bytes.Equal(readFile(t, a), readFile(t, b)) {
		t.Error("the same plane drawn twice differs")
	}
	// The plane is not the seed's random noise.
	if code, _, stderr := call(runSample, dcgan, "-n", "9", "-out", c); code != exitOK {
		t.Fatal(stderr)
	}
	if bytes.Equal(readFile(t, a), readFile(t, c)) {
		t.Error("-plane drew the seed's noise")
	}
	if code, _, stderr := call(runSample, cgan, "-plane", "2", "-class", "1", "-out", c); code != exitOK {
		t.Errorf("conditional plane with -class: %s", stderr)
	}
	// -h says why -seed is refused.
	if _, help, _ := call(runSample, "-h"); !strings.Contains(strings.Join(strings.Fields(help), " "), "the same for every seed: -seed, like -n, -code and -truncation, is refused with it") {
		t.Errorf("-h does not say -plane refuses -seed:\n%s", help)
	}
	for _, cs := range []struct {
		args []string
		want string
	}{
		{[]string{dcgan, "-plane", "1"}, "-plane 1"},
		{[]string{dcgan, "-plane", "101"}, "2 to 100"},
		{[]string{dcgan, "-plane", "3", "-n", "9"}, "without -n"},
		{[]string{dcgan, "-plane", "3", "-truncation", "0.5"}, "-truncation"},
		{[]string{dcgan, "-plane", "3", "-seed", "5", "-out", c}, "every seed gives the same plane"},
		{[]string{cgan, "-plane", "3", "-out", c}, "give the class"},
	} {
		if code, _, stderr := call(runSample, cs.args...); code != exitUsage || !strings.Contains(stderr, cs.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", cs.args[1:], code, stderr, exitUsage, cs.want)
		}
	}
}

// trainRing8 trains the default 2-D preset for 10 steps into a new folder
// and returns it.
func trainRing8(t *testing.T) string {
	t.Helper()
	toy := filepath.Join(t.TempDir(), "ring8")
	var o, e bytes.Buffer
	if code := runTrain([]string{"-out", toy, "-set", "train.steps=10", "-set", "train.sample_n=100"}, &o, &e); code != exitOK {
		t.Fatalf("train ring8: exit %d: %s", code, e.String())
	}
	return toy
}

// TestSampleFormats: -out's name picks the format (a JPEG or GIF grid; a
// 2-D run's points as CSV, or as a scatter plot under an image name), and
// a name of another format is refused before any work, writing nothing.
func TestSampleFormats(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	toy := trainRing8(t)
	out := t.TempDir()
	decode := func(path string) (image.Image, string) {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, format, err := image.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return img, format
	}
	for _, c := range []struct{ run, name, format string }{
		{dcgan, "g.jpg", "jpeg"}, {dcgan, "g.JPEG", "jpeg"}, {dcgan, "g.gif", "gif"}, {dcgan, "g.png", "png"}, {toy, "s.png", "png"},
	} {
		p := filepath.Join(out, c.name)
		if code, _, stderr := call(runSample, c.run, "-n", "16", "-out", p); code != exitOK {
			t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
		}
		img, format := decode(p)
		want := image.Pt(4*30+2, 4*30+2) // 4x4 cells of 28 with padding 2
		if c.run == toy {
			want = picture.Scatter(nil, nil, "").Bounds().Size()
		}
		if format != c.format || img.Bounds().Size() != want {
			t.Errorf("%s: %s %v, want %s %v", c.name, format, img.Bounds().Size(), c.format, want)
		}
	}
	// A 2-D run's name without an extension stays a CSV file.
	if code, stdout, stderr := call(runSample, toy, "-n", "3", "-out", filepath.Join(out, "pts")); code != exitOK || !strings.Contains(stdout, "3 points (x,y)") {
		t.Fatalf("no extension: exit %d: %s%s", code, stdout, stderr)
	}
	p := filepath.Join(out, "s.csv")
	if code, stdout, stderr := call(runSample, toy, "-n", "5", "-out", p); code != exitOK || !strings.Contains(stdout, "5 points") {
		t.Fatalf("csv: exit %d: %s%s", code, stdout, stderr)
	}
	if lines := strings.Split(strings.TrimSpace(string(readFile(t, p))), "\n"); len(lines) != 6 || lines[0] != "x,y" {
		t.Errorf("csv: %q, want a header and 5 points", lines)
	}
	for _, run := range []string{dcgan, toy} {
		p := filepath.Join(out, "g.bmp")
		code, stdout, stderr := call(runSample, run, "-out", p)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "cannot write .bmp images (use .png, .jpg or .gif)") {
			t.Errorf("-out g.bmp: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		if _, err := os.Stat(p); err == nil {
			t.Error("-out g.bmp wrote a file")
		}
	}
}

// readNPYOf reads the NPY file at path and fails the test unless its type
// is descr ("|u1", "<f4") and its shape prints as shape.
func readNPYOf(t *testing.T, path, descr, shape string) *data.NPY {
	t.Helper()
	x, err := data.ReadNPYFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if x.Descr() != descr || fmt.Sprint(x.Shape) != shape {
		t.Fatalf("%s: %s %v, want %s %s", path, x.Descr(), x.Shape, descr, shape)
	}
	return x
}

// TestSampleNPY: -out FILE.npy writes the images as uint8 [N, C, H, W], the
// bytes -separate's PNGs hold, and a 2-D run's points as float32 [N, 2]
// equal to the CSV's; -n may then go past the grids' limit, and -separate
// with it is refused.
func TestSampleNPY(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	toy := trainRing8(t)
	out := t.TempDir()
	p, sep := filepath.Join(out, "s.NPY"), filepath.Join(out, "each")
	code, stdout, stderr := call(runSample, dcgan, "-n", "70", "-seed", "3", "-out", p)
	if code != exitOK || !strings.Contains(stdout, "70 images as uint8 [70 1 28 28]") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	x := readNPYOf(t, p, "|u1", "[70 1 28 28]")
	if code, _, stderr := call(runSample, dcgan, "-n", "70", "-seed", "3", "-separate", sep); code != exitOK {
		t.Fatalf("-separate: exit %d: %s", code, stderr)
	}
	for _, i := range []int{0, 69} {
		img := decodePNG(t, filepath.Join(sep, fmt.Sprintf("sample-%03d.png", i)))
		for y := range 28 {
			for x0 := range 28 {
				r, _, _, _ := img.At(x0, y).RGBA()
				if got, want := x.Data[i*784+y*28+x0], byte(r>>8); got != want {
					t.Fatalf("image %d pixel (%d, %d): npy %d, png %d", i, x0, y, got, want)
				}
			}
		}
	}

	// A 2-D run: the CSV's points, as float32.
	csv := filepath.Join(out, "s.csv")
	if code, _, stderr := call(runSample, toy, "-n", "5", "-out", csv); code != exitOK {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr = call(runSample, toy, "-n", "5", "-out", p); code != exitOK || !strings.Contains(stdout, "5 points as float32 [5, 2]") {
		t.Fatalf("2-D npy: exit %d: %s%s", code, stdout, stderr)
	}
	pts := readNPYOf(t, p, "<f4", "[5 2]")
	lines := strings.Split(strings.TrimSpace(string(readFile(t, csv))), "\n")[1:]
	for i, line := range lines {
		for j, f := range strings.Split(line, ",") {
			want, _ := strconv.ParseFloat(f, 32)
			got := math.Float32frombits(binary.LittleEndian.Uint32(pts.Data[4*(2*i+j):]))
			if float32(want) != got {
				t.Errorf("point %d, %d: npy %g, csv %s", i, j, got, f)
			}
		}
	}

	// Past the grids' limit with .npy only; -separate with it refused.
	big := filepath.Join(out, "big.npy")
	if code, _, stderr := call(runSample, dcgan, "-n", "10050", "-out", big); code != exitOK || !strings.Contains(stderr, "sample: 10050/10050 images") {
		t.Fatalf("-n 10050: exit %d: %s", code, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-n", "10001", "-out", filepath.Join(out, "g.png")}, "-n 10001: want 1 to 10000 (up to 100000 with -out FILE.npy)"},
		{[]string{"-n", "100001", "-out", filepath.Join(out, "x.npy")}, "-n 100001: want 1 to 100000 with -out FILE.npy"},
		{[]string{"-separate", sep, "-out", filepath.Join(out, "x.npy")}, "give one"},
	} {
		code, stdout, stderr := call(runSample, append([]string{dcgan}, c.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d mentioning %q", c.args, code, stdout, stderr, exitUsage, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "x.npy")); err == nil {
		t.Error("a refused command wrote x.npy")
	}
}

// TestSampleSeparateFolder: -separate takes a new or empty folder. A second
// draw into a folder already holding images is refused before any work,
// leaving the first draw's files as they were (a smaller draw used to
// leave the first one's last images among the new ones); a file there is
// refused too.
func TestSampleSeparateFolder(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	root := t.TempDir()
	sep := filepath.Join(root, "each")
	if code, _, stderr := call(runSample, dcgan, "-n", "3", "-separate", sep); code != exitOK {
		t.Fatalf("first draw: exit %d: %s", code, stderr)
	}
	before := readFile(t, filepath.Join(sep, "sample-001.png"))
	code, stdout, stderr := call(runSample, dcgan, "-n", "2", "-seed", "9", "-separate", sep)
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "-separate "+sep+": the folder is not empty") || !strings.Contains(stderr, "new or empty folder") {
		t.Errorf("second draw into the same folder: exit %d, stdout %q, stderr %q; want a usage error saying it is not empty", code, stdout, stderr)
	}
	if !bytes.Equal(before, readFile(t, filepath.Join(sep, "sample-001.png"))) {
		t.Error("the refused draw overwrote sample-001.png")
	}
	if files, _ := filepath.Glob(filepath.Join(sep, "*")); len(files) != 3 {
		t.Errorf("the folder holds %q, want the first draw's 3 images", files)
	}
	// An existing empty folder is fine.
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := call(runSample, dcgan, "-n", "2", "-separate", empty); code != exitOK || !strings.Contains(stdout, "wrote 2 images") {
		t.Errorf("empty folder: exit %d, %q, %q", code, stdout, stderr)
	}
	// A file is not a folder.
	file := filepath.Join(root, "f.png")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = call(runSample, dcgan, "-n", "2", "-separate", file)
	if code != exitUsage || !strings.Contains(stderr, "is a file: -separate takes a folder") {
		t.Errorf("-separate FILE: exit %d, stderr %q", code, stderr)
	}
}

// TestSampleOutFolder: -out naming an existing folder is a usage error
// that says -out takes a file name and -separate a folder, before any
// work (it was a rename error after drawing), for images, .npy and a 2-D
// run's points alike.
func TestSampleOutFolder(t *testing.T) {
	dcgan := trainTiny(t, "dcgan")
	toy := trainRing8(t)
	dir := t.TempDir()
	for _, c := range []struct {
		run, name string
	}{{dcgan, "out"}, {dcgan, "out.png"}, {dcgan, "out.npy"}, {toy, "pts.csv"}} {
		out := filepath.Join(dir, c.name)
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := call(runSample, c.run, "-n", "4", "-out", out)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "-out "+out+" is a folder: -out takes a file name") || !strings.Contains(stderr, "-separate") {
			t.Errorf("-out %s: exit %d, stdout %q, stderr %q; want a usage error saying it is a folder", c.name, code, stdout, stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("-out %s: the folder got %d entries", c.name, len(entries))
		}
	}
}

// TestSampleConditionalFamilies: the families sample -h names as
// conditional besides cgan and acgan (biggan, sngan and sagan with
// model.conditional) take -class and -per-class, and the help says so.
func TestSampleConditionalFamilies(t *testing.T) {
	code, help, _ := call(runSample, "-h")
	if code != exitOK {
		t.Fatalf("-h: exit %d", code)
	}
	flat := strings.Join(strings.Fields(help), " ")
	for _, want := range []string{"cgan, acgan, biggan, sngan and sagan with model.conditional", "aae with the mixture or categorical prior"} {
		if !strings.Contains(flat, want) {
			t.Errorf("-h does not name %q as conditional:\n%s", want, help)
		}
	}
	for name, model := range map[string]string{
		"biggan": "{kind: biggan, z_dim: 6, shared_dim: 4, g_width: 4, d_width: 4, attention: false}",
		"sngan":  "{kind: sngan, z_dim: 4, g_width: 4, d_width: 4, conditional: true}",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := config.Parse(strings.NewReader(`
name: tiny-` + name + `
seed: 3
data: {kind: synthetic, size: 28, n: 16, classes: 3}
model: ` + model + `
loss: {name: hinge}
train: {steps: 2, batch: 4, log_every: 0, sample_every: 0, checkpoint_every: 2}
`))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), name)
			if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
				t.Fatalf("train: %v", err)
			}
			out := filepath.Join(t.TempDir(), "g.png")
			if code, _, stderr := call(runSample, dir, "-class", "2", "-n", "2", "-out", out); code != exitOK {
				t.Errorf("-class 2: exit %d: %s", code, stderr)
			}
			if code, stdout, stderr := call(runSample, dir, "-per-class", "2", "-out", out); code != exitOK || !strings.Contains(stdout, "6 images, 2 per row") {
				t.Errorf("-per-class 2: exit %d, %q, %q", code, stdout, stderr)
			}
			if code, _, stderr := call(runSample, dir, "-class", "3", "-out", out); code != exitUsage || !strings.Contains(stderr, "0 to 2") {
				t.Errorf("-class 3: exit %d, %q", code, stderr)
			}
		})
	}
}
