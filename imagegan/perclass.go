package imagegan

import (
	"fmt"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// ClassScore is a conditional generator's score on one class k: how many of
// its samples of class k the feature network classifies as k, and
// precision/recall/density/coverage (k = 3 and 5 on fc1 features) of those
// samples against real images of class k, which measure fidelity and
// diversity within the class.
type ClassScore struct {
	Class     int               `json:"class"`
	Agreement float64           `json:"agreement"`
	PRDC      metrics.PRDCScore `json:"prdc"`
}

// ClassScores are the scores PerClass returns: one ClassScore per class,
// their means, and the scores of all samples together against the
// reference's first images (FID and PRDC on fc1 features).
type ClassScores struct {
	Classes []ClassScore `json:"classes"`
	// PerClass is the number of samples (and real images) per class.
	PerClass int `json:"per_class"`
	// Agreement, Precision, Recall, Density and Coverage are the means
	// over classes.
	Agreement float64 `json:"agreement"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Density   float64 `json:"density"`
	Coverage  float64 `json:"coverage"`
	// FID and All score all Classes*PerClass samples against the first
	// Classes*PerClass reference images (whatever their classes).
	FID float64           `json:"fid"`
	All metrics.PRDCScore `json:"all"`
	// Network is the feature network's name and weights; Reference the
	// reference set's name.
	Network   string `json:"network"`
	Reference string `json:"reference"`
}

// PerClass scores a class-conditional generator class by class with
// Kallima's MNIST feature network (package classifier). sample maps noise
// [N, prior.Dim] and N labels to images [N, 1, 28, 28] in [-1, 1] (a
// pipeline.Sampler's Sample, in evaluation mode); for each class k in
// 0 .. classes-1 in turn it draws perClass noise vectors from prior with
// rng and asks for class k. ref must carry one label per image (Labels);
// class k's samples are compared with ref's first perClass images labelled
// k. Agreement reads the network's predicted digit, so it means something
// only when the classes are MNIST's digits.
//
// It returns an error for a reference without labels or with fewer than
// perClass images of a class, perClass below 6 (density and coverage use
// the 5th neighbour), images of the wrong shape, and a sampling error.
func PerClass(sample func(z *tensor.Tensor, labels []int) (*tensor.Tensor, error), prior gan.Prior, classes, perClass int, ref Reference, rng *tensor.RNG) (ClassScores, error) {
	if perClass < 6 {
		return ClassScores{}, fmt.Errorf("per-class scores: %d samples per class: want at least 6 (density and coverage use the 5th neighbour)", perClass)
	}
	if classes < 2 {
		return ClassScores{}, fmt.Errorf("per-class scores: %d classes: want a conditional generator of at least 2", classes)
	}
	if s := ref.Images.Shape(); len(s) != 4 || s[1] != 1 || s[2] != classifier.Side || s[3] != classifier.Side {
		return ClassScores{}, fmt.Errorf("per-class scores: reference %s images are %v: Kallima's MNIST feature network takes [N, 1, 28, 28]", ref.Name, s)
	}
	if len(ref.Labels) != ref.Images.Size(0) {
		return ClassScores{}, fmt.Errorf("per-class scores: reference %s has %d labels for %d images: per-class scores need labelled real images", ref.Name, len(ref.Labels), ref.Images.Size(0))
	}
	net, err := classifier.Load()
	if err != nil {
		return ClassScores{}, err
	}
	px := classifier.Side * classifier.Side
	features := func(x *tensor.Tensor) (f *tensor.Tensor, err error) {
		tensor.Persistent(func() { f, err = net.Features(x, "fc1") })
		return f, err
	}
	n := classes * perClass
	all := tensor.New(n, 1, classifier.Side, classifier.Side)
	out := ClassScores{PerClass: perClass, Network: net.Name, Reference: ref.Name}
	for k := range classes {
		realK := tensor.New(perClass, 1, classifier.Side, classifier.Side)
		have := 0
		for i, y := range ref.Labels {
			if y == k && have < perClass {
				copy(realK.Data()[have*px:(have+1)*px], ref.Images.Data()[i*px:(i+1)*px])
				have++
			}
		}
		if have < perClass {
			return ClassScores{}, fmt.Errorf("per-class scores: reference %s has %d images of class %d, fewer than %d", ref.Name, have, k, perClass)
		}
		labels := make([]int, perClass)
		for i := range labels {
			labels[i] = k
		}
		fake, err := sample(prior.Sample(rng, perClass), labels)
		if err != nil {
			return ClassScores{}, fmt.Errorf("per-class scores: class %d: %w", k, err)
		}
		if s := fake.Shape(); len(s) != 4 || s[0] != perClass || s[1] != 1 || s[2] != classifier.Side || s[3] != classifier.Side {
			return ClassScores{}, fmt.Errorf("per-class scores: generated images are %v: Kallima's MNIST feature network takes [N, 1, 28, 28]", s)
		}
		copy(all.Data()[k*perClass*px:(k+1)*perClass*px], fake.Data())
		cs := ClassScore{Class: k, Agreement: net.Net.Accuracy(fake, labels)}
		ff, err := features(fake)
		if err != nil {
			return ClassScores{}, err
		}
		rf, err := features(realK)
		if err != nil {
			return ClassScores{}, err
		}
		if cs.PRDC, err = metrics.PRDC(rf, ff, metrics.PRDCConfig{K: 3, KDensity: 5}); err != nil {
			return ClassScores{}, fmt.Errorf("per-class scores: class %d: %w", k, err)
		}
		out.Classes = append(out.Classes, cs)
		c := float64(classes)
		out.Agreement += cs.Agreement / c
		out.Precision += cs.PRDC.Precision / c
		out.Recall += cs.PRDC.Recall / c
		out.Density += cs.PRDC.Density / c
		out.Coverage += cs.PRDC.Coverage / c
	}
	nr := min(n, ref.Images.Size(0))
	rf, err := features(tensor.FromSlice(ref.Images.Data()[:nr*px:nr*px], nr, 1, classifier.Side, classifier.Side))
	if err != nil {
		return ClassScores{}, err
	}
	ff, err := features(all)
	if err != nil {
		return ClassScores{}, err
	}
	gr, err := metrics.FitGaussian(rf)
	if err != nil {
		return ClassScores{}, fmt.Errorf("per-class scores: reference: %w", err)
	}
	gf, err := metrics.FitGaussian(ff)
	if err != nil {
		return ClassScores{}, fmt.Errorf("per-class scores: generated images: %w", err)
	}
	fid, err := metrics.FID(gr, gf)
	if err != nil {
		return ClassScores{}, fmt.Errorf("per-class scores: %w", err)
	}
	out.FID = fid.FID
	if out.All, err = metrics.PRDC(rf, ff, metrics.PRDCConfig{K: 3, KDensity: 5}); err != nil {
		return ClassScores{}, fmt.Errorf("per-class scores: %w", err)
	}
	return out, nil
}
