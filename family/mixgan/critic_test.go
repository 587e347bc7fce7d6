package mixgan

import (
	"math"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/tensor"
)

// TestCritic: the 2-D mixture's critic is the w-weighted sum of its
// discriminators at standardised points (checked against the nets with
// uneven weights), and passes famtest.CheckCritic (its gradient against
// central differences).
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
	cr := m.Critic.(*family.StandardCritic)
	mix := m.Player("d").Module.(*Mixture)
	copy(mix.Logits.Data().Data(), []float32{0.5, -1, 0.2}) // uneven weights
	x := ring.Sample(tensor.NewRNG(2), 5)
	famtest.CheckCritic(t, m, x)
	s, _, err := m.Critic.Score(x, false)
	if err != nil {
		t.Fatal(err)
	}
	w := mix.WeightValues()
	xs := family.Standardise(x.Clone(), cr.Mean, cr.Std)
	for i := range 5 {
		var want float64
		for j, net := range mix.Nets {
			ag.NoGrad(func() { want += w[j] * float64(net.Forward(ag.Const(xs)).Data().Data()[i]) })
		}
		if math.Abs(float64(s[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Errorf("point %d: score %g, sum_j w_j D_j %g", i, s[i], want)
		}
	}
}
