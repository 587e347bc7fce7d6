// Package config describes a training run as data: a YAML file (or a preset
// embedded in the binary) decoded into typed structs with documented
// defaults. Unknown fields are errors that name the field, and Validate
// checks every value before any training starts.
package config

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kallima-gan/kallima/data"
)

// Config is a whole training run.
type Config struct {
	Name  string `yaml:"name"`  // a label for the run
	Seed  uint64 `yaml:"seed"`  // seeds every random stream; same seed and config, same result
	Data  Data   `yaml:"data"`  // what to learn
	Model Model  `yaml:"model"` // the generator and discriminator
	Loss  Loss   `yaml:"loss"`  // the objective and regularisers
	Train Train  `yaml:"train"` // optimisation and schedule
}

// Data chooses the data set.
type Data struct {
	// Kind is a 2-D toy set, "ring8", "grid25" or "mixture" (then Mixture is
	// required), or an image set: "mnist" (28x28 gray digits, fetched into
	// Dir when missing), "folder" (the PNG and JPEG files under Dir, one
	// class per subfolder, resized to Size x Size with Channels channels)
	// or "synthetic" (N seeded random images of Size x Size with Channels
	// channels in Classes classes, for tests and smoke runs), or
	// "stacked-mnist" (N 28x28x3 images whose R, G and B channels are three
	// MNIST training digits drawn at random from the seed, 1000 classes
	// 100*d1 + 10*d2 + d3: the VEEGAN/PacGAN mode-collapse benchmark; MNIST
	// is read from Dir as for mnist).
	//
	// Two-domain and multi-domain sets for image-to-image translation:
	// "paired" (pix2pix's data under Dir: folders A/ and B/ whose files
	// pair by name, or side-by-side A|B images; data.LoadPaired),
	// "unpaired" (CycleGAN's trainA/ and trainB/ under Dir, or A/ and B/;
	// data.LoadUnpaired), both resized to Size x Size with Channels
	// channels as for folder; a multi-domain set is a folder (one
	// subfolder per domain). MNIST tasks made in memory from MNIST's
	// training digits (fetched into Dir as for mnist, 28x28 gray) with the
	// seed, data.MakeTask: "mnist-edges" (paired: edge maps to digits),
	// "mnist-thick" and "mnist-inverted" (unpaired: digits to thick or to
	// inverted digits, the two sides from disjoint halves of the digits)
	// and "mnist-width" (three domains, thin, normal and thick strokes).
	// `kallima data make` writes the MNIST tasks as folders of these
	// layouts.
	Kind    string        `yaml:"kind"`
	Mixture *data.Mixture `yaml:"mixture"`
	// Dir is where mnist (and the digits of stacked-mnist and the mnist-*
	// tasks) lives (default: the user cache directory's kallima/mnist) or
	// the image folder's root (required for folder, paired and unpaired).
	Dir string `yaml:"dir"`
	// Size is the image side for folder, paired, unpaired and synthetic
	// (mnist and the mnist-* tasks are 28); 0 means 28 for synthetic.
	Size int `yaml:"size"`
	// Channels is 1 (gray) or 3 (RGB) for folder, paired, unpaired and
	// synthetic; 0 means 3 for the folders and 1 for synthetic.
	Channels int `yaml:"channels"`
	// N is the number of synthetic images (0 means 512), of
	// stacked-mnist images (0 means 128000, data.StackedDefaultN), or of
	// mnist's training digits trained on: the first N of the 60000, in
	// data.order (0 means all; the BiGAN authors train on 50000 and hold
	// out the other 10000, which kallima eval -nn -val 10000 scores).
	N int `yaml:"n"`
	// Order puts mnist's training digits in another order before data.n
	// takes the first N: "bigan" is the BiGAN authors' shuffle (their code
	// trains on its first 50000 and holds out the last 10000; kallima eval
	// -nn -val 10000 scores a run on the held-out digits of its own order).
	// Empty means the files' order.
	Order string `yaml:"order,omitempty"`
	// Classes is the number of synthetic classes; 0 means 10.
	Classes int `yaml:"classes"`
}

// Model names the model family (model.kind) and holds its typed section:
// the family's own struct, decoded strictly from the rest of the model:
// block (an unknown field is an error naming it and the fields the family
// has). Families register their sections with RegisterModel.
type Model struct {
	Kind    string
	Section ModelSection
}

