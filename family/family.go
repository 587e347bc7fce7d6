// Package family is the contract every model family meets, and the
// registry that finds a family by its config name (model.kind).
//
// A family is one package that registers itself once, in an init function:
// its name, its typed config section (package config decodes it strictly
// and calls its Validate), and how it builds a Model (players, phases,
// random streams, extra checkpoint state and what it can be asked when
// sampling) from a config and a data set. The run pipeline, sampling,
// evaluation and serving work for every family through this contract;
// outside the registry, no code switches on a family's name.
package family

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// Family is a registered model family.
type Family struct {
	// Name is the family's model.kind.
	Name string
	// Summary is one line for listings ("DCGAN (Radford et al. 2016) ...").
	Summary string
	// NewSection returns a pointer to the family's model section with its
	// defaults; its Validate checks it against the whole config.
	NewSection func() config.ModelSection
	// Build makes the model of a validated config for the data. rng is
	// the config's seed stream: a family splits its own streams from it,
	// in an order it keeps fixed, so a seed always means the same run.
	// With d.Images (or d.Points) nil the model is built only to sample:
	// it need not be able to train.
	Build func(c config.Config, d Data, rng *tensor.RNG) (*Model, error)
}

var (
	mu       sync.RWMutex
	families = map[string]Family{}
)

// Register adds a family; it panics if the name is taken or a field is
// missing (a programming error in the family's init).
func Register(f Family) {
	mu.Lock()
	defer mu.Unlock()
	if f.Name == "" || f.NewSection == nil || f.Build == nil {
		panic(fmt.Sprintf("family.Register: family %q lacks a name, NewSection or Build", f.Name))
	}
	if _, dup := families[f.Name]; dup {
		panic(fmt.Sprintf("family.Register: family %q registered twice", f.Name))
	}
	families[f.Name] = f
	config.RegisterModel(f.Name, f.NewSection)
}

// Lookup returns the family registered as name.
func Lookup(name string) (Family, error) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := families[name]
	if !ok {
		return Family{}, fmt.Errorf("model.kind: %q is not a model family (have %s)", name, strings.Join(names(), ", "))
	}
	return f, nil
}

// Names lists the registered families, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return names()
}

func names() []string {
	var r []string
	for n := range families {
		r = append(r, n)
	}
	sort.Strings(r)
	return r
}

// Build looks up c's family and builds its model for d from c's seed.
func Build(c config.Config, d Data) (*Model, error) {
	f, err := Lookup(c.Model.Kind)
	if err != nil {
		return nil, err
	}
	m, err := f.Build(c, d, tensor.NewRNG(c.Seed))
	if err != nil {
		return nil, fmt.Errorf("model (%s): %w", f.Name, err)
	}
	return m, nil
}

// Data is what a model is built for: 2-D points or images.
type Data struct {
	// Points is the mixture of a 2-D run; nil for images.
	Points *data.Mixture
	// Channels and Size are an image run's image shape, [Channels, Size,
	// Size]; Classes is its number of labels (0 for unlabelled data).
	Channels, Size, Classes int
	// Images is the training set of an image run; nil when the model is
	// built only to sample. For a two-domain data set it is domain A.
	Images *data.Set
	// B is domain B's training images for a two-domain data set (nil
	// otherwise): with Paired, B's image i is the target of Images' image
	// i (pix2pix); without, an independent set of the same shape
	// (CycleGAN's unpaired trainA and trainB).
	B      *data.Set
	Paired bool
	// ClassNames names the classes (or a multi-domain model's domains) in
	// label order when the data has names; it may be nil, and then class
	// k is called by its number.
	ClassNames []string
}

// IsImage reports whether d describes images rather than 2-D points.
func (d Data) IsImage() bool { return d.Points == nil }

// Loader returns the shuffled, drop-last loader of the training images,
// seeded from one draw of rng (made even when there are no images, so the
// stream's position does not depend on it), or nil when the model is built
// only to sample. Keep it as an Extra (LoaderExtra) and close it in
// Model.Close.
func (d Data) Loader(batch int, rng *tensor.RNG) (*data.Loader, error) {
	seed := uint64(rng.Intn(1 << 62))
	if d.Images == nil {
		return nil, nil
	}
	l, err := data.NewLoader(d.Images, data.LoaderConfig{BatchSize: batch, Seed: seed, DropLast: true})
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return l, nil
}

