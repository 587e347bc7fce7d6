package main

import (
	"image/gif"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func angle(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return math.Acos(max(-1, min(1, d/(norm(a)*norm(b)))))
}

// TestSlerp checks that slerp starts at a and ends at b, that at every t
// the norm is (1-t)|a| + t|b| and the direction is at angle t·ω from a and
// (1-t)·ω from b, and that Lerp ends at its inputs with the midpoint the
// mean.
func TestSlerp(t *testing.T) {
	rng := tensor.NewRNG(42)
	cases := []struct {
		name string
		a, b []float32
	}{
		{"gaussian 64", rng.Normal(0, 1, 64).Data(), rng.Normal(0, 1, 64).Data()},
		{"different norms", rng.Normal(0, 1, 16).Data(), rng.Normal(0, 3, 16).Data()},
		{"orthogonal", []float32{2, 0, 0}, []float32{0, 1, 0}},
	}
	for _, c := range cases {
		for i, want := range map[float64][]float32{0: c.a, 1: c.b} {
			got := Slerp(c.a, c.b, i)
			for j := range got {
				if math.Abs(float64(got[j]-want[j])) > 1e-5*(1+math.Abs(float64(want[j]))) {
					t.Fatalf("%s: slerp(t=%v)[%d] = %v, want %v", c.name, i, j, got[j], want[j])
				}
			}
		}
		na, nb, omega := norm(c.a), norm(c.b), angle(c.a, c.b)
		for _, tt := range []float64{0.25, 0.5, 0.8} {
			s := Slerp(c.a, c.b, tt)
			if got, want := norm(s), (1-tt)*na+tt*nb; math.Abs(got-want) > 1e-5*want {
				t.Errorf("%s: |slerp(%v)| = %v, want %v", c.name, tt, got, want)
			}
			if got := angle(c.a, s); math.Abs(got-tt*omega) > 1e-3 {
				t.Errorf("%s: angle(a, slerp(%v)) = %v, want %v", c.name, tt, got, tt*omega)
			}
			if got := angle(s, c.b); math.Abs(got-(1-tt)*omega) > 1e-3 {
				t.Errorf("%s: angle(slerp(%v), b) = %v, want %v", c.name, tt, got, (1-tt)*omega)
			}
		}
		m := Lerp(c.a, c.b, 0.5)
		for j := range m {
			if want := (c.a[j] + c.b[j]) / 2; math.Abs(float64(m[j]-want)) > 1e-6 {
				t.Fatalf("%s: lerp midpoint [%d] = %v, want %v", c.name, j, m[j], want)
			}
		}
	}
	// Parallel vectors fall back to Lerp (no division by sin 0).
	if got := Slerp([]float32{1, 1}, []float32{3, 3}, 0.5); got[0] != 2 || got[1] != 2 {
		t.Errorf("parallel: %v, want [2 2]", got)
	}
}

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
