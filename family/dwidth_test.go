package family_test

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
)

// buildDCGAN validates and builds a width-8 model.kind dcgan on 28x28 gray
// synthetic data (images, when set, for training) with the sets applied.
func buildDCGAN(images *data.Set, sets ...string) (*family.Model, error) {
	c := config.Default()
	for _, kv := range append([]string{"data.kind=synthetic", "model.kind=dcgan", "model.width=8"}, sets...) {
		if err := c.Set(kv); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return family.Build(c, family.Data{Channels: 1, Size: 28, Images: images})
}

// TestDWidth: model.d_width makes D narrower than G (its first
// convolution has d_width output channels), the other DCGAN-shaped
// families refuse it, and a negative width is named.
func TestDWidth(t *testing.T) {
	build := func(sets ...string) (*family.Model, error) { return buildDCGAN(nil, sets...) }
	firstOut := func(m *family.Model, player string) int {
		for _, p := range m.Players {
			if p.Name == player {
				return p.Module.Params("")[0].Value.Data().Size(0)
			}
		}
		t.Fatalf("no player %s", player)
		return 0
	}
	m, err := build("model.d_width=2")
	if err != nil {
		t.Fatal(err)
	}
	if w := firstOut(m, "d"); w != 2 {
		t.Errorf("D's first convolution has %d output channels, want d_width 2", w)
	}
	if m, err = build(); err != nil {
		t.Fatal(err)
	}
	if w := firstOut(m, "d"); w != 8 {
		t.Errorf("without d_width D's first convolution has %d output channels, want width 8", w)
	}
	for _, sets := range [][]string{{"model.d_width=-1"}, {"model.kind=cgan", "data.classes=3", "model.d_width=4"}} {
		if _, err := build(sets...); err == nil || !strings.Contains(err.Error(), "model.d_width") {
			t.Errorf("%v: error %v, want one naming model.d_width", sets, err)
		}
	}
}
