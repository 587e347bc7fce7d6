package data

import (
	"fmt"

	"github.com/kallima-gan/kallima/tensor"
)

// StackedModes is the number of modes of Stacked MNIST: 10 digits in each
// of its 3 channels.
const StackedModes = 1000

// StackedDefaultN is the default size of a Stacked MNIST set (data.n):
// 128,000, the num_training_sample of PacGAN's code for its VEEGAN-setting
// runs (which draws the digits from MNIST's 70,000 training and test
// images; Kallima draws them from the 60,000 training images only, keeping
// the test split unseen). As float32 it takes 1.2 GB; data.n: 25600 (the
// default in PacGAN's model code) takes 240 MB.
const StackedDefaultN = 128000

// StackedMNIST builds n Stacked MNIST images (Srivastava et al. 2017,
// VEEGAN, arXiv:1705.07761; Lin et al. 2018, PacGAN, arXiv:1712.04086)
// from the gray digits of mnist ([M, 1, 28, 28], labels 0..9): image i is
// [3, 28, 28], its channels R, G and B three digits drawn independently and
// uniformly at random (with replacement) from mnist, and its label is
// 100*d1 + 10*d2 + d3 for the digits d1, d2, d3 of its R, G and B channels:
// one of 1000 modes, named "000" to "999". The draws come from a stream
// seeded with seed alone: the same mnist, n and seed give the same set. It
// returns an error for n < 1 or a set that is not 1-channel images of 10
// classes.
func StackedMNIST(mnist *Set, n int, seed uint64) (*Set, error) {
	if n < 1 {
		return nil, fmt.Errorf("stacked mnist: %d images: want at least 1", n)
	}
	s := mnist.Images.Shape()
	if len(s) != 4 || s[1] != 1 || s[0] == 0 || len(mnist.Labels) != s[0] || len(mnist.Classes) != 10 {
		return nil, fmt.Errorf("stacked mnist: source images %v with %d labels in %d classes: want gray digits [M, 1, H, W] labelled 0..9", s, len(mnist.Labels), len(mnist.Classes))
	}
	m, plane := s[0], s[2]*s[3]
	rng := tensor.NewRNG(seed ^ 0x57ac4ed3a1157ac4)
	src := mnist.Images.Data()
	img := make([]float32, n*3*plane) // not from tensor's pool: no arena can reclaim it
	labels := make([]int, n)
	for i := range n {
		label := 0
		for ch := range 3 {
			j := rng.Intn(m)
			copy(img[(i*3+ch)*plane:(i*3+ch+1)*plane], src[j*plane:(j+1)*plane])
			label = 10*label + mnist.Labels[j]
		}
		labels[i] = label
	}
	names := make([]string, StackedModes)
	for k := range names {
		names[k] = fmt.Sprintf("%03d", k)
	}
	return &Set{Images: tensor.FromSlice(img, n, 3, s[2], s[3]), Labels: labels, Classes: names}, nil
}
