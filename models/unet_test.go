package models

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestUNetShapes checks every depth for 28x28 and 32x32 images: the
// output has the input's side (the output paddings make odd sides work),
// the requested channels, values in (-1, 1), and the default depth reaches
// a 1x1 bottleneck.
func TestUNetShapes(t *testing.T) {
	if MaxUNetDepth(28) != 4 || MaxUNetDepth(32) != 5 || MaxUNetDepth(256) != 8 {
		t.Fatalf("MaxUNetDepth(28, 32, 256) = %d, %d, %d; want 4, 5, 8 (the paper's 256 goes down 8 times)", MaxUNetDepth(28), MaxUNetDepth(32), MaxUNetDepth(256))
	}
	for _, size := range []int{28, 32} {
		for depth := 0; depth <= MaxUNetDepth(size); depth++ {
			if depth == 1 {
				continue
			}
			u, err := NewUNet(UNetConfig{Size: size, Channels: 2, OutChannels: 3, Width: 2, Depth: depth, Dropout: 0.5, NormalInit: true}, tensor.NewRNG(1), tensor.NewRNG(2))
			if err != nil {
				t.Fatal(err)
			}
			out := u.Forward(autograd.Const(tensor.NewRNG(3).Normal(0, 1, 2, 2, size, size))).Data()
			if s := out.Shape(); s[0] != 2 || s[1] != 3 || s[2] != size || s[3] != size {
				t.Errorf("size %d depth %d: output %v", size, depth, s)
			}
			for _, v := range out.Data() {
				if !(v > -1 && v < 1) {
					t.Fatalf("size %d depth %d: output value %v outside (-1, 1)", size, depth, v)
				}
			}
			want := depth
			if want == 0 {
				want = MaxUNetDepth(size)
			}
			if len(u.Down) != want || len(u.Up) != want-1 {
				t.Errorf("size %d depth %d: %d encoder and %d decoder layers", size, depth, len(u.Down), len(u.Up))
			}
		}
	}
}

// TestUNetDropout checks where dropout sits (the Depth/2 innermost decoder
// layers by default), that it is the noise source in training mode, that
// evaluation mode turns it off with batch norm, and that SetDropout(true)
// after it brings it back alone (the paper's test-time noise).
func TestUNetDropout(t *testing.T) {
	u, err := NewUNet(UNetConfig{Size: 28, Channels: 1, Width: 4, Dropout: 0.5, NormalInit: true}, tensor.NewRNG(1), tensor.NewRNG(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Drop) != 3 || u.Drop[0] == nil || u.Drop[1] == nil || u.Drop[2] != nil {
		t.Fatalf("dropout layers %v: want the 2 innermost of 3 decoder layers", u.Drop)
	}
	x := autograd.Const(tensor.NewRNG(3).Normal(0, 1, 4, 1, 28, 28))
	differ := func() bool {
		a, b := u.Forward(x).Data(), u.Forward(x).Data()
		for i, v := range a.Data() {
			if v != b.Data()[i] {
				return true
			}
		}
		return false
	}
	u.SetTraining(true)
	u.SetDropout(false)
	if differ() {
		t.Error("training mode without dropout: two passes differ")
	}
	u.SetDropout(true)
	if !differ() {
		t.Error("training mode with dropout: two passes are equal")
	}
	u.SetTraining(false)
	if differ() {
		t.Error("evaluation mode: two passes differ")
	}
	u.SetDropout(true)
	if !differ() {
		t.Error("evaluation mode with SetDropout(true): two passes are equal")
	}
	none, err := NewUNet(UNetConfig{Size: 28, Channels: 1, Width: 4, Depth: 3}, tensor.NewRNG(1), nil)
	if err != nil || none.HasDropout() {
		t.Fatalf("Dropout 0: %v, has dropout %v", err, none != nil && none.HasDropout())
	}
}

// TestUNetErrors checks that bad configs are errors naming the field and
// a wrong input shape panics naming the net.
func TestUNetErrors(t *testing.T) {
	ok := UNetConfig{Size: 28, Channels: 1, Width: 4}
	for _, tc := range []struct {
		edit func(c *UNetConfig)
		want string
	}{
		{func(c *UNetConfig) { c.Size = 3 }, "Size"},
		{func(c *UNetConfig) { c.Channels = 0 }, "Channels"},
		{func(c *UNetConfig) { c.OutChannels = -1 }, "OutChannels"},
		{func(c *UNetConfig) { c.Width = 0 }, "Width"},
		{func(c *UNetConfig) { c.Depth = 5 }, "Depth 5: want 2 to 4"},
		{func(c *UNetConfig) { c.Depth = 1 }, "Depth"},
		{func(c *UNetConfig) { c.Dropout = 1 }, "Dropout"},
		{func(c *UNetConfig) { c.Dropout, c.DropoutLayers = 0.5, 4 }, "DropoutLayers"},
		{func(c *UNetConfig) { c.Norm = "layer" }, "Norm"},
		{func(c *UNetConfig) { c.Dropout = 0.5 }, "stream"},
	} {
		c := ok
		tc.edit(&c)
		if _, err := NewUNet(c, tensor.NewRNG(1), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", c, err, tc.want)
		}
	}
	u, err := NewUNet(ok, tensor.NewRNG(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "UNet") {
			t.Errorf("a 32x32 image into a 28x28 U-Net: panic %v, want one naming UNet", r)
		}
	}()
	u.Forward(autograd.Const(tensor.New(1, 1, 32, 32)))
}
