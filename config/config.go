// Package config describes a training run as data: a YAML file (or a preset
// embedded in the binary) decoded into typed structs with documented
// defaults. Unknown fields are errors that name the field, and Validate
// checks every value before any training starts.
package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
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
	// Kind is "ring8", "grid25" or "mixture" (then Mixture is required).
	Kind    string        `yaml:"kind"`
	Mixture *data.Mixture `yaml:"mixture"`
}

// Model describes the networks.
type Model struct {
	Kind       string `yaml:"kind"`        // "mlp"
	Prior      string `yaml:"prior"`       // "normal" or "uniform"
	ZDim       int    `yaml:"z_dim"`       // noise dimension
	GHidden    []int  `yaml:"g_hidden"`    // generator hidden widths
	DHidden    []int  `yaml:"d_hidden"`    // discriminator hidden widths
	GAct       string `yaml:"g_act"`       // generator activation
	DAct       string `yaml:"d_act"`       // discriminator activation
	GBatchNorm bool   `yaml:"g_batchnorm"` // batch norm in the generator
	DSpecNorm  bool   `yaml:"d_specnorm"`  // spectral norm on the discriminator's layers
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
	Steps     int     `yaml:"steps"`     // generator updates
	Batch     int     `yaml:"batch"`     // batch size
	NCritic   int     `yaml:"n_critic"`  // D updates per G update
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
}

// Default returns the defaults every field falls back to: ring8 with an MLP
// GAN and the non-saturating loss.
func Default() Config {
	return Config{
		Name: "ring8", Seed: 1,
		Data:  Data{Kind: "ring8"},
		Model: Model{Kind: "mlp", Prior: "normal", ZDim: 8, GHidden: []int{128, 128, 128}, DHidden: []int{128, 128, 128}, GAct: "relu", DAct: "leaky_relu"},
		Loss:  Loss{Name: "ns"},
		Train: Train{Steps: 2000, Batch: 256, NCritic: 1, Optimizer: "adam", LRG: 1e-3, LRD: 1e-3, Beta1: 0.5, Beta2: 0.9, LogEvery: 100, SampleN: 2500},
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
	b, err := presets.ReadFile(path.Join("presets", name+".yaml"))
	if err != nil {
		return Config{}, fmt.Errorf("no preset %q (have %s)", name, strings.Join(Presets(), ", "))
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return Config{}, fmt.Errorf("preset %s: %w", name, err)
	}
	return c, nil
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
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return friendly(err, src)
	}
	return nil
}

// friendly rewrites yaml's "field x not found in type config.Train" into a
// message naming the section and the fields it has.
func friendly(err error, src []byte) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	msg = withFieldPath(msg, src)
	for _, sec := range []struct {
		typ, name string
		v         any
	}{{"config.Config", "top level", Config{}}, {"config.Data", "data", Data{}}, {"config.Model", "model", Model{}},
		{"config.Loss", "loss", Loss{}}, {"config.Train", "train", Train{}}} {
		if strings.Contains(msg, "in type "+sec.typ) {
			msg = strings.Replace(msg, "in type "+sec.typ, "in "+sec.name+" (known fields: "+strings.Join(fieldNames(sec.v), ", ")+")", 1)
		}
	}
	return errors.New(msg)
}

// Set applies "section.field=value" overrides, as YAML values.
func (c *Config) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("--set %q: want section.field=value, e.g. train.steps=500", kv)
	}
	parts := strings.Split(k, ".")
	var b strings.Builder
	for i, p := range parts {
		fmt.Fprintf(&b, "%s%s:", strings.Repeat("  ", i), p)
		if i < len(parts)-1 {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, " %s\n", v)
	if err := decodeStrict(strings.NewReader(b.String()), c); err != nil {
		return fmt.Errorf("--set %s: %w", kv, err)
	}
	return nil
}

// YAML returns the config as YAML, for the run folder's snapshot.
func (c Config) YAML() ([]byte, error) { return yaml.Marshal(c) }

