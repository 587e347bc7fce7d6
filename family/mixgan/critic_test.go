package mixgan

import (
	"math"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/tensor"
)

// TestCritic: the 2-D mixture's critic is the w-weighted sum of its
// discriminators at standardised points (checked against the nets with
// uneven weights), its gradient in data coordinates matches central
// differences, and asking it leaves no gradient on any weight.
func TestCritic(t *testing.T) {
	c, err := config.Preset("mixgan-ring8")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"model.components=3", "model.g_hidden=[16]", "model.d_hidden=[16,16]"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	ring := data.Mixtures["ring8"]()
	m, err := build(c, family.Data{Points: &ring}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	cr := m.Critic.(*critic)
	copy(cr.d.Logits.Data().Data(), []float32{0.5, -1, 0.2}) // uneven weights
	x := ring.Sample(tensor.NewRNG(2), 5)
	s, dx, err := m.Critic.Score(x, true)
	if err != nil || len(s) != 5 || dx.Shape()[0] != 5 || dx.Shape()[1] != 2 {
		t.Fatalf("score %v, grad %v, %v", s, dx, err)
	}
	w := cr.d.WeightValues()
	xs := standardise(x.Clone(), cr.mean, cr.std)
	for i := range 5 {
		var want float64
		for j, net := range cr.d.Nets {
			ag.NoGrad(func() { want += w[j] * float64(net.Forward(ag.Const(xs)).Data().Data()[i]) })
		}
		if math.Abs(float64(s[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("point %d: score %g, sum_j w_j D_j %g", i, s[i], want)
		}
	}
	const h = 1e-2
	for i := range 5 {
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
