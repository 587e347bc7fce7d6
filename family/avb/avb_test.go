package avb

import (
	"context"
	"math"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

func TestPreset(t *testing.T) {
	c, err := famtest.Preset(t, "avb-mnist")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Model.Section.(*Section)
	if s.ZDim != 32 || s.EpsDim != 64 || !s.AdaptiveContrast || len(s.Hidden) != 2 || s.Hidden[0] != 300 || c.Train.Batch != 128 || c.Train.Beta1 != 0.5 {
		t.Errorf("avb-mnist: %+v, batch %d, beta1 %g: want the authors' 32-d latent with adaptive contrast, 300-unit layers, batch 128, beta1 0.5", s, c.Train.Batch, c.Train.Beta1)
	}
}

// TestConfigErrors: every bad field is named.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.z_dim=0"}, "model.z_dim"},
		{[]string{"model.eps_dim=-1"}, "model.eps_dim"},
		{[]string{"model.hidden=[]"}, "model.hidden"},
		{[]string{"model.adv_hidden=[64, 0]"}, "model.adv_hidden"},
		{[]string{"model.adv_features=0"}, "model.adv_features"},
		{[]string{"model.act=relu6"}, "model.act"},
		{[]string{"model.ac_samples=1"}, "model.ac_samples"},
		{[]string{"model.proposal_samples=1"}, "model.proposal_samples"},
		{[]string{"model.net=conv"}, "field net not found in model (kind avb"},
		{[]string{"loss.penalty=gp", "loss.penalty_weight=10"}, "loss.penalty"},
		{[]string{"train.n_critic=2"}, "train.n_critic"},
		{[]string{"data.kind=ring8"}, "needs image data"},
		{[]string{"loss.feature_matching=1"}, "feature_matching"},
		// ac_samples matters only with adaptive contrast.
		{[]string{"model.adaptive_contrast=false", "model.ac_samples=0"}, ""},
	} {
		_, err := famtest.Preset(t, "avb-mnist", tc.sets...)
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

// tiny builds a small AVB on 64 synthetic images.
func tiny(t *testing.T, sets ...string) (*family.Model, *model) {
	t.Helper()
	c, err := famtest.Preset(t, "avb-mnist", append([]string{"data.kind=synthetic", "data.n=64", "model.hidden=[16]", "model.adv_hidden=[12]",
		"model.adv_features=6", "model.z_dim=3", "model.eps_dim=4", "model.ac_samples=5", "model.proposal_samples=7", "train.batch=8"}, sets...)...)
	if err != nil {
		t.Fatal(err)
	}
	set := data.Set{Images: tensor.NewRNG(2).Uniform(-1, 1, 64, 1, 28, 28), Labels: make([]int, 64)}
	m, err := family.Build(c, family.Data{Channels: 1, Size: 28, Images: &set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, m.Generator.(*model)
}

// terms maps a phase's terms by name, checking the names.
func terms(t *testing.T, ts []gan.Term, want string) map[string]*ag.Value {
	t.Helper()
	r := map[string]*ag.Value{}
	var names []string
	for _, x := range ts {
		r[x.Name] = x.Value
		names = append(names, x.Name)
	}
	if strings.Join(names, " ") != want {
		t.Fatalf("terms %v, want %s", names, want)
	}
	return r
}

// gradNorms returns the summed absolute gradient of each module's
// parameters after backpropagating v alone.
func gradNorms(v *ag.Value, ms map[string]nn.Module) map[string]float64 {
	for _, m := range ms {
		for _, p := range nn.Parameters(m) {
			p.ZeroGrad()
		}
	}
	ag.Backward(v)
	r := map[string]float64{}
	for name, m := range ms {
		for _, p := range nn.Parameters(m) {
			if g := p.Grad(); g != nil {
				for _, x := range g.Data() {
					r[name] += math.Abs(float64(x))
				}
			}
		}
	}
	return r
}

// TestPhaseTerms checks both phases' terms against their formulas,
// recomputed from the networks in float64 on the step's batch, with and
// without adaptive contrast, and which networks each primal term sends
// gradients to.
func TestPhaseTerms(t *testing.T) {
	for _, ac := range []bool{false, true} {
		fm, m := tiny(t, "model.adaptive_contrast="+map[bool]string{false: "false", true: "true"}[ac])
		want := "recon t"
		if ac {
			want += " kl_r"
		}
		adv := terms(t, fm.Phases[0].Terms(0), "q p")
		b := m.cur
		if ac != (b.mu != nil) {
			t.Fatalf("ac %v: moments %v", ac, b.mu)
		}
		for _, v := range b.obs.Data() {
			if v != 0 && v != 1 {
				t.Fatalf("observation %v: want binary pixels", v)
			}
		}
		// The codes T's phase saw, and what T makes of them, recomputed.
		var z, tq, tp, logits *tensor.Tensor
		ag.NoGrad(func() {
			z = m.enc.Forward(ag.Const(b.xc), ag.Const(b.eps)).Data()
			zt := z
			if ac {
				zt = Normalise(ag.Const(z), ag.Const(b.mu), ag.Const(b.logVar)).Data()
			}
			tq = m.adv.Forward(ag.Const(b.xc), ag.Const(zt)).Data()
			tp = m.adv.Forward(ag.Const(b.xc), ag.Const(b.zp)).Data()
			logits = m.dec.Forward(ag.Const(z)).Data()
		})
		n := float64(z.Size(0))
		var wq, wp, wt, wrec, wkl float64
		for i := range z.Size(0) {
			wq += math.Log1p(math.Exp(-float64(tq.Data()[i]))) / n
			wp += math.Log1p(math.Exp(float64(tp.Data()[i]))) / n
			wt += float64(tq.Data()[i]) / n
			px := b.obs.Size(1)
			for j := range px {
				x, l := float64(b.obs.Data()[i*px+j]), float64(logits.Data()[i*px+j])
				p := 1 / (1 + math.Exp(-l))
				wrec -= (x*math.Log(p) + (1-x)*math.Log(1-p)) / n
			}
			if ac {
				for j := range z.Size(1) {
					mu, v := float64(b.mu.At(i, j)), math.Exp(float64(b.logVar.At(i, j)))
					wkl += 0.5 * (mu*mu + v - 1 - math.Log(v)) / n
				}
			}
		}
		pr := terms(t, fm.Phases[1].Terms(0), want)
		for _, c := range []struct {
			name string
			got  *ag.Value
			want float64
		}{{"q", adv["q"], wq}, {"p", adv["p"], wp}, {"recon", pr["recon"], wrec}, {"t", pr["t"], wt}, {"kl_r", pr["kl_r"], wkl}} {
			if c.got == nil {
				continue
			}
			if g := float64(c.got.Item()); math.Abs(g-c.want) > 1e-4*max(1, math.Abs(c.want)) {
				t.Errorf("ac %v: term %s = %v, formula %v", ac, c.name, g, c.want)
			}
		}
		// recon reaches the decoder and the encoder; t and kl_r the
		// encoder (and T, which the trainer freezes in this phase), never
		// the decoder.
		nets := map[string]nn.Module{"enc": m.enc, "dec": m.dec, "adv": m.adv}
		for name, v := range pr {
			g := gradNorms(v, nets)
			if g["enc"] == 0 || (name == "recon") != (g["dec"] > 0) {
				t.Errorf("ac %v: term %s sends gradients %v: want the encoder, and the decoder for recon alone", ac, name, g)
			}
		}
		// T's terms do not reach the encoder: its codes are constants.
		for name, v := range adv {
			if g := gradNorms(v, nets); g["enc"] != 0 || g["dec"] != 0 || g["adv"] == 0 {
				t.Errorf("ac %v: T's term %s sends gradients %v: want T's alone", ac, name, g)
			}
		}
	}
}

// TestMoments: r(z|x) is fitted to ac_samples draws of the same image
// each: a mean and unbiased variance per image, computed from the
// samples with the image's own rows.
func TestMoments(t *testing.T) {
	_, m := tiny(t)
	rng := tensor.NewRNG(5)
	xc := rng.Uniform(-1, 1, 2, 784)
	eps := rng.Normal(0, 1, 2*5, 4)
	mu, lv := m.moments(xc, eps, 5)
	z := m.sample(xc, eps, 5)
	for i := range 2 {
		for j := range 3 {
			var s, sq float64
			for r := range 5 {
				s += float64(z.At(i*5+r, j))
			}
			mean := s / 5
			for r := range 5 {
				d := float64(z.At(i*5+r, j)) - mean
				sq += d * d
			}
			if math.Abs(float64(mu.At(i, j))-mean) > 1e-6 || math.Abs(math.Exp(float64(lv.At(i, j)))-(sq/4+1e-4)) > 1e-5*(sq/4+1e-4) {
				t.Errorf("image %d, dim %d: r's mean %v, var %v; samples give %v, %v", i, j, mu.At(i, j), math.Exp(float64(lv.At(i, j))), mean, sq/4+1e-4)
			}
		}
	}
	// The noise matters: codes of one image differ from sample to sample.
	if z.At(0, 0) == z.At(1, 0) {
		t.Errorf("two samples of image 0 share the code %v", z.At(0, 0))
	}
}

// TestCapabilities: AVB samples images in [-1, 1], encodes (the same codes
// for the same images), reconstructs and estimates a finite log p(x) below
// 0 for binary images; requests it cannot answer are errors.
func TestCapabilities(t *testing.T) {
	fm, _ := tiny(t)
	g := fm.Generator
	if g.Prior().Dim != 3 || g.Prior().Kind != "normal" {
		t.Errorf("prior %+v", g.Prior())
	}
	out, err := g.Generate(tensor.NewRNG(1).Normal(0, 1, 5, 3), family.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Shape(); len(s) != 4 || s[0] != 5 || s[1] != 1 || s[2] != 28 {
		t.Fatalf("samples of shape %v", s)
	}
	for _, v := range out.Data() {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("sample value %v outside [-1, 1]", v)
		}
	}
	if _, err := g.Generate(tensor.New(2, 3), family.Request{Labels: []int{0, 1}}); err == nil {
		t.Error("labels accepted")
	}
	if _, err := g.Generate(tensor.New(2, 4), family.Request{}); err == nil {
		t.Error("noise of the wrong width accepted")
	}
	x := tensor.NewRNG(3).Uniform(-1, 1, 3, 1, 28, 28)
	e := g.(family.Encoder)
	z1, err1 := e.Encode(x)
	z2, err2 := e.Encode(x)
	if err1 != nil || err2 != nil || z1.Size(0) != 3 || z1.Size(1) != 3 {
		t.Fatalf("encode: %v %v %v", z1, err1, err2)
	}
	for i := range z1.Data() {
		if z1.Data()[i] != z2.Data()[i] {
			t.Fatalf("encode: codes %v then %v for the same images", z1.Data(), z2.Data())
		}
	}
	// An image's code is its own: encoded alone, or in another place of
	// another batch, it is the same up to float32 rounding (GEMM's sums may
	// be ordered by the batch's size; a code that took other noise moved by
	// about 0.1).
	for i := range 3 {
		one := tensor.Slice(x, 0, i, i+1)
		swapped := tensor.IndexSelect(x, 0, []int{2, 0, 1})
		alone, err1 := e.Encode(one)
		moved, err2 := e.Encode(swapped)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		at := (i + 1) % 3 // image i's row in swapped
		for j := range 3 {
			w := z1.Data()[i*3+j]
			near := func(v float32) bool { return math.Abs(float64(v-w)) <= 1e-5*(1+math.Abs(float64(w))) }
			if !near(alone.Data()[j]) || !near(moved.Data()[at*3+j]) {
				t.Fatalf("image %d's code %v in its batch, %v alone, %v at row %d", i, z1.Data()[i*3:i*3+3], alone.Data(), moved.Data()[at*3:at*3+3], at)
			}
		}
	}
	if _, err := e.Encode(tensor.New(3, 1, 14, 14)); err == nil {
		t.Error("14x14 images encoded")
	}
	if rec, err := g.(family.Reconstructor).Reconstruct(x); err != nil || rec.Size(0) != 3 {
		t.Errorf("reconstruct: %v", err)
	}
	lk := g.(family.Likelihood)
	obs := lk.Observe(x, tensor.NewRNG(4))
	ll, err := lk.LogLikelihood(obs, 20, tensor.NewRNG(5))
	if err != nil || len(ll) != 3 {
		t.Fatalf("likelihood: %v, %v", ll, err)
	}
	for _, v := range ll {
		if !(v < 0) || math.IsInf(v, 0) {
			t.Errorf("log p(x) %v: want finite and negative for binary images", v)
		}
	}
	if _, err := lk.LogLikelihood(tensor.New(2, 1, 14, 14), 5, tensor.NewRNG(5)); err == nil {
		t.Error("14x14 observations accepted")
	}
}

// TestTrainingMNIST trains a narrow AVB with adaptive contrast on real
// MNIST. The decoder starts at the mean image (about 206 nats per digit):
// the primal loss (-ELBO with T's estimate of the KL) must fall well below
// it, T's loss must fall to less than half its start (T starts at
// |z|^2 / 2, far off for the prior's codes), and the KL estimate must be
// positive (the codes carry information). Short mode runs 120 steps of
// narrow networks; the long one 1500 steps of the preset's and requires
// more: a -ELBO estimate below 150 and T's loss below log 4 (what a T that
// cannot tell codes from the prior's gets). With the pure-Go GEMM the long
// mode runs the short one (1500 preset steps take many minutes there;
// .ci/long's OpenBLAS pass runs them).
func TestTrainingMNIST(t *testing.T) {
	set := famtest.MNIST(t, data.Train)
	sets := []string{"train.steps=120", "model.hidden=[100]", "model.act=tanh", "model.adv_hidden=[64]", "model.adv_features=32", "model.ac_samples=16", "train.lr_g=1e-3", "train.lr_d=2e-3"}
	limit, advLimit := 190.0, 0.0
	if !testing.Short() && blas.Impl != "go" {
		sets, limit, advLimit = []string{"train.steps=1500"}, 150, math.Log(4)
	}
	c, err := famtest.Preset(t, "avb-mnist", sets...)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := family.Build(c, family.Data{Channels: 1, Size: 28, Classes: 10, Images: set})
	if err != nil {
		t.Fatal(err)
	}
	defer fm.Close()
	var loss, advLoss, kl []float64
	tr := &gan.Trainer{Players: fm.Players, Phases: fm.Phases, Steps: c.Train.Steps, Callbacks: []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error {
		loss, advLoss = append(loss, l["avb/loss"]), append(advLoss, l["adv/loss"])
		kl = append(kl, l["avb/t"]+l["avb/kl_r"])
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
	tail := func(xs []float64) float64 { return mean(xs[len(xs)-20:]) }
	t.Logf("-ELBO estimate %.1f over the first 10 steps, %.1f over the last 20; T's loss %.3f; KL estimate %.2f", mean(loss[:10]), tail(loss), tail(advLoss), tail(kl))
	if advLimit == 0 {
		advLimit = mean(advLoss[:10]) / 2
	}
	if !(mean(loss[:10]) > 200 && tail(loss) < limit && tail(advLoss) < advLimit && tail(kl) > 0) {
		t.Errorf("-ELBO %.1f -> %.1f (want > 200 -> < %g), T's loss %.3f (want < %.3f), KL %.2f (want > 0)", mean(loss[:10]), tail(loss), limit, tail(advLoss), advLimit, tail(kl))
	}
}

// TestEncoderSample: the sampling path (the first layer folded) gives
// Forward's codes on each image repeated, to float32 rounding.
func TestEncoderSample(t *testing.T) {
	rng := tensor.NewRNG(6)
	e := NewEncoder(20, 3, 5, []int{8, 7}, nn.Softplus{}, rng)
	xc := rng.Uniform(-1, 1, 2, 20)
	eps := rng.Normal(0, 1, 2*4, 5)
	got := e.Sample(xc, eps, 4)
	rep := tensor.New(8, 20)
	for r := range 8 {
		copy(rep.Data()[r*20:], xc.Data()[(r/4)*20:(r/4+1)*20])
	}
	want := e.Forward(ag.Const(rep), ag.Const(eps)).Data()
	for i, v := range want.Data() {
		if math.Abs(float64(got.Data()[i]-v)) > 1e-5*max(1, math.Abs(float64(v))) {
			t.Fatalf("code %d: %v, Forward %v", i, got.Data()[i], v)
		}
	}
}