// Validate checks every field, naming the first one that is wrong and how
// to fix it.
func (c Config) Validate() error {
	switch c.Data.Kind {
	case "ring8", "grid25":
	case "mixture":
		if c.Data.Mixture == nil {
			return errors.New("data.mixture: data.kind is mixture but no mixture is given (means, sigmas, weights)")
		}
		if err := c.Data.Mixture.Validate(); err != nil {
			return fmt.Errorf("data.mixture: %w", err)
		}
	default:
		return fmt.Errorf("data.kind: %q is not a data set (want ring8, grid25 or mixture)", c.Data.Kind)
	}
	if c.Model.Kind != "mlp" {
		return fmt.Errorf("model.kind: %q (want mlp)", c.Model.Kind)
	}
	if err := (gan.Prior{Kind: c.Model.Prior, Dim: c.Model.ZDim}).Validate(); err != nil {
		return fmt.Errorf("model.prior/z_dim: %w", err)
	}
	for _, h := range append(append([]int{}, c.Model.GHidden...), c.Model.DHidden...) {
		if h <= 0 {
			return fmt.Errorf("model.g_hidden/d_hidden: width %d must be positive", h)
		}
	}
	if _, err := gan.LookupObjective(c.Loss.Name, c.Loss.LabelSmoothing); err != nil {
		return fmt.Errorf("loss.name: %w", err)
	}
	if c.Loss.LabelSmoothing < 0 || c.Loss.LabelSmoothing >= 0.5 {
		return fmt.Errorf("loss.label_smoothing: %g (want 0 <= s < 0.5; 0.1 is usual)", c.Loss.LabelSmoothing)
	}
	if err := (gan.Penalty{Kind: c.Loss.Penalty, Weight: c.Loss.PenaltyWeight}).Validate(); err != nil {
		return fmt.Errorf("loss.penalty: %w", err)
	}
	if c.Loss.Penalty != "" && c.Loss.PenaltyWeight == 0 {
		return fmt.Errorf("loss.penalty_weight: penalty %s needs a weight (10 for gp and dragan, 2 for wgan-div)", c.Loss.Penalty)
	}
	if c.Loss.FeatureMatching < 0 || c.Loss.MinibatchKernels < 0 || c.Loss.HistoricalAverage < 0 {
		return errors.New("loss.feature_matching/minibatch_kernels/historical_average: must not be negative")
	}
	if c.Loss.FeatureMatchingOnly && c.Loss.FeatureMatching == 0 {
		return errors.New("loss.feature_matching_only: set loss.feature_matching to a weight (1 is usual) too")
	}
	if c.Loss.InstanceNoise < 0 || c.Loss.NoiseSteps < 0 {
		return errors.New("loss.instance_noise/noise_steps: must not be negative")
	}
	t := c.Train
	switch {
	case t.Steps <= 0:
		return fmt.Errorf("train.steps: %d (want a positive number of generator updates)", t.Steps)
	case t.Batch <= 0:
		return fmt.Errorf("train.batch: %d (want a positive batch size)", t.Batch)
	case t.NCritic <= 0:
		return fmt.Errorf("train.n_critic: %d (want >= 1; 5 is usual for WGAN)", t.NCritic)
	case t.Optimizer != "adam" && t.Optimizer != "rmsprop":
		return fmt.Errorf("train.optimizer: %q (want adam or rmsprop)", t.Optimizer)
	case !(t.LRG > 0) || !(t.LRD > 0):
		return fmt.Errorf("train.lr_g/lr_d: %g and %g (want positive learning rates)", t.LRG, t.LRD)
	case t.Beta1 < 0 || t.Beta1 >= 1 || t.Beta2 < 0 || t.Beta2 >= 1:
		return fmt.Errorf("train.beta1/beta2: %g and %g (want values in [0, 1))", t.Beta1, t.Beta2)
	case t.ClipD < 0:
		return fmt.Errorf("train.clip_d: %g must not be negative (0.01 in the WGAN paper)", t.ClipD)
	case t.EMA < 0 || t.EMA >= 1:
		return fmt.Errorf("train.ema: %g (want 0 for none or a decay in (0, 1) such as 0.999)", t.EMA)
	case t.LogEvery < 0:
		return fmt.Errorf("train.log_every: %d must not be negative", t.LogEvery)
	case t.SampleN < 10:
		return fmt.Errorf("train.sample_n: %d (want at least 10; the benchmark protocol uses 2500)", t.SampleN)
	}
	return nil
}

// Mixture returns the data set's mixture.
func (c Config) Mixture() data.Mixture {
	if c.Data.Kind == "mixture" {
		return *c.Data.Mixture
	}
	return data.Mixtures[c.Data.Kind]()
}
