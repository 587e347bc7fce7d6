package models

import (
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// TestACDiscriminator checks the two heads' shapes and state names, and
// that the trunk and source head are the DCGAN discriminator's: built from
// the same seed, the source logits equal a DCGANDiscriminator's, and the
// class logits are the class head applied to the same features.
func TestACDiscriminator(t *testing.T) {
	for _, sn := range []bool{false, true} {
		c := CGANConfig{DCGANConfig: DCGANConfig{Size: 28, Channels: 1, Width: 2, SpectralNorm: sn, NormalInit: true}, Classes: 4}
		d, err := NewACDiscriminator(c, tensor.NewRNG(3))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := NewDCGANDiscriminator(c.DCGANConfig, tensor.NewRNG(3))
		if err != nil {
			t.Fatal(err)
		}
		d.SetTraining(false)
		plain.SetTraining(false)
		x := autograd.Const(tensor.NewRNG(4).Normal(0, 1, 3, 1, 28, 28))
		src, cls := d.Forward(x)
		if !slices.Equal(src.Shape(), []int{3, 1}) || !slices.Equal(cls.Shape(), []int{3, 4}) || d.Classes() != 4 {
			t.Fatalf("sn %v: source %v, class %v, want [3 1] and [3 4]", sn, src.Shape(), cls.Shape())
		}
		if !slices.Equal(src.Data().Data(), plain.Forward(x).Data().Data()) {
			t.Errorf("sn %v: source logits %v differ from the DCGAN discriminator's %v", sn, src.Data().Data(), plain.Forward(x).Data().Data())
		}
		phi, _ := d.Net.Features(x)
		if !slices.Equal(cls.Data().Data(), d.Class.Forward(phi).Data().Data()) {
			t.Errorf("sn %v: class logits are not the class head on the trunk's features", sn)
		}
		var names []string
		for _, p := range d.Params("") {
			names = append(names, p.Name)
		}
		want := "class.weight"
		if sn {
			want = "class.weight_orig"
		}
		if !slices.Contains(names, want) || !slices.Contains(names, "class.bias") || !slices.Contains(names, "net.head.bias") {
			t.Errorf("sn %v: parameters %v lack %s, class.bias or net.head.bias", sn, names, want)
		}
		if n := len(nn.Parameters(d)); n != len(nn.Parameters(plain))+2 {
			t.Errorf("sn %v: %d parameters, want the DCGAN discriminator's %d and the class head's 2", sn, n, len(nn.Parameters(plain)))
		}
	}
	if _, err := NewACDiscriminator(CGANConfig{DCGANConfig: DCGANConfig{Size: 28, Channels: 1, Width: 2}, Classes: 1}, tensor.NewRNG(1)); err == nil || !strings.Contains(err.Error(), "Classes 1") {
		t.Errorf("error %v, want one naming Classes 1", err)
	}
}
