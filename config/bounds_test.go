package config_test

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
)

// TestSizeBounds checks that a size too large to allocate is a validation
// error stating the bound, not an out-of-memory crash once training
// starts: train.batch, the sample counts, and every integer of every
// preset's model section, whatever its family.
func TestSizeBounds(t *testing.T) {
	for _, tc := range []struct {
		preset, set, want string
	}{
		{"ring8", "model.z_dim=3000000000", "model.z_dim: 3000000000 is too large (want at most 65536)"},
		{"ring8", "train.batch=999999999", "train.batch: 999999999 is too large (want at most 65536)"},
		{"ring8", "model.g_hidden=[64, 100000]", "model.g_hidden: 100000 is too large (want at most 65536 each)"},
		{"ring8", "train.sample_n=100000000", "train.sample_n: 100000000 is too large (want at most 262144)"},
		{"dcgan-mnist", "train.eval_every=100;train.eval_n=10000000", "train.eval_n: 10000000 is too large (want at most 262144"},
		{"cyclegan-thick", "model.blocks=1000", "model.blocks: 1000 is too many (want at most 256)"},
		{"infogan-mnist", "model.cat_codes=[100000]", "model.cat_codes: 100000 is too large"},
		// At the bound is fine.
		{"ring8", "train.batch=65536", ""},
		{"ring8", "model.z_dim=65536", ""},
	} {
		c, err := config.Preset(tc.preset)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range strings.Split(tc.set, ";") {
			if err := c.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		err = c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s -set %s: %v", tc.preset, tc.set, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s -set %s: %v, want an error starting %q", tc.preset, tc.set, err, tc.want)
		}
	}
	// Every integer field of every preset's model section is bounded.
	huge := strconv.Itoa(3000000000)
	checked := 0
	for _, name := range config.Presets() {
		c, err := config.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range intFields(reflect.TypeOf(c.Model.Section)) {
			set := fmt.Sprintf("model.%s=%s", f.name, huge)
			if f.list {
				set = fmt.Sprintf("model.%s=[%s]", f.name, huge)
			}
			c, _ := config.Preset(name)
			if err := c.Set(set); err != nil {
				t.Fatalf("%s -set %s: %v", name, set, err)
			}
			want := regexp.MustCompile(`^model\.` + f.name + `: ` + huge + ` is too (large|many) \(want at most \d+`)
			if err := c.Validate(); err == nil || !want.MatchString(err.Error()) {
				t.Errorf("%s -set %s: %v, want an error stating the bound", name, set, err)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Errorf("checked %d integer fields of the presets' model sections; want many more", checked)
	}
}

type intField struct {
	name string
	list bool
}

// intFields lists the yaml names of a section type's integer fields and
// lists of integers, those of inlined structs included.
func intFields(t reflect.Type) []intField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var r []intField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case strings.Contains(opts, "inline"):
			r = append(r, intFields(f.Type)...)
		case tag == "" || tag == "-":
		case f.Type.Kind() == reflect.Int:
			r = append(r, intField{tag, false})
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Int:
			r = append(r, intField{tag, true})
		}
	}
	return r
}
