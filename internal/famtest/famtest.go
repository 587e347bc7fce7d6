// Package famtest holds what the model families' tests share: loading
// MNIST from the default cache, or skipping when it is absent.
package famtest

import (
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
)

// MNIST loads MNIST's split from the folder an mnist config reads by
// default, or skips the test with the command that fetches it.
func MNIST(t testing.TB, split data.Split) *data.Set {
	t.Helper()
	c := config.Default()
	c.Data.Kind = "mnist"
	if _, err := data.MNISTFiles(c.DataDir()); err != nil {
		t.Skipf("MNIST not found in %s (kallima data fetch mnist): %v", c.DataDir(), err)
	}
	set, err := data.LoadMNIST(c.DataDir(), split)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// Preset returns the named preset with the key=value settings applied and
// the config validated. A preset that does not exist fails the test; a bad
// setting or a config that does not validate is the returned error, for
// tests of the errors a family reports.
func Preset(t testing.TB, preset string, sets ...string) (config.Config, error) {
	t.Helper()
	c, err := config.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range sets {
		if err := c.Set(kv); err != nil {
			return c, err
		}
	}
	return c, c.Validate()
}
