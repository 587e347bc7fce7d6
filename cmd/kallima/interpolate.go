package main

import (
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

const interpolateUsage = `Usage: kallima interpolate RUN [flags]

Walks the generator's latent space from the noise vector of seed -from to
that of seed -to in -steps images (both ends included): a straight line
(lerp), or with -slerp along the great circle between their directions
while the norm moves linearly (White 2016, "Sampling Generative Networks",
arXiv:1609.04468), which keeps the path where Gaussian noise has its mass.
The images go into a one-row grid image (-out: a PNG, or a JPEG or a still
GIF when its name says so) and/or an animated GIF (-gif, a name ending in
.gif) that runs forth and back; the two must be different files. A
conditional model keeps one class (-class).

Flags:
`

const interpolateExamples = `
Examples:
  kallima interpolate runs/dcgan -from 1 -to 2                 8 images into interp.png
  kallima interpolate runs/dcgan -from 1 -to 2 -steps 16 -slerp -gif walk.gif
  kallima interpolate runs/cgan -from 3 -to 4 -class 5 -out five.png
`

func runInterpolate(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima interpolate", interpolateUsage, interpolateExamples)
	from := fs.Uint64("from", 1, "seed of the first noise vector")
	to := fs.Uint64("to", 2, "seed of the last noise vector")
	steps := fs.Int("steps", 8, "images along the path, both ends included (2 to 1000)")
	slerp := fs.Bool("slerp", false, "spherical interpolation instead of linear")
	gifPath := fs.String("gif", "", "write an animated GIF here (a .gif name, not -out's)")
	out := fs.String("out", "interp.png", "write a one-row grid image here, .png, .jpg or .gif (not written with -gif unless given)")
	delay := fs.Duration("delay", 100*time.Millisecond, "GIF frame duration")
	class := optionalInt(fs, "class", "the `class` (0 or more) of a conditional model; left out, class 0")
	raw := fs.Bool("raw", false, "use G's live weights instead of their EMA")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima interpolate: want one run folder, got %d arguments (see kallima interpolate -h)\n", len(pos))
		return exitUsage
	}
	if *steps < 2 || *steps > 1000 {
		fmt.Fprintf(stderr, "kallima interpolate: -steps %d: want 2 to 1000\n", *steps)
		return exitUsage
	}
	if isSet(fs, "class") && *class < 0 {
		fmt.Fprintf(stderr, "kallima interpolate: -class %d: classes are 0 or more\n", *class)
		return exitUsage
	}
	if *delay <= 0 {
		fmt.Fprintf(stderr, "kallima interpolate: -delay %v: want a positive duration\n", *delay)
		return exitUsage
	}
	writeGrid := *gifPath == "" || isSet(fs, "out")
	if writeGrid && *out == "" {
		fmt.Fprintln(stderr, "kallima interpolate: -out is empty and no -gif: nothing to write")
		return exitUsage
	}
	if writeGrid {
		if _, err := picture.FormatOf(*out); err != nil {
			fmt.Fprintf(stderr, "kallima interpolate: -out %v\n", err)
			return exitUsage
		}
	}
	if *gifPath != "" {
		if err := checkGIFPath(*gifPath); err != nil {
			fmt.Fprintf(stderr, "kallima interpolate: %v\n", err)
			return exitUsage
		}
	}
	if writeGrid {
		if err := checkOutFile(*out, "interp.png", ""); err != nil {
			fmt.Fprintf(stderr, "kallima interpolate: %v\n", err)
			return exitUsage
		}
	}
	if writeGrid && *gifPath != "" && samePath(*out, *gifPath) {
		// The grid, written second, would replace the animation.
		fmt.Fprintf(stderr, "kallima interpolate: -gif and -out are both %s: the still grid would overwrite the animation; give two names (or leave -out out for the GIF alone)\n", *gifPath)
		return exitUsage
	}
	g, code := loadSampler("interpolate", pos[0], "", *raw, stderr)
	if g == nil {
		return code
	}
	if !g.IsImage {
		fmt.Fprintf(stderr, "kallima interpolate: %s is a 2-D run whose samples are points; interpolate draws images (kallima sample %s writes its points as CSV)\n", pos[0], pos[0])
		return exitUsage
	}
	if !checkClass("interpolate", g, *class, stderr) {
		return exitUsage
	}
	z := pipeline.LatentPath(g.Prior, *from, *to, *steps, *slerp)
	var labels []int
	if g.Classes > 0 {
		labels = make([]int, *steps)
		for i := range labels {
			labels[i] = max(*class, 0)
		}
	}
	imgs, err := g.Sample(z, labels)
	if err != nil {
		fmt.Fprintf(stderr, "kallima interpolate: %v\n", err)
		return exitError
	}
	kind := "lerp"
	if *slerp {
		kind = "slerp"
	}
	what := fmt.Sprintf("%d images, %s from seed %d to seed %d, from %s", *steps, kind, *from, *to, describe(g, pos[0]))
	if *gifPath != "" {
		frames := interpolationFrames(imgs)
		if err := picture.SaveGIF(*gifPath, frames, *delay); err != nil {
			fmt.Fprintf(stderr, "kallima interpolate: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %s: %d frames (%s)\n", *gifPath, len(frames), what)
	}
	if writeGrid {
		if err := picture.Save(*out, picture.Grid(imgs, *steps, 2)); err != nil {
			fmt.Fprintf(stderr, "kallima interpolate: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %s: %s\n", *out, what)
	}
	return exitOK
}

// checkGIFPath reports a -gif name that does not end in .gif (the bytes
// written are a GIF whatever the name) or that names a folder.
func checkGIFPath(path string) error {
	if ext := filepath.Ext(path); !strings.EqualFold(ext, ".gif") {
		return fmt.Errorf("-gif %s: the animation is a GIF; give a name ending in .gif (-out writes the still grid as .png, .jpg or .gif)", path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("-gif %s is a folder: -gif takes a file name (such as %s)", path, filepath.Join(path, "walk.gif"))
	}
	return nil
}

// samePath reports whether a and b name one file: the same cleaned
// absolute path, or, when both exist, the same file (a link, say).
func samePath(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil {
			return os.SameFile(fa, fb)
		}
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return absA == absB
}

// interpolationFrames returns the GIF frames of imgs [S, C, H, W]: images
// 0 .. S-1, then back S-2 .. 1, so that the loop has no jump (2S-2 frames).
func interpolationFrames(imgs *tensor.Tensor) []image.Image {
	s, per := imgs.Size(0), imgs.Size(1)*imgs.Size(2)*imgs.Size(3)
	one := make([]image.Image, s)
	for i := range s {
		t := tensor.FromSlice(imgs.Data()[i*per:(i+1)*per], 1, imgs.Size(1), imgs.Size(2), imgs.Size(3))
		one[i] = picture.Grid(t, 1, 0)
	}
	frames := append([]image.Image(nil), one...)
	for i := s - 2; i >= 1; i-- {
		frames = append(frames, one[i])
	}
	return frames
}
