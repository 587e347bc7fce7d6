package onnx_test

import (
	"fmt"
	"os"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/pipeline"
)

// Example exports a trained run's generator (its EMA weights) as an ONNX
// model: inputs "z" [N, ZDim] (and "label" [N] for cgan and acgan), output
// "x".
func Example() {
	g, _, err := pipeline.LoadSampler("runs/dcgan", false)
	if err != nil {
		fmt.Println(err)
		return
	}
	model, err := onnx.Generator(g.Generator, g.Config.Model.Kind)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := os.WriteFile("g.onnx", model, 0o644); err != nil {
		fmt.Println(err)
	}
}

// ExampleTranslator exports a trained CycleGAN's B-to-A generator: input
// "x" [N, C, H, W] images in [-1, 1], output "y" of the same shape.
func ExampleTranslator() {
	tr, _, err := pipeline.LoadTranslator("runs/cyclegan-thick", false)
	if err != nil {
		fmt.Println(err)
		return
	}
	model, err := onnx.Translator(tr.Translator, tr.Config.Model.Kind, 1, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := os.WriteFile("thick2digit.onnx", model, 0o644); err != nil {
		fmt.Println(err)
	}
}

// ExampleEncoder exports a trained BiGAN's encoder E: input "x"
// [N, C, H, W] images in [-1, 1], output "z" [N, ZDim], the codes kallima
// encode writes.
func ExampleEncoder() {
	g, _, err := pipeline.LoadSampler("runs/bigan-mnist", false)
	if err != nil {
		fmt.Println(err)
		return
	}
	enc, ok := g.Generator.(family.Encoder)
	if !ok {
		fmt.Println("no encoder")
		return
	}
	ch, side := g.Config.ImageShape()
	model, err := onnx.Encoder(enc, g.Config.Model.Kind, []int{ch, side, side})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := os.WriteFile("e.onnx", model, 0o644); err != nil {
		fmt.Println(err)
	}
}
