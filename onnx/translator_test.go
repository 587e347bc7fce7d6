package onnx_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/pix2pix"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/tensor"
)

// translatorCases are the translators that export, small: pix2pix with
// batch norm (running statistics) and with instance norm, on 12x12 images
// (the U-Net's odd 3x3 level needs output padding), CycleGAN and StarGAN.
var translatorCases = []struct {
	name string
	sets []string
	d    family.Data
}{
	{"pix2pix", []string{"model.kind=pix2pix", "model.width=3", "model.d_width=3"}, family.Data{Channels: 1, Size: 12}},
	{"pix2pix-instance", []string{"model.kind=pix2pix", "model.width=3", "model.d_width=3", "model.norm=instance", "model.dropout=0"}, family.Data{Channels: 2, Size: 8}},
	{"cyclegan", []string{"model.kind=cyclegan", "model.width=2", "model.blocks=2", "model.d_width=2"}, family.Data{Channels: 1, Size: 8}},
	{"stargan", []string{"model.kind=stargan", "model.g_width=2", "model.blocks=1", "model.d_width=2"}, family.Data{Channels: 1, Size: 8, Classes: 3}},
}

// buildTranslator returns the translator of config sets for data d, its
// weights (and batch-norm statistics) moved off their initial values, in
// evaluation mode with test-time dropout off.
func buildTranslator(t *testing.T, sets []string, d family.Data) family.Translator {
	t.Helper()
	m, c := buildModel(t, sets, d)
	mod := m.GeneratorPlayer.Module
	rng := tensor.NewRNG(7)
	// Weights moved off their initial values and, since pix2pix's N(0,
	// 0.02) initialisation gives nearly flat translations through a
	// small U-Net, its weights scaled up.
	scale := 1.0
	if c.Model.Kind == "pix2pix" {
		scale = 3
	}
	perturb(mod, scale, rng)
	// Batch norm's running statistics from training-mode passes over
	// random images, then moved a little, as build does the generators'.
	buffers := mod.Buffers("")
	for _, b := range buffers {
		clear(b.Tensor.Data())
	}
	mod.SetTraining(true)
	for range 10 {
		if _, err := m.Translator.Translate(rng.Uniform(-1, 1, append([]int{8}, m.Translator.Shape()...)...), 0, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range buffers {
		for i, v := range b.Tensor.Data() {
			b.Tensor.Data()[i] = v*float32(0.8+0.4*rng.Float64()) + 0.01
		}
	}
	mod.SetTraining(false)
	if p, ok := m.Translator.(*pix2pix.Translator); ok {
		p.TestDropout = false
	}
	return m.Translator
}

// TestTranslatorComputes runs each exported translator's graph
// (interpret) on seeded images and compares it with the model's own
// translations: both directions of CycleGAN, a different target domain per
// image for StarGAN.
func TestTranslatorComputes(t *testing.T) {
	for _, tc := range translatorCases {
		t.Run(tc.name, func(t *testing.T) {
			tr := buildTranslator(t, tc.sets, tc.d)
			const n = 4
			x := tensor.NewRNG(3).Uniform(-1, 1, append([]int{n}, tr.Shape()...)...)
			pairs := [][2]int{{0, 1}}
			if tc.name == "cyclegan" {
				pairs = append(pairs, [2]int{1, 0})
			}
			for _, p := range pairs {
				b, err := onnx.Translator(tr, tc.name, p[0], p[1])
				if err != nil {
					t.Fatal(err)
				}
				ints := map[string][]int{}
				var want *tensor.Tensor
				if tc.d.Classes > 0 { // StarGAN: image i to domain i mod k
					per := x.Len() / n
					want = tensor.New(x.Shape()...)
					for i := range n {
						to := i % tc.d.Classes
						ints[onnx.InputDomain] = append(ints[onnx.InputDomain], to)
						one := tensor.FromSlice(x.Data()[i*per:(i+1)*per], append([]int{1}, tr.Shape()...)...)
						y, err := tr.Translate(one, 0, to)
						if err != nil {
							t.Fatal(err)
						}
						copy(want.Data()[i*per:], y.Data())
					}
				} else if want, err = tr.Translate(x, p[0], p[1]); err != nil {
					t.Fatal(err)
				}
				checkGraph(t, fmt.Sprintf("translator %d to %d", p[0], p[1]), interpret(t, b, map[string]*tensor.Tensor{onnx.InputImages: x}, ints), want)
			}
		})
	}
}

// TestTranslatorRefuses: a direction the model does not translate, and a
// model that does not translate, are errors naming them.
func TestTranslatorRefuses(t *testing.T) {
	p2p := buildTranslator(t, translatorCases[0].sets, translatorCases[0].d)
	cyc := buildTranslator(t, translatorCases[2].sets, translatorCases[2].d)
	for _, tc := range []struct {
		name     string
		tr       family.Translator
		from, to int
		want     string
	}{
		{"pix2pix B to A", p2p, 1, 0, "A to B only"},
		{"cyclegan A to A", cyc, 0, 0, "no direction from 0 to 0"},
		{"cyclegan to 2", cyc, 0, 2, "no direction from 0 to 2"},
		{"no translator", nil, 0, 1, "does not translate"},
	} {
		_, err := onnx.Translator(tc.tr, "kind", tc.from, tc.to)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestTranslatorCheckerAccepts has python3-onnx's checker validate each
// exported translator (checkModels) and infer its output's shape.
func TestTranslatorCheckerAccepts(t *testing.T) {
	var names []string
	var models [][]byte
	for _, tc := range translatorCases {
		b, err := onnx.Translator(buildTranslator(t, tc.sets, tc.d), tc.name, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		names, models = append(names, tc.name), append(models, b)
	}
	for i, l := range checkModels(t, names, models) {
		d := translatorCases[i].d
		if want := fmt.Sprintf("8 17 N [%d, %d, %d]", d.Channels, d.Size, d.Size); l != want {
			t.Errorf("%s: checker line %q, want %q (IR 8, opset 17, batch N, the images' shape)", names[i], l, want)
		}
	}
}
