package pipeline

import (
	"errors"
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// Scalars returns the values of evaluation results keyed "eval/<name>"
// (eval/fid, eval/precision, ...), as metrics.jsonl logs them.
func Scalars(results []metrics.Result) map[string]float64 { return imagegan.Scalars(results) }

// EvalReference returns the reference set of config c's periodic
// evaluation: MNIST's test split for mnist, otherwise the training images
// themselves (a synthetic or folder set of 28x28 gray images). It returns
// an error when the data cannot be loaded or is not 28x28 gray.
func EvalReference(c config.Config) (imagegan.Reference, error) {
	if !c.IsImage() {
		return imagegan.Reference{}, fmt.Errorf("evaluate: data.kind %s is 2-D points: a 2-D run is scored by mode coverage, quality and W1 (its metrics.txt), not by the image feature network", c.Data.Kind)
	}
	if c.Data.Kind == "stacked-mnist" {
		return imagegan.Reference{}, errors.New("evaluate: Kallima's MNIST feature network takes 28x28 gray images, and stacked-mnist's are 3x28x28: score a stacked-mnist run's modes with kallima eval -modes")
	}
	if ch, side := c.ImageShape(); ch != 1 || side != classifier.Side {
		return imagegan.Reference{}, fmt.Errorf("evaluate: Kallima's MNIST feature network takes 28x28 gray images, and data.kind %s gives %dx%dx%d", c.Data.Kind, ch, side, side)
	}
	if c.Data.Kind == "mnist" {
		set, err := classifier.LoadMNIST(c.DataDir(), data.Test, nil)
		if err != nil {
			return imagegan.Reference{}, fmt.Errorf("evaluate: reference: %w", err)
		}
		return imagegan.Reference{Name: "mnist/test", Images: set.Images, Labels: set.Labels}, nil
	}
	set, err := loadImages(c, nil)
	if err != nil {
		return imagegan.Reference{}, fmt.Errorf("evaluate: reference: %w", err)
	}
	return imagegan.Reference{Name: c.Data.Kind + "/train", Images: set.Images, Labels: set.Labels}, nil
}

// source is a family's Generator as an imagegan.Source; a conditional
// generator's batches cycle through its classes 0, 1, ..., classes-1, so a
// batch of a multiple of classes images holds every class equally often.
type source struct{ g family.Generator }

func (s source) Forward(z *ag.Value) *ag.Value {
	var req family.Request
	if cg, ok := s.g.(family.Conditional); ok {
		req.Labels = make([]int, z.Shape()[0])
		for i := range req.Labels {
			req.Labels[i] = i % cg.Classes()
		}
	}
	out, err := s.g.Generate(z.Data(), req)
	if err != nil {
		// Labels made here always fit; anything else is a family's bug.
		panic(fmt.Sprintf("pipeline: generator: %v", err))
	}
	return ag.Const(out)
}

// SourceOf returns a loaded Sampler as an imagegan.Source (class-balanced
// for a conditional generator).
func SourceOf(g *Sampler) imagegan.Source { return source{g.Generator} }

// periodicMetrics are the scores of the evaluation during training; KID,
// with its 100 subsets, is left to `kallima eval`.
var periodicMetrics = []string{"fid", "is", "pr"}

// evalSeed seeds the noise of every periodic evaluation (the same noise
// each time, so successive scores differ by the generator only); it never
// touches the training streams.
const evalSeed = 0xe7a1e7a1e7a1

// evaluator is the periodic evaluation's scorer with the reference's name.
type evaluator struct {
	*imagegan.Evaluator
	refName string
}

// evaluate scores the generator (with its EMA weights when it keeps an
// EMA) in evaluation mode against the reference, leaving every weight and
// statistic as it was, and returns the scores.
func (s *session) evaluate() ([]metrics.Result, error) {
	if s.model.Generator == nil {
		return nil, fmt.Errorf("evaluate: model.kind %s does not draw from noise", s.c.Model.Kind)
	}
	if s.eval == nil {
		ref, err := EvalReference(s.c)
		if err != nil {
			return nil, err
		}
		e, err := imagegan.NewEvaluator(ref, s.c.Train.EvalN)
		if err != nil {
			return nil, err
		}
		s.eval = &evaluator{Evaluator: e, refName: e.RefName()}
	}
	p := s.model.GeneratorPlayer
	defer p.Evaluate()()
	rng := tensor.NewRNG(s.c.Seed ^ evalSeed)
	fake := imagegan.Generate(source{s.model.Generator}, s.model.Generator.Prior(), s.c.Train.EvalN, rng)
	return s.eval.Score(fake, periodicMetrics, 0)
}
