package onnx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
)

// Graph names of a translator's inputs and output.
const (
	// InputImages is the images to translate, float32 [N, C, H, W] in
	// [-1, 1].
	InputImages = "x"
	// InputDomain is a multi-domain model's target domain per image,
	// int64 [N].
	InputDomain = "domain"
	// OutputY is the translated images, float32 [N, C, H, W].
	OutputY = "y"
)

// Translators lists the model kinds whose translators export.
var Translators = []string{"pix2pix", "cyclegan", "stargan"}

// The translation networks a family.Translator exposes: pix2pix's U-Net,
// CycleGAN's two ResNet generators (A to B, B to A) and StarGAN's one
// generator for every target domain.
type (
	unetNet interface {
		Module() *models.UNet
	}
	cycleNet interface {
		Generators() (ab, ba *models.ResNetGenerator)
	}
	starNet interface {
		Module() *models.StarGenerator
	}
)

// Translator returns the ONNX model (an encoded ModelProto) of tr, the
// translator of a model of kind kind, with the weights it holds now (load
// them with pipeline.LoadTranslator first). The graph maps images "x"
// [N, C, H, W] to "y" of the same shape, N symbolic. A two-domain model
// (pix2pix, cyclegan) is written for one direction, from domain from to
// domain to (indices into tr.Domains(); CycleGAN's B to A is its second
// generator). StarGAN's graph takes every target: its second input
// "domain" (int64 [N]) is each image's target domain, and from and to are
// not used. pix2pix's graph has no dropout (Kallima's translations keep it
// on by default, model.test_dropout, with masks from its own random
// stream, which no ONNX runtime draws alike): it is the network with
// dropout off. It returns an error naming the kind for a family that
// does not export, the pair for a direction the model does not translate,
// and the layer for one without an exporter.
func Translator(tr family.Translator, kind string, from, to int) ([]byte, error) {
	if tr == nil {
		return nil, fmt.Errorf("onnx: model.kind %s does not translate images", kind)
	}
	shape := tr.Shape()
	if len(shape) != 3 {
		return nil, fmt.Errorf("onnx: model.kind %s: image shape %v, want [C H W]", kind, shape)
	}
	dims := append([]int64{-1}, int64s(shape)...)
	names := tr.Domains()
	gr := newGraph()
	gr.input(InputImages, dataFloat, dims, BatchDim)
	meta := [][2]string{{"kallima.kind", kind}, {"kallima.domains", strings.Join(names, ",")}}
	direction := func() error {
		if from < 0 || from >= len(names) || to < 0 || to >= len(names) || from == to {
			return fmt.Errorf("onnx: model.kind %s translates between domains %s: no direction from %d to %d", kind, strings.Join(names, " and "), from, to)
		}
		meta = append(meta, [2]string{"kallima.from", names[from]}, [2]string{"kallima.to", names[to]})
		return nil
	}
	var (
		y   string
		err error
	)
	switch n := tr.(type) {
	case starNet:
		gr.input(InputDomain, dataInt64, []int64{-1}, BatchDim)
		meta = append(meta, [2]string{"kallima.domain", fmt.Sprintf("int64 target domain per image, 0 to %d: %s", len(names)-1, domainList(names))})
		y, err = starGenerator(gr, n.Module(), InputImages, InputDomain)
	case cycleNet:
		if err := direction(); err != nil {
			return nil, err
		}
		// Named as the generator player's state: g_ab.model.*, g_ba.model.*.
		ab, ba := n.Generators()
		g, name := ab, "g_ab"
		if from == 1 {
			g, name = ba, "g_ba"
		}
		y, err = layer(gr, g.Model, nn.Join(name, "model"), InputImages)
	case unetNet:
		if from != 0 || to != 1 {
			return nil, fmt.Errorf("onnx: model.kind %s translates A to B only, not %d to %d", kind, from, to)
		}
		if err := direction(); err != nil {
			return nil, err
		}
		u := n.Module()
		if u.HasDropout() {
			meta = append(meta, [2]string{"kallima.dropout", "off (Kallima's own translations keep it on when model.test_dropout is true)"})
		}
		y, err = unet(gr, u, InputImages)
	default:
		return nil, fmt.Errorf("onnx: model.kind %s does not export its translator yet (kinds that do: %s)", kind, strings.Join(Translators, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("onnx: model.kind %s: %w", kind, err)
	}
	gr.nodeTo("Identity", []string{y}, OutputY)
	gr.output(OutputY, dataFloat, dims, BatchDim)
	return gr.model("kallima_"+kind+"_translator", "1", "A Kallima translator: images x (and a target domain) to images y.", meta), nil
}

// DomainInput reports whether tr's graph takes the target domain as its
// input InputDomain (a multi-domain model: StarGAN) rather than being
// written for one direction.
func DomainInput(tr family.Translator) bool {
	_, ok := tr.(starNet)
	return ok
}

// domainList is "0 A, 1 B".
func domainList(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = strconv.Itoa(i) + " " + n
	}
	return strings.Join(parts, ", ")
}

// unet writes pix2pix's U-Net in evaluation mode without dropout: the
// encoder's blocks, each decoder block reading the concatenation of the
// encoder's maps at its level and the previous decoder block's (the skip
// first), and tanh of the output layer (see models.UNet).
func unet(g *graph, u *models.UNet, x string) (string, error) {
	skips := make([]string, len(u.Down))
	h := x
	var err error
	for i, b := range u.Down {
		if h, err = layer(g, b, "down."+strconv.Itoa(i), h); err != nil {
			return "", err
		}
		skips[i] = h
	}
	for k, b := range u.Up {
		if k > 0 {
			h = g.node("Concat", []string{skips[len(u.Down)-1-k], h}, intAttr("axis", 1))
		}
		if h, err = layer(g, b, "up."+strconv.Itoa(k), h); err != nil {
			return "", err
		}
	}
	h = g.node("Concat", []string{skips[0], h}, intAttr("axis", 1))
	if h, err = layer(g, u.Out, "out", h); err != nil {
		return "", err
	}
	return g.node("Tanh", []string{h}), nil
}

// starGenerator writes StarGAN's generator: the target domains' one-hot
// maps (the domain's row of the identity, reshaped to [N, k, 1, 1] and
// expanded to the image's side), concatenated after the images, then the
// network and tanh (see models.StarGenerator).
func starGenerator(g *graph, s *models.StarGenerator, x, domain string) (string, error) {
	c := s.Config()
	code := g.node("Gather", []string{oneHot(g, "domain_one_hot", c.Domains), domain}, intAttr("axis", 0))
	code = g.node("Reshape", []string{code, g.int64s("domain_shape", -1, int64(c.Domains), 1, 1)})
	maps := g.node("Expand", []string{code, g.int64s("domain_maps_shape", 1, 1, int64(c.Size), int64(c.Size))})
	h := g.node("Concat", []string{x, maps}, intAttr("axis", 1))
	type step struct {
		name string
		m    nn.Module
	}
	steps := []step{{"in", s.In}, {"down.0", s.Down[0]}, {"down.1", s.Down[1]}}
	for i, r := range s.Res {
		steps = append(steps, step{"res." + strconv.Itoa(i), r})
	}
	steps = append(steps, step{"up.0", s.Up[0]}, step{"up.1", s.Up[1]}, step{"out", s.Out})
	var err error
	for _, st := range steps {
		if h, err = layer(g, st.m, st.name, h); err != nil {
			return "", err
		}
	}
	return g.node("Tanh", []string{h}), nil
}
