package main

import (
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInterpolate writes a one-row grid and an animated GIF from a tiny
// run and checks their sizes and frame count, and the errors.
func TestInterpolate(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	out := t.TempDir()
	grid, anim := filepath.Join(out, "row.png"), filepath.Join(out, "walk.gif")
	code, stdout, stderr := call(runInterpolate, dir, "-from", "1", "-to", "9", "-steps", "5", "-slerp", "-out", grid, "-gif", anim)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "slerp from seed 1 to seed 9") {
		t.Errorf("stdout %q", stdout)
	}
	if b := decodePNG(t, grid).Bounds(); b.Dx() != 5*30+2 || b.Dy() != 32 {
		t.Errorf("grid %v, want 152x32", b)
	}
	f, err := os.Open(anim)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gif.DecodeAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Forth and back: 5 + 3 frames.
	if len(g.Image) != 8 || g.Config.Width != 28 || g.Config.Height != 28 {
		t.Errorf("GIF: %d frames of %dx%d, want 8 of 28x28", len(g.Image), g.Config.Width, g.Config.Height)
	}
	// Lerp grid only (the default output name is not used here).
	if code, _, stderr := call(runInterpolate, dir, "-steps", "3", "-out", grid); code != exitOK {
		t.Fatalf("lerp: exit %d: %s", code, stderr)
	}
	if b := decodePNG(t, grid).Bounds(); b.Dx() != 3*30+2 {
		t.Errorf("lerp grid %v, want width 92", b)
	}
	cgan := trainTiny(t, "cgan")
	if code, _, stderr := call(runInterpolate, cgan, "-class", "2", "-steps", "3", "-out", grid); code != exitOK {
		t.Fatalf("cgan: exit %d: %s", code, stderr)
	}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{dir, "-steps", "1"}, exitUsage, "-steps 1"},
		{[]string{dir, "-class", "0", "-out", grid}, exitUsage, "unconditional"},
		{[]string{cgan, "-class", "9", "-out", grid}, exitUsage, "out of range"},
		{[]string{filepath.Join(out, "missing")}, exitUsage, "no such file"},
		{[]string{}, exitUsage, "want one run folder"},
		{[]string{dir, "-nope"}, exitUsage, "-nope"},
		{[]string{dir, "-out", filepath.Join(out, "i.webp")}, exitUsage, "cannot write .webp images"},
	}
	for _, c := range cases {
		code, _, stderr := call(runInterpolate, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "i.webp")); err == nil {
		t.Error("a refused command wrote i.webp")
	}
	code, stdout, _ = call(runInterpolate, "-h")
	if code != exitOK || strings.Count(stdout, "Usage: kallima interpolate") != 1 || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: exit %d, stdout %q", code, stdout)
	}
}

// TestInterpolateOutputs: -gif takes a .gif name (any case), never -out's
// (the still grid, written second, replaced the animation), and neither
// may name a folder; each is a usage error before any work, writing
// nothing.
func TestInterpolateOutputs(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	out := t.TempDir()
	folder := filepath.Join(out, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	walk := filepath.Join(out, "walk.gif")
	for _, c := range []struct {
		args  []string
		want  string
		wrote string
	}{
		{[]string{"-gif", walk, "-out", walk}, "-gif and -out are both " + walk, walk},
		{[]string{"-gif", walk, "-out", filepath.Join(out, ".", "walk.gif")}, "the still grid would overwrite the animation", walk},
		{[]string{"-gif", filepath.Join(out, "walk.txt")}, "give a name ending in .gif", filepath.Join(out, "walk.txt")},
		{[]string{"-gif", filepath.Join(out, "walk.png"), "-out", filepath.Join(out, "row.png")}, "give a name ending in .gif", filepath.Join(out, "walk.png")},
		{[]string{"-gif", filepath.Join(out, "walk")}, "give a name ending in .gif", filepath.Join(out, "walk")},
		{[]string{"-out", folder}, "-out " + folder + " is a folder: -out takes a file name", ""},
		{[]string{"-gif", filepath.Join(out, "anim.gif"), "-out", folder}, "is a folder", filepath.Join(out, "anim.gif")},
	} {
		code, stdout, stderr := call(runInterpolate, append([]string{dir, "-steps", "3"}, c.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want a usage error with %q", c.args, code, stdout, stderr, c.want)
		}
		if c.wrote != "" {
			if _, err := os.Stat(c.wrote); err == nil {
				t.Errorf("%v: wrote %s", c.args, c.wrote)
			}
		}
	}
	// interpolate has no -separate to point to.
	if _, _, stderr := call(runInterpolate, dir, "-out", folder); strings.Contains(stderr, "-separate") {
		t.Errorf("-out FOLDER: %q names sample's -separate", stderr)
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("the folder got %d entries", len(entries))
	}
	gifFolder := filepath.Join(out, "anim.gif")
	if err := os.Mkdir(gifFolder, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := call(runInterpolate, dir, "-steps", "3", "-gif", gifFolder); code != exitUsage || !strings.Contains(stderr, "-gif "+gifFolder+" is a folder") {
		t.Errorf("-gif FOLDER: exit %d, %q", code, stderr)
	}
	// A GIF and a GIF still under two names, and an upper-case .GIF: both written.
	anim, still := filepath.Join(out, "Walk.GIF"), filepath.Join(out, "still.gif")
	code, stdout, stderr := call(runInterpolate, dir, "-steps", "3", "-gif", anim, "-out", still)
	if code != exitOK || strings.Count(stdout, "wrote ") != 2 {
		t.Fatalf("two GIFs: exit %d, %q, %q", code, stdout, stderr)
	}
	for p, frames := range map[string]int{anim: 4, still: 1} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		g, err := gif.DecodeAll(f)
		f.Close()
		if err != nil || len(g.Image) != frames {
			t.Errorf("%s: %v, want %d frames", p, err, frames)
		}
	}
}