// Model is a built model: what the trainer runs, what checkpoints keep,
// and what can be asked of it.
type Model struct {
	// Players and Phases are what gan.Trainer runs. A checkpoint keeps
	// each player's module under its name, its optimizer under
	// "opt_<name>" and its EMA under "ema_<name>".
	Players []*gan.Player
	Phases  []gan.Phase
	// Generator, when the family draws from noise, answers sampling
	// requests with the weights of GeneratorPlayer (its EMA when it has
	// one and the caller asks for it).
	Generator       Generator
	GeneratorPlayer *gan.Player
	// SampleRNG is the stream the pipeline draws the run's fixed preview
	// noise from (and, for 2-D runs, the final score's samples); a family
	// gives the stream that keeps its place in the seed's split order.
	SampleRNG *tensor.RNG
	// Streams are the random streams training draws from, by name; a
	// checkpoint keeps every one, so resume is exact.
	Streams map[string]*tensor.RNG
	// Translator, when the family maps images between domains, answers
	// translation requests with the weights of GeneratorPlayer (its EMA
	// when it has one and the caller asks for it). A family may set both
	// Generator and Translator, or only one.
	Translator Translator
	// Critic, for a 2-D GAN whose discriminator scores single points, is
	// that discriminator (the live 2-D view's heat map and arrows); nil
	// otherwise.
	Critic Critic
	// Extras is any other state a checkpoint must keep (a loader's
	// position, an image pool, a historical average, a growth stage), by
	// name. Resume loads extras before the players' weights, so a family
	// whose networks grow can grow to the checkpoint's stage first.
	Extras map[string]Extra
	// Close, when set, releases what Build started (a loader's
	// goroutine).
	Close func()
}

// Extra is state a checkpoint keeps beyond the players and streams.
type Extra interface {
	Save(ck *run.Checkpoint, name string) error
	Load(ck *run.Checkpoint, name string) error
}

// Generator is a model that draws samples from noise: the capability that
// sample, interpolate, eval and serve type-assert.
type Generator interface {
	// Prior is the noise distribution and dimension.
	Prior() gan.Prior
	// Generate maps noise z [N, Prior().Dim] to samples ([N, C, H, W]
	// images in [-1, 1], or [N, 2] points in data coordinates) without
	// recording gradients, in whatever mode (training or evaluation) the
	// module is in. It returns an error for a request the model cannot
	// answer (labels for an unconditional model, a label out of range).
	Generate(z *tensor.Tensor, req Request) (*tensor.Tensor, error)
}

// Request is what a sample may be conditioned on; the zero Request asks
// for nothing.
type Request struct {
	// Labels holds one class per noise row, for a Conditional generator.
	Labels []int
	// Codes holds named latent codes for a Coded generator (InfoGAN), one
	// value per noise row. The names are c1, c2, ...: the categorical
	// codes first, then the continuous ones, in the order of the family's
	// config (Coded.Codes lists them). A categorical code's value is a
	// category 0 .. K-1 (a whole number); a continuous one's lies in its
	// Code's [Lo, Hi]. A code the request does not name is a function of
	// the row's noise (see Coded), so a row keeps it whatever else is
	// asked. A generator without codes refuses a non-empty Codes, and a
	// Coded one refuses an unknown name, a value count other than the
	// noise's rows or a value out of range, naming them.
	Codes map[string][]float64
}

// Code is one named latent code of a Coded generator.
type Code struct {
	// Name is the code's request name, c1, c2, ...
	Name string
	// Categories is the number of categories of a categorical code (values
	// 0 .. Categories-1); 0 for a continuous code.
	Categories int
	// Lo and Hi bound a continuous code's values in a request (its prior
	// may be narrower: a traversal may go past it).
	Lo, Hi float64
}

