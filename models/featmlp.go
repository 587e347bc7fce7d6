package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// FeatureMLPConfig describes a perceptron discriminator that exposes its
// last hidden layer's activations as features, for feature matching
// (Salimans et al. 2016, "Improved Techniques for Training GANs",
// arXiv:1606.03498, sec. 3.1), optionally with minibatch discrimination
// (sec. 3.2) between those features and the output layer.
type FeatureMLPConfig struct {
	MLPConfig // at least one hidden layer; Out is usually 1 (a logit)
	// MinibatchKernels, when positive, inserts nn.MinibatchDiscrimination
	// with this many kernels (B) after the features, so the output layer
	// sees [features, o(features)].
	MinibatchKernels int
	// MinibatchDim is each kernel's dimension C; default 5, as the authors.
	MinibatchDim int
}

// FeatureMLP is an MLP discriminator with a Features method. Net holds the
// whole network; without minibatch discrimination it is exactly NewMLP's
// network (same layers, names and initial weights from the same rng), so
// checkpoints move between the two. The features are the output of the
// last hidden activation.
type FeatureMLP struct {
	Net   *nn.Sequential
	split int // Net.Layers[:split] compute the features
}

// NewFeatureMLP builds the discriminator: NewMLP's layers up to the last
// hidden activation, then minibatch discrimination if configured, then
// the output Linear (and OutAct). It returns an error for a configuration
// NewMLP rejects, no hidden layer, or a negative minibatch size.
func NewFeatureMLP(c FeatureMLPConfig, rng *tensor.RNG) (*FeatureMLP, error) {
	k := len(c.Hidden)
	if k == 0 {
		return nil, fmt.Errorf("feature mlp: no hidden layer to take features from")
	}
	if c.MinibatchKernels < 0 || c.MinibatchDim < 0 {
		return nil, fmt.Errorf("feature mlp: minibatch kernels %d and dimension %d must not be negative", c.MinibatchKernels, c.MinibatchDim)
	}
	if c.MinibatchKernels == 0 {
		net, err := NewMLP(c.MLPConfig, rng)
		if err != nil {
			return nil, fmt.Errorf("feature mlp: %w", err)
		}
		split := 0
		for i, l := range net.Layers {
			if _, ok := l.(*nn.Linear); ok {
				split = i
			}
		}
		return &FeatureMLP{Net: net, split: split}, nil
	}
	// The body is an MLP whose last "output" is the last hidden layer; its
	// normalisation and activation follow, then the minibatch layer and a
	// head that is an MLP without hidden layers.
	body := c.MLPConfig
	h := c.Hidden[k-1]
	body.Hidden, body.Out, body.OutAct = c.Hidden[:k-1], h, ""
	net, err := NewMLP(body, rng)
	if err != nil {
		return nil, fmt.Errorf("feature mlp: %w", err)
	}
	act, err := activation(c.Act, c.Slope)
	if err != nil {
		return nil, fmt.Errorf("feature mlp: %w", err)
	}
	layers := net.Layers
	if c.BatchNorm {
		layers = append(layers, nn.NewBatchNorm1d(h))
	}
	layers = append(layers, act)
	split := len(layers)
	dim := c.MinibatchDim
	if dim == 0 {
		dim = 5
	}
	layers = append(layers, nn.NewMinibatchDiscrimination(h, c.MinibatchKernels, dim, rng))
	head, err := NewMLP(MLPConfig{In: h + c.MinibatchKernels, Out: c.Out, OutAct: c.OutAct, SpecNorm: c.SpecNorm}, rng)
	if err != nil {
		return nil, fmt.Errorf("feature mlp: %w", err)
	}
	return &FeatureMLP{Net: nn.NewSequential(append(layers, head.Layers...)...), split: split}, nil
}

// Features returns the last hidden activations [N, Hidden[-1]] and the
// outputs [N, Out] of x [N, In] from one forward pass.
func (m *FeatureMLP) Features(x *autograd.Value) (feat, logits *autograd.Value) {
	for _, l := range m.Net.Layers[:m.split] {
		x = l.Forward(x)
	}
	feat = x
	for _, l := range m.Net.Layers[m.split:] {
		x = l.Forward(x)
	}
	return feat, x
}

// Forward returns the outputs [N, Out] of x [N, In].
func (m *FeatureMLP) Forward(x *autograd.Value) *autograd.Value { return m.Net.Forward(x) }

// Params lists Net's parameters, named as NewMLP names them ("0.weight", ...).
func (m *FeatureMLP) Params(prefix string) []nn.Param { return m.Net.Params(prefix) }

// Buffers lists Net's buffers.
func (m *FeatureMLP) Buffers(prefix string) []nn.Buffer { return m.Net.Buffers(prefix) }

// SetTraining sets Net's mode.
func (m *FeatureMLP) SetTraining(on bool) { m.Net.SetTraining(on) }
