package mlp

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
)

func TestStandardiseRoundTrip(t *testing.T) {
	m := data.Mixtures["ring8"]()
	mean, std := m.Moments()
	x := m.Sample(tensor.NewRNG(3), 50)
	orig := x.Clone()
	unstandardise(standardise(x, mean, std), mean, std)
	for i, v := range x.Data() {
		if d := v - orig.Data()[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("value %d: %g after the round trip, want %g", i, v, orig.Data()[i])
		}
	}
}

// TestCritic: the critic's gradient in data coordinates matches central
// differences of its score, asking it leaves no gradient on D's weights,
// and packed or minibatch discriminators have no critic.
func TestCritic(t *testing.T) {
	c := config.Default()
	c.Model.Section.(*Section).DHidden = []int{16, 16}
	d := family.Data{Points: ptr(data.Mixtures["ring8"]())}
	m, err := build(c, d, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	x := data.Mixtures["ring8"]().Sample(tensor.NewRNG(2), 6)
	s, dx, err := m.Critic.Score(x, true)
	if err != nil || len(s) != 6 || dx.Shape()[0] != 6 || dx.Shape()[1] != 2 {
		t.Fatalf("score %v, grad %v, %v", s, dx, err)
	}
	const h = 1e-2
	for i := range 6 {
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
	c.Model.Section.(*Section).Pack = 2
	if m, err := build(c, d, tensor.NewRNG(1)); err != nil || m.Critic != nil {
		t.Errorf("packed D: critic %v, %v; want none", m.Critic, err)
	}
}

func ptr[T any](v T) *T { return &v }
