package pix2pix

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
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// spy is a layer that records its inputs and forwards them to a network.
type spy struct {
	nn.Layer
	seen []*tensor.Tensor
}

func (s *spy) Forward(x *ag.Value) *ag.Value {
	s.seen = append(s.seen, x.Data().Clone())
	return s.Layer.Forward(x)
}

// channels returns channels lo..hi of x [N, C, H, W] as a new tensor.
func channels(x *tensor.Tensor, lo, hi int) *tensor.Tensor {
	return ag.Slice(ag.Const(x), 1, lo, hi).Data()
}

func sameValues(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	for i, v := range got.Data() {
		if v != want.Data()[i] {
			t.Fatalf("%s[%d] = %v, want %v", what, i, v, want.Data()[i])
		}
	}
}

// TestGameShowsInputWithTargetOrOutput checks what D sees and the loss
// formulas on pairs whose input a and target b differ: D's real input is
// [a, b] and its fake input [a, G(a)] (swapping input and target, the bug
// of PyTorch-GAN issue 70, fails here), D's term is half the objective,
// and G's terms are the adversarial loss on [a, G(a)] and 100 mean
// |G(a) - b|.
func TestGameShowsInputWithTargetOrOutput(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		rng := tensor.NewRNG(1)
		g, err := models.NewUNet(models.UNetConfig{Size: 8, Channels: 1, Width: 2, NormalInit: true}, rng, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := models.NewPatchGAN(models.PatchGANConfig{Channels: 2, Width: 2, NormalInit: true}, rng)
		if err != nil {
			t.Fatal(err)
		}
		b := tensor.NewRNG(2).Uniform(-1, 1, 4, 1, 8, 8)
		a := tensor.Tanh(tensor.AddScalar(tensor.Scale(b, 3), 0.5)) // a function of b, not b
		p := ag.Concat([]*ag.Value{ag.Const(a), ag.Const(b)}, 1).Data()
		obj, err := gan.LookupObjective("ns", 0)
		if err != nil {
			t.Fatal(err)
		}
		ds := &spy{Layer: d}
		game := &Game{G: g, D: ds, Objective: obj, L1: 100, Channels: 1, Pairs: func() *tensor.Tensor { return p }, ReuseFake: reuse}
		var ga *tensor.Tensor
		ag.NoGrad(func() { ga = g.Forward(ag.Const(a)).Data() })

		dt := game.DiscriminatorTerms(0)
		if len(ds.seen) != 2 {
			t.Fatalf("D saw %d batches in its update, want 2", len(ds.seen))
		}
		sameValues(t, "D's real pair, input half", channels(ds.seen[0], 0, 1), a)
		sameValues(t, "D's real pair, target half", channels(ds.seen[0], 1, 2), b)
		sameValues(t, "D's fake pair, input half", channels(ds.seen[1], 0, 1), a)
		sameValues(t, "D's fake pair, output half", channels(ds.seen[1], 1, 2), ga)
		var dr, df *ag.Value
		ag.NoGrad(func() { dr, df = d.Forward(ag.Const(ds.seen[0])), d.Forward(ag.Const(ds.seen[1])) })
		want := 0.5 * (meanOf(dr.Data(), func(x float64) float64 { return softplus(-x) }) + meanOf(df.Data(), softplus))
		if len(dt) != 1 || math.Abs(float64(dt[0].Value.Item())-want) > 1e-5*math.Abs(want) {
			t.Fatalf("D's terms %v, want one, ns, of %v", dt, want)
		}

		ds.seen = nil
		gt := game.GeneratorTerms(0)
		if len(ds.seen) != 1 {
			t.Fatalf("D saw %d batches in G's update, want 1", len(ds.seen))
		}
		sameValues(t, "G's update: D's pair, input half", channels(ds.seen[0], 0, 1), a)
		sameValues(t, "G's update: D's pair, output half", channels(ds.seen[0], 1, 2), ga)
		ag.NoGrad(func() { df = d.Forward(ag.Const(ds.seen[0])) })
		wantAdv := meanOf(df.Data(), func(x float64) float64 { return softplus(-x) })
		var l1 float64
		for i, v := range ga.Data() {
			l1 += math.Abs(float64(v - b.Data()[i]))
		}
		l1 = 100 * l1 / float64(b.Len())
		if len(gt) != 2 || gt[0].Name != "ns" || gt[1].Name != "l1" {
			t.Fatalf("G's terms %v, want ns and l1", gt)
		}
		if got := float64(gt[0].Value.Item()); math.Abs(got-wantAdv) > 1e-5*wantAdv {
			t.Errorf("reuse %v: G's ns term %v, want %v", reuse, got, wantAdv)
		}
		if got := float64(gt[1].Value.Item()); math.Abs(got-l1) > 1e-5*l1 {
			t.Errorf("reuse %v: G's l1 term %v, want 100 mean |G(a) - b| = %v", reuse, got, l1)
		}
	}
}

