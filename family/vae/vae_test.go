package vae

import (
	"context"
	"math"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/tensor"
)

func TestPresets(t *testing.T) {
	for _, name := range []string{"vae-mnist", "ae-mnist"} {
		c, err := famtest.Preset(t, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := c.Model.Section.(*Section)
		if s.ZDim != 50 || s.Net != "mlp" || len(s.Hidden) != 2 || s.Hidden[0] != 200 || s.Hidden[1] != 200 || s.Likelihood != "bernoulli" || c.Train.LRG != 1e-3 {
			t.Errorf("%s: %+v, lr %g: want the IWAE paper's one-stochastic-layer model at lr 1e-3", name, s, c.Train.LRG)
		}
	}
}

// TestConfigErrors: every bad field is named.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.net=rnn"}, "model.net"},
		{[]string{"model.likelihood=poisson"}, "model.likelihood"},
		{[]string{"model.likelihood=gaussian", "model.sigma=0"}, "model.sigma"},
		{[]string{"model.learn_sigma=true"}, "model.learn_sigma"},
		{[]string{"model.z_dim=0"}, "model.z_dim"},
		{[]string{"model.hidden=[200, 0]"}, "model.hidden"},
		{[]string{"model.net=conv", "model.width=0"}, "model.width"},
		{[]string{"model.hiden=[3]"}, "field hiden not found in model (kind vae"},
		{[]string{"loss.penalty=gp", "loss.penalty_weight=10"}, "loss.penalty"},
		{[]string{"train.n_critic=2"}, "train.n_critic"},
		{[]string{"data.kind=ring8"}, "needs image data"},
		{[]string{"model.kind=ae", "data.kind=folder", "data.dir=x", "data.size=30", "model.net=conv"}, "not divisible by 4"},
		{[]string{"model.kind=ae", "model.net=conv", "model.likelihood=gaussian", "model.learn_sigma=true"}, ""},
	} {
		_, err := famtest.Preset(t, "vae-mnist", tc.sets...)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.sets, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to name %q", tc.sets, err, tc.want)
		}
	}
}

// tinyModel builds kind on a small synthetic set.
func tinyModel(t *testing.T, sets ...string) (*family.Model, config.Config) {
	t.Helper()
	c, err := famtest.Preset(t, "vae-mnist", append(sets, "data.kind=synthetic", "data.n=64", "model.hidden=[16]", "model.z_dim=4", "train.batch=8")...)
	if err != nil {
		t.Fatal(err)
	}
	set := data.Set{Images: tensor.NewRNG(2).Uniform(-1, 1, 64, 1, 28, 28), Labels: make([]int, 64)}
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Images: &set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, c
}

// TestObserve: a Bernoulli decoder sees binary pixels drawn with the
// intensity as probability, the same ones from the same stream; a Gaussian
// one the intensities.
func TestObserve(t *testing.T) {
	m := &model{sec: Defaults()}
	x := tensor.Full(0.5, 200, 1, 10, 10) // intensity 0.75
	x.Data()[0], x.Data()[1] = -1, 1
	a, b := m.Observe(x, tensor.NewRNG(3)), m.Observe(x, tensor.NewRNG(3))
	ones := 0.0
	for i, v := range a.Data() {
		if v != 0 && v != 1 || v != b.Data()[i] {
			t.Fatalf("pixel %d: %v and %v: want the same binary value from the same stream", i, v, b.Data()[i])
		}
		ones += float64(v)
	}
	if a.Data()[0] != 0 || a.Data()[1] != 1 {
		t.Errorf("intensities 0 and 1 binarised to %v and %v", a.Data()[0], a.Data()[1])
	}
	if f := ones / float64(a.Len()); math.Abs(f-0.75) > 0.01 {
		t.Errorf("fraction of ones %v, want 0.75", f)
	}
	m.sec.Likelihood = "gaussian"
	if g := m.Observe(x, tensor.NewRNG(3)); g.Data()[0] != 0 || g.Data()[1] != 1 || g.Data()[2] != 0.75 {
		t.Errorf("gaussian observations %v, want the intensities", g.Data()[:3])
	}
}

