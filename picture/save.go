package picture

import (
	"bufio"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/internal/atomicfile"
)

// SavePNG writes img as a PNG file at path atomically: it encodes into a
// temporary file in the same directory, fsyncs it, renames it over path and
// fsyncs the directory, so a reader sees either the old file or the whole new
// one. Missing parent folders are made. The file gets mode 0644.
func SavePNG(path string, img image.Image) error {
	return writeAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// Save writes img at path in the format its extension names (FormatOf):
// .jpg or .jpeg as a JPEG (quality 95), .gif as a one-frame GIF, .png or
// no extension as a PNG; atomically like SavePNG.
func Save(path string, img image.Image) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	switch format {
	case "jpeg":
		return writeAtomic(path, func(w io.Writer) error { return jpeg.Encode(w, img, &jpeg.Options{Quality: 95}) })
	case "gif":
		return writeAtomic(path, func(w io.Writer) error { return EncodeGIF(w, []image.Image{img}, 0) })
	}
	return SavePNG(path, img)
}

// FormatOf returns the image format Save writes at path: "png" (.png or
// no extension), "jpeg" (.jpg, .jpeg) or "gif", any case. Any other
// extension is an error naming the ones it takes, so that a command can
// refuse a name before its work, and never writes PNG bytes under a name
// that says otherwise.
func FormatOf(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png", "":
		return "png", nil
	case ".jpg", ".jpeg":
		return "jpeg", nil
	case ".gif":
		return "gif", nil
	default:
		return "", fmt.Errorf("%s: cannot write %s images (use .png, .jpg or .gif)", path, ext)
	}
}

// writeAtomic writes a file at path through encode, atomically (see SavePNG).
func writeAtomic(path string, encode func(io.Writer) error) error {
	var stage string // which step failed, for the message
	err := atomicfile.Write(path, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 64<<10)
		if err := encode(bw); err != nil {
			stage = "encode " + path + ": "
			return err
		}
		if err := bw.Flush(); err != nil {
			stage = "write " + path + ": "
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("picture: %s%w", stage, err)
	}
	return nil
}
