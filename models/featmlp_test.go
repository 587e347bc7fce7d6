package models

import (
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

func paramNames(m nn.Module) []string {
	var r []string
	for _, b := range nn.State(m) {
		r = append(r, b.Name)
	}
	return r
}

// TestFeatureMLPMatchesMLP checks that without minibatch discrimination
// the network is NewMLP's (names, weights, outputs) and the features are
// the last hidden activation.
func TestFeatureMLPMatchesMLP(t *testing.T) {
	for _, c := range []MLPConfig{
		{In: 3, Out: 1, Hidden: []int{8, 6}, Act: "leaky_relu"},
		{In: 2, Out: 1, Hidden: []int{5}, Act: "tanh", BatchNorm: true, SpecNorm: true},
		{In: 2, Out: 2, Hidden: []int{4, 4}, Act: "elu", OutAct: "sigmoid"},
	} {
		plain, err := NewMLP(c, tensor.NewRNG(41))
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewFeatureMLP(FeatureMLPConfig{MLPConfig: c}, tensor.NewRNG(41))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(paramNames(plain), paramNames(f)) {
			t.Fatalf("%+v: state %v, NewMLP's %v", c, paramNames(f), paramNames(plain))
		}
		x := autograd.Const(tensor.NewRNG(42).Normal(0, 1, 6, c.In))
		want := plain.Forward(x).Data()
		// First calls in training mode (one power iteration each, batch
		// statistics), then evaluation mode.
		feat, logits := f.Features(x)
		if !slices.Equal(logits.Data().Data(), want.Data()) {
			t.Fatalf("%+v: training-mode outputs differ from NewMLP's", c)
		}
		plain.SetTraining(false)
		f.SetTraining(false)
		if !slices.Equal(f.Forward(x).Data().Data(), plain.Forward(x).Data().Data()) {
			t.Fatalf("%+v: evaluation-mode outputs differ from NewMLP's", c)
		}
		h := c.Hidden[len(c.Hidden)-1]
		if !tensor.SameShape(feat.Shape(), []int{6, h}) {
			t.Fatalf("%+v: features %v, want [6 %d]", c, feat.Shape(), h)
		}
		// The features are what the output Linear sees.
		last := plain.Layers[len(plain.Layers)-1]
		if c.OutAct != "" {
			last = plain.Layers[len(plain.Layers)-2]
		}
		head := last.Forward(feat).Data()
		if c.OutAct == "" && !c.SpecNorm && !slices.Equal(head.Data(), want.Data()) {
			t.Fatalf("%+v: the output layer applied to the features does not give the output", c)
		}
	}
}

// TestFeatureMLPMinibatch checks the layout with minibatch discrimination:
// features [N, h] before it, the output layer reading h + B inputs.
func TestFeatureMLPMinibatch(t *testing.T) {
	f, err := NewFeatureMLP(FeatureMLPConfig{
		MLPConfig:        MLPConfig{In: 2, Out: 1, Hidden: []int{8, 6}, Act: "relu", BatchNorm: true},
		MinibatchKernels: 4,
	}, tensor.NewRNG(43))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias", "6.T", "7.weight", "7.bias",
		"1.running_mean", "1.running_var", "4.running_mean", "4.running_var"}
	if got := paramNames(f); !slices.Equal(got, want) {
		t.Fatalf("state %v, want %v", got, want)
	}
	m := f.Net.Layers[6].(*nn.MinibatchDiscrimination)
	if m.Kernels != 4 || m.KernelDim != 5 || !tensor.SameShape(m.T.Shape(), []int{6, 20}) {
		t.Fatalf("minibatch layer %d kernels of %d, T %v; want 4 of 5, [6 20]", m.Kernels, m.KernelDim, m.T.Shape())
	}
	x := autograd.Const(tensor.NewRNG(44).Normal(0, 1, 5, 2))
	feat, logits := f.Features(x)
	if !tensor.SameShape(feat.Shape(), []int{5, 6}) || !tensor.SameShape(logits.Shape(), []int{5, 1}) {
		t.Fatalf("features %v, logits %v; want [5 6], [5 1]", feat.Shape(), logits.Shape())
	}
	for _, v := range feat.Data().Data() {
		if v < 0 {
			t.Fatalf("feature %g < 0 after the ReLU", v)
		}
	}
}

func TestFeatureMLPErrors(t *testing.T) {
	for _, c := range []FeatureMLPConfig{
		{MLPConfig: MLPConfig{In: 2, Out: 1}},
		{MLPConfig: MLPConfig{In: 2, Out: 1, Hidden: []int{4}}, MinibatchKernels: -1},
		{MLPConfig: MLPConfig{In: 2, Out: 1, Hidden: []int{4}, Act: "swish"}},
		{MLPConfig: MLPConfig{In: 2, Out: 1, Hidden: []int{4}, Act: "swish"}, MinibatchKernels: 2},
		{MLPConfig: MLPConfig{In: 2, Out: 1, Hidden: []int{4}, OutAct: "relu"}, MinibatchKernels: 2},
	} {
		if _, err := NewFeatureMLP(c, tensor.NewRNG(1)); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
