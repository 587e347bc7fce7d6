package config

import (
	"strings"
	"testing"
)

func TestPresetsValidate(t *testing.T) {
	if len(Presets()) == 0 {
		t.Fatal("no presets embedded")
	}
	for _, name := range Presets() {
		c, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, err := Preset("nope"); err == nil || !strings.Contains(err.Error(), "ring8") {
		t.Fatalf("unknown preset: %v (want an error listing the presets)", err)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"train:\n  stepz: 3\n", "stepz"},
		{"train:\n  stepz: 3\n", "known fields"},
		{"bogus: 1\n", "bogus"},
		{"train:\n  steps: many\n", "steps"},
		{"loss: {name: [1]}\n", "line 1"},
	}
	for _, c := range cases {
		_, err := Parse(strings.NewReader(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to mention %q", c.yaml, err, c.want)
		}
	}
}

func TestValidateNamesFieldAndFix(t *testing.T) {
	cases := []struct {
		set, want string
	}{
		{"loss.name=wasserstein", "loss.name"},
		{"loss.name=nope", "have"},
		{"data.kind=cifar", "data.kind"},
		{"train.steps=0", "train.steps"},
		{"train.batch=-1", "train.batch"},
		{"loss.penalty=gp", "loss.penalty_weight"},
		{"loss.penalty=spectral", "loss.penalty"},
		{"train.optimizer=lbfgs", "train.optimizer"},
		{"train.ema=1.5", "train.ema"},
		{"model.prior=cauchy", "model.prior"},
		{"data.kind=mixture", "data.mixture"},
		{"loss.label_smoothing=0.1", "label smoothing applies"},
	}
	for _, c := range cases {
		cfg := Default()
		if c.set == "loss.label_smoothing=0.1" {
			cfg.Loss.Name = "hinge"
		}
		if err := cfg.Set(c.set); err != nil {
			t.Fatalf("set %s: %v", c.set, err)
		}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.set, err, c.want)
		}
	}
}

func TestSetOverrides(t *testing.T) {
	c := Default()
	for _, kv := range []string{"train.steps=42", "loss.name=hinge", "model.g_hidden=[16, 16]", "seed=7"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if c.Train.Steps != 42 || c.Loss.Name != "hinge" || len(c.Model.GHidden) != 2 || c.Seed != 7 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	// Other fields keep their values.
	if c.Train.Batch != Default().Train.Batch {
		t.Fatal("an override reset another field")
	}
	for _, bad := range []string{"train.stepz=1", "novalue", "=3", "train.steps=abc"} {
		if err := c.Set(bad); err == nil {
			t.Errorf("--set %s accepted", bad)
		}
	}
}

func TestMixtureConfig(t *testing.T) {
	c, err := Parse(strings.NewReader(`
data:
  kind: mixture
  mixture:
    means: [[0, 0], [3, 3]]
    sigmas: [0.1, 0.2]
    weights: [1, 3]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if m := c.Mixture(); len(m.Means) != 2 || m.Weights[1] != 3 {
		t.Fatalf("mixture %+v", m)
	}
	y, err := c.YAML()
	if err != nil || !strings.Contains(string(y), "sigmas") {
		t.Fatalf("snapshot: %s, %v", y, err)
	}
	back, err := Parse(strings.NewReader(string(y)))
	if err != nil || back.Data.Mixture.Sigmas[1] != 0.2 {
		t.Fatalf("snapshot does not parse back: %v", err)
	}
}
