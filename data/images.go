package data

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kallima-gan/kallima/tensor"
)

// FolderConfig configures LoadFolder.
type FolderConfig struct {
	// Height and Width are the output images' size; both must be positive.
	Height, Width int
	// Gray makes one-channel images (luma Y = 0.299 R + 0.587 G + 0.114 B,
	// ITU-R BT.601, as PIL's "L" mode) instead of three-channel RGB.
	Gray bool
	// CenterCrop crops each image to the output's aspect ratio, centred,
	// before resizing; without it images are stretched to Height x Width.
	CenterCrop bool
	// Skip skips files that cannot be read or decoded, counting them,
	// instead of failing on the first.
	Skip bool
	// Warnings receives one line per skipped file; nil discards them.
	Warnings io.Writer
}

// MaxImagePixels is the largest image (width times height) LoadFolder
// decodes; a larger one, or a header claiming one, is an unreadable file.
const MaxImagePixels = 1 << 27

// imageExts are the file name extensions LoadFolder reads (case-insensitive).
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true}

// LoadFolder loads a folder of PNG and JPEG images into memory as a Set of
// [N, C, H, W] images in [-1, 1] (C = 1 if cfg.Gray, else 3).
//
// Labels: each subfolder of root holding images (at any depth below it) is
// a class, numbered 0..K-1 in the sorted order of the folder names; images
// directly in root form one class of their own, named ".", numbered before
// the subfolders (so a root with no subfolders is one class, label 0).
// Files and folders whose names start with "." are ignored, and so are
// files without a .png, .jpg or .jpeg extension. Images are ordered by
// class, then path.
//
// Each image is converted to RGB (alpha composited over black) or gray,
// optionally centre-cropped to the output's aspect ratio, and resized
// separably per axis: an area (box) filter where an axis shrinks, the exact
// mean of the source pixels each output pixel covers (PIL's BOX, OpenCV's
// INTER_AREA); bilinear interpolation with half-pixel centres where it
// grows (PyTorch's align_corners=False). Byte value v maps to v/127.5 - 1.
//
// An unreadable or undecodable file is an error naming it; with cfg.Skip it
// is skipped instead, reported to cfg.Warnings and counted in skipped.
// Memory: N*C*H*W float32s. Files are decoded in parallel.
func LoadFolder(root string, cfg FolderConfig) (set *Set, skipped int, err error) {
	if cfg.Height <= 0 || cfg.Width <= 0 {
		return nil, 0, fmt.Errorf("image folder %s: output size %dx%d, want positive height and width", root, cfg.Height, cfg.Width)
	}
	files, labels, classes, err := listImages(root)
	if err != nil {
		return nil, 0, err
	}
	c := 3
	if cfg.Gray {
		c = 1
	}
	chw := c * cfg.Height * cfg.Width
	pix := make([]float32, len(files)*chw) // not from tensor's pool: no arena can reclaim it
	errs := decodeAll(len(files), func(i int) error { return loadImage(files[i], cfg, pix[i*chw:(i+1)*chw]) })
	n := 0
	for i, e := range errs {
		if e != nil {
			if !cfg.Skip {
				return nil, 0, e
			}
			skipped++
			if cfg.Warnings != nil {
				fmt.Fprintf(cfg.Warnings, "warning: skipping %v\n", e)
			}
			continue
		}
		copy(pix[n*chw:(n+1)*chw], pix[i*chw:(i+1)*chw])
		labels[n] = labels[i]
		n++
	}
	if n == 0 {
		return nil, skipped, fmt.Errorf("image folder %s: none of its %d image files could be read", root, len(files))
	}
	return &Set{
		Images:  tensor.FromSlice(pix[:n*chw:n*chw], n, c, cfg.Height, cfg.Width),
		Labels:  labels[:n:n],
		Classes: classes,
	}, skipped, nil
}

