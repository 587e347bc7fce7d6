package picture

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/kallima-gan/kallima/internal/atomicfile"
)

// SavePNG writes img as a PNG file at path atomically: it encodes into a
// temporary file in the same directory, fsyncs it, renames it over path and
// fsyncs the directory, so a reader sees either the old file or the whole new
// one. The file gets mode 0644.
func SavePNG(path string, img image.Image) error {
	return writeAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
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
