package imagegan

import (
	"fmt"
	"slices"
	"strings"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/tensor"
)

// Source is what Evaluate samples from: z [N, ZDim] to images
// [N, 1, 28, 28] in [-1, 1]. *models.DCGANGenerator is one; ClassBalanced
// makes one of a conditional generator and SourceOf of a loaded Sampler.
type Source interface {
	Forward(z *ag.Value) *ag.Value
}

// Replay is a Source that ignores its noise and hands out the rows of
// Images in order, from row Next on: it scores real images the way a
// generator is scored (a reference row for a results table, or tests).
// It panics when Images runs out, a caller's bug.
type Replay struct {
	Images *tensor.Tensor // [N, C, H, W]
	Next   int
}

// Forward returns the next z.Shape()[0] images.
func (r *Replay) Forward(z *ag.Value) *ag.Value {
	n := z.Shape()[0]
	px := r.Images.Len() / r.Images.Size(0)
	shape := append([]int{n}, r.Images.Shape()[1:]...)
	out := tensor.FromSlice(append([]float32(nil), r.Images.Data()[r.Next*px:(r.Next+n)*px]...), shape...)
	r.Next += n
	return ag.Const(out)
}

// classBalanced feeds a conditional generator the labels 0, 1, ...,
// classes-1, 0, 1, ... along each batch.
type classBalanced struct {
	g       *models.CondGenerator
	classes int
}

func (c classBalanced) Forward(z *ag.Value) *ag.Value {
	labels := make([]int, z.Shape()[0])
	for i := range labels {
		labels[i] = i % c.classes
	}
	return c.g.Forward(z, labels)
}

// ClassBalanced returns g as a Source whose batches cycle through the
// classes 0..classes-1, so a batch of a multiple of classes images holds
// every class equally often.
func ClassBalanced(g *models.CondGenerator, classes int) Source {
	return classBalanced{g: g, classes: classes}
}

// Reference is the real image set generated images are compared with.
type Reference struct {
	// Name says where the images come from, e.g. "mnist/test"; it goes
	// into each score's metrics.Provenance with the number used.
	Name string
	// Images are [N, 1, 28, 28] in [-1, 1] (data.LoadMNIST's range).
	Images *tensor.Tensor
	// Labels, when known, hold one class per image (PerClass needs them).
	Labels []int
}

// MetricNames are the scores Evaluate computes, by the names it takes:
// "fid" (Frechet distance on fc1 features), "kid" (kernel distance on fc1
// features), "is" (the Inception-Score-style score on the class
// probabilities, 10 splits) and "pr" (precision and recall with k = 3,
// density and coverage with k = 5, on fc1 features).
var MetricNames = []string{"fid", "kid", "is", "pr"}