// listImages lists root's image files with their labels and the class
// names, as LoadFolder describes.
func listImages(root string) (files []string, labels []int, classes []string, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("image folder: %w", err)
	}
	var top []string
	var dirs []string
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(root, name)
		if e.IsDir() {
			dirs = append(dirs, path)
		} else if imageExts[strings.ToLower(filepath.Ext(name))] {
			top = append(top, path)
		}
	}
	add := func(name string, paths []string) {
		if len(paths) == 0 {
			return
		}
		for _, p := range paths {
			files = append(files, p)
			labels = append(labels, len(classes))
		}
		classes = append(classes, name)
	}
	add(".", top)
	for _, dir := range dirs {
		var paths []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && imageExts[strings.ToLower(filepath.Ext(path))] {
				paths = append(paths, path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("image folder: %w", err)
		}
		sort.Strings(paths)
		add(filepath.Base(dir), paths)
	}
	if len(files) == 0 {
		return nil, nil, nil, fmt.Errorf("image folder %s: no .png, .jpg or .jpeg files", root)
	}
	return files, labels, classes, nil
}

// loadImage decodes the image file at path into out, [C, H, W] in [-1, 1].
func loadImage(path string, cfg FolderConfig, out []float32) error {
	img, err := decodeImage(path)
	if err != nil {
		return err
	}
	fillImage(img, img.Bounds(), cfg, out)
	return nil
}

// decodeImage decodes the PNG or JPEG file at path, refusing one larger
// than MaxImagePixels or empty; errors name the file.
func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	return decodeFrom(path, f)
}

// decodeFrom decodes the PNG or JPEG image in r (called name in errors),
// refusing one larger than MaxImagePixels or empty.
func decodeFrom(name string, r io.ReadSeeker) (image.Image, error) {
	conf, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: decode: %w", name, err)
	}
	if int64(conf.Width)*int64(conf.Height) > MaxImagePixels {
		return nil, fmt.Errorf("read %s: %dx%d pixels, more than the %d LoadFolder decodes", name, conf.Width, conf.Height, MaxImagePixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	img, format, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: decode: %w", name, err)
	}
	if format != "png" && format != "jpeg" {
		return nil, fmt.Errorf("read %s: a %s image, want PNG or JPEG", name, format)
	}
	if img.Bounds().Empty() {
		return nil, fmt.Errorf("read %s: empty image", name)
	}
	return img, nil
}

// fillImage converts the part r of img (non-empty) into out, [C, H, W] in
// [-1, 1], cropped, converted and resized as LoadFolder describes.
func fillImage(img image.Image, r image.Rectangle, cfg FolderConfig, out []float32) {
	if cfg.CenterCrop {
		r = centerCrop(r, cfg.Height, cfg.Width)
	}
	c := len(out) / (cfg.Height * cfg.Width)
	planes := toPlanes(img, r, c == 1)
	resized := resize(planes, c, r.Dy(), r.Dx(), cfg.Height, cfg.Width)
	for i, v := range resized {
		out[i] = 2*v - 1
	}
}

// centerCrop returns the largest centred sub-rectangle of r with aspect
// ratio w:h (rounded to whole pixels).
func centerCrop(r image.Rectangle, h, w int) image.Rectangle {
	sw, sh := r.Dx(), r.Dy()
	if sw*h > sh*w { // too wide
		cw := max(1, int(math.Round(float64(sh)*float64(w)/float64(h))))
		x0 := r.Min.X + (sw-cw)/2
		return image.Rect(x0, r.Min.Y, x0+cw, r.Max.Y)
	}
	ch := max(1, int(math.Round(float64(sw)*float64(h)/float64(w))))
	y0 := r.Min.Y + (sh-ch)/2
	return image.Rect(r.Min.X, y0, r.Max.X, y0+ch)
}

