package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
)

// OutputZ is an encoder's output: the codes, float32 [N, D].
const OutputZ = "z"

// Encoders lists the model kinds whose encoders export.
var Encoders = []string{"vae", "ae", "aae", "bigan", "ali"}

// Encoder returns the ONNX model (an encoded ModelProto) of e, the encoder
// of a model of kind kind whose images have shape [C, H, W], with the
// weights it holds now (load them with pipeline.LoadSampler first). The
// graph maps images "x" [N, C, H, W] in [-1, 1] to codes "z" [N, D], N
// symbolic, as e.Encode does: an autoencoder's code, a VAE's posterior
// mean, an AAE's code (for the categorical prior the softmax of y, then
// the style), BiGAN's E(x) in (-1, 1) or ALI's posterior mean. Batch norm
// uses its running statistics. It returns an error naming the kind for a
// model without an encoder network (avb's draws noise) and naming the
// layer for a layer type without an exporter.
func Encoder(e family.Encoder, kind string, shape []int) ([]byte, error) {
	en, ok := e.(family.EncoderNet)
	if !ok {
		return nil, fmt.Errorf("onnx: model.kind %s has no encoder that exports (kinds that do: %s)", kind, strings.Join(Encoders, ", "))
	}
	spec, err := en.EncoderGraph()
	if err != nil {
		return nil, fmt.Errorf("onnx: model.kind %s: %w", kind, err)
	}
	if len(shape) != 3 {
		return nil, fmt.Errorf("onnx: model.kind %s: image shape %v, want [C H W]", kind, shape)
	}
	gr := newGraph()
	gr.input(InputImages, dataFloat, append([]int64{-1}, int64s(shape)...), BatchDim)
	x := InputImages
	switch spec.Input {
	case family.InputImages:
	case family.InputUnit, family.InputUnitFlat:
		// (x + 1) / 2 as Kallima computes it (add, then halve), clamped.
		// Clip's bounds are scalars (rank 0).
		x = gr.node("Add", []string{x, gr.float("one", []float32{1}, 1)})
		x = gr.node("Div", []string{x, gr.float("two", []float32{2}, 1)})
		x = gr.node("Clip", []string{x, gr.float("clip_min", []float32{0}), gr.float("clip_max", []float32{1})})
		if spec.Input == family.InputUnitFlat {
			x = gr.node("Flatten", []string{x}, intAttr("axis", 1))
		}
	default:
		return nil, fmt.Errorf("onnx: model.kind %s: encoder input %q does not export", kind, spec.Input)
	}
	var out string
	if b, ok := spec.Net.(*models.BiGANEncoder); ok {
		out, err = biganEncoder(gr, b, spec.Prefix, x)
	} else {
		out, err = layer(gr, spec.Net, spec.Prefix, x)
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: model.kind %s: %w", kind, err)
	}
	dim := spec.Dim
	switch spec.Code {
	case family.CodeRaw:
	case family.CodeMean:
		out = slice(gr, "mean", out, 0, dim)
	case family.CodeUniform:
		out = gr.node("Sigmoid", []string{out})
		out = gr.node("Mul", []string{out, gr.float("two", []float32{2}, 1)})
		out = gr.node("Add", []string{out, gr.float("minus_one", []float32{-1}, 1)})
	case family.CodeCategorical:
		k := spec.Classes
		y := gr.node("Softmax", []string{slice(gr, "y", out, 0, k)}, intAttr("axis", 1))
		out = gr.node("Concat", []string{y, slice(gr, "style", out, k, k+dim)}, intAttr("axis", 1))
		dim += k
	default:
		return nil, fmt.Errorf("onnx: model.kind %s: encoder code %q does not export", kind, spec.Code)
	}
	gr.nodeTo("Identity", []string{out}, OutputZ)
	gr.output(OutputZ, dataFloat, []int64{-1, int64(dim)}, BatchDim)
	meta := [][2]string{{"kallima.kind", kind}, {"kallima.code", string(spec.Code)}, {"kallima.zdim", strconv.Itoa(dim)}}
	return gr.model("kallima_"+kind+"_encoder", "1", "A Kallima encoder: images x to codes z.", meta), nil
}

// slice is columns [lo, hi) of x [N, D].
func slice(g *graph, name, x string, lo, hi int) string {
	return g.node("Slice", []string{x, g.int64s(name+"_starts", int64(lo)), g.int64s(name+"_ends", int64(hi)), g.int64s(name+"_axes", 1)})
}

// biganEncoder writes models.BiGANEncoder under prefix: the images as rows
// in [0, 1] (x * 0.5 + 0.5, as toUnit computes it), then
// LeakyReLU(FC1), LeakyReLU(BN2(FC2)), Out.
func biganEncoder(g *graph, e *models.BiGANEncoder, prefix, x string) (string, error) {
	half := g.float("half", []float32{0.5}, 1)
	x = g.node("Mul", []string{x, half})
	x = g.node("Add", []string{x, half})
	x = g.node("Flatten", []string{x}, intAttr("axis", 1))
	h, err := linear(g, e.FC1, nn.Join(prefix, "fc1"), x)
	if err != nil {
		return "", err
	}
	h = g.node("LeakyRelu", []string{h}, floatAttr("alpha", 0.2))
	if h, err = linear(g, e.FC2, nn.Join(prefix, "fc2"), h); err != nil {
		return "", err
	}
	h = g.node("LeakyRelu", []string{batchNorm(g, e.BN2, nn.Join(prefix, "bn2"), h)}, floatAttr("alpha", 0.2))
	return linear(g, e.Out, nn.Join(prefix, "out"), h)
}
