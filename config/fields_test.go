package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
)

// TestFlowStyleErrorsNameTheField checks that a decode error names the
// field it is about when several fields share its line, as in flow-style
// mappings (every preset's style, and so that of kallima presets X >
// mine.yaml): by the value it could not decode or the key it names, and,
// when several on the line match, by their order on it.
func TestFlowStyleErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string // the error's lines, each a prefix
	}{
		{"name: t\ndata: {kind: ring8}\nmodel: {kind: mlp}\ntrain: {steps: 10, batch: 64, lr_d: fast}\n",
			[]string{`train.lr_d: line 4: "fast" is not a number`}},
		{"loss: {name: ns, penalty_weight: x}\n", []string{`loss.penalty_weight: line 1: "x" is not a number`}},
		{"model: {kind: mlp, z_dim: 8, g_hidden: [a, 2]}\n", []string{`model.g_hidden: line 1: "a" is not an integer`}},
		{"model: {kind: mlp}\ntrain: {steps: 10}\nmodel: {kind: mlp}\n", []string{`model: line 3: mapping key "model" already defined at line 1`}},
		{"model:\n  kind: mlp\nmodel:\n  kind: mlp\n", []string{`model: line 3: mapping key "model" already defined at line 1`}},
		{"train: {steps: 10, steps: 20}\n", []string{`train.steps: line 1: mapping key "steps" already defined at line 1`}},
		// Two errors on one line: the first and the second match, in order.
		{"train: {steps: 10, lr_g: slow, lr_d: fast}\n", []string{`train.lr_g: line 1: "slow"`, `train.lr_d: line 1: "fast"`}},
		{"train: {lr_g: fast, lr_d: fast}\n", []string{`train.lr_g: line 1: "fast"`, `train.lr_d: line 1: "fast"`}},
		// yaml.v3 cuts values longer than 10 bytes to their first 7.
		{"train: {steps: 10, lr_g: 1e-3, lr_d: averyfastrate}\n", []string{`train.lr_d: line 1: "averyfa..." is not a number`}},
		// A mapping or list where a number goes: the field, not its section.
		{"train: {steps: {a: 1}, batch: 3}\n", []string{"train.steps: line 1: cannot unmarshal !!map"}},
		{"train: {steps: 3, batch: [3]}\n", []string{"train.batch: line 1: cannot unmarshal !!seq"}},
		// Block style, as before.
		{"train:\n  steps: 10\n  lr_g: fast\n", []string{`train.lr_g: line 3: "fast" is not a number`}},
	} {
		_, err := config.Parse(strings.NewReader(tc.yaml))
		if err == nil {
			t.Errorf("%q: no error", tc.yaml)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(tc.want) {
			t.Errorf("%q: error %q, want %d lines", tc.yaml, err, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(strings.TrimLeft(lines[i], " "), w) {
				t.Errorf("%q: error line %q, want it to start %q", tc.yaml, lines[i], w)
			}
		}
	}
	// The user's path: a preset's own file, one value broken.
	b, err := config.PresetFile("infogan-pick-mnist")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("lr_d: 2.0e-4"), []byte("lr_d: fast"), 1)
	if _, err := config.Parse(bytes.NewReader(b)); err == nil || !strings.HasPrefix(err.Error(), `train.lr_d: line `) {
		t.Errorf("infogan-pick-mnist with lr_d: fast: %v, want an error naming train.lr_d", err)
	}
	// -set decodes through the model section too.
	c := config.Default()
	if err := c.Set("model.g_hidden=[a, 2]"); err == nil || err.Error() != `-set model.g_hidden=[a, 2]: model.g_hidden: "a" is not an integer` {
		t.Errorf("-set model.g_hidden=[a, 2]: %v", err)
	}
}

