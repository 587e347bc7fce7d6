// Package famtest holds what the model families' tests share: loading
// MNIST from the default cache (or skipping when it is absent), presets,
// and the checks of a 2-D critic.
package famtest

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
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

// CheckCritic checks a 2-D model's critic at the points x [N, 2]: a score
// and a gradient for each point, the gradient matching central differences
// of the score (step 1e-2, relative tolerance 1e-2), no gradient left on
// any of the model's parameters, and an error for 3-d points.
func CheckCritic(t *testing.T, m *family.Model, x *tensor.Tensor) {
	t.Helper()
	n := x.Size(0)
	s, dx, err := m.Critic.Score(x, true)
	if err != nil || len(s) != n || dx.Shape()[0] != n || dx.Shape()[1] != 2 {
		t.Fatalf("score %v, grad %v, %v", s, dx, err)
	}
	const h = 1e-2
	for i := range n {
		for k := range 2 {
			xp, xm := x.Clone(), x.Clone()
			xp.Data()[i*2+k] += h
			xm.Data()[i*2+k] -= h
			sp, _, _ := m.Critic.Score(xp, false)
			sm, _, _ := m.Critic.Score(xm, false)
			fd := (float64(sp[i]) - float64(sm[i])) / (2 * h)
			if got := float64(dx.At(i, k)); math.Abs(got-fd) > 1e-2*(1+math.Abs(fd)) {
				t.Errorf("point %d, coordinate %d: gradient %g, central difference %g", i, k, got, fd)
			}
		}
	}
	for _, p := range m.Players {
		for _, q := range p.Module.Params("") {
			if q.Value.Grad() != nil {
				t.Fatalf("%s/%s has a gradient after the critic was asked", p.Name, q.Name)
			}
		}
	}
	if _, _, err := m.Critic.Score(tensor.New(3, 3), false); err == nil {
		t.Error("3-d points: no error")
	}
}