// ParseMetrics splits a comma-separated list of metric names (see
// MetricNames; "prdc" is accepted for "pr"), dropping repeats. It returns
// an error naming an unknown or empty name.
func ParseMetrics(list string) ([]string, error) {
	var out []string
	for _, m := range strings.Split(list, ",") {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "prdc" {
			m = "pr"
		}
		if !slices.Contains(MetricNames, m) {
			return nil, fmt.Errorf("unknown metric %q (want a comma-separated list of %s)", m, strings.Join(MetricNames, ", "))
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// generateBatch is how many images Generate draws at once.
const generateBatch = 250

// Generate draws n noise vectors from prior with rng, in batches of 250,
// and returns g's images as one tensor [n, C, H, W] in memory that
// outlives any arena. Each batch runs without recording a graph
// (autograd.NoGrad) inside its own tensor.Arena. g is run as it is: put it
// in evaluation mode (SetTraining(false)) first.
func Generate(g Source, prior gan.Prior, n int, rng *tensor.RNG) *tensor.Tensor {
	var out *tensor.Tensor
	for lo := 0; lo < n; lo += generateBatch {
		hi := min(lo+generateBatch, n)
		z := prior.Sample(rng, hi-lo)
		func() {
			arena := tensor.OpenArena()
			defer arena.Close()
			ag.NoGrad(func() {
				img := g.Forward(ag.Const(z)).Data()
				if out == nil {
					shape := append([]int{n}, img.Shape()[1:]...)
					tensor.Persistent(func() { out = tensor.New(shape...) })
				}
				per := out.Len() / n
				copy(out.Data()[lo*per:hi*per], img.Data())
			})
		}()
	}
	return out
}

// Evaluator scores generated images against a reference with the
// embedded MNIST classifier; it computes the reference's features once.
type Evaluator struct {
	net      *classifier.Classifier
	ref      Reference
	nReal    int
	refName  string
	realFC1  *tensor.Tensor
	realGaus *metrics.Gaussian
}

// RefName is the reference's name and the number of its images used,
// e.g. "mnist/test[:2000]".
func (e *Evaluator) RefName() string { return e.refName }

// NewEvaluator loads the classifier and computes the features of the
// first min(n, N) reference images.
func NewEvaluator(ref Reference, n int) (*Evaluator, error) {
	net, err := classifier.Load()
	if err != nil {
		return nil, err
	}
	if s := ref.Images.Shape(); len(s) != 4 || s[1] != 1 || s[2] != classifier.Side || s[3] != classifier.Side {
		return nil, fmt.Errorf("evaluate: reference %s images are %v: Kallima's MNIST feature network takes [N, 1, 28, 28]", ref.Name, s)
	}
	e := &Evaluator{net: net, ref: ref, nReal: min(n, ref.Images.Size(0))}
	e.refName = fmt.Sprintf("%s[:%d]", ref.Name, e.nReal)
	px := classifier.Side * classifier.Side
	var feats *tensor.Tensor
	tensor.Persistent(func() {
		x := tensor.FromSlice(ref.Images.Data()[:e.nReal*px:e.nReal*px], e.nReal, 1, classifier.Side, classifier.Side)
		feats, err = net.Features(x, "fc1")
	})
	if err != nil {
		return nil, err
	}
	e.realFC1 = feats
	return e, nil
}

// Score computes the named metrics of fake [n, 1, 28, 28]; seed fixes
// KID's subsets.
func (e *Evaluator) Score(fake *tensor.Tensor, which []string, seed uint64) ([]metrics.Result, error) {
	if s := fake.Shape(); len(s) != 4 || s[1] != 1 || s[2] != classifier.Side || s[3] != classifier.Side {
		return nil, fmt.Errorf("evaluate: generated images are %v: Kallima's MNIST feature network takes [N, 1, 28, 28]", s)
	}
	var fc1 *tensor.Tensor
	features := func() (*tensor.Tensor, error) {
		if fc1 != nil {
			return fc1, nil
		}
		var err error
		tensor.Persistent(func() { fc1, err = e.net.Features(fake, "fc1") })
		return fc1, err
	}
	var out []metrics.Result
	for _, m := range which {
		var r metrics.Result
		switch m {
		case "fid":
			f, err := features()
			if err != nil {
				return nil, err
			}
			if e.realGaus == nil {
				g, err := metrics.FitGaussian(e.realFC1)
				if err != nil {
					return nil, fmt.Errorf("evaluate: reference: %w", err)
				}
				e.realGaus = &g
			}
			g, err := metrics.FitGaussian(f)
			if err != nil {
				return nil, fmt.Errorf("evaluate: generated images: %w", err)
			}
			s, err := metrics.FID(*e.realGaus, g)
			if err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
			r = s.Result(e.net.Provenance("fc1", e.refName))
		case "kid":
			f, err := features()
			if err != nil {
				return nil, err
			}
			s, err := metrics.KID(e.realFC1, f, metrics.KIDConfig{Seed: seed})
			if err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
			r = s.Result(e.net.Provenance("fc1", e.refName))
		case "is":
			var probs *tensor.Tensor
			var err error
			tensor.Persistent(func() { probs, err = e.net.Features(fake, "probs") })
			if err != nil {
				return nil, err
			}
			s, err := metrics.InceptionScore(probs, metrics.ISConfig{Splits: 10})
			if err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
			r = s.Result(e.net.Provenance("probs", ""))
		case "pr":
			f, err := features()
			if err != nil {
				return nil, err
			}
			s, err := metrics.PRDC(e.realFC1, f, metrics.PRDCConfig{K: 3, KDensity: 5})
			if err != nil {
				return nil, fmt.Errorf("evaluate: %w", err)
			}
			r = s.Result(e.net.Provenance("fc1", e.refName))
		default:
			return nil, fmt.Errorf("evaluate: unknown metric %q (want %s)", m, strings.Join(MetricNames, ", "))
		}
		out = append(out, r)
	}
	return out, nil
}

// Evaluate scores n images of g (noise from prior drawn with rng, see
// Generate) against the first min(n, N) images of ref with Kallima's own
// MNIST classifier (classifier.Load), one metrics.Result per name of which
// (see MetricNames), in that order, each with its provenance: the
// classifier's weights, the layer ("fc1" for FID, KID and PRDC, "probs"
// for IS), the reference split and its size, and n_fake. Scores from this
// network are only comparable with each other, never with the
// Inception-based numbers of papers. KID's subsets are drawn with a seed
// taken from rng after the noise.
//
// It returns an error for an unknown metric, images that are not
// [N, 1, 28, 28], too few samples for a metric (FID needs n >= 129), and
// non-finite generated images.
func Evaluate(g Source, prior gan.Prior, n int, which []string, ref Reference, rng *tensor.RNG) ([]metrics.Result, error) {
	for _, m := range which {
		if !slices.Contains(MetricNames, m) {
			return nil, fmt.Errorf("evaluate: unknown metric %q (want %s)", m, strings.Join(MetricNames, ", "))
		}
	}
	if n <= 0 {
		return nil, fmt.Errorf("evaluate: n = %d: want a positive number of images", n)
	}
	e, err := NewEvaluator(ref, n)
	if err != nil {
		return nil, err
	}
	fake := Generate(g, prior, n, rng)
	return e.Score(fake, which, uint64(rng.Intn(1<<62)))
}

// Scalars returns the values of results as "eval/<value name>" scalars for
// run.Run.Log: eval/fid, eval/kid, eval/is, eval/precision, ...
func Scalars(results []metrics.Result) map[string]float64 {
	m := map[string]float64{}
	for _, r := range results {
		for _, v := range r.Values {
			m["eval/"+v.Name] = v.Value
		}
	}
	return m
}
