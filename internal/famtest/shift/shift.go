// Package shift registers the test-only translator family "testshift", so
// that the pipeline's and the command's tests can train, preview, load and
// run an image-to-image model whose every output is known. Import it only
// from tests: registering it is its only effect.
//
// The model has one player, "g", whose one parameter b is pulled towards
// 0.5 (loss (b - 0.5)^2). A two-domain model (data of a kind that
// config.TwoDomain reports)
// translates A to B as -x + b and B to A as -(x - b), so translating back
// gives x again; with model.one_way it refuses B to A. A multi-domain model
// (any other data: its labels are the domains, named by its class names)
// maps x to x + b + 0.25 * to. Translate
// refuses to run in training mode, so tests see that callers put the
// network in evaluation mode first.
package shift

import (
	"errors"
	"fmt"
	"slices"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of testshift.
type Section struct {
	// OneWay makes a two-domain model refuse B to A.
	OneWay bool `yaml:"one_way"`
	// Multi makes the model multi-domain even when built without data
	// (when sampling, the domains are the data's class names).
	Multi bool `yaml:"multi"`
}

// Validate accepts any image data.
func (s *Section) Validate(c config.Config) error {
	if !c.IsImage() {
		return errors.New("model.kind: testshift needs image data")
	}
	return nil
}

// Net is the model's network: the one parameter b.
type Net struct {
	B        *ag.Value
	Training bool
}

// Params lists b.
func (n *Net) Params(prefix string) []nn.Param { return []nn.Param{{Name: prefix + "b", Value: n.B}} }

// Buffers is empty.
func (n *Net) Buffers(string) []nn.Buffer { return nil }

// SetTraining records the mode.
func (n *Net) SetTraining(on bool) { n.Training = on }

// Translator is testshift's family.Translator.
type Translator struct {
	Net    *Net
	Names  []string
	Dims   []int // [C, H, W]
	OneWay bool
	Multi  bool
	// Batches is the batch size of every Translate call that returned
	// images.
	Batches []int
}

// Domains names the domains.
func (t *Translator) Domains() []string { return t.Names }

// Shape is the images' shape.
func (t *Translator) Shape() []int { return t.Dims }

// Translate maps x as the package comment says.
func (t *Translator) Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error) {
	if t.Net.Training {
		return nil, errors.New("testshift: Translate called in training mode")
	}
	if !slices.Equal(x.Shape()[1:], t.Dims) {
		return nil, fmt.Errorf("testshift: images %v, want [N %v]", x.Shape(), t.Dims)
	}
	k := len(t.Names)
	if from < 0 || from >= k || to < 0 || to >= k {
		return nil, fmt.Errorf("testshift: domains %d to %d of %d", from, to, k)
	}
	b := t.Net.B.Data().Data()[0]
	out := tensor.New(x.Shape()...)
	o, in := out.Data(), x.Data()
	switch {
	case t.Multi:
		for i, v := range in {
			o[i] = v + b + 0.25*float32(to)
		}
	case from == to:
		return nil, fmt.Errorf("testshift: %s to %s is no translation", t.Names[from], t.Names[to])
	case from == 1 && t.OneWay:
		return nil, errors.New("testshift: translates A to B only (model.one_way)")
	case from == 0:
		for i, v := range in {
			o[i] = -v + b
		}
	default:
		for i, v := range in {
			o[i] = -(v - b)
		}
	}
	t.Batches = append(t.Batches, x.Size(0))
	return out, nil
}

func init() {
	family.Register(family.Family{
		Name:       "testshift",
		Summary:    "a test translator: one parameter, known outputs",
		NewSection: func() config.ModelSection { return &Section{} },
		Build: func(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
			s := c.Model.Section.(*Section)
			sampleRNG := root.Split()
			net := &Net{B: ag.Param(tensor.New(1)), Training: true}
			p, err := family.NewPlayer("g", net, c.Train, c.Train.LRG, true)
			if err != nil {
				return nil, err
			}
			two, _ := c.TwoDomain()
			names, multi := []string{"A", "B"}, s.Multi || !two
			if multi {
				names = slices.Clone(d.ClassNames)
				for len(names) < d.Classes {
					names = append(names, fmt.Sprint(len(names)))
				}
			}
			tr := &Translator{Net: net, Names: names, Dims: []int{d.Channels, d.Size, d.Size}, OneWay: s.OneWay, Multi: multi}
			m := &family.Model{Players: []*gan.Player{p}, GeneratorPlayer: p, Translator: tr, SampleRNG: sampleRNG}
			m.Phases = []gan.Phase{{Player: p, Terms: func(int) []gan.Term {
				diff := ag.AddScalar(net.B, -0.5)
				return []gan.Term{{Name: "pull", Value: ag.Mean(ag.Mul(diff, diff), nil, false)}}
			}}}
			return m, nil
		},
	})
}
