package config_test

import (
	"bytes"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/family/cgan"
	"github.com/kallima-gan/kallima/family/dcgan"
	"github.com/kallima-gan/kallima/family/mlp"
	"github.com/kallima-gan/kallima/models"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestPresetsValidate(t *testing.T) {
	if len(config.Presets()) == 0 {
		t.Fatal("no presets embedded")
	}
	for _, name := range config.Presets() {
		c, err := config.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, err := config.Preset("nope"); err == nil || !strings.Contains(err.Error(), "ring8") {
		t.Fatalf("unknown preset: %v (want an error listing the presets)", err)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"train:\n  stepz: 3\n", "stepz"},
		{"train:\n  stepz: 3\n", "known fields"},
		{"bogus: 1\n", "bogus"},
		{"train:\n  steps: many\n", "steps"},
		{"loss: {name: [1]}\n", "line 1"},
	}
	for _, c := range cases {
		_, err := config.Parse(strings.NewReader(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to mention %q", c.yaml, err, c.want)
		}
	}
}

func TestValidateNamesFieldAndFix(t *testing.T) {
	cases := []struct {
		set, want string
	}{
		{"loss.name=wasserstein", "loss.name"},
		{"loss.name=nope", "have"},
		{"data.kind=cifar", "data.kind"},
		{"train.steps=0", "train.steps"},
		{"train.batch=-1", "train.batch"},
		{"loss.penalty=gp", "loss.penalty_weight"},
		{"loss.penalty=spectral", "loss.penalty"},
		{"train.optimizer=lbfgs", "train.optimizer"},
		{"train.ema=1.5", "train.ema"},
		{"model.prior=cauchy", "model.prior"},
		{"data.kind=mixture", "data.mixture"},
		{"train.rollback_every=-1", "train.rollback_every"},
		{"train.g_steps=-1", "train.g_steps"},
		{"loss.label_smoothing=0.1", "label smoothing applies"},
	}
	for _, c := range cases {
		cfg := config.Default()
		if c.set == "loss.label_smoothing=0.1" {
			cfg.Loss.Name = "hinge"
		}
		if err := cfg.Set(c.set); err != nil {
			t.Fatalf("set %s: %v", c.set, err)
		}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.set, err, c.want)
		}
	}
}

func TestRollbackIsForEveryRun(t *testing.T) {
	for _, name := range []string{"dcgan-mnist", "ring8"} {
		c, err := config.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		c.Train.RollbackEvery = 100
		if err := c.Validate(); err != nil {
			t.Fatalf("rollback on %s: %v", name, err)
		}
		c.Train.RollbackEvery = -1
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "train.rollback_every") {
			t.Fatalf("%s: negative rollback_every: error %v, want one naming train.rollback_every", name, err)
		}
	}
}

