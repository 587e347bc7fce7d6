package data

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/tensor"
)

// PixelRange is the range of the values of a float image array: which
// value is black and which is white.
type PixelRange int

// The pixel ranges LoadGray takes for float arrays.
const (
	// RangeAuto picks the range from the values: [-1, 1] if any is
	// negative, else [0, 1] if none exceeds 1.01, else [0, 255].
	RangeAuto PixelRange = iota
	// Range01 is [0, 1]: 0 black, 1 white (torchvision's ToTensor).
	Range01
	// RangeSigned is [-1, 1]: -1 black, 1 white (a tanh generator's
	// output, Kallima's own range).
	RangeSigned
	// Range255 is [0, 255]: byte values stored as floats.
	Range255
)

// pixelRanges are the names ParsePixelRange takes, by PixelRange.
var pixelRanges = [...]string{RangeAuto: "auto", Range01: "0,1", RangeSigned: "-1,1", Range255: "0,255"}

// String is the range's name as ParsePixelRange takes it: "auto", "0,1",
// "-1,1" or "0,255".
func (r PixelRange) String() string {
	if r < 0 || int(r) >= len(pixelRanges) {
		return fmt.Sprintf("PixelRange(%d)", int(r))
	}
	return pixelRanges[r]
}

// ParsePixelRange parses "auto", "0,1", "-1,1" or "0,255" (spaces are
// ignored).
func ParsePixelRange(s string) (PixelRange, error) {
	s = strings.ReplaceAll(s, " ", "")
	for r, name := range pixelRanges {
		if s == name {
			return PixelRange(r), nil
		}
	}
	return 0, fmt.Errorf("pixel range %q: want auto, 0,1, -1,1 or 0,255", s)
}

// bounds returns the range's black and white values.
func (r PixelRange) bounds() (lo, hi float32) {
	switch r {
	case Range01:
		return 0, 1
	case RangeSigned:
		return -1, 1
	default:
		return 0, 255
	}
}

// GraySet is a set of square gray images loaded by LoadGray.
type GraySet struct {
	// Images are [N, 1, side, side] in [-1, 1].
	Images *tensor.Tensor
	// Format says what was read, e.g. "folder of 1000 PNG/JPEG files" or
	// "npy <f4 [1000 28 28], values in [0, 1] (auto)".
	Format string
	// Classes is the number of classes of a folder (see LoadFolder: its
	// class subfolders, plus one for images directly inside it); 0 for an
	// array.
	Classes int
}

// byteLevel maps byte v to v/127.5 - 1 in float32, the mapping of
// LoadIDXImages (and so of MNIST), so a byte image gives the same floats
// whichever file it comes from.
var byteLevel = func() (lut [256]float32) {
	for v := range lut {
		lut[v] = float32(v)/127.5 - 1
	}
	return lut
}()