// TestCapabilities: both kinds sample images in [-1, 1] and reconstruct;
// only the VAE has a likelihood; requests it cannot answer are errors.
func TestCapabilities(t *testing.T) {
	for _, kind := range []string{"vae", "ae"} {
		m, _ := tinyModel(t, "model.kind="+kind)
		g := m.Generator
		if g.Prior().Dim != 4 || g.Prior().Kind != "normal" {
			t.Errorf("%s: prior %+v", kind, g.Prior())
		}
		out, err := g.Generate(tensor.NewRNG(1).Normal(0, 1, 5, 4), family.Request{})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.Shape(); len(s) != 4 || s[0] != 5 || s[1] != 1 || s[2] != 28 || s[3] != 28 {
			t.Fatalf("%s: samples of shape %v", kind, s)
		}
		for _, v := range out.Data() {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("%s: sample value %v outside [-1, 1]", kind, v)
			}
		}
		if _, err := g.Generate(tensor.New(2, 4), family.Request{Labels: []int{0, 1}}); err == nil {
			t.Errorf("%s: labels accepted", kind)
		}
		if _, err := g.Generate(tensor.New(2, 3), family.Request{}); err == nil {
			t.Errorf("%s: noise of the wrong width accepted", kind)
		}
		r, ok := g.(family.Reconstructor)
		if !ok {
			t.Fatalf("%s: not a Reconstructor", kind)
		}
		if rec, err := r.Reconstruct(tensor.New(3, 1, 28, 28)); err != nil || rec.Size(0) != 3 {
			t.Errorf("%s: reconstruct: %v", kind, err)
		}
		if _, err := r.Reconstruct(tensor.New(3, 1, 14, 14)); err == nil {
			t.Errorf("%s: 14x14 images reconstructed", kind)
		}
		e, ok := g.(family.Encoder)
		if !ok {
			t.Fatalf("%s: not an Encoder", kind)
		}
		if z, err := e.Encode(tensor.New(3, 1, 28, 28)); err != nil || z.Size(0) != 3 || z.Size(1) != 4 {
			t.Errorf("%s: encode: %v", kind, err)
		}
		_, lk := g.(family.Likelihood)
		if lk != (kind == "vae") {
			t.Errorf("%s: family.Likelihood %v", kind, lk)
		}
	}
}

// TestTerms: the VAE's loss is recon + kl, the AE's recon alone; a learnt
// Gaussian sigma is a parameter that gets a gradient.
func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		sets  []string
		terms string
	}{
		{nil, "recon kl"},
		{[]string{"model.kind=ae"}, "recon"},
		{[]string{"model.net=conv", "model.width=4", "model.likelihood=gaussian", "model.learn_sigma=true"}, "recon kl"},
	} {
		m, _ := tinyModel(t, tc.sets...)
		var names []string
		var loss *ag.Value
		for _, term := range m.Phases[0].Terms(0) {
			names = append(names, term.Name)
			if loss == nil {
				loss = term.Value
			} else {
				loss = ag.Add(loss, term.Value)
			}
			if v := term.Value.Item(); math.IsNaN(float64(v)) || term.Name == "kl" && v < 0 {
				t.Errorf("%v: term %s = %v", tc.sets, term.Name, v)
			}
		}
		if strings.Join(names, " ") != tc.terms {
			t.Errorf("%v: terms %v, want %s", tc.sets, names, tc.terms)
		}
		ag.Backward(loss)
		for _, p := range m.Players[0].Module.Params("") {
			if p.Name == "log_sigma" && (p.Value.Grad() == nil || p.Value.Grad().Item() == 0) {
				t.Errorf("%v: log_sigma has no gradient", tc.sets)
			}
		}
	}
}

// TestTrainingImprovesELBO trains the vae-mnist model for 300 steps on real
// MNIST. The decoder starts at the mean image (its output bias), about 206
// nats per digit, the best a model that ignores its code can do: the
// negative ELBO must fall clearly below it (under 180 nats) with a KL above
// 5 nats (the code is used), and the AE's reconstruction loss below 160.
// Without -short, the same seed repeats the VAE's run bit for bit.
func TestTrainingImprovesELBO(t *testing.T) {
	set := famtest.MNIST(t, data.Train)
	train := func(kind string) (first, last, kl float64) {
		c, err := famtest.Preset(t, "vae-mnist", "model.kind="+kind, "train.steps=300")
		if err != nil {
			t.Fatal(err)
		}
		m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 10, Images: set})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		var losses []float64
		tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: c.Train.Steps, Callbacks: []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error {
			losses = append(losses, l[kind+"/loss"])
			kl = l[kind+"/kl"]
			return nil
		}}}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		mean := func(xs []float64) float64 {
			s := 0.0
			for _, x := range xs {
				s += x
			}
			return s / float64(len(xs))
		}
		return mean(losses[:10]), mean(losses[len(losses)-20:]), kl
	}
	first, last, kl := train("vae")
	t.Logf("vae: -ELBO %.1f over the first 10 steps, %.1f over the last 20, KL %.2f", first, last, kl)
	if !(first > 190 && last < 180 && kl > 5) {
		t.Errorf("vae: -ELBO %.1f -> %.1f, KL %.2f: want > 190 -> < 180 with KL > 5", first, last, kl)
	}
	if !testing.Short() {
		if _, again, _ := train("vae"); again != last {
			t.Errorf("vae: the same seed gave %v and %v", last, again)
		}
	}
	first, last, _ = train("ae")
	t.Logf("ae: reconstruction %.1f over the first 10 steps, %.1f over the last 20", first, last)
	if !(first > 190 && last < 160) {
		t.Errorf("ae: reconstruction %.1f -> %.1f: want > 190 -> < 160", first, last)
	}
}
