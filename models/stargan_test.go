package models

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

func smallStar() StarGANConfig {
	return StarGANConfig{Size: 28, Channels: 1, Domains: 3, GWidth: 2, Blocks: 1, DWidth: 2, DLayers: 3}
}

func TestStarGANConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*StarGANConfig)
		want string
	}{
		{func(c *StarGANConfig) { c.Size = 30 }, "Size 30"},
		{func(c *StarGANConfig) { c.Channels = 0 }, "Channels 0"},
		{func(c *StarGANConfig) { c.Domains = 1 }, "Domains 1"},
		{func(c *StarGANConfig) { c.GWidth = 0 }, "GWidth 0"},
		{func(c *StarGANConfig) { c.Blocks = -1 }, "Blocks -1"},
		{func(c *StarGANConfig) { c.DLayers = 5 }, "at most 4 for 28x28"},
		{func(c *StarGANConfig) { c.DLayers = 0 }, "DLayers 0"},
	} {
		c := smallStar()
		tc.edit(&c)
		if _, err := NewStarGenerator(c, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: generator error %v, want one containing %q", c, err, tc.want)
		}
		if _, err := NewStarDiscriminator(c, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: discriminator error %v, want one containing %q", c, err, tc.want)
		}
	}
	c := smallStar()
	c.DLayers = 4
	if err := c.Validate(); err != nil || c.DSide() != 1 {
		t.Errorf("4 layers at 28: error %v, side %d, want none and 1", err, c.DSide())
	}
}

func TestDomainMaps(t *testing.T) {
	m := DomainMaps([]int{2, 0}, 3, 2)
	want := []float32{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	for i, v := range m.Data() {
		if v != want[i] {
			t.Fatalf("maps %v, want %v", m.Data(), want)
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "domain 3 out of range") {
			t.Errorf("panic %v, want one naming domain 3", r)
		}
	}()
	DomainMaps([]int{3}, 3, 2)
}

// TestStarGANShapes checks the shapes at 28x28: G keeps the image's shape
// with values in (-1, 1) and depends on the target domain; D gives a 3x3
// patch map and one logit per domain.
func TestStarGANShapes(t *testing.T) {
	rng := tensor.NewRNG(2)
	g, err := NewStarGenerator(smallStar(), rng)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewStarDiscriminator(smallStar(), rng)
	if err != nil {
		t.Fatal(err)
	}
	x := autograd.Const(rng.Uniform(-1, 1, 2, 1, 28, 28))
	a, b := g.Forward(x, []int{0, 0}).Data(), g.Forward(x, []int{0, 1}).Data()
	if !tensor.SameShape(a.Shape(), []int{2, 1, 28, 28}) {
		t.Fatalf("G output %v", a.Shape())
	}
	if tensor.Max(tensor.Abs(a), nil, false).Item() >= 1 {
		t.Error("G output outside (-1, 1)")
	}
	px := 28 * 28
	same, differ := true, false
	for i := range px {
		same = same && a.Data()[i] == b.Data()[i]
		differ = differ || a.Data()[px+i] != b.Data()[px+i]
	}
	if !same || !differ {
		t.Errorf("image 0 (same domain) unchanged %v, image 1 (other domain) changed %v: want both", same, differ)
	}
	src, cls := d.Forward(x)
	if !tensor.SameShape(src.Shape(), []int{2, 1, 3, 3}) || !tensor.SameShape(cls.Shape(), []int{2, 3}) {
		t.Errorf("D outputs %v and %v, want [2 1 3 3] and [2 3]", src.Shape(), cls.Shape())
	}
}

func TestStarGANPanicsOnShape(t *testing.T) {
	rng := tensor.NewRNG(3)
	g, _ := NewStarGenerator(smallStar(), rng)
	d, _ := NewStarDiscriminator(smallStar(), rng)
	for name, f := range map[string]func(){
		"G size":    func() { g.Forward(autograd.Const(tensor.New(1, 1, 32, 32)), []int{0}) },
		"G domains": func() { g.Forward(autograd.Const(tensor.New(2, 1, 28, 28)), []int{0}) },
		"D size":    func() { d.Forward(autograd.Const(tensor.New(1, 3, 28, 28))) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "models.Star") {
					t.Errorf("%s: panic %v, want one naming the network", name, r)
				}
			}()
			f()
		}()
	}
}
