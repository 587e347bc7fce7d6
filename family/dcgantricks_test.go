package family_test

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/tensor"
)

// TestDCGANTricks: loss.minibatch_kernels gives model.kind dcgan's D a
// minibatch layer (its T in D's state, the head widened by the kernels);
// loss.feature_matching adds G's feature matching term and
// loss.historical_average both players' terms and their state; the
// combinations that cannot work are refused by name.
func TestDCGANTricks(t *testing.T) {
	images := &data.Set{Images: tensor.NewRNG(3).Uniform(-1, 1, 32, 1, 28, 28), Labels: make([]int, 32)}
	build := func(sets ...string) (*family.Model, error) {
		return buildDCGAN(images, append([]string{"train.batch=8"}, sets...)...)
	}
	m, err := build("loss.minibatch_kernels=10")
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{}
	for _, p := range m.Players {
		if p.Name == "d" {
			for _, q := range p.Module.Params("") {
				shapes[q.Name] = q.Value.Shape()
			}
		}
	}
	// 28x28 with width 8: 16 maps of 7x7 = 784 features, 10 kernels of 5.
	if s := shapes["minibatch.T"]; len(s) != 2 || s[0] != 784 || s[1] != 50 {
		t.Errorf("D's minibatch.T %v, want [784 50] (D's params: %v)", s, shapes)
	}
	if s := shapes["head.weight"]; len(s) != 2 || s[1] != 794 {
		t.Errorf("D's head.weight %v, want [1 794]", s)
	}
	m, err = build("loss.feature_matching=0.5", "loss.historical_average=1e-3")
	if err != nil {
		t.Fatal(err)
	}
	if m.Extras["hist_d"] == nil || m.Extras["hist_g"] == nil {
		t.Errorf("historical averaging: extras %v, want hist_d and hist_g kept in checkpoints", m.Extras)
	}
	var logs gan.Logs
	tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: 2, Callbacks: []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error {
		logs = l
		return nil
	}}}
	if err := tr.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	for _, k := range []string{"g/feature_matching", "g/hist_avg", "d/hist_avg"} {
		if v, ok := logs[k]; !ok || !(v > 0) {
			t.Errorf("step 2 logs %v: want a positive %s", logs, k)
		}
	}
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"loss.minibatch_kernels=4", "loss.name=wgan", "loss.penalty=gp", "loss.penalty_weight=10", "model.d_no_batchnorm=true"}, "loss.minibatch_kernels"},
		{[]string{"loss.feature_matching=1", "model.pack=2"}, "loss.feature_matching"},
		{[]string{"loss.minibatch_kernels=-2"}, "minibatch_kernels"},
	} {
		if _, err := build(tc.sets...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %q", tc.sets, err, tc.want)
		}
	}
}
