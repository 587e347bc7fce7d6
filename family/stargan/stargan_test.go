package stargan

import (
	"context"
	"math"
	"slices"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// tiny returns a validated stargan config for 16x16 synthetic images with
// the paper's loss, n_critic and optimiser, small networks, and sets
// applied.
func tiny(t *testing.T, sets ...string) config.Config {
	t.Helper()
	c := config.Default()
	base := []string{"data.kind=synthetic", "data.size=16", "data.classes=3", "model.kind=stargan", "model.g_width=4", "model.blocks=1",
		"model.d_width=8", "loss.name=wgan", "loss.penalty=gp", "loss.penalty_weight=10", "train.n_critic=5", "train.batch=16",
		"train.lr_g=1e-4", "train.lr_d=1e-4", "train.beta1=0.5", "train.beta2=0.999"}
	for _, kv := range append(base, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// bars returns n 16x16 images of a vertical bar of width 1, 3 or 5
// (domains thin, normal, thick) at a random column, on a dark background
// with a little noise: a stroke-width task in miniature.
func bars(n int, rng *tensor.RNG) *data.Set {
	const side = 16
	x := rng.Uniform(-1, -0.9, n, 1, side, side)
	ys := make([]int, n)
	d := x.Data()
	for i := range ys {
		ys[i] = i % 3
		w := 1 + 2*ys[i]
		c := 3 + rng.Intn(side-6-w)
		for r := 2; r < side-2; r++ {
			for k := c; k < c+w; k++ {
				d[i*side*side+r*side+k] = 1
			}
		}
	}
	return &data.Set{Images: x, Labels: ys, Classes: []string{"thin", "normal", "thick"}}
}

func barData(n int, seed uint64) family.Data {
	set := bars(n, tensor.NewRNG(seed))
	return family.Data{Channels: 1, Size: 16, Classes: 3, Images: set, ClassNames: set.Classes}
}

// meanWidth is the mean count of bright pixels (> 0) in the middle row of
// each image of x [N, 1, 16, 16].
func meanWidth(x *tensor.Tensor) float64 {
	n, total := x.Size(0), 0
	for i := range n {
		row := x.Data()[i*256+8*16 : i*256+9*16]
		for _, v := range row {
			if v > 0 {
				total++
			}
		}
	}
	return float64(total) / float64(n)
}

// TestTrainTranslatesBars trains on 480 bar images for 400 steps at a
// learning rate of 5e-4 and translates 60 held-out bars of every domain to
// each domain: the mean bar width (bright pixels in the middle row) of the
// translations to thin, normal and thick must be within half a pixel of
// the real 1, 3 and 5 (1.07, 3.15 and 5.10 in a run with OpenBLAS on
// 2 cores).
func TestTrainTranslatesBars(t *testing.T) {
	if testing.Short() {
		t.Skip("trains StarGAN for 400 steps (about 15 s)")
	}
	c := tiny(t, "train.steps=400", "train.lr_g=5e-4", "train.lr_d=5e-4")
	m, logs := train(t, c, barData(480, 1))
	t.Logf("last 50 steps: g/rec %.3f, g/cls %.3f, d/cls %.3f", meanLog(logs[350:], "g/rec"), meanLog(logs[350:], "g/cls"), meanLog(logs[350:], "d/cls"))
	test := bars(60, tensor.NewRNG(9))
	for k, want := range []float64{1, 3, 5} {
		out, err := m.Translator.Translate(test.Images, 0, k)
		if err != nil {
			t.Fatal(err)
		}
		w := meanWidth(out)
		t.Logf("to %s: mean width %.2f (real %.0f)", m.Translator.Domains()[k], w, want)
		if math.Abs(w-want) > 0.5 {
			t.Errorf("translations to %s: mean width %.2f, want %.0f +- 0.5", m.Translator.Domains()[k], w, want)
		}
	}
}

// train builds c's model for d and trains it, returning the model and the
// logs of every step.
func train(t *testing.T, c config.Config, d family.Data) (*family.Model, []gan.Logs) {
	t.Helper()
	m, err := family.Build(c, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	var logs []gan.Logs
	tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: c.Train.Steps,
		Callbacks: []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error { logs = append(logs, l); return nil }}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, logs
}

func meanLog(logs []gan.Logs, key string) float64 {
	s := 0.0
	for _, l := range logs {
		s += l[key]
	}
	return s / float64(len(logs))
}

// TestTrainShort trains on 240 tiny bar images in three stroke-width
// domains for 40 steps (5 D updates each) at a learning rate of 1e-3:
// the reconstruction term of the last 5 steps must be under 60% of the
// first 5 steps', and D's domain head must tell the domains of 60
// held-out bars apart at least 90% of the time (chance is a third).
func TestTrainShort(t *testing.T) {
	c := tiny(t, "train.steps=40", "train.lr_g=1e-3", "train.lr_d=1e-3")
	m, logs := train(t, c, barData(240, 1))
	first, last := meanLog(logs[:5], "g/rec"), meanLog(logs[35:], "g/rec")
	test := bars(60, tensor.NewRNG(9))
	var cls *tensor.Tensor
	ag.NoGrad(func() {
		_, l := m.Players[1].Module.(*models.StarDiscriminator).Forward(ag.Const(test.Images))
		cls = l.Data()
	})
	right := 0
	for i, y := range test.Labels {
		row := cls.Data()[i*3 : i*3+3]
		if slices.Index(row, slices.Max(row)) == y {
			right++
		}
	}
	acc := float64(right) / 60
	t.Logf("g/rec %.3f -> %.3f, d/cls %.3f -> %.3f, D's domain accuracy on held-out bars %.3f", first, last,
		meanLog(logs[:5], "d/cls"), meanLog(logs[35:], "d/cls"), acc)
	if !(last < 0.6*first) || acc < 0.9 {
		t.Errorf("g/rec %.3f -> %.3f (want under 60%%), domain accuracy %.3f (want 0.9)", first, last, acc)
	}
}
