package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/tensor"
)

// ImageFile describes one image file ReadImages read, as stored: its path,
// its size and whether it holds gray levels only (a gray PNG or JPEG), so
// a caller can say what was resized or converted.
type ImageFile struct {
	Path          string
	Width, Height int
	Gray          bool
}

// ListImageFiles lists the image files at path: path itself when it is a
// file (whatever its name: ReadImages reports one that does not decode),
// or, for a folder, its .png, .jpg and .jpeg files at any depth in lexical
// path order, names starting with "." left out. Other files in a folder
// are returned in skipped. A folder without image files, or a path that
// cannot be read, is an error naming it.
func ListImageFiles(path string) (files, skipped []string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("images: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil, nil
	}
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
		case imageExts[strings.ToLower(filepath.Ext(p))]:
			files = append(files, p)
		default:
			skipped = append(skipped, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("images: %w", err)
	}
	if len(files) == 0 {
		return nil, skipped, fmt.Errorf("images: %s holds no .png, .jpg or .jpeg files", path)
	}
	return files, skipped, nil
}

// ReadImages decodes the PNG or JPEG files into [N, C, H, W] images in
// [-1, 1], converted and resized as LoadFolder does (cfg.Height x
// cfg.Width, gray by BT.601 luma with cfg.Gray, else RGB with a gray image
// copied to the three channels; cfg.Skip and cfg.Warnings are ignored),
// and returns what each file held. A file that cannot be read or is not a
// PNG or JPEG image is an error naming it.
func ReadImages(files []string, cfg FolderConfig) (*tensor.Tensor, []ImageFile, error) {
	if cfg.Height <= 0 || cfg.Width <= 0 {
		return nil, nil, fmt.Errorf("images: output size %dx%d, want positive height and width", cfg.Height, cfg.Width)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("images: no files to read")
	}
	c := 3
	if cfg.Gray {
		c = 1
	}
	chw := c * cfg.Height * cfg.Width
	pix := make([]float32, len(files)*chw)
	info := make([]ImageFile, len(files))
	errs := decodeAll(len(files), func(i int) error {
		in, err := describeImage(files[i])
		if err != nil {
			return err
		}
		info[i] = in
		return loadImage(files[i], cfg, pix[i*chw:(i+1)*chw])
	})
	for _, e := range errs {
		if e != nil {
			return nil, nil, e
		}
	}
	return tensor.FromSlice(pix, len(files), c, cfg.Height, cfg.Width), info, nil
}

// describeImage reads the header of the image file at path.
func describeImage(path string) (ImageFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImageFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	conf, format, err := image.DecodeConfig(f)
	if err != nil {
		return ImageFile{}, fmt.Errorf("read %s: not a PNG or JPEG image: %w", path, err)
	}
	if format != "png" && format != "jpeg" {
		return ImageFile{}, fmt.Errorf("read %s: a %s image, want PNG or JPEG", path, format)
	}
	return ImageFile{Path: path, Width: conf.Width, Height: conf.Height, Gray: isGray(conf.ColorModel)}, nil
}

// DecodeImage decodes one PNG or JPEG image held in b (called name in
// errors) into [1, C, H, W] in [-1, 1], converted and resized as
// ReadImages does, and returns what it held. It refuses an image larger
// than MaxImagePixels, an empty one and any other format, naming name.
func DecodeImage(name string, b []byte, cfg FolderConfig) (*tensor.Tensor, ImageFile, error) {
	if cfg.Height <= 0 || cfg.Width <= 0 {
		return nil, ImageFile{}, fmt.Errorf("images: output size %dx%d, want positive height and width", cfg.Height, cfg.Width)
	}
	img, err := decodeFrom(name, bytes.NewReader(b))
	if err != nil {
		return nil, ImageFile{}, err
	}
	c := 3
	if cfg.Gray {
		c = 1
	}
	r := img.Bounds()
	info := ImageFile{Path: name, Width: r.Dx(), Height: r.Dy(), Gray: isGray(img.ColorModel())}
	out := make([]float32, c*cfg.Height*cfg.Width)
	fillImage(img, r, cfg, out)
	return tensor.FromSlice(out, 1, c, cfg.Height, cfg.Width), info, nil
}

// isGray reports whether a colour model holds gray levels only.
func isGray(m color.Model) bool { return m == color.GrayModel || m == color.Gray16Model }

// maxNotes is the number of per-image notes of each kind NoteConversions
// writes before it summarises.
const maxNotes = 10

// NoteConversions writes to log a note per image of info that was resized
// to a model's h x w pixels or changed to its ch channels (at most 10 of
// each kind, then a count), so a user knows what the model was shown.
func NoteConversions(info []ImageFile, ch, h, w int, log io.Writer) {
	var resized, converted int
	for _, f := range info {
		if f.Width != w || f.Height != h {
			if resized++; resized <= maxNotes {
				how := ""
				switch {
				case h == w && f.Width != f.Height:
					how = " (not square: stretched)"
				case f.Width*h != f.Height*w:
					how = " (another aspect ratio: stretched)"
				}
				fmt.Fprintf(log, "note: %s: %dx%d pixels resized to the model's %dx%d%s\n", f.Path, f.Width, f.Height, w, h, how)
			}
		}
		switch {
		case ch == 1 && !f.Gray:
			if converted++; converted <= maxNotes {
				fmt.Fprintf(log, "note: %s: colour converted to gray by luma (0.299 R + 0.587 G + 0.114 B) for the model's 1 channel\n", f.Path)
			}
		case ch == 3 && f.Gray:
			if converted++; converted <= maxNotes {
				fmt.Fprintf(log, "note: %s: gray copied to R, G and B for the model's 3 channels\n", f.Path)
			}
		}
	}
	if resized > maxNotes {
		fmt.Fprintf(log, "note: %d images resized in all\n", resized)
	}
	if converted > maxNotes {
		fmt.Fprintf(log, "note: %d images converted to the model's %d channels in all\n", converted, ch)
	}
}