// Coded is a Generator with named latent codes beside its noise (InfoGAN).
// Prior is the noise's alone; codes a request does not name are drawn from
// their priors by a stream seeded with the row's noise, so Generate stays a
// function of z and the request.
type Coded interface {
	Generator
	// Codes lists the codes in request-name order (c1, c2, ...).
	Codes() []Code
}

// CodeReader is a Coded model that reads its categorical codes back from
// images: InfoGAN's Q head, on the discriminator player's weights (load
// them to use it).
type CodeReader interface {
	Coded
	// ReadCategorical returns, for each categorical code in Codes order,
	// the most probable category of each image of x [N, C, H, W], without
	// recording gradients, in whatever mode the network is in.
	ReadCategorical(x *tensor.Tensor) ([][]int, error)
}

// NoCodes returns an error when req names latent codes for a generator of
// model.kind kind that has none.
func NoCodes(req Request, kind string) error {
	if len(req.Codes) > 0 {
		return fmt.Errorf("%s: latent codes given to a generator without codes (model.kind infogan has them)", kind)
	}
	return nil
}

// CheckLabels reports a request a class-conditional generator of the
// given kind cannot answer for n noise rows: a label count other than n, a
// label outside 0 .. classes-1, or latent codes.
func CheckLabels(req Request, kind string, n, classes int) error {
	if len(req.Labels) != n {
		return fmt.Errorf("%s: %d labels for %d noise vectors", kind, len(req.Labels), n)
	}
	if err := NoCodes(req, kind); err != nil {
		return err
	}
	for _, k := range req.Labels {
		if k < 0 || k >= classes {
			return fmt.Errorf("%s: class %d out of range [0, %d)", kind, k, classes)
		}
	}
	return nil
}

// Conditional is a Generator that takes a class per sample.
type Conditional interface {
	Generator
	// Classes is the number of classes, labels 0 .. Classes-1.
	Classes() int
}

// Player returns the model's player with the given name, or nil.
func (m *Model) Player(name string) *gan.Player {
	for _, p := range m.Players {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// StateExtra keeps a run.Stateful (an optimizer-like object that saves
// itself as tensors, such as gan.HistoricalAverage) as an Extra.
type StateExtra struct{ S run.Stateful }

// Save puts the state under group name.
func (e StateExtra) Save(ck *run.Checkpoint, name string) error { ck.PutState(name, e.S); return nil }

// Load restores the state from group name.
func (e StateExtra) Load(ck *run.Checkpoint, name string) error { return ck.LoadState(name, e.S) }

// LoaderExtra keeps a data loader's position (epoch, order, cursor) as an
// Extra.
type LoaderExtra struct{ L *data.Loader }

// Save puts the loader's state as JSON under name.
func (e LoaderExtra) Save(ck *run.Checkpoint, name string) error {
	return ck.PutJSON(name, e.L.State())
}

// Load restores the loader's state from name.
func (e LoaderExtra) Load(ck *run.Checkpoint, name string) error {
	var st data.LoaderState
	if err := ck.LoadJSON(name, &st); err != nil {
		return err
	}
	return e.L.SetState(st)
}

// StartLoader starts the loader of d's images in batches of batch, drawn
// by rng, and keeps it in m: its position as the extra "loader" and its
// goroutine stopped by m.Close. It returns nil and no error when d has no
// images (a model built only to sample). The loader starts a goroutine, so
// a Build calls it last, when nothing else can fail.
func (m *Model) StartLoader(d Data, batch int, rng *tensor.RNG) (*data.Loader, error) {
	l, err := d.Loader(batch, rng)
	if err != nil || l == nil {
		return nil, err
	}
	m.KeepLoader(l)
	return l, nil
}

// KeepLoader keeps the started loader l as the extra "loader" (its
// position goes into checkpoints) and makes Close stop it; a nil l (a
// model built only to sample) changes nothing.
func (m *Model) KeepLoader(l *data.Loader) {
	if l == nil {
		return
	}
	if m.Extras == nil {
		m.Extras = map[string]Extra{}
	}
	m.Extras["loader"], m.Close = LoaderExtra{L: l}, l.Close
}
