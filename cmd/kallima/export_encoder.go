package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// exportEncoder writes the encoder of the loaded model g (from target) as
// ONNX: images "x" to codes "z", with the weights kallima encode uses.
func exportEncoder(g *pipeline.Sampler, target, out, dump string, n int, seed uint64, stdout, stderr io.Writer) int {
	kind := g.Config.Model.Kind
	enc, ok := g.Generator.(family.Encoder)
	if !ok || !g.IsImage {
		fmt.Fprintf(stderr, "kallima export: -encoder: model.kind %s has no encoder (kinds with one: %s)\n", kind, strings.Join(onnx.Encoders, ", "))
		return exitUsage
	}
	ch, side := g.Config.ImageShape()
	shape := []int{ch, side, side}
	model, err := onnx.Encoder(enc, kind, shape)
	if err != nil {
		fmt.Fprintf(stderr, "kallima export: -encoder: %v\n", err)
		return exitUsage
	}
	if err := writeModel(out, model); err != nil {
		fmt.Fprintf(stderr, "kallima export: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): %s encoder, images %v to codes, %s\n", out, len(model), kind, shape, describe(g, target))
	if dump != "" {
		if err := dumpCodes(dump, g, enc, shape, n, seed); err != nil {
			fmt.Fprintf(stderr, "kallima export: -dump: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %d images and Kallima's codes of them into %s\n", n, dump)
	}
	return exitOK
}

// dumpCodes writes n images drawn from U(-1, 1) with seed (x.npy, float32
// [n, C, H, W]), enc's codes of them (z.npy, float32 [n, D]) and meta.json
// into dir, for checking the exported encoder.
func dumpCodes(dir string, g *pipeline.Sampler, enc family.Encoder, shape []int, n int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	x := tensor.NewRNG(seed).Uniform(-1, 1, append([]int{n}, shape...)...)
	z, err := enc.Encode(x)
	if err != nil {
		return err
	}
	if err := writeNPY(filepath.Join(dir, onnx.InputImages+".npy"), float32NPY(x)); err != nil {
		return err
	}
	if err := writeNPY(filepath.Join(dir, onnx.OutputZ+".npy"), float32NPY(z)); err != nil {
		return err
	}
	return writeMeta(dir, encoderMeta{Kind: g.Config.Model.Kind, Encoder: true, ZDim: z.Size(1), Step: g.Step, Weights: g.Weights, Seed: seed})
}

// encoderMeta is an encoder dump's meta.json.
type encoderMeta struct {
	Kind    string `json:"kind"`
	Encoder bool   `json:"encoder"` // true: x.npy are images, z.npy their codes
	ZDim    int    `json:"z_dim"`   // the codes' width
	Step    int    `json:"step"`
	Weights string `json:"weights"` // pipeline.WeightsEMA, WeightsG or WeightsFile
	Seed    uint64 `json:"seed"`
}