// toPlanes returns the pixels of img inside r as [C, r.Dy(), r.Dx()] values
// in [0, 1], C = 1 (BT.601 luma) if gray, else 3 (RGB, alpha premultiplied,
// that is composited over black).
func toPlanes(img image.Image, r image.Rectangle, gray bool) []float32 {
	h, w := r.Dy(), r.Dx()
	c := 3
	if gray {
		c = 1
	}
	p := make([]float32, c*h*w)
	set := func(i int, rr, gg, bb float32) { // values in [0, 1]
		if gray {
			p[i] = 0.299*rr + 0.587*gg + 0.114*bb
			return
		}
		p[i], p[h*w+i], p[2*h*w+i] = rr, gg, bb
	}
	const k8 = 1.0 / 255
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := 0; x < w; x++ {
				v := float32(row[x]) * k8
				if gray {
					p[y*w+x] = v
				} else {
					set(y*w+x, v, v, v)
				}
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi, ci := m.YOffset(r.Min.X+x, r.Min.Y+y), m.COffset(r.Min.X+x, r.Min.Y+y)
				rr, gg, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				set(y*w+x, float32(rr)*k8, float32(gg)*k8, float32(bb)*k8)
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := 0; x < w; x++ {
				q := row[4*x : 4*x+4]
				a := float32(q[3]) * k8
				set(y*w+x, float32(q[0])*k8*a, float32(q[1])*k8*a, float32(q[2])*k8*a)
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(r.Min.X, r.Min.Y+y):]
			for x := 0; x < w; x++ {
				q := row[4*x : 4*x+4]
				set(y*w+x, float32(q[0])*k8, float32(q[1])*k8, float32(q[2])*k8)
			}
		}
	default:
		const k16 = 1.0 / 65535
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				rr, gg, bb, _ := img.At(r.Min.X+x, r.Min.Y+y).RGBA()
				set(y*w+x, float32(rr)*k16, float32(gg)*k16, float32(bb)*k16)
			}
		}
	}
	return p
}

// tap is one source pixel's weight in an output pixel.
type tap struct {
	i int
	w float32
}

// axisTaps returns, for each of the out output positions along an axis of
// in source pixels, the source pixels it reads and their weights: the
// identity if out == in; the area filter if out < in (output j averages the
// source interval [j*in/out, (j+1)*in/out), pixels partly inside weighted
// by their overlap); bilinear interpolation with half-pixel centres if
// out > in (source coordinate (j+0.5)*in/out - 0.5, clamped to the edges).
func axisTaps(in, out int) [][]tap {
	taps := make([][]tap, out)
	scale := float64(in) / float64(out)
	for j := range taps {
		switch {
		case in == out:
			taps[j] = []tap{{j, 1}}
		case out < in:
			lo, hi := float64(j)*scale, float64(j+1)*scale
			for i := int(math.Floor(lo)); i < in && float64(i) < hi; i++ {
				ov := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
				if ov > 1e-12 {
					taps[j] = append(taps[j], tap{i, float32(ov / scale)})
				}
			}
		default:
			x := math.Max((float64(j)+0.5)*scale-0.5, 0)
			i0 := min(int(x), in-1)
			i1 := min(i0+1, in-1)
			f := float32(x - float64(i0))
			if i1 == i0 {
				f = 0
			}
			taps[j] = []tap{{i0, 1 - f}, {i1, f}}
		}
	}
	return taps
}

// resize resizes c planes of sh x sw pixels to dh x dw, separably (along
// x, then y) with axisTaps' filters.
func resize(src []float32, c, sh, sw, dh, dw int) []float32 {
	if sh == dh && sw == dw {
		return src
	}
	tx, ty := axisTaps(sw, dw), axisTaps(sh, dh)
	mid := make([]float32, c*sh*dw)
	for p := 0; p < c*sh; p++ {
		row, o := src[p*sw:(p+1)*sw], mid[p*dw:(p+1)*dw]
		for j, ts := range tx {
			var s float32
			for _, t := range ts {
				s += t.w * row[t.i]
			}
			o[j] = s
		}
	}
	out := make([]float32, c*dh*dw)
	for k := 0; k < c; k++ {
		in, o := mid[k*sh*dw:(k+1)*sh*dw], out[k*dh*dw:(k+1)*dh*dw]
		for j, ts := range ty {
			orow := o[j*dw : (j+1)*dw]
			for _, t := range ts {
				irow := in[t.i*dw : (t.i+1)*dw]
				for x := range orow {
					orow[x] += t.w * irow[x]
				}
			}
		}
	}
	return out
}

// decodeAll runs decode(i) for i in [0, n) on GOMAXPROCS goroutines and
// returns each call's error, by index.
func decodeAll(n int, decode func(i int) error) []error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = decode(i)
			}
		}()
	}
	wg.Wait()
	return errs
}
