package imagegan

import (
	"fmt"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// StackedSamples is the protocol's number of generated Stacked MNIST
// images scored: 26,000 (VEEGAN, arXiv:1705.07761; PacGAN,
// arXiv:1712.04086, whose code scores num_test_sample = 26000).
const StackedSamples = 26000

// StackedModes labels each image of x [N, 3, 28, 28] (values in [-1, 1])
// with its Stacked MNIST mode: the feature network c reads the digit of
// each channel, d1 (R), d2 (G), d3 (B), and the mode is 100*d1 + 10*d2 +
// d3, as data.StackedMNIST labels its images. It returns the modes, one per
// image, or an error if x is not [N, 3, 28, 28] with N > 0.
func StackedModes(c *classifier.Classifier, x *tensor.Tensor) ([]int, error) {
	modes, _, err := StackedLabels(c, x)
	return modes, err
}

// StackedLabels is StackedModes with, for each image's three channels
// (3i+ch), the probability the feature network gives the digit it read
// (classifier.Net.PredictProb): low where a channel's digit is ambiguous.
func StackedLabels(c *classifier.Classifier, x *tensor.Tensor) (modes []int, prob []float64, err error) {
	s := x.Shape()
	if len(s) != 4 || s[0] == 0 || s[1] != 3 || s[2] != classifier.Side || s[3] != classifier.Side {
		return nil, nil, fmt.Errorf("stacked mnist modes: images of shape %v: want [N, 3, %d, %d] with N > 0", s, classifier.Side, classifier.Side)
	}
	// Channel ch of image i is plane 3i+ch: the channels read as gray digits.
	digits, prob := c.Net.PredictProb(tensor.Reshape(x, 3*s[0], 1, s[2], s[3]))
	modes = make([]int, s[0])
	for i := range modes {
		modes[i] = 100*digits[3*i] + 10*digits[3*i+1] + digits[3*i+2]
	}
	return modes, prob, nil
}

// StackedScore is the Stacked MNIST mode-collapse score of x
// [N, 3, 28, 28]: StackedModes, then metrics.ModeCoverage over the 1000
// modes (modes found, and KL(generated histogram || uniform) in nats). The
// protocol scores StackedSamples images.
func StackedScore(c *classifier.Classifier, x *tensor.Tensor) (metrics.ModeScore, error) {
	modes, err := StackedModes(c, x)
	if err != nil {
		return metrics.ModeScore{}, err
	}
	return metrics.ModeCoverage(modes, data.StackedModes)
}
