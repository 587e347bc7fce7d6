package models

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestPatchGANShapes checks the logits map's side, H/2^Layers - 2, the
// parameter names and that convolutions before batch norm have no bias.
func TestPatchGANShapes(t *testing.T) {
	for _, tc := range []struct {
		size, layers, side int
		norm               string
		names              []string
	}{
		{28, 0, 12, "", []string{"blocks.0.conv.weight", "blocks.0.conv.bias", "blocks.1.conv.weight", "blocks.1.norm.weight", "blocks.1.norm.bias", "out.weight", "out.bias"}},
		{32, 1, 14, "instance", []string{"blocks.0.conv.weight", "blocks.0.conv.bias", "blocks.1.conv.weight", "out.weight", "out.bias"}},
		{28, 2, 5, "none", []string{"blocks.0.conv.weight", "blocks.0.conv.bias", "blocks.1.conv.weight", "blocks.1.conv.bias", "blocks.2.conv.weight", "blocks.2.conv.bias", "out.weight", "out.bias"}},
		{32, 2, 6, "batch", nil},
	} {
		d, err := NewPatchGAN(PatchGANConfig{Channels: 2, Width: 3, Layers: tc.layers, Norm: tc.norm, NormalInit: true}, tensor.NewRNG(2))
		if err != nil {
			t.Fatal(err)
		}
		out := d.Forward(autograd.Const(tensor.NewRNG(3).Normal(0, 1, 2, 2, tc.size, tc.size)))
		if s := out.Shape(); s[0] != 2 || s[1] != 1 || s[2] != tc.side || s[3] != tc.side {
			t.Errorf("size %d layers %d: logits %v, want [2 1 %d %d]", tc.size, tc.layers, s, tc.side, tc.side)
		}
		if tc.names == nil {
			continue
		}
		var names []string
		for _, p := range d.Params("") {
			names = append(names, p.Name)
		}
		if strings.Join(names, " ") != strings.Join(tc.names, " ") {
			t.Errorf("norm %q layers %d: params %v, want %v", tc.norm, tc.layers, names, tc.names)
		}
	}
}

// TestPatchGANReceptiveField checks PatchReceptiveField against the
// network: the input pixels an interior logit depends on (its gradient's
// support) span exactly that many rows and columns.
func TestPatchGANReceptiveField(t *testing.T) {
	for layers, size := range map[int]int{1: 32, 2: 64, 3: 144} {
		d, err := NewPatchGAN(PatchGANConfig{Channels: 1, Width: 1, Layers: layers, Norm: NormNone}, tensor.NewRNG(4))
		if err != nil {
			t.Fatal(err)
		}
		x := autograd.Param(tensor.NewRNG(5).Normal(0, 1, 1, 1, size, size))
		out := d.Forward(x)
		side := out.Shape()[2]
		r := tensor.New(out.Shape()...)
		r.Data()[side/2*side+side/2] = 1
		g := autograd.Grad([]*autograd.Value{autograd.Sum(autograd.Mul(out, autograd.Const(r)), nil, false)}, []*autograd.Value{x}, nil, false)[0].Data()
		lo, hi := [2]int{size, size}, [2]int{-1, -1}
		for i, v := range g.Data() {
			if v != 0 {
				y, x := i/size, i%size
				lo, hi = [2]int{min(lo[0], y), min(lo[1], x)}, [2]int{max(hi[0], y), max(hi[1], x)}
			}
		}
		want := PatchReceptiveField(layers)
		if hi[0]-lo[0]+1 != want || hi[1]-lo[1]+1 != want {
			t.Errorf("layers %d: the centre logit sees rows %d..%d and columns %d..%d, want %d of each", layers, lo[0], hi[0], lo[1], hi[1], want)
		}
	}
	if PatchReceptiveField(3) != 70 {
		t.Errorf("3 layers: receptive field %d, want the paper's 70", PatchReceptiveField(3))
	}
}

// TestPatchGANErrors checks that a bad config is an error naming the
// field and a too-small image panics naming the net.
func TestPatchGANErrors(t *testing.T) {
	for _, tc := range []struct {
		c    PatchGANConfig
		want string
	}{
		{PatchGANConfig{Channels: 0, Width: 4}, "Channels"},
		{PatchGANConfig{Channels: 2, Width: 0}, "Width"},
		{PatchGANConfig{Channels: 2, Width: 4, Layers: -1}, "Layers"},
		{PatchGANConfig{Channels: 2, Width: 4, Norm: "group"}, "Norm"},
	} {
		if _, err := NewPatchGAN(tc.c, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.c, err, tc.want)
		}
	}
	d, err := NewPatchGAN(PatchGANConfig{Channels: 1, Width: 2, Layers: 3}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "PatchGAN") {
			t.Errorf("a 16x16 image through 3 stride-2 layers: panic %v, want one naming PatchGAN", r)
		}
	}()
	d.Forward(autograd.Const(tensor.New(1, 1, 16, 16)))
}