// TestModelSectionIsTheFamilys checks the model: block's decoding: the
// family's defaults, fields laid over the current section by -set, a new
// kind starting from its own defaults, and unknown fields named with the
// family's field list.
func TestModelSectionIsTheFamilys(t *testing.T) {
	c := config.Default()
	if c.Model.Kind != "mlp" || c.Model.Section.(*mlp.Section).ZDim != 8 {
		t.Fatalf("default model %+v", c.Model)
	}
	if err := c.Set("model.z_dim=4"); err != nil || c.Model.Kind != "mlp" || c.Model.Section.(*mlp.Section).ZDim != 4 || len(c.Model.Section.(*mlp.Section).GHidden) != 3 {
		t.Fatalf("-set model.z_dim=4: %v, %+v", err, c.Model.Section)
	}
	if err := c.Set("model.kind=dcgan"); err != nil || c.Model.Section.(*dcgan.Section).ZDim != 100 || c.Model.Section.(*dcgan.Section).Width != 64 {
		t.Fatalf("-set model.kind=dcgan: %v, %+v (want dcgan's defaults)", err, c.Model.Section)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"model: {kind: dcgan, g_hidden: [4]}\n", "model.g_hidden: line 1: field g_hidden not found in model (kind dcgan; known fields: kind, prior, z_dim, width, size, d_specnorm, d_no_batchnorm, dense, pack, d_width, d_extra_layers, g_extra_layers, project_bn)"},
		{"model:\n  kind: cgan\n  conditioning: channels\n  widht: 3\n", "model.widht: line 4"},
		{"model: {kind: nosuch}\n", `model.kind: "nosuch" is not a model family (have ` + strings.Join(config.ModelKinds(), ", ") + ")"},
		{"model: {kind: mlp, z_dim: many}\n", "z_dim"},
		{"model: 3\n", "want a mapping"},
	} {
		_, err := config.Parse(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
	cg, err := config.Parse(strings.NewReader("model: {kind: cgan, width: 8, conditioning: channels}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := cg.Model.Section.(*cgan.Section); s.Width != 8 || s.ZDim != 100 || s.Conditioning != "channels" {
		t.Fatalf("cgan section %+v: want width 8 over the defaults", s)
	}
}

func TestSetOverrides(t *testing.T) {
	c := config.Default()
	for _, kv := range []string{"train.steps=42", "loss.name=hinge", "model.g_hidden=[16, 16]", "seed=7"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if c.Train.Steps != 42 || c.Loss.Name != "hinge" || len(c.Model.Section.(*mlp.Section).GHidden) != 2 || c.Seed != 7 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	// Other fields keep their values.
	if c.Train.Batch != config.Default().Train.Batch {
		t.Fatal("an override reset another field")
	}
	for _, bad := range []string{"train.stepz=1", "novalue", "=3", "train.steps=abc"} {
		if err := c.Set(bad); err == nil {
			t.Errorf("--set %s accepted", bad)
		}
	}
	// A value of the wrong type is named with the type wanted, without the
	// line number of the one-line document Set decodes.
	for kv, want := range map[string]string{
		"train.steps=abc":        `-set train.steps=abc: train.steps: "abc" is not an integer`,
		"train.lr_g=fast":        `-set train.lr_g=fast: train.lr_g: "fast" is not a number`,
		"train.reuse_fake=maybe": `-set train.reuse_fake=maybe: train.reuse_fake: "maybe" is not true or false`,
		// yaml.v3 alone would truncate these to 1 and 2.
		"data.n=1.5":      `-set data.n=1.5: data.n: 1.5 is not an integer`,
		"model.z_dim=2.5": `-set model.z_dim=2.5: model.z_dim: 2.5 is not an integer`,
	} {
		if err := c.Set(kv); err == nil || err.Error() != want {
			t.Errorf("--set %s: %v, want %q", kv, err, want)
		}
	}
	// A whole number written as a float is taken exactly.
	if err := c.Set("train.steps=1e3"); err != nil || c.Train.Steps != 1000 {
		t.Errorf("--set train.steps=1e3: %v, steps %d", err, c.Train.Steps)
	}
	if _, err := config.Parse(strings.NewReader("train:\n  batch: 64.5\n")); err == nil || !strings.Contains(err.Error(), "train.batch: 64.5 is not an integer") {
		t.Errorf("batch: 64.5 in a file: %v", err)
	}
}

func TestMixtureConfig(t *testing.T) {
	c, err := config.Parse(strings.NewReader(`
data:
  kind: mixture
  mixture:
    means: [[0, 0], [3, 3]]
    sigmas: [0.1, 0.2]
    weights: [1, 3]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if m := c.Mixture(); len(m.Means) != 2 || m.Weights[1] != 3 {
		t.Fatalf("mixture %+v", m)
	}
	y, err := c.YAML()
	if err != nil || !strings.Contains(string(y), "sigmas") {
		t.Fatalf("snapshot: %s, %v", y, err)
	}
	back, err := config.Parse(strings.NewReader(string(y)))
	if err != nil || back.Data.Mixture.Sigmas[1] != 0.2 {
		t.Fatalf("snapshot does not parse back: %v", err)
	}
}

func TestImageConfigs(t *testing.T) {
	for _, name := range []string{"dcgan-mnist", "cgan-mnist", "wgangp-mnist"} {
		c, err := config.Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		if !c.IsImage() {
			t.Fatalf("%s: not an image config", name)
		}
		if ch, side := c.ImageShape(); ch != 1 || side != 28 {
			t.Fatalf("%s: image shape %d, %d", name, ch, side)
		}
		y, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := config.Parse(strings.NewReader(string(y)))
		if err != nil || back.Model.Section.(interface {
			Networks(family.Data) models.DCGANConfig
		}).Networks(family.Data{}).Width != 64 || back.Train.CheckpointEvery != c.Train.CheckpointEvery {
			t.Fatalf("%s: snapshot does not parse back: %v", name, err)
		}
	}
	cases := []struct {
		preset string
		sets   []string
		want   []string // substrings of the error; none for a valid config
	}{
		{"dcgan-mnist", []string{"model.size=64"}, []string{"model.size", "28x28", "data.kind mnist", "set model.size to 28"}},
		{"dcgan-mnist", []string{"model.size=28"}, nil},
		{"dcgan-mnist", []string{"data.size=32"}, []string{"data.size", "mnist images are 28x28"}},
		{"dcgan-mnist", []string{"model.width=0"}, []string{"model.width"}},
		{"dcgan-mnist", []string{"model.dense=-1"}, []string{"model.dense", "1024"}},
		{"infogan-mnist", []string{"model.dense=0"}, nil},
		{"dcgan-mnist", []string{"model.kind=mlp"}, []string{"model.kind", "dcgan or cgan"}},
		{"dcgan-mnist", []string{"model.conditioning=channels"}, []string{"model.conditioning", "not found in model (kind dcgan"}},
		{"cgan-mnist", []string{"model.conditioning=concat"}, []string{"model.conditioning", "projection or channels"}},
		{"cgan-mnist", []string{"model.conditioning=channels", "model.embed_dim=16", "model.matching_aware=true"}, nil},
		{"biggan-mnist", []string{"model.matching_aware=true"}, nil},
		{"sngan-cond-mnist", []string{"model.matching_aware=true"}, nil},
		{"sngan-mnist", []string{"model.matching_aware=true"}, []string{"model.matching_aware", "model.conditional"}},
		{"wgangp-mnist", []string{"model.d_no_batchnorm=false"}, []string{"model.d_no_batchnorm"}},
		{"wgangp-mnist", []string{"model.d_no_batchnorm=false", "model.d_specnorm=true"}, nil},
		{"dcgan-mnist", []string{"data.kind=folder"}, []string{"data.dir"}},
		{"dcgan-mnist", []string{"data.kind=folder", "data.dir=x"}, []string{"data.size"}},
		{"dcgan-mnist", []string{"data.kind=folder", "data.dir=x", "data.size=48"}, []string{"data.size", "28, 32 or 64"}},
		{"dcgan-mnist", []string{"data.kind=folder", "data.dir=x", "data.size=64", "model.size=32"}, []string{"model.size", "64x64", "data.size 64"}},
		{"dcgan-mnist", []string{"data.kind=folder", "data.dir=x", "data.size=64", "data.channels=2"}, []string{"data.channels"}},
		{"dcgan-mnist", []string{"data.kind=synthetic", "data.size=32", "data.channels=3"}, nil},
		{"dcgan-mnist", []string{"data.kind=synthetic", "data.n=10"}, []string{"train.batch", "data.n"}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0"}, nil},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.size=28", "data.channels=3", "data.n=25600"}, nil},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=500"}, []string{"train.eval_every", "3x28x28"}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.size=32"}, []string{"data.size", "stacked-mnist images are 28x28"}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.channels=1"}, []string{"data.channels", "3 channels"}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.n=-1"}, []string{"data.n", "must not be negative"}},
		{"dcgan-mnist", []string{"data.n=50000"}, nil},
		{"dcgan-mnist", []string{"data.n=50000", "data.order=bigan"}, nil},
		{"dcgan-mnist", []string{"data.order=numpy"}, []string{"data.order", `"bigan"`}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.order=bigan"}, []string{"data.order", "data.kind is stacked-mnist"}},
		{"dcgan-mnist", []string{"data.n=60001"}, []string{"data.n", "60000 training digits"}},
		{"dcgan-mnist", []string{"data.n=-1"}, []string{"data.n", "60000 training digits"}},
		{"dcgan-mnist", []string{"data.n=10"}, []string{"train.batch", "mnist digits of data.n"}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.classes=10"}, []string{"data.classes", "1000 classes"}},
		{"dcgan-mnist", []string{"data.kind=stacked-mnist", "train.eval_every=0", "data.n=10"}, []string{"train.batch", "stacked-mnist images", "data.n"}},
		{"dcgan-mnist", []string{"data.kind=stacked"}, []string{"data.kind", "stacked-mnist"}},
		{"dcgan-mnist", []string{"data.kind=paired"}, []string{"data.dir", "data.kind is paired"}},
		{"dcgan-mnist", []string{"data.kind=unpaired", "data.dir=x"}, []string{"data.size"}},
		{"dcgan-mnist", []string{"data.kind=unpaired", "data.dir=x", "data.size=28", "data.channels=1"}, nil},
		{"dcgan-mnist", []string{"data.kind=paired", "data.dir=x", "data.size=28", "data.channels=4"}, []string{"data.channels"}},
		{"dcgan-mnist", []string{"data.kind=mnist-edges"}, nil},
		{"dcgan-mnist", []string{"data.kind=mnist-width", "data.size=32"}, []string{"data.size", "mnist-width images are 28x28"}},
		{"dcgan-mnist", []string{"data.kind=mnist-thick", "data.channels=3"}, []string{"data.channels", "mnist-thick images are gray"}},
		{"dcgan-mnist", []string{"data.kind=mnist-blurry"}, []string{"data.kind", "paired, unpaired, mnist-edges, mnist-thick, mnist-inverted, mnist-width"}},
		{"dcgan-mnist", []string{"train.checkpoint_every=-1"}, []string{"train.checkpoint_every"}},
		{"dcgan-mnist", []string{"loss.historical_average=1"}, nil},
		{"cgan-mnist", []string{"loss.historical_average=1"}, []string{"historical_average", "not available for model.kind cgan"}},
		{"dcgan-mnist", []string{"loss.minibatch_kernels=8", "loss.name=wgan", "loss.penalty=gp", "loss.penalty_weight=10", "model.d_no_batchnorm=true"}, []string{"loss.minibatch_kernels", "per sample"}},
		{"ring8", []string{"model.kind=dcgan"}, []string{"model.kind", "needs image data"}},
	}
	for _, c := range cases {
		cfg, err := config.Preset(c.preset)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range c.sets {
			if err = cfg.Set(kv); err != nil {
				break
			}
		}
		if err == nil {
			err = cfg.Validate()
		}
		if c.want == nil {
			if err != nil {
				t.Errorf("%s %v: %v", c.preset, c.sets, err)
			}
			continue
		}
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: error %v, want it to mention %q", c.preset, c.sets, err, w)
			}
		}
	}
	if got := (config.Config{Data: config.Data{Kind: "mnist"}}).DataDir(); !strings.HasSuffix(got, "kallima/mnist") {
		t.Errorf("default mnist dir %q", got)
	}
	if got := (config.Config{Data: config.Data{Kind: "stacked-mnist"}}).DataDir(); !strings.HasSuffix(got, "kallima/mnist") {
		t.Errorf("default stacked-mnist dir %q, want MNIST's", got)
	}
	if c := (config.Config{Data: config.Data{Kind: "stacked-mnist"}}); !c.IsImage() || c.StackedN() != 128000 {
		t.Errorf("stacked-mnist: image %v, %d images by default, want an image set of 128000", c.IsImage(), c.StackedN())
	}
	if ch, side := (config.Config{Data: config.Data{Kind: "stacked-mnist"}}).ImageShape(); ch != 3 || side != 28 {
		t.Errorf("stacked-mnist images %dx%dx%d, want 3x28x28", ch, side, side)
	}
	for _, k := range config.MNISTTasks {
		c := config.Config{Data: config.Data{Kind: k}}
		task, ok := c.MNISTTask()
		if ch, side := c.ImageShape(); !c.IsImage() || !ok || "mnist-"+task != k || ch != 1 || side != 28 || !strings.HasSuffix(c.DataDir(), "kallima/mnist") {
			t.Errorf("%s: image %v, task %q %v, %dx%dx%d, dir %q", k, c.IsImage(), task, ok, ch, side, side, c.DataDir())
		}
	}
	for kind, want := range map[string][2]bool{"paired": {true, true}, "mnist-edges": {true, true}, "unpaired": {true, false}, "mnist-thick": {true, false},
		"mnist-inverted": {true, false}, "mnist-width": {false, false}, "folder": {false, false}, "mnist": {false, false}} {
		if two, paired := (config.Config{Data: config.Data{Kind: kind}}).TwoDomain(); two != want[0] || paired != want[1] {
			t.Errorf("%s: two domains %v, paired %v, want %v", kind, two, paired, want)
		}
	}
	for _, k := range []string{"paired", "unpaired"} {
		c := config.Config{Data: config.Data{Kind: k, Dir: "/d", Size: 64}}
		if ch, side := c.ImageShape(); !c.IsImage() || ch != 3 || side != 64 || c.DataDir() != "/d" {
			t.Errorf("%s: image %v, %dx%dx%d, dir %q", k, c.IsImage(), ch, side, side, c.DataDir())
		}
		if _, ok := c.MNISTTask(); ok {
			t.Errorf("%s is not an MNIST task", k)
		}
	}
	if got := (config.Config{Data: config.Data{Kind: "mnist", Dir: "/d"}}).DataDir(); got != "/d" {
		t.Errorf("mnist dir %q", got)
	}
}

// TestValidateCandidates checks train.candidates and the fields that go
// with it: each mistake is named, and a good set passes.
func TestValidateCandidates(t *testing.T) {
	good := []string{"train.steps=100", "train.candidates=3", "train.candidate_steps=40", "train.candidate_metric=d/real_info"}
	cases := []struct {
		sets []string
		want string // "" for valid
	}{
		{good, ""},
		{append(slices.Clone(good), "train.candidate_pick=max"), ""},
		{append(slices.Clone(good), "train.candidate_pick=lowest"), "train.candidate_pick"},
		{append(slices.Clone(good), "train.candidates=-1"), "train.candidates: -1"},
		{append(slices.Clone(good), "train.candidates=1"), "but train.candidates is 1"},
		{append(slices.Clone(good), "train.candidate_steps=100"), "train.candidate_steps: 100 is not below train.steps 100"},
		{append(slices.Clone(good), "train.candidate_steps=0"), "train.candidate_steps: 0 is below 2"},
		{append(slices.Clone(good), "train.candidate_steps=1"), "second half"},
		{good[:3], "train.candidate_metric: empty"},
		{append([]string{"2-D"}, good...), "for image runs"},
		{append(slices.Clone(good), "seed=18446744073709551615"), "no room"},
		{append(slices.Clone(good), "train.finalists=2", "train.finalist_steps=80"), ""},
		{append(slices.Clone(good), "train.finalists=3", "train.finalist_steps=80"), "train.finalists: 3"},
		{append(slices.Clone(good), "train.finalists=1", "train.finalist_steps=80"), "2 to 2"},
		{append(slices.Clone(good), "train.finalists=2"), "train.finalist_steps: 0"},
		{append(slices.Clone(good), "train.finalists=2", "train.finalist_steps=41"), "train.finalist_steps: 41 is below train.candidate_steps+2 = 42"},
		{append(slices.Clone(good), "train.finalists=2", "train.finalist_steps=100"), "train.finalist_steps: 100 is not below train.steps 100"},
		{append(slices.Clone(good), "train.finalist_steps=80"), "train.finalists is 0"},
		{[]string{"train.finalists=2"}, "but train.candidates is 0"},
	}
	for _, tc := range cases {
		c, err := config.Preset("dcgan-mnist")
		if err != nil {
			t.Fatal(err)
		}
		if tc.sets[0] == "2-D" {
			c = config.Default()
			tc.sets = tc.sets[1:]
		}
		for _, kv := range tc.sets {
			if err := c.Set(kv); err != nil {
				t.Fatalf("set %s: %v", kv, err)
			}
		}
		err = c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.sets, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want it to mention %q", tc.sets, err, tc.want)
		}
	}
	// Unset, the fields stay out of the snapshot.
	c := config.Default()
	b, err := c.YAML()
	if err != nil || strings.Contains(string(b), "candidate") || strings.Contains(string(b), "finalist") {
		t.Fatalf("default snapshot mentions candidates (%v):\n%s", err, b)
	}
}

// TestCandidateRoundsInOneMessage checks that candidate_steps and
// finalist_steps that do not fit train.steps are reported in one message
// naming each, with values that fit; and that the values it offers do fit,
// over a sweep of steps.
func TestCandidateRoundsInOneMessage(t *testing.T) {
	c, err := config.Preset("infogan-pick-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set("train.steps=40"); err != nil {
		t.Fatal(err)
	}
	err = c.Validate()
	for _, w := range []string{"train.candidate_steps/finalist_steps: ", "candidate_steps 1000 is not below train.steps 40", "finalist_steps 2000 is not below train.steps 40",
		"candidate_steps from 2 to 37", "finalist_steps from candidate_steps+2 to 39", "such as candidate_steps 13 and finalist_steps 26"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("infogan-pick-mnist -set train.steps=40: %v, want it to mention %q", err, w)
		}
	}
	if err := c.Set("train.candidate_steps=13"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set("train.finalist_steps=26"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the values offered: %v", err)
	}
	// Too few steps for any: say so, and how many are needed.
	c, _ = config.Preset("infogan-pick-mnist")
	if err := c.Set("train.steps=4"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "train.steps 4 is too few for these rounds: want at least 5") {
		t.Errorf("train.steps=4: %v", err)
	}
	base, _ := config.Preset("infogan-pick-mnist")
	offer := regexp.MustCompile(`such as candidate_steps (\d+) and finalist_steps (\d+)|want candidate_steps from 2 to \d+, such as (\d+)`)
	for _, finalists := range []int{0, 2} {
		minSteps := 3 // two steps for the candidates, one for the run after
		if finalists > 0 {
			minSteps = 5 // and two for the finalists
		}
		for steps := 1; steps <= 12; steps++ {
			for cs := 0; cs <= 14; cs++ {
				for fs := 0; fs <= 14; fs++ {
					if finalists == 0 && fs > 0 {
						continue
					}
					c := base // the train: section is a value, not shared
					c.Train.Steps, c.Train.Finalists, c.Train.CandidateSteps, c.Train.FinalistSteps = steps, finalists, cs, fs
					err := c.Validate()
					fits := cs >= 2 && cs < steps && (finalists == 0 || fs >= cs+2 && fs < steps)
					if fits != (err == nil) {
						t.Fatalf("steps %d, finalists %d, candidate_steps %d, finalist_steps %d: %v", steps, finalists, cs, fs, err)
					}
					if fits {
						continue
					}
					if !strings.HasPrefix(err.Error(), "train.candidate_steps") && !strings.HasPrefix(err.Error(), "train.finalist_steps") {
						t.Fatalf("steps %d, %d, %d, %d: %v", steps, finalists, cs, fs, err)
					}
					m := offer.FindStringSubmatch(err.Error())
					if (m == nil) != (steps < minSteps) {
						t.Fatalf("steps %d, finalists %d, candidate_steps %d, finalist_steps %d: %v: offer %v", steps, finalists, cs, fs, err, m)
					}
					if m == nil {
						continue
					}
					if finalists > 0 {
						c.Train.CandidateSteps, _ = strconv.Atoi(m[1])
						c.Train.FinalistSteps, _ = strconv.Atoi(m[2])
					} else {
						c.Train.CandidateSteps, _ = strconv.Atoi(m[3])
					}
					if err := c.Validate(); err != nil {
						t.Fatalf("steps %d, finalists %d: the values offered (%v) do not fit: %v", steps, finalists, m, err)
					}
				}
			}
		}
	}
}

// TestPresetFiles checks that every preset's file parses to the preset and
// opens with a description that stops where its YAML starts.
func TestPresetFiles(t *testing.T) {
	for _, name := range config.Presets() {
		b, err := config.PresetFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fromFile, err := config.Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c, err := config.Preset(name)
		if err != nil || !reflect.DeepEqual(c, fromFile) {
			t.Fatalf("%s: the file parses to another config than the preset (%v)", name, err)
		}
		about, err := config.PresetAbout(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(about) < 20 || strings.ContainsAny(about, "#\n") || strings.Contains(about, "name: "+name) {
			t.Errorf("%s: description %q", name, about)
		}
	}
	if _, err := config.PresetFile("no-such"); err == nil || !strings.Contains(err.Error(), "dcgan-mnist") {
		t.Errorf("unknown preset: %v (want an error listing the presets)", err)
	}
	if got, _ := config.PresetAbout("grid25"); got != "25 Gaussians with means {-4,-2,0,2,4}^2 and sigma 0.05." {
		t.Errorf("grid25: %q", got)
	}
}