// TestEmptyValues checks that an empty (null) value is an error naming
// the field, from -set and from a file, rather than the field silently
// keeping its value; and that null still means none where it always has.
func TestEmptyValues(t *testing.T) {
	for _, kv := range []string{"train.steps=", "loss.name=", "train.steps= ", "train.steps=null", "train.steps=~", "model.z_dim=", "model.g_hidden=", "model.kind=", "train=", "seed=", "data.mixture.sigmas="} {
		c, err := config.Preset("ring8")
		if err != nil {
			t.Fatal(err)
		}
		before, _ := c.YAML()
		err = c.Set(kv)
		if err == nil || !strings.HasPrefix(err.Error(), "-set "+kv+": ") || !strings.Contains(err.Error(), "empty value") {
			t.Errorf("-set %s: %v, want \"-set %s: ... empty value ...\"", kv, err, kv)
		}
		if after, _ := c.YAML(); !bytes.Equal(before, after) {
			t.Errorf("-set %s changed the config", kv)
		}
	}
	// A string field says how to give the empty string, which works.
	c, err := config.Preset("wgangp-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("loss.penalty="); err == nil || !strings.Contains(err.Error(), `-set 'loss.penalty=""'`) {
		t.Errorf("-set loss.penalty=: %v, want the hint for the empty string", err)
	}
	if err := c.Set(`loss.penalty=""`); err != nil || c.Loss.Penalty != "" {
		t.Errorf(`-set loss.penalty="": %v, penalty %q`, err, c.Loss.Penalty)
	}
	// An unknown field is named as such, empty or not.
	if err := c.Set("train.stepz="); err == nil || !strings.Contains(err.Error(), "field stepz not found") {
		t.Errorf("-set train.stepz=: %v, want the unknown field named", err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"train:\n  batch: 64\n  steps:\n", "train.steps: line 3: empty value"},
		{"train: {steps: , batch: 64}\n", "train.steps: line 1: empty value"},
		{"loss: {name: null}\n", "loss.name: line 1: empty value"},
		{"data: {kind: ~}\n", "data.kind: line 1: empty value"},
		{"model: {kind: mlp, z_dim: }\n", "model.z_dim: line 1: empty value"},
		{"model: {kind: mlp, g_hidden: [4, ~]}\n", "model.g_hidden: line 1: empty value"},
		{"model: {kind: , z_dim: 3}\n", "model.kind: line 1: empty value"},
		{"seed:\n", "seed: line 1: empty value"},
	} {
		if _, err := config.Parse(strings.NewReader(tc.yaml)); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error starting %q", tc.yaml, err, tc.want)
		}
	}
	// Null is none for a pointer (a snapshot writes mixture: null), and an
	// empty section changes nothing.
	for _, y := range []string{"data: {kind: ring8, mixture: null}\n", "loss:\nmodel:\ntrain: ~\n"} {
		c, err := config.Parse(strings.NewReader(y))
		if err != nil {
			t.Errorf("%q: %v", y, err)
			continue
		}
		if c.Train.Steps != config.Default().Train.Steps || c.Model.Kind != config.DefaultModelKind {
			t.Errorf("%q: not the defaults: %+v", y, c)
		}
	}
}

// TestSnapshotsParseBack checks that the YAML a run folder keeps of its
// config parses back (so no field is written as the null that Parse
// refuses): every preset, and every model kind's defaults.
func TestSnapshotsParseBack(t *testing.T) {
	var cs []config.Config
	for _, name := range config.Presets() {
		c, err := config.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	for _, kind := range config.ModelKinds() {
		c := config.Default()
		if err := c.Set("model.kind=" + kind); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		y, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := config.Parse(bytes.NewReader(y))
		if err != nil {
			t.Errorf("%s (%s): snapshot does not parse back: %v\n%s", c.Name, c.Model.Kind, err, y)
			continue
		}
		if again, _ := back.YAML(); !bytes.Equal(y, again) {
			t.Errorf("%s (%s): snapshot parses back to another config", c.Name, c.Model.Kind)
		}
	}
}
