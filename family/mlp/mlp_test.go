package mlp

import (
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/tensor"
)

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
	famtest.CheckCritic(t, m, data.Mixtures["ring8"]().Sample(tensor.NewRNG(2), 6))
	c.Model.Section.(*Section).Pack = 2
	if m, err := build(c, d, tensor.NewRNG(1)); err != nil || m.Critic != nil {
		t.Errorf("packed D: critic %v, %v; want none", m.Critic, err)
	}
}

func ptr[T any](v T) *T { return &v }
