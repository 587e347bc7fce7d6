package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/internal/atomicfile"
)

// mnistSplit returns the split a name such as "mnist/test" names, and
// whether it names one.
func mnistSplit(name string) (data.Split, bool) {
	switch name {
	case "mnist/train":
		return data.Train, true
	case "mnist/test":
		return data.Test, true
	}
	return 0, false
}

// exportMNIST writes the first n images of MNIST's split (all if n <= 0)
// as their raw bytes to out: a .npy file (uint8 [N, 28, 28]) or a new or
// empty folder of 28x28 gray PNGs named by index, 00000.png, 00001.png,
// ..., so the folder's sorted order is the split's. MNIST comes from the
// classifier's folder (fetched with progress on log if missing). It
// returns the number of images written.
func exportMNIST(split data.Split, n int, out string, log io.Writer) (int, error) {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return 0, err
	}
	if _, err := data.MNISTFiles(dir); err != nil {
		if err := data.FetchMNIST(dir, log); err != nil {
			return 0, err
		}
	}
	p, err := data.MNISTFiles(dir)
	if err != nil {
		return 0, err
	}
	path := p.TrainImages
	if split == data.Test {
		path = p.TestImages
	}
	im, err := data.ReadIDXFile(path)
	if err != nil {
		return 0, err
	}
	if im.Type != data.IDXUint8 || len(im.Dims) != 3 || im.Dims[1] != 28 || im.Dims[2] != 28 {
		return 0, fmt.Errorf("read %s: %s of dimensions %v, want uint8 [N, 28, 28]", path, im.Type, im.Dims)
	}
	if n <= 0 {
		n = im.Dims[0]
	}
	if n > im.Dims[0] {
		return 0, fmt.Errorf("-n %d: %s has %d images", n, path, im.Dims[0])
	}
	const px = 28 * 28
	pix := im.Data[:n*px]
	if strings.EqualFold(filepath.Ext(out), ".npy") {
		err := atomicfile.Write(out, func(w io.Writer) error {
			return data.WriteNPY(w, &data.NPY{Kind: 'u', Size: 1, Shape: []int{n, 28, 28}, Data: pix})
		})
		if err != nil {
			return 0, fmt.Errorf("export %s: %w", out, err)
		}
		return n, nil
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("export %s: the folder is not empty (its images would mix with MNIST's)", out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	digits := max(5, len(fmt.Sprint(n-1)))
	var buf bytes.Buffer
	for i := range n {
		img := &image.Gray{Pix: pix[i*px : (i+1)*px], Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		buf.Reset()
		bw := bufio.NewWriter(&buf)
		if err := png.Encode(bw, img); err != nil {
			return i, fmt.Errorf("export: image %d: %w", i, err)
		}
		bw.Flush()
		name := filepath.Join(out, fmt.Sprintf("%0*d.png", digits, i))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return i, fmt.Errorf("export: %w", err)
		}
	}
	return n, nil
}