func softplus(x float64) float64 { return math.Log1p(math.Exp(x)) }

func meanOf(x *tensor.Tensor, f func(float64) float64) float64 {
	var s float64
	for _, v := range x.Data() {
		s += f(float64(v))
	}
	return s / float64(x.Len())
}

// blobs returns n pairs of 16x16 images: B a few soft bright blobs on a
// dark background, A the same picture inverted (-B), so A to B is a
// translation a U-Net can learn in a few dozen steps.
func blobs(n int, seed uint64) (a, b *data.Set) {
	rng := tensor.NewRNG(seed)
	const side = 16
	bt := tensor.New(n, 1, side, side)
	for i := range n {
		img := bt.Data()[i*side*side : (i+1)*side*side]
		for range 2 {
			cy, cx := 3+rng.Float64()*10, 3+rng.Float64()*10
			for y := range side {
				for x := range side {
					d2 := (float64(y)-cy)*(float64(y)-cy) + (float64(x)-cx)*(float64(x)-cx)
					img[y*side+x] += float32(math.Exp(-d2 / 6))
				}
			}
		}
		for j, v := range img {
			img[j] = 2*min(v, 1) - 1
		}
	}
	at := tensor.Scale(bt, -1)
	labels := make([]int, n)
	return &data.Set{Images: at, Labels: labels}, &data.Set{Images: bt, Labels: labels}
}

