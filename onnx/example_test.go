package onnx_test

import (
	"fmt"
	"os"

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