// Loss selects the objective and its regularisers.
type Loss struct {
	Name           string  `yaml:"name"`            // see gan.ObjectiveNames
	LabelSmoothing float32 `yaml:"label_smoothing"` // one-sided, minimax and ns only
	Penalty        string  `yaml:"penalty"`         // gp, gp-one-sided, dragan, r1, r2, wgan-div, or empty
	PenaltyWeight  float32 `yaml:"penalty_weight"`  // lambda, gamma or k
	PenaltyPower   float32 `yaml:"penalty_power"`   // WGAN-div's p
	InstanceNoise  float32 `yaml:"instance_noise"`  // initial std of noise on D's inputs, annealed to 0
	NoiseSteps     int     `yaml:"noise_steps"`     // steps over which it anneals; default: all
	// FeatureMatching, when positive, adds feature matching (Salimans et al.
	// 2016) with this weight to G's loss; FeatureMatchingOnly makes it G's
	// whole loss, as in the paper.
	FeatureMatching     float32 `yaml:"feature_matching"`
	FeatureMatchingOnly bool    `yaml:"feature_matching_only"`
	// MinibatchKernels, when positive, adds minibatch discrimination with
	// this many kernels after D's features.
	MinibatchKernels int `yaml:"minibatch_kernels"`
	// HistoricalAverage, when positive, adds historical averaging of both
	// players' parameters with this weight.
	HistoricalAverage float32 `yaml:"historical_average"`
}

// Train sets the optimisation.
type Train struct {
	Steps     int     `yaml:"steps"`     // training steps: n_critic D updates, then g_steps G updates
	Batch     int     `yaml:"batch"`     // batch size
	NCritic   int     `yaml:"n_critic"`  // D updates per step
	Optimizer string  `yaml:"optimizer"` // "adam" or "rmsprop"
	LRG       float32 `yaml:"lr_g"`      // generator learning rate
	LRD       float32 `yaml:"lr_d"`      // discriminator learning rate (TTUR when different)
	Beta1     float32 `yaml:"beta1"`     // Adam's beta1
	Beta2     float32 `yaml:"beta2"`     // Adam's beta2
	ClipD     float32 `yaml:"clip_d"`    // WGAN weight clipping bound; 0 for none
	EMA       float32 `yaml:"ema"`       // decay of the generator's EMA; 0 for none
	LogEvery  int     `yaml:"log_every"` // steps between progress lines
	SampleN   int     `yaml:"sample_n"`  // samples scored and plotted at the end
	LRDecay   bool    `yaml:"lr_decay"`  // decay both learning rates linearly to 0
	// ReuseFake makes the generator's update score the fake batch the
	// discriminator's last update scored, as PyTorch's DCGAN example (and
	// Kallima's bench step) does, saving one generator pass per step. The
	// default draws fresh noise for it, as Goodfellow et al.'s Algorithm 1.
	// Left out of the YAML when false, so configs that do not use it (and
	// the fingerprints of docs/toy-journal.tsv) are as before it existed.
	ReuseFake bool `yaml:"reuse_fake,omitempty"`
	// GSteps is the number of G updates per step, after D's; 0 means 1.
	// PacGAN's Stacked MNIST code makes 2 (carpedm20's DCGAN, "to make
	// sure that d_loss does not go to zero"). Left out of the YAML when 0,
	// so the configs and fingerprints from before it are unchanged.
	GSteps int `yaml:"g_steps,omitempty"`
	// RollbackEvery, when positive, recovers from divergence (gan.Rollback):
	// an in-memory snapshot every this many steps, and a NaN or Inf goes
	// back to it with both learning rates halved, at most 3 times. 0: a
	// divergence stops the run with an error naming the step and term.
	// The reduced rates are kept in checkpoints, so a resumed run keeps
	// them.
	RollbackEvery int `yaml:"rollback_every"`

	// Image runs only. CheckpointEvery and SampleEvery are the steps
	// between checkpoints and between sample grids (0: only at the end);
	// KeepCheckpoints is how many of the newest checkpoints are kept (0:
	// run.DefaultKeep, negative: all). Deterministic makes results
	// independent of the number of cores (matrix products run on one
	// thread, slower); without it a run is still bit-for-bit repeatable,
	// and resumable, on machines with the same core count.
	CheckpointEvery int  `yaml:"checkpoint_every"`
	SampleEvery     int  `yaml:"sample_every"`
	KeepCheckpoints int  `yaml:"keep_checkpoints"`
	Deterministic   bool `yaml:"deterministic"`

	// EvalEvery is the steps between evaluations of the EMA generator
	// (the raw one without EMA) with Kallima's MNIST feature network
	// (package classifier), 0 for none; MNIST-shaped (28x28 gray) image
	// runs only. Each evaluation logs eval/fid, eval/is, eval/precision,
	// eval/recall, eval/density and eval/coverage and writes a checkpoint
	// scored by its FID, so the run's best checkpoint is the lowest FID.
	// EvalN is the number of generated and of reference images per
	// evaluation (default 2000; at least 129, the 128 fc1 features plus
	// one).
	EvalEvery int `yaml:"eval_every"`
	EvalN     int `yaml:"eval_n"`

	// Candidates, when 2 or more, starts an image run as that many
	// candidates that differ only in their seed (candidate 0 has the
	// run's seed, candidate k the seed plus k*1000000), trains each for
	// CandidateSteps steps in the run's candidates/ folder, and trains on
	// only the one whose logged scalar CandidateMetric has the lowest
	// (CandidatePick "min", the default) or highest ("max") mean over the
	// second half of those steps: a label-free restart for models, such as
	// InfoGAN, whose seeds either find the structure early or never do.
	// Left out of the YAML when unset, so other configs' snapshots are as
	// before it existed.
	Candidates      int    `yaml:"candidates,omitempty"`
	CandidateSteps  int    `yaml:"candidate_steps,omitempty"`
	CandidateMetric string `yaml:"candidate_metric,omitempty"`
	CandidatePick   string `yaml:"candidate_pick,omitempty"`
	// Finalists, when set (2 or more, fewer than Candidates), picks in
	// two rounds: that many of the best-scored candidates train on to
	// FinalistSteps, and the run trains on only the finalist with the best
	// mean of CandidateMetric over the second half of the steps since
	// CandidateSteps. For runs whose good and bad seeds part only later.
	Finalists     int `yaml:"finalists,omitempty"`
	FinalistSteps int `yaml:"finalist_steps,omitempty"`
}