// tinyConfig is a validated pix2pix config for the 16x16 blob pairs.
func tinyConfig(t *testing.T, sets ...string) config.Config {
	t.Helper()
	c := config.Default()
	base := []string{"data.kind=paired", "data.dir=unused", "data.size=16", "data.channels=1", "model.kind=pix2pix", "model.width=8", "model.d_width=8",
		"train.batch=16", "train.lr_g=2e-4", "train.lr_d=2e-4", "train.beta1=0.5", "train.beta2=0.999", "train.reuse_fake=true"}
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

func buildBlobs(t *testing.T, c config.Config, n int) *family.Model {
	t.Helper()
	a, b := blobs(n, 7)
	m, err := family.Build(c, family.Data{Channels: 1, Size: 16, Images: a, B: b, Paired: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// heldOutL1 translates held-out blob pairs in evaluation mode and returns
// mean |G(a) - b|.
func heldOutL1(t *testing.T, m *family.Model) float64 {
	t.Helper()
	a, b := blobs(32, 99)
	m.GeneratorPlayer.Module.SetTraining(false)
	defer m.GeneratorPlayer.Module.SetTraining(true)
	out, err := m.Translator.Translate(a.Images, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, v := range out.Data() {
		s += math.Abs(float64(v - b.Images.Data()[i]))
	}
	return s / float64(out.Len())
}

// TestTrainingLearnsInversion trains pix2pix for 100 steps (lr 1e-3) on inverted
// blob pairs and checks that the held-out L1 distance to the targets
// falls below a fifth of the untrained model's.
func TestTrainingLearnsInversion(t *testing.T) {
	c := tinyConfig(t, "train.steps=100", "train.lr_g=1e-3", "train.lr_d=1e-3")
	m := buildBlobs(t, c, 256)
	before := heldOutL1(t, m)
	tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: c.Train.Steps}
	var last gan.Logs
	tr.Callbacks = []gan.Callback{func(_ *gan.Trainer, l gan.Logs) error { last = l; return nil }}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := heldOutL1(t, m)
	t.Logf("held-out L1 %.3f before, %.3f after 100 steps; last logs %v", before, after, last)
	if !(after < before/5) {
		t.Fatalf("held-out L1 %.3f after 100 steps, %.3f before: want it below a fifth", after, before)
	}
	for _, k := range []string{"d/ns", "g/ns", "g/l1"} {
		if _, ok := last[k]; !ok {
			t.Errorf("logs %v lack %s", last, k)
		}
	}
}

// TestTranslate checks the Translator: A to B only (other pairs and
// shapes are errors naming them), test-time dropout as configured,
// deterministic, and leaving the training dropout stream where it was.
func TestTranslate(t *testing.T) {
	m := buildBlobs(t, tinyConfig(t), 32)
	tr := m.Translator
	if d := tr.Domains(); len(d) != 2 || d[0] != "A" || d[1] != "B" {
		t.Fatalf("domains %v", d)
	}
	if s := tr.Shape(); !tensor.SameShape(s, []int{1, 16, 16}) {
		t.Fatalf("shape %v", s)
	}
	x, _ := blobs(4, 3)
	for _, tc := range []struct {
		from, to int
		x        *tensor.Tensor
		want     string
	}{
		{1, 0, x.Images, "not B to A"},
		{0, 0, x.Images, "not A to A"},
		{0, 5, x.Images, "not A to domain 5"},
		{0, 1, tensor.New(4, 1, 28, 28), "[N 1 16 16]"},
		{0, 1, tensor.New(4, 16, 16), "[N 1 16 16]"},
	} {
		if _, err := tr.Translate(tc.x, tc.from, tc.to); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d to %d of %v: error %v, want one with %q", tc.from, tc.to, tc.x.Shape(), err, tc.want)
		}
	}
	g := m.GeneratorPlayer.Module.(*models.UNet)
	stream := m.Streams["game"]
	before := stream.State()
	g.SetTraining(false)
	defer g.SetTraining(true)
	run := func() *tensor.Tensor {
		out, err := tr.Translate(x.Images, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	with1, with2 := run(), run()
	sameValues(t, "two translations with test-time dropout", with1, with2)
	tr.(*Translator).TestDropout = false
	without := run()
	g.SetDropout(false)
	var plain *tensor.Tensor
	ag.NoGrad(func() { plain = g.Forward(ag.Const(x.Images)).Data() })
	sameValues(t, "translation without test-time dropout", without, plain)
	differ := false
	for i, v := range with1.Data() {
		differ = differ || v != without.Data()[i]
	}
	if !differ {
		t.Error("test-time dropout changed nothing")
	}
	if g.Dropping() {
		t.Error("Translate left dropout on in evaluation mode")
	}
	if string(stream.State()) != string(before) {
		t.Error("Translate moved the training dropout stream")
	}
}

// TestConfigErrors checks that every bad field is named and that unpaired
// data is refused at build.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.width=0"}, "model.width"},
		{[]string{"model.d_width=-1"}, "model.d_width"},
		{[]string{"model.depth=1"}, "model.depth"},
		{[]string{"model.depth=5"}, "Depth 5: want 2 to 4"},
		{[]string{"model.patch_layers=0"}, "model.patch_layers"},
		{[]string{"model.l1=-1"}, "model.l1"},
		{[]string{"model.dropout=1"}, "model.dropout"},
		{[]string{"model.dropout_layers=-1"}, "model.dropout_layers"},
		{[]string{"model.dropout_layers=4"}, "DropoutLayers"},
		{[]string{"model.norm=group"}, "model.norm"},
		{[]string{"model.z_dim=3"}, "field z_dim not found"},
		{[]string{"loss.penalty=r1", "loss.penalty_weight=1"}, "loss.penalty"},
		{[]string{"loss.name=nope"}, "loss.name"},
		{[]string{"data.kind=ring8"}, "needs paired image data"},
		{[]string{"data.kind=mnist-thick", "data.size=0"}, "data.kind is mnist-thick"},
	} {
		c := config.Default()
		var err error
		for _, kv := range append([]string{"data.kind=paired", "data.dir=unused", "data.size=16", "data.channels=1", "model.kind=pix2pix"}, tc.sets...) {
			if err = c.Set(kv); err != nil {
				break
			}
		}
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to name %q", tc.sets, err, tc.want)
		}
	}
	c := tinyConfig(t)
	a, _ := blobs(8, 1)
	if _, err := family.Build(c, family.Data{Channels: 1, Size: 16, Images: a}); err == nil || !strings.Contains(err.Error(), "paired") {
		t.Errorf("unpaired data: error %v, want one asking for paired data", err)
	}
	if m, err := family.Build(c, family.Data{Channels: 1, Size: 16}); err != nil || m.Translator == nil {
		t.Errorf("built to sample, without data: %v", err)
	}
}

// TestPreset checks that pix2pix-edges is the paper's recipe on MNIST
// edges: paired data, L1 weight 100, dropout 0.5 kept at test time, the ns
// loss, Adam at 2e-4 with betas 0.5 and 0.999.
func TestPreset(t *testing.T) {
	c, err := config.Preset("pix2pix-edges")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s := c.Model.Section.(*Section)
	tr := c.Train
	if c.Data.Kind != "mnist-edges" || s.L1 != 100 || s.Dropout != 0.5 || !s.TestDropout || s.PatchLayers != 1 || c.Loss.Name != "ns" ||
		tr.LRG != 2e-4 || tr.LRD != 2e-4 || tr.Beta1 != 0.5 || tr.Beta2 != 0.999 || tr.Optimizer != "adam" {
		t.Errorf("pix2pix-edges: data %s, model %+v, loss %s, train %+v", c.Data.Kind, s, c.Loss.Name, tr)
	}
}
