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
	code, stdout, _ = call(runInterpolate, "-h")
	if code != exitOK || strings.Count(stdout, "Usage: kallima interpolate") != 1 || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: exit %d, stdout %q", code, stdout)
	}
}
