package family_test

import (
	"slices"
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

// paramShapes maps the parameter names of m's player to their shapes.
func paramShapes(t *testing.T, m *family.Model, player string) map[string][]int {
	t.Helper()
	for _, p := range m.Players {
		if p.Name == player {
			s := map[string][]int{}
			for _, q := range p.Module.Params("") {
				s[q.Name] = q.Value.Data().Shape()
			}
			return s
		}
	}
	t.Fatalf("no player %s", player)
	return nil
}

// wantRefused fails t unless building with each of setss fails with an
// error naming field.
func wantRefused(t *testing.T, field string, setss ...[]string) {
	t.Helper()
	for _, sets := range setss {
		if _, err := buildDCGAN(nil, sets...); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%v: error %v, want one naming %s", sets, err, field)
		}
	}
}

// TestDWidth: model.d_width makes D narrower than G (its first
// convolution has d_width output channels), the other DCGAN-shaped
// families refuse it, and a negative width is named.
func TestDWidth(t *testing.T) {
	build := func(sets ...string) (*family.Model, error) { return buildDCGAN(nil, sets...) }
	firstOut := func(m *family.Model, player string) int {
		w := paramShapes(t, m, player)["blocks.0.conv.weight"]
		if len(w) == 0 {
			t.Fatalf("player %s has no blocks.0.conv.weight", player)
		}
		return w[0]
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
	wantRefused(t, "model.d_width", []string{"model.d_width=-1"}, []string{"model.kind=cgan", "data.classes=3", "model.d_width=4"})
}

// TestDExtraLayers: model.d_extra_layers gives D strided convolutions below
// G's base side (at 28x28 and width 8: 7 -> 3 -> 1, 32 and 64 channels), G
// is unchanged, and counts out of range or on other families are named.
func TestDExtraLayers(t *testing.T) {
	m, err := buildDCGAN(nil, "model.d_extra_layers=2")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := buildDCGAN(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := paramShapes(t, m, "d")
	if got := d["blocks.3.conv.weight"]; !slices.Equal(got, []int{64, 32, 4, 4}) {
		t.Errorf("D's fourth convolution %v, want [64 32 4 4]", got)
	}
	if got := d["head.weight"]; !slices.Equal(got, []int{1, 64}) {
		t.Errorf("D's head %v, want [1 64] over the 1x1 maps", got)
	}
	if _, ok := paramShapes(t, plain, "d")["blocks.2.conv.weight"]; ok {
		t.Error("without d_extra_layers D has a third convolution")
	}
	if g, pg := paramShapes(t, m, "g"), paramShapes(t, plain, "g"); len(g) != len(pg) || !slices.Equal(g["project.weight"], pg["project.weight"]) {
		t.Errorf("G changed with d_extra_layers: %v against %v", g, pg)
	}
	wantRefused(t, "model.d_extra_layers", []string{"model.d_extra_layers=3"}, []string{"model.d_extra_layers=-1"}, []string{"model.kind=cgan", "data.classes=3", "model.d_extra_layers=1"})
}

// TestGExtraLayers: model.g_extra_layers starts G below its base side (at
// 28x28 and width 8: 2x2 with 64 channels, then 4 and 7 pixels with 32 and
// 16), D is unchanged, and counts out of range or on other families are
// named.
func TestGExtraLayers(t *testing.T) {
	m, err := buildDCGAN(nil, "model.g_extra_layers=2")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := buildDCGAN(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := paramShapes(t, m, "g")
	if got := g["project.weight"]; !slices.Equal(got, []int{64 * 2 * 2, 100}) {
		t.Errorf("G's projection %v, want [256 100] (64 channels at 2x2)", got)
	}
	if got := g["blocks.1.conv.weight"]; !slices.Equal(got, []int{32, 16, 3, 3}) {
		t.Errorf("G's 4 -> 7 convolution %v, want [32 16 3 3]", got)
	}
	if d, pd := paramShapes(t, m, "d"), paramShapes(t, plain, "d"); len(d) != len(pd) || !slices.Equal(d["head.weight"], pd["head.weight"]) {
		t.Errorf("D changed with g_extra_layers: %v against %v", d, pd)
	}
	wantRefused(t, "model.g_extra_layers", []string{"model.g_extra_layers=3"}, []string{"model.g_extra_layers=-1"}, []string{"model.kind=cgan", "data.classes=3", "model.g_extra_layers=1"})
}

// TestProjectBN: model.project_bn channel normalises G's projection over
// its 16 maps (width 8 at 28x28), feature (the default) over its 784
// outputs, and other values or other families are named.
func TestProjectBN(t *testing.T) {
	for _, c := range []struct {
		sets []string
		want int
	}{{nil, 16 * 7 * 7}, {[]string{"model.project_bn=feature"}, 16 * 7 * 7}, {[]string{"model.project_bn=channel"}, 16}} {
		m, err := buildDCGAN(nil, c.sets...)
		if err != nil {
			t.Fatal(err)
		}
		if got := paramShapes(t, m, "g")["project_bn.weight"]; !slices.Equal(got, []int{c.want}) {
			t.Errorf("%v: G's projection norm %v, want [%d]", c.sets, got, c.want)
		}
	}
	wantRefused(t, "model.project_bn", []string{"model.project_bn=maps"}, []string{"model.kind=cgan", "data.classes=3", "model.project_bn=channel"})
}