// CandidateStride is the seed distance between a run's candidates
// (Train.Candidates): candidate k trains with seed + k*CandidateStride.
const CandidateStride = 1000000

// Default returns the defaults every field falls back to: ring8 with an MLP
// GAN and the non-saturating loss.
func Default() Config {
	return Config{
		Name: "ring8", Seed: 1,
		Data:  Data{Kind: "ring8"},
		Model: defaultModel(),
		Loss:  Loss{Name: "ns"},
		Train: Train{Steps: 2000, Batch: 256, NCritic: 1, Optimizer: "adam", LRG: 1e-3, LRD: 1e-3, Beta1: 0.5, Beta2: 0.9, LogEvery: 100, SampleN: 2500,
			CheckpointEvery: 500, SampleEvery: 250, EvalN: 2000},
	}
}

//go:embed presets/*.yaml
var presets embed.FS

// Presets lists the embedded preset names, sorted.
func Presets() []string {
	es, _ := presets.ReadDir("presets")
	var r []string
	for _, e := range es {
		r = append(r, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(r)
	return r
}

// Preset returns an embedded preset by name.
func Preset(name string) (Config, error) {
	b, err := PresetFile(name)
	if err != nil {
		return Config{}, err
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return Config{}, fmt.Errorf("preset %s: %w", name, err)
	}
	return c, nil
}

// PresetFile returns an embedded preset's YAML text, its heading comment
// included: a starting point for a config file of one's own.
func PresetFile(name string) ([]byte, error) {
	b, err := presets.ReadFile(path.Join("presets", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("no preset %q (have %s)", name, strings.Join(Presets(), ", "))
	}
	return b, nil
}

// PresetAbout returns the comment heading an embedded preset's file (what
// it trains, from which paper, and why its settings) as one paragraph.
func PresetAbout(name string) (string, error) {
	b, err := PresetFile(name)
	if err != nil {
		return "", err
	}
	var words []string
	for _, line := range strings.Split(string(b), "\n") {
		text, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		words = append(words, strings.Fields(text)...)
	}
	return strings.Join(words, " "), nil
}

// Load reads a YAML config file over the defaults.
func Load(file string) (Config, error) {
	f, err := os.Open(file)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", file, err)
	}
	return c, nil
}

// Parse decodes YAML over the defaults; unknown fields are errors.
func Parse(r io.Reader) (Config, error) {
	c := Default()
	if err := decodeStrict(r, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

func decodeStrict(r io.Reader, c *Config) error {
	src, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) == nil {
		if err := checkValues(&root, reflect.TypeOf(c), ""); err != nil {
			return err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return friendly(err, src)
	}
	return nil
}

// unmarshalType matches yaml's "cannot unmarshal !!str `abc` into int".
var unmarshalType = regexp.MustCompile("cannot unmarshal !!\\w+ `([^`]*)` into (\\S+)")

// friendly rewrites yaml's "field x not found in type config.Train" into a
// message naming the section and the fields it has, and its "cannot
// unmarshal !!str `abc` into int" into "\"abc\" is not an integer".
func friendly(err error, src []byte) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	msg = withFieldPath(msg, src)
	msg = unmarshalType.ReplaceAllStringFunc(msg, func(m string) string {
		sub := unmarshalType.FindStringSubmatch(m)
		want := sub[2]
		switch {
		case strings.HasPrefix(want, "int"), strings.HasPrefix(want, "uint"):
			want = "an integer"
		case strings.HasPrefix(want, "float"):
			want = "a number"
		case want == "bool":
			want = "true or false"
		case strings.HasPrefix(want, "[]"):
			want = "a list, e.g. [1, 2]"
		default:
			want = "a " + want
		}
		return fmt.Sprintf("%q is not %s", sub[1], want)
	})
	for _, sec := range []struct {
		typ, name string
		v         any
	}{{"config.Config", "top level", Config{}}, {"config.Data", "data", Data{}},
		{"config.Loss", "loss", Loss{}}, {"config.Train", "train", Train{}}} {
		if strings.Contains(msg, "in type "+sec.typ) {
			msg = strings.Replace(msg, "in type "+sec.typ, "in "+sec.name+" (known fields: "+strings.Join(fieldNames(sec.v), ", ")+")", 1)
		}
	}
	return errors.New(msg)
}

// yamlNull matches the values YAML reads as null.
var yamlNull = regexp.MustCompile(`^\s*(~|null|Null|NULL)?\s*$`)

// setLine matches yaml's "line N: " inside a message.
var setLine = regexp.MustCompile(`line \d+: `)

// Set applies "section.field=value" overrides, as YAML values. An empty
// value (or null) is an error naming the field: YAML reads it as null,
// which would leave the field as it was, unseen (or empty a list); ""
// is the empty string. Only a pointer field, such as data.mixture, takes
// null, as none.
func (c *Config) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("-set %q: want section.field=value, e.g. train.steps=500", kv)
	}
	parts := strings.Split(k, ".")
	// An unknown field (Invalid) is left to the decoder to name, and so is
	// model.kind, which Model.UnmarshalYAML checks.
	if kind := c.fieldKind(parts); yamlNull.MatchString(v) && kind != reflect.Pointer && kind != reflect.Invalid {
		if kind == reflect.String {
			return fmt.Errorf("-set %s: empty value (give %s a value; for the empty string, -set '%s=\"\"' with the quotes)", kv, k, k)
		}
		return fmt.Errorf("-set %s: empty value (give %s a value, or leave the -set out to keep the config's)", kv, k)
	}
	var b strings.Builder
	for i, p := range parts {
		fmt.Fprintf(&b, "%s%s:", strings.Repeat("  ", i), p)
		if i < len(parts)-1 {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, " %s\n", v)
	if err := decodeStrict(strings.NewReader(b.String()), c); err != nil {
		// The line numbers are of the one-value document made here.
		return fmt.Errorf("-set %s: %s", kv, setLine.ReplaceAllString(err.Error(), ""))
	}
	return nil
}

// fieldKind returns the kind of the field at path (a model field's in the
// current model section), or reflect.Invalid when there is none.
func (c *Config) fieldKind(path []string) reflect.Kind {
	t := reflect.TypeOf(*c)
	for _, p := range path {
		if t == reflect.TypeOf(Model{}) {
			if c.Model.Section == nil {
				return reflect.Invalid
			}
			t = reflect.TypeOf(c.Model.Section)
		}
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return reflect.Invalid
		}
		f, ok := fieldByTag(t, p)
		if !ok {
			return reflect.Invalid
		}
		t = f.Type
	}
	return t.Kind()
}

// YAML returns the config as YAML, for the run folder's snapshot.
func (c Config) YAML() ([]byte, error) { return yaml.Marshal(c) }

// IsImage reports whether the data set is an image set (mnist, folder,
// synthetic, stacked-mnist, or a translation set: paired, unpaired or an
// mnist-* task) rather than a 2-D toy set.
func (c Config) IsImage() bool {
	switch c.Data.Kind {
	case "mnist", "folder", "synthetic", "stacked-mnist", "paired", "unpaired":
		return true
	}
	_, ok := c.MNISTTask()
	return ok
}

// TwoDomain reports whether the data kind is a two-domain translation set
// (domain A as the images, domain B beside them): paired, unpaired,
// mnist-edges, mnist-thick or mnist-inverted; paired says whether B's
// image i is the target of A's image i (paired and mnist-edges). Other
// image kinds are one-domain sets, or multi-domain ones whose labels are
// the domains (folder with a subfolder per domain, mnist-width).
func (c Config) TwoDomain() (two, paired bool) {
	switch c.Data.Kind {
	case "paired", "mnist-edges":
		return true, true
	case "unpaired", "mnist-thick", "mnist-inverted":
		return true, false
	}
	return false, false
}

// MNISTTasks are the data kinds of the translation tasks made from MNIST,
// "mnist-" and the data.MakeTask name.
var MNISTTasks = []string{"mnist-edges", "mnist-thick", "mnist-inverted", "mnist-width"}

// MNISTTask returns the data.MakeTask name of an mnist-* data kind
// ("edges" for mnist-edges), and ok false for any other kind.
func (c Config) MNISTTask() (task string, ok bool) {
	for _, k := range MNISTTasks {
		if c.Data.Kind == k {
			return strings.TrimPrefix(k, "mnist-"), true
		}
	}
	return "", false
}

// ImageShape returns the channels and side of the data set's images, with
// the defaults filled in (0, 0 for a toy set).
func (c Config) ImageShape() (channels, size int) {
	switch c.Data.Kind {
	case "mnist":
		return 1, 28
	case "stacked-mnist":
		return 3, 28
	case "folder", "paired", "unpaired":
		return cmp.Or(c.Data.Channels, 3), c.Data.Size
	case "synthetic":
		return cmp.Or(c.Data.Channels, 1), cmp.Or(c.Data.Size, 28)
	}
	if _, ok := c.MNISTTask(); ok {
		return 1, 28
	}
	return 0, 0
}

// SyntheticSet returns the synthetic data set's size and class count, with
// the defaults filled in.
func (c Config) SyntheticSet() (n, classes int) { return c.syntheticN(), cmp.Or(c.Data.Classes, 10) }

func (c Config) syntheticN() int { return cmp.Or(c.Data.N, 512) }

// StackedN returns the number of stacked-mnist images, data.n or its
// default data.StackedDefaultN.
func (c Config) StackedN() int { return cmp.Or(c.Data.N, data.StackedDefaultN) }

// DataDir returns data.dir, or for mnist, stacked-mnist and the mnist-*
// tasks when it is empty the default cache folder:
// os.UserCacheDir()/kallima/mnist (os.TempDir() stands in for the cache
// when there is none).
func (c Config) DataDir() string {
	_, task := c.MNISTTask()
	if c.Data.Dir != "" || c.Data.Kind != "mnist" && c.Data.Kind != "stacked-mnist" && !task {
		return c.Data.Dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "kallima", "mnist")
}

// Mixture returns the data set's mixture.
func (c Config) Mixture() data.Mixture {
	if c.Data.Kind == "mixture" {
		return *c.Data.Mixture
	}
	return data.Mixtures[c.Data.Kind]()
}
