package picture

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// SavePNG writes img as a PNG file at path atomically: it encodes into a
// temporary file in the same directory, fsyncs it, renames it over path and
// fsyncs the directory, so a reader sees either the old file or the whole new
// one. The file gets mode 0644.
func SavePNG(path string, img image.Image) error {
	return writeAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}

// writeAtomic writes a file at path through encode, atomically (see SavePNG).
func writeAtomic(path string, encode func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("picture: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := encode(bw); err != nil {
		return fmt.Errorf("picture: encode %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("picture: write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("picture: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("picture: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("picture: close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("picture: %w", err)
	}
	// Make the rename durable; a directory that cannot be synced (some file
	// systems refuse) does not undo the write.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
