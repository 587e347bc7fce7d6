package config_test

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/sagan"
	"github.com/kallima-gan/kallima/family/sngan"
)

// TestResNetConfigs checks the SN-GAN and SAGAN presets and sections: the
// presets' networks, the snapshot parsing back, the defaults under -set
// model.kind, and errors naming the field.
func TestResNetConfigs(t *testing.T) {
	for _, tc := range []struct {
		preset      string
		attention   bool
		conditional bool
	}{{"sngan-mnist", false, false}, {"sngan-cond-mnist", false, true}, {"sagan-mnist", true, false}} {
		c, err := config.Preset(tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		y, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := config.Parse(strings.NewReader(string(y)))
		if err != nil {
			t.Fatalf("%s: snapshot does not parse back: %v", tc.preset, err)
		}
		var s *sngan.Section
		switch v := back.Model.Section.(type) {
		case *sngan.Section:
			s = v
		case *sagan.Section:
			s = &v.Section
		}
		if s == nil || (back.Model.Kind == "sagan") != tc.attention {
			t.Fatalf("%s: section %T of kind %s", tc.preset, back.Model.Section, back.Model.Kind)
		}
		n := s.Networks(family.Data{Size: 28, Channels: 1, Classes: 10}, tc.attention)
		if n.GWidth != 32 || n.DWidth != 32 || n.ZDim != 128 || n.Attention != tc.attention || n.GSpectralNorm != tc.attention ||
			(n.Classes == 10) != tc.conditional {
			t.Errorf("%s: networks %+v", tc.preset, n)
		}
		if c.Loss.Name != "hinge" || c.Train.LRG != 1e-4 || c.Train.LRD != 4e-4 || c.Train.NCritic != 1 {
			t.Errorf("%s: loss %s, lr_g %g, lr_d %g, n_critic %d; want hinge and TTUR 1e-4/4e-4 with one D step", tc.preset,
				c.Loss.Name, c.Train.LRG, c.Train.LRD, c.Train.NCritic)
		}
	}
	c := config.Default()
	if err := c.Set("model.kind=sagan"); err != nil || c.Model.Section.(*sagan.Section).GWidth != 256 || c.Model.Section.(*sagan.Section).DWidth != 128 {
		t.Fatalf("-set model.kind=sagan: %v, %+v (want the paper's widths as defaults)", err, c.Model.Section)
	}
	for _, tc := range []struct {
		preset string
		sets   []string
		want   []string
	}{
		{"sngan-mnist", []string{"model.g_width=0"}, []string{"model.g_width"}},
		{"sagan-mnist", []string{"model.d_width=-1"}, []string{"model.g_width/d_width"}},
		{"sngan-mnist", []string{"model.size=32"}, []string{"model.size", "28x28", "set model.size to 28"}},
		{"sngan-mnist", []string{"model.width=8"}, []string{"model.width", "not found in model (kind sngan"}},
		{"sagan-mnist", []string{"model.conditioning=projection"}, []string{"model.conditioning", "not found in model (kind sagan"}},
		{"sngan-mnist", []string{"data.kind=folder", "data.dir=x", "data.size=48"}, []string{"data.size", "28, 32 or 64"}},
		{"sngan-mnist", []string{"loss.name=hinj"}, []string{"loss.name"}},
		{"sngan-mnist", []string{"model.prior=cauchy"}, []string{"model.prior"}},
		{"sngan-mnist", []string{"loss.feature_matching=1"}, []string{"feature_matching"}},
		{"ring8", []string{"model.kind=sngan"}, []string{"model.kind", "needs image data"}},
		{"sngan-mnist", []string{"data.kind=synthetic", "data.size=32", "data.channels=3", "loss.penalty=r1", "loss.penalty_weight=1"}, nil},
		{"sagan-mnist", []string{"model.conditional=true", "model.size=28"}, nil},
	} {
		cfg, err := config.Preset(tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range tc.sets {
			if err = cfg.Set(kv); err != nil {
				break
			}
		}
		if err == nil {
			err = cfg.Validate()
		}
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s %v: %v", tc.preset, tc.sets, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %v, want it to mention %q", tc.preset, tc.sets, err, w)
			}
		}
	}
}
