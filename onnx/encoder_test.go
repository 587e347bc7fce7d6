package onnx_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/tensor"
)

// encoderCases are the encoders that export, small: the VAE's perceptron
// and convolutional encoders (the mean half of their output), the plain
// autoencoder, the AAE with the normal and the categorical prior (softmax
// of y beside the style), BiGAN's E (batch norm, a uniform code) and ALI's
// (the mean half).
var encoderCases = []struct {
	name, kind string
	sets       []string
	d          family.Data
}{
	{"vae-mlp", "vae", []string{"model.kind=vae", "model.z_dim=3", "model.hidden=[7]"}, family.Data{Channels: 1, Size: 6}},
	{"vae-conv", "vae", []string{"model.kind=vae", "model.z_dim=3", "model.net=conv", "model.width=2"}, family.Data{Channels: 2, Size: 8}},
	{"ae", "ae", []string{"model.kind=ae", "model.z_dim=2", "model.hidden=[5]"}, family.Data{Channels: 1, Size: 6}},
	{"aae", "aae", []string{"model.kind=aae", "model.z_dim=2", "model.hidden=[6]", "model.d_hidden=[4]"}, family.Data{Channels: 1, Size: 6}},
	{"aae-categorical", "aae", []string{"model.kind=aae", "model.prior=categorical", "model.classes=3", "model.z_dim=2", "model.hidden=[6]", "model.d_hidden=[4]"}, family.Data{Channels: 1, Size: 6, Classes: 3}},
	{"bigan", "bigan", []string{"model.kind=bigan", "model.z_dim=3", "model.width=5"}, family.Data{Channels: 1, Size: 6}},
	{"ali", "ali", []string{"model.kind=ali", "model.prior=normal", "model.z_dim=3", "model.width=5"}, family.Data{Channels: 1, Size: 6}},
}

// buildEncoder returns the model of config sets for data d as an encoder,
// every weight moved off its initial value and batch norm's running
// statistics gathered from training-mode passes, in evaluation mode.
// BiGAN's and ALI's weights, drawn from N(0, 0.02), are scaled up 20 times:
// a small E's codes are otherwise nearly flat.
func buildEncoder(t *testing.T, sets []string, d family.Data) family.Encoder {
	t.Helper()
	m, c := buildModel(t, sets, d)
	e, ok := m.Generator.(family.Encoder)
	if !ok {
		t.Fatalf("%v: not an encoder", sets)
	}
	rng := tensor.NewRNG(7)
	scale := 1.0
	if c.Model.Kind == "bigan" || c.Model.Kind == "ali" {
		scale = 20
	}
	for _, p := range m.Players {
		perturb(p.Module, scale, rng)
		p.Module.SetTraining(true)
	}
	for range 5 {
		if _, err := e.Encode(rng.Uniform(-1, 1, 8, d.Channels, d.Size, d.Size)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range m.Players {
		p.Module.SetTraining(false)
	}
	return e
}

// TestEncoderComputes runs each exported encoder's graph (interpret) on
// seeded images, some outside [-1, 1] so the clamp matters, and compares
// it with the model's own codes.
func TestEncoderComputes(t *testing.T) {
	for _, tc := range encoderCases {
		t.Run(tc.name, func(t *testing.T) {
			e := buildEncoder(t, tc.sets, tc.d)
			shape := []int{tc.d.Channels, tc.d.Size, tc.d.Size}
			b, err := onnx.Encoder(e, tc.kind, shape)
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.NewRNG(3).Uniform(-1.2, 1.2, append([]int{5}, shape...)...)
			want, err := e.Encode(x)
			if err != nil {
				t.Fatal(err)
			}
			checkGraph(t, "encoder", interpret(t, b, map[string]*tensor.Tensor{onnx.InputImages: x}, nil), want)
		})
	}
}

// TestEncoderRefuses: AVB's encoder (it draws noise) and a model without
// an encoder network are errors naming why.
func TestEncoderRefuses(t *testing.T) {
	avb := buildEncoder(t, []string{"model.kind=avb", "model.z_dim=2", "model.eps_dim=2", "model.hidden=[4]", "model.adv_hidden=[4]"}, family.Data{Channels: 1, Size: 6})
	if _, err := onnx.Encoder(avb, "avb", []int{1, 6, 6}); err == nil || !strings.Contains(err.Error(), "draws noise") {
		t.Errorf("avb: %v, want an error saying its encoder draws noise", err)
	}
	if _, err := onnx.Encoder(nil, "dcgan", []int{1, 6, 6}); err == nil || !strings.Contains(err.Error(), "no encoder that exports") {
		t.Errorf("no encoder: %v", err)
	}
	vae := buildEncoder(t, encoderCases[0].sets, encoderCases[0].d)
	if _, err := onnx.Encoder(vae, "vae", []int{6, 6}); err == nil || !strings.Contains(err.Error(), "want [C H W]") {
		t.Errorf("shape [6 6]: %v", err)
	}
}

// TestEncoderCheckerAccepts has python3-onnx's checker validate each
// exported encoder (checkModels) and infer its output's shape.
func TestEncoderCheckerAccepts(t *testing.T) {
	var names []string
	var models [][]byte
	var dims []int
	for _, tc := range encoderCases {
		e := buildEncoder(t, tc.sets, tc.d)
		b, err := onnx.Encoder(e, tc.kind, []int{tc.d.Channels, tc.d.Size, tc.d.Size})
		if err != nil {
			t.Fatal(err)
		}
		z, err := e.Encode(tensor.New(1, tc.d.Channels, tc.d.Size, tc.d.Size))
		if err != nil {
			t.Fatal(err)
		}
		names, models, dims = append(names, tc.name), append(models, b), append(dims, z.Size(1))
	}
	for i, l := range checkModels(t, names, models) {
		if want := fmt.Sprintf("8 17 N [%d]", dims[i]); l != want {
			t.Errorf("%s: checker line %q, want %q (IR 8, opset 17, batch N, the code's width)", names[i], l, want)
		}
	}
}
