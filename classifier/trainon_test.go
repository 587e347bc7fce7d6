package classifier

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/tensor"
)

// bars returns n images of a vertical bar of width 1, 3 or 5 (class 0, 1,
// 2) at a random column, on a noisy background: three "stroke width"
// domains.
func bars(n int, rng *tensor.RNG) *data.Set {
	x := rng.Uniform(-1, -0.8, n, 1, Side, Side)
	ys := make([]int, n)
	d := x.Data()
	for i := range ys {
		ys[i] = rng.Intn(3)
		w := 1 + 2*ys[i]
		c := 6 + rng.Intn(12)
		for r := 4; r < 24; r++ {
			for k := c; k < c+w; k++ {
				d[i*Side*Side+r*Side+k] = 1
			}
		}
	}
	return &data.Set{Images: x, Labels: ys, Classes: []string{"thin", "normal", "thick"}}
}

// TestTrainOnLearnsDomains trains on 256 bar images for 80 steps of 16 and
// needs at least 90% accuracy on 90 held-out ones (chance is a third),
// and the metadata names the classes.
func TestTrainOnLearnsDomains(t *testing.T) {
	rng := tensor.NewRNG(4)
	train, test := bars(256, rng), bars(90, rng)
	c, err := TrainOn(train, TrainConfig{Epochs: 5, BatchSize: 16, LR: 3e-3, Seed: 1, MaxSteps: 80}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := c.Net.Accuracy(test.Images, test.Labels)
	t.Logf("held-out accuracy %.3f", acc)
	if acc < 0.9 {
		t.Errorf("held-out accuracy %.3f, want at least 0.9", acc)
	}
	if c.Metadata["classes"] != "thin,normal,thick" || c.Metadata["steps"] != "80" {
		t.Errorf("metadata %v", c.Metadata)
	}
}

func TestTrainOnRejectsBadSets(t *testing.T) {
	ok := bars(8, tensor.NewRNG(1))
	one := bars(8, tensor.NewRNG(1))
	one.Labels = make([]int, 8)
	for _, tc := range []struct {
		name string
		set  *data.Set
		want string
	}{
		{"nil", nil, "no images"},
		{"shape", &data.Set{Images: tensor.New(2, 3, 28, 28), Labels: []int{0, 1}}, "shape"},
		{"count", &data.Set{Images: ok.Images, Labels: ok.Labels[:3]}, "3 labels for 8 images"},
		{"range", &data.Set{Images: ok.Images, Labels: append([]int{10}, ok.Labels[1:]...)}, "label 10 out of range"},
		{"one class", one, "at least 2"},
	} {
		if _, err := TrainOn(tc.set, TrainConfig{}, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := TrainOn(ok, TrainConfig{Epochs: -1}, nil); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative epochs: error %v", err)
	}
}