// LoadGray loads side x side gray images from path, a folder of PNG and
// JPEG images or a .npy array, as [N, 1, side, side] values in [-1, 1].
// Nothing is resized: an image of another size is an error naming it.
//
// A folder is read as LoadFolder lists it (files directly in it, then each
// class subfolder's, in sorted path order; names starting with "." are
// ignored). Each image is reduced to 8-bit gray as Go's color.GrayModel
// does: luma 0.299 R + 0.587 G + 0.114 B of the alpha-premultiplied colour
// (composited over black), rounded, so an RGB image whose channels are
// equal (torchvision's save_image of a gray tensor) keeps its exact bytes;
// 16-bit images are reduced to their high byte.
//
// A .npy file (see NPY) holds uint8 values 0..255, or float32 or float64
// values in the range r (RangeAuto: picked from the values, see it), of
// shape [N, side, side], [N, 1, side, side] or [N, side, side, 1]. Float
// values may overshoot the range by 1% of its width (rounding, a generator
// without a squashing last layer) and are mapped linearly, not clamped;
// beyond that, NaN and infinities are errors naming the value's index.
//
// Byte v becomes v/127.5 - 1 in float32, as LoadIDXImages maps MNIST, so
// MNIST images written as PNG or as a uint8 array load bit-identical to
// LoadMNIST's. Floats in [0, 255] map the same way, those in [0, 1] to
// 2v - 1, those in [-1, 1] as they are.
func LoadGray(path string, side int, r PixelRange) (*GraySet, error) {
	if side <= 0 {
		return nil, fmt.Errorf("gray images %s: side %d, want a positive size", path, side)
	}
	if r < RangeAuto || r > Range255 {
		return nil, fmt.Errorf("gray images %s: %v is not a pixel range", path, r)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("gray images: %w", err)
	}
	if fi.IsDir() {
		return loadGrayFolder(path, side)
	}
	if !strings.EqualFold(filepath.Ext(path), ".npy") {
		return nil, fmt.Errorf("gray images %s: neither a folder of images nor a .npy file", path)
	}
	x, err := ReadNPYFile(path)
	if err != nil {
		return nil, err
	}
	set, err := grayFromNPY(x, side, r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return set, nil
}

// grayFromNPY converts an array of gray images (see LoadGray).
func grayFromNPY(x *NPY, side int, r PixelRange) (*GraySet, error) {
	s := x.Shape
	okShape := (len(s) == 3 && s[1] == side && s[2] == side) ||
		(len(s) == 4 && s[1] == 1 && s[2] == side && s[3] == side) ||
		(len(s) == 4 && s[1] == side && s[2] == side && s[3] == 1)
	if !okShape || s[0] == 0 {
		return nil, fmt.Errorf("images of shape %v: want gray images [N, %d, %d], [N, 1, %d, %d] or [N, %d, %d, 1] with N > 0 (convert colour images to gray first)", s, side, side, side, side, side, side)
	}
	n := s[0]
	pix := make([]float32, x.Len()) // not from tensor's pool: no arena can reclaim it
	format := fmt.Sprintf("npy %s %v", x.Descr(), s)
	switch {
	case x.Kind == 'u' && x.Size == 1:
		for i, v := range x.Data {
			pix[i] = byteLevel[v]
		}
	case x.Kind == 'f':
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for i := range pix {
			v := float32(x.Value(i))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("value %d (image %d) is %g: want finite pixel values", i, i/(side*side), v)
			}
			pix[i] = v
			lo, hi = min(lo, v), max(hi, v)
		}
		how := "given"
		if r == RangeAuto {
			how = "auto"
			switch {
			case lo < 0:
				r = RangeSigned
			case hi <= 1.01:
				r = Range01
			default:
				r = Range255
			}
		}
		black, white := r.bounds()
		tol := (white - black) / 100
		if lo < black-tol || hi > white+tol {
			return nil, fmt.Errorf("values from %g to %g: outside the pixel range [%s] (%s) by more than 1%% of its width (set the range: -range 0,1, -1,1 or 0,255)", lo, hi, r, how)
		}
		for i, v := range pix {
			switch r {
			case Range01:
				pix[i] = float32(2*v) - 1 // no fused multiply-add: the same on every platform
			case Range255:
				pix[i] = v/127.5 - 1
			}
		}
		format += fmt.Sprintf(", values in [%s] (%s)", r, how)
	default:
		return nil, fmt.Errorf("values of type %s: want uint8 (0..255), float32 or float64", x.Descr())
	}
	return &GraySet{Images: tensor.FromSlice(pix, n, 1, side, side), Format: format}, nil
}

// loadGrayFolder reads the images of folder root (see LoadGray), decoding
// in parallel.
func loadGrayFolder(root string, side int) (*GraySet, error) {
	files, _, classes, err := listImages(root)
	if err != nil {
		return nil, err
	}
	px := side * side
	pix := make([]float32, len(files)*px) // not from tensor's pool: no arena can reclaim it
	errs := decodeAll(len(files), func(i int) error { return loadGrayImage(files[i], side, pix[i*px:(i+1)*px]) })
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	return &GraySet{
		Images:  tensor.FromSlice(pix, len(files), 1, side, side),
		Format:  fmt.Sprintf("folder of %d PNG/JPEG files", len(files)),
		Classes: len(classes),
	}, nil
}

// loadGrayImage decodes the side x side image file at path into out as
// gray levels in [-1, 1].
func loadGrayImage(path string, side int, out []float32) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	conf, format, err := image.DecodeConfig(f)
	if err != nil {
		return fmt.Errorf("read %s: decode: %w", path, err)
	}
	if format != "png" && format != "jpeg" {
		return fmt.Errorf("read %s: a %s image, want PNG or JPEG", path, format)
	}
	if conf.Width != side || conf.Height != side {
		return fmt.Errorf("read %s: %dx%d pixels, want %dx%d (resize the images first; scores of resized images are not comparable with those of images made at %dx%d)", path, conf.Width, conf.Height, side, side, side, side)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("read %s: decode: %w", path, err)
	}
	b := img.Bounds()
	if b.Dx() != side || b.Dy() != side {
		return fmt.Errorf("read %s: %dx%d pixels, want %dx%d", path, b.Dx(), b.Dy(), side, side)
	}
	if g, ok := img.(*image.Gray); ok {
		for y := range side {
			row := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range side {
				out[y*side+x] = byteLevel[row[x]]
			}
		}
		return nil
	}
	for y := range side {
		for x := range side {
			out[y*side+x] = byteLevel[color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y]
		}
	}
	return nil
}
