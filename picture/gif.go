package picture

import (
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"
	"slices"
	"time"
)

// EncodeGIF writes frames as an animated GIF that loops forever, showing each
// frame for delay (rounded to GIF's 10 ms unit, at least 10 ms). All frames
// share one palette, chosen from their pixels:
//
//   - every pixel an opaque gray: the 256 gray levels, exact;
//   - at most 256 distinct colors in all: those colors, exact;
//   - otherwise: Plan 9's 256-color palette with Floyd–Steinberg dithering.
//
// Alpha is dropped (a translucent pixel counts as composited over black). It
// panics if frames is empty or the frames differ in size; write errors are
// returned.
func EncodeGIF(w io.Writer, frames []image.Image, delay time.Duration) error {
	if len(frames) == 0 {
		panic("picture.EncodeGIF: no frames")
	}
	r := frames[0].Bounds()
	for i, f := range frames {
		if f.Bounds().Size() != r.Size() {
			panic(fmt.Sprintf("picture.EncodeGIF: frame %d is %v, frame 0 is %v", i, f.Bounds().Size(), r.Size()))
		}
	}
	d := max(1, int((delay+5*time.Millisecond)/(10*time.Millisecond)))
	pal, exact := choosePalette(frames)
	g := &gif.GIF{Config: image.Config{ColorModel: pal, Width: r.Dx(), Height: r.Dy()}}
	for _, f := range frames {
		b := f.Bounds()
		p := image.NewPaletted(image.Rect(0, 0, b.Dx(), b.Dy()), pal)
		if exact != nil {
			for y := range b.Dy() {
				for x := range b.Dx() {
					p.Pix[y*p.Stride+x] = exact[opaque(f.At(b.Min.X+x, b.Min.Y+y))]
				}
			}
		} else {
			draw.FloydSteinberg.Draw(p, p.Rect, f, b.Min)
		}
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, d)
	}
	if err := gif.EncodeAll(w, g); err != nil {
		return fmt.Errorf("picture: gif: %w", err)
	}
	return nil
}

// SaveGIF writes frames as an animated GIF file at path (see EncodeGIF),
// atomically like SavePNG.
func SaveGIF(path string, frames []image.Image, delay time.Duration) error {
	return writeAtomic(path, func(w io.Writer) error { return EncodeGIF(w, frames, delay) })
}

// opaque returns c's color with alpha dropped, as 8-bit RGB.
func opaque(c color.Color) color.RGBA {
	switch c := c.(type) {
	case color.Gray:
		return color.RGBA{c.Y, c.Y, c.Y, 255}
	case color.RGBA:
		c.A = 255
		return c
	}
	r, g, b, _ := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
}

// choosePalette returns the frames' shared palette and, when it holds every
// color exactly, the index of each color in it (nil when dithering is needed).
func choosePalette(frames []image.Image) (color.Palette, map[color.RGBA]uint8) {
	seen := map[color.RGBA]struct{}{}
	gray := true
scan:
	for _, f := range frames {
		b := f.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := opaque(f.At(x, y))
				if _, ok := seen[c]; ok {
					continue
				}
				seen[c] = struct{}{}
				gray = gray && c.R == c.G && c.G == c.B
				if !gray && len(seen) > 256 {
					break scan
				}
			}
		}
	}
	if gray {
		pal := make(color.Palette, 256)
		index := make(map[color.RGBA]uint8, 256)
		for i := range pal {
			c := color.RGBA{uint8(i), uint8(i), uint8(i), 255}
			pal[i], index[c] = c, uint8(i)
		}
		return pal, index
	}
	if len(seen) <= 256 {
		cs := make([]color.RGBA, 0, len(seen))
		for c := range seen {
			cs = append(cs, c)
		}
		slices.SortFunc(cs, func(a, b color.RGBA) int {
			return cmp.Or(cmp.Compare(a.R, b.R), cmp.Compare(a.G, b.G), cmp.Compare(a.B, b.B))
		})
		pal := make(color.Palette, len(cs))
		index := make(map[color.RGBA]uint8, len(cs))
		for i, c := range cs {
			pal[i], index[c] = c, uint8(i)
		}
		return pal, index
	}
	return palette.Plan9, nil
}
