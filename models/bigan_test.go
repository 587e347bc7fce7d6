package models

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestBiGANNetworks checks the shapes, the state names (no biases, no
// batch-norm scales), D's zero start, G's range, and that D reads z.
func TestBiGANNetworks(t *testing.T) {
	c := BiGANConfig{Channels: 1, Size: 6, ZDim: 3, Hidden: 8}
	rng := tensor.NewRNG(1)
	g, err1 := NewBiGANGenerator(c, rng)
	e, err2 := NewBiGANEncoder(c, rng)
	d, err3 := NewBiGANDiscriminator(c, rng)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	names := func(m nn.Module) string {
		var r []string
		for _, p := range m.Params("") {
			r = append(r, p.Name+fmt.Sprint(p.Value.Shape()))
		}
		return strings.Join(r, " ")
	}
	for _, tc := range []struct {
		m    nn.Module
		want string
	}{
		{g, "fc1.weight[8 3] fc2.weight[8 8] z2.weight[8 3] out.weight[36 8]"},
		{e, "fc1.weight[8 36] fc2.weight[8 8] out.weight[3 8]"},
		{d, "fc1.weight[8 36] fc2.weight[8 8] z2.weight[8 3] out.weight[1 8]"},
	} {
		if got := names(tc.m); got != tc.want {
			t.Errorf("params %s, want %s", got, tc.want)
		}
	}
	z := autograd.Const(rng.Uniform(-1, 1, 5, 3))
	x := g.Forward(z)
	if !slices.Equal(x.Shape(), []int{5, 1, 6, 6}) {
		t.Fatalf("G: %v", x.Shape())
	}
	for _, v := range x.Data().Data() {
		if !(v > -1 && v < 1) {
			t.Fatalf("G output %v outside (-1, 1)", v)
		}
	}
	if out := e.Forward(x); !slices.Equal(out.Shape(), []int{5, 3}) {
		t.Errorf("E: %v", out.Shape())
	}
	if f := e.Features(x); !slices.Equal(f.Shape(), []int{5, 8}) {
		t.Errorf("E features: %v", f.Shape())
	}
	ali, _ := NewBiGANEncoder(BiGANConfig{Channels: 1, Size: 6, ZDim: 3, Hidden: 8, Stochastic: true}, rng)
	if out := ali.Forward(x); !slices.Equal(out.Shape(), []int{5, 6}) {
		t.Errorf("ALI's E: %v, want a mean and a scale per dimension", out.Shape())
	}
	for _, v := range d.Forward(x, z).Data().Data() {
		if v != 0 {
			t.Fatalf("D starts at logit %v, want 0 (zero output layer)", v)
		}
	}
	nn.InitNormal(d.Out.Weight.Data(), 0, 1, rng)
	a := d.Forward(x, z).Data().Clone()
	z2 := autograd.Const(rng.Uniform(-1, 1, 5, 3))
	if b := d.Forward(x, z2).Data(); slices.Equal(a.Data(), b.Data()) {
		t.Errorf("D's logits do not depend on z")
	}
	if _, err := NewBiGANGenerator(BiGANConfig{Channels: 1, Size: 6, ZDim: 0, Hidden: 8}, rng); err == nil {
		t.Errorf("z dim 0 accepted")
	}
}

// TestBiGANDiscriminatorGradCheck checks D's gradient with respect to
// both of its inputs (the image and the code) by finite differences,
// batch norm in training mode, the code joining before or after it.
func TestBiGANDiscriminatorGradCheck(t *testing.T) {
	for _, after := range []bool{false, true} {
		rng := tensor.NewRNG(2)
		d, err := NewBiGANDiscriminator(BiGANConfig{Channels: 1, Size: 2, ZDim: 2, Hidden: 5, CodeAfterNorm: after}, rng)
		if err != nil {
			t.Fatal(err)
		}
		nn.InitNormal(d.Out.Weight.Data(), 0, 1, rng)
		f := func(xs []*autograd.Value) *autograd.Value { return d.Forward(xs[0], xs[1]) }
		x, z := rng.Uniform(-1, 1, 6, 1, 2, 2), rng.Uniform(-1, 1, 6, 2)
		if err := autograd.GradCheck(f, []*tensor.Tensor{x, z}, autograd.CheckOptions{Seed: 3, Eps: 1e-2}); err != nil {
			t.Errorf("CodeAfterNorm %v: %v", after, err)
		}
	}
}

// TestBiGANDiscriminatorCodeScale: with the code joining before the batch
// norm (the authors' D), the norm hides the codes' scale: with the image
// path's second layer at zero, D(x, z) and D(x, 10 z) are the same in
// training mode. Joined after the norm, the scale shows.
func TestBiGANDiscriminatorCodeScale(t *testing.T) {
	for _, after := range []bool{false, true} {
		rng := tensor.NewRNG(4)
		d, err := NewBiGANDiscriminator(BiGANConfig{Channels: 1, Size: 3, ZDim: 4, Hidden: 6, CodeAfterNorm: after}, rng)
		if err != nil {
			t.Fatal(err)
		}
		nn.InitNormal(d.Out.Weight.Data(), 0, 1, rng)
		d.FC2.Weight.Data().Fill(0)
		nn.InitNormal(d.Z2.Weight.Data(), 0, 1, rng) // code features well above batch norm's eps
		x, z := autograd.Const(rng.Uniform(-1, 1, 8, 1, 3, 3)), rng.Normal(0, 1, 8, 4)
		a := d.Forward(x, autograd.Const(z)).Data().Data()
		b := d.Forward(x, autograd.Const(tensor.Scale(z, 10))).Data().Data()
		var diff float64
		for i := range a {
			diff = max(diff, math.Abs(float64(a[i]-b[i])))
		}
		if hidden := diff < 1e-3; hidden == after {
			t.Errorf("CodeAfterNorm %v: logits move by at most %.2g when the codes grow tenfold; want the scale hidden only before the norm", after, diff)
		}
	}
}
