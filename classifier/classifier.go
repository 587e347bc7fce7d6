// Package classifier holds Kallima's own feature network for evaluation
// scores on MNIST-like 28x28 grey images: a small convolutional digit
// classifier, trained with Kallima's own engine, whose layers give the
// features behind FID, KID and precision/recall and whose class
// probabilities give the Inception-Score-style score (package metrics).
//
// Load returns the weights shipped with the package (embedded, so no file
// is needed); LoadFile reads any weights file of the same architecture,
// such as one written by Train or `kallima train-classifier`. Scores are
// only comparable when computed with the same weights and layer: report
// them with Classifier.Provenance.
package classifier

import (
	"fmt"
	"math"
	"slices"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Net is the classifier network, for x [N, 1, 28, 28] in [-1, 1]:
//
//	conv1  Conv2d 1->32,  3x3, stride 1  -> [N, 32, 26, 26], ReLU
//	conv2  Conv2d 32->64, 3x3, stride 2  -> [N, 64, 12, 12], ReLU
//	conv3  Conv2d 64->64, 3x3, stride 2  -> [N, 64, 5, 5],   ReLU, flatten to [N, 1600]
//	fc1    Linear 1600->128              -> [N, 128] (the feature layer), ReLU
//	fc2    Linear 128->10                -> [N, 10] logits
//
// (no padding anywhere): 262,250 parameters, about 1.05 MB as float32. Its
// state is named like a PyTorch state_dict: "conv1.weight", "conv1.bias",
// ..., "fc2.bias".
type Net struct {
	Conv1, Conv2, Conv3 *nn.Conv2d
	FC1, FC2            *nn.Linear
}

// Image geometry and output size of Net.
const (
	Side    = 28 // images are [1, Side, Side]
	Classes = 10 // digits 0..9
	flat    = 64 * 5 * 5
)

// New returns a Net with PyTorch's default initialisation drawn from rng.
func New(rng *tensor.RNG) *Net {
	return &Net{
		Conv1: nn.NewConv2d(1, 32, 3, nn.ConvOptions{}, rng),
		Conv2: nn.NewConv2d(32, 64, 3, nn.ConvOptions{Stride: 2}, rng),
		Conv3: nn.NewConv2d(64, 64, 3, nn.ConvOptions{Stride: 2}, rng),
		FC1:   nn.NewLinear(flat, 128, rng),
		FC2:   nn.NewLinear(128, Classes, rng),
	}
}

func (n *Net) children() nn.Children {
	return nn.Children{{Name: "conv1", Module: n.Conv1}, {Name: "conv2", Module: n.Conv2}, {Name: "conv3", Module: n.Conv3}, {Name: "fc1", Module: n.FC1}, {Name: "fc2", Module: n.FC2}}
}

// Params lists the parameters: conv1.weight, conv1.bias, ..., fc2.bias.
func (n *Net) Params(prefix string) []nn.Param { return n.children().Params(prefix) }

// Buffers lists nothing: the network has no buffers.
func (n *Net) Buffers(prefix string) []nn.Buffer { return n.children().Buffers(prefix) }

// SetTraining does nothing visible: no layer behaves differently in
// training.
func (n *Net) SetTraining(on bool) { n.children().SetTraining(on) }

// Forward returns the logits [N, 10] of x [N, 1, 28, 28]. It panics if x
// has another shape.
func (n *Net) Forward(x *autograd.Value) *autograd.Value {
	return n.upTo(x, "logits")
}

// Layers lists the names Features accepts with their feature dimension, in
// network order.
var Layers = []struct {
	Name string
	Dim  int
}{
	{"conv1", 32 * 26 * 26},
	{"conv2", 64 * 12 * 12},
	{"conv3", flat},
	{"fc1", 128},
	{"relu1", 128},
	{"logits", Classes},
	{"probs", Classes},
}

// DefaultLayer is the layer Features reads when given "".
const DefaultLayer = "fc1"

// layerDim returns the feature dimension of the named layer, or an error.
func layerDim(layer string) (int, error) {
	for _, l := range Layers {
		if l.Name == layer {
			return l.Dim, nil
		}
	}
	names := make([]string, len(Layers))
	for i, l := range Layers {
		names[i] = l.Name
	}
	return 0, fmt.Errorf("classifier: unknown layer %q (want one of %v)", layer, names)
}

// upTo runs x through the network until the named layer and returns that
// layer's output, flattened to [N, d]. The convolutional layers' outputs
// are taken after their ReLU, "fc1" before its ReLU and "relu1" after it.
// It panics on a wrong input shape or an unknown layer (Features checks
// the name first).
func (n *Net) upTo(x *autograd.Value, layer string) *autograd.Value {
	if s := x.Shape(); len(s) != 4 || s[1] != 1 || s[2] != Side || s[3] != Side {
		panic(fmt.Sprintf("classifier: input shape %v, want [N, 1, %d, %d]", s, Side, Side))
	}
	steps := []struct {
		name string
		f    func(*autograd.Value) *autograd.Value
	}{
		{"conv1", func(v *autograd.Value) *autograd.Value { return autograd.Relu(n.Conv1.Forward(v)) }},
		{"conv2", func(v *autograd.Value) *autograd.Value { return autograd.Relu(n.Conv2.Forward(v)) }},
		{"conv3", func(v *autograd.Value) *autograd.Value { return autograd.Relu(n.Conv3.Forward(v)) }},
		{"fc1", func(v *autograd.Value) *autograd.Value { return n.FC1.Forward(autograd.Flatten(v)) }},
		{"relu1", autograd.Relu},
		{"logits", n.FC2.Forward},
		{"probs", func(v *autograd.Value) *autograd.Value { return autograd.Softmax(v, 1) }},
	}
	for _, s := range steps {
		x = s.f(x)
		if s.name == layer {
			if x.Shape()[0] > 0 && len(x.Shape()) != 2 {
				x = autograd.Flatten(x)
			}
			return x
		}
	}
	panic(fmt.Sprintf("classifier: unknown layer %q", layer))
}

// Classifier is a trained Net with the metadata of its weights file.
type Classifier struct {
	Net *Net
	// Metadata is the weights file's metadata: "test_accuracy", "seed",
	// "epochs", "command", "date", ... (see Train).
	Metadata map[string]string
	// Name identifies the weights in a metrics.Provenance, e.g.
	// "kallima mnist-cnn (sha256 1a2b3c4d)".
	Name string
}

// featureBatch is how many images Features runs through the network at
// once.
const featureBatch = 500

// Features runs x [N, 1, 28, 28] (values in [-1, 1], like data.LoadMNIST's)
// through the network and returns the named layer's output as [N, d], in
// new memory that outlives any arena opened inside. Layers are "conv1",
// "conv2", "conv3" (after their ReLU, flattened), "fc1" (the default for
// "": the 128 features of the first fully connected layer, before its
// ReLU), "relu1" (the same after the ReLU), "logits" and "probs" (softmax
// of the logits; rows sum to 1, for metrics.InceptionScore). It works in
// batches of 500 without recording a graph (autograd.NoGrad), each inside a
// tensor.Arena, so its memory is reused. It returns an error for an
// unknown layer and panics if x is not [N, 1, 28, 28].
func (c *Classifier) Features(x *tensor.Tensor, layer string) (*tensor.Tensor, error) {
	return c.Net.Features(x, layer)
}

// Features is Classifier.Features for a bare Net.
func (n *Net) Features(x *tensor.Tensor, layer string) (*tensor.Tensor, error) {
	if layer == "" {
		layer = DefaultLayer
	}
	d, err := layerDim(layer)
	if err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != 4 || s[1] != 1 || s[2] != Side || s[3] != Side {
		panic(fmt.Sprintf("classifier.Features: input shape %v, want [N, 1, %d, %d]", s, Side, Side))
	}
	num := s[0]
	out := tensor.New(num, d)
	od, xd := out.Data(), x.Data()
	const px = Side * Side
	for lo := 0; lo < num; lo += featureBatch {
		hi := min(lo+featureBatch, num)
		func() {
			arena := tensor.OpenArena()
			defer arena.Close()
			autograd.NoGrad(func() {
				in := tensor.FromSlice(xd[lo*px:hi*px:hi*px], hi-lo, 1, Side, Side)
				y := n.upTo(autograd.Const(in), layer)
				copy(od[lo*d:hi*d], y.Data().Data())
			})
		}()
	}
	return out, nil
}

// Predict returns the most probable class of each image of x
// [N, 1, 28, 28] (ties go to the smaller class).
func (n *Net) Predict(x *tensor.Tensor) []int {
	pred, _ := n.PredictProb(x)
	return pred
}

// PredictProb returns Predict's classes and the probability the network
// gives each (its softmax's largest value): how sure it is of the label.
// MNIST's test digits average 0.991.
func (n *Net) PredictProb(x *tensor.Tensor) (pred []int, prob []float64) {
	logits, err := n.Features(x, "logits")
	if err != nil {
		panic(err) // "logits" is a valid layer
	}
	ld := logits.Data()
	pred, prob = make([]int, x.Size(0)), make([]float64, x.Size(0))
	for i := range pred {
		row := ld[i*Classes : (i+1)*Classes]
		top := slices.Max(row)
		pred[i] = slices.Index(row, top)
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v - top))
		}
		prob[i] = 1 / z
	}
	return pred, prob
}

// Accuracy returns the fraction of images of x [N, 1, 28, 28] whose
// predicted class is the label. It panics if len(labels) != N.
func (n *Net) Accuracy(x *tensor.Tensor, labels []int) float64 {
	if len(labels) != x.Size(0) {
		panic(fmt.Sprintf("classifier.Accuracy: %d labels for %d images", len(labels), x.Size(0)))
	}
	right := 0
	for i, p := range n.Predict(x) {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(max(len(labels), 1))
}
