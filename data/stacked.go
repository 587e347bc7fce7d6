package data

import (
	"fmt"
	"path/filepath"
	"strings"

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

// LoadRGB reads colour images of side x side from a .npy file, for the
// Stacked MNIST score: shape [N, 3, side, side] (channels first, as
// Kallima's generators write) or [N, side, side, 3] (channels last, as
// NumPy image code and PacGAN's TensorFlow samples are), uint8 (0..255) or
// float32/float64 in the range r (RangeAuto picks it from the values), read
// with LoadGray's rules for each channel. It returns the images
// [N, 3, side, side] in [-1, 1] and a description of what was read.
func LoadRGB(path string, side int, r PixelRange) (*tensor.Tensor, string, error) {
	if side <= 0 || r < RangeAuto || r > Range255 {
		return nil, "", fmt.Errorf("colour images %s: side %d, range %v: want a positive side and a pixel range", path, side, r)
	}
	if !strings.EqualFold(filepath.Ext(path), ".npy") {
		return nil, "", fmt.Errorf("colour images %s: not a .npy file (want an array [N, 3, %d, %d] or [N, %d, %d, 3])", path, side, side, side, side)
	}
	x, err := ReadNPYFile(path)
	if err != nil {
		return nil, "", err
	}
	s := x.Shape
	first := len(s) == 4 && s[1] == 3 && s[2] == side && s[3] == side
	last := len(s) == 4 && s[1] == side && s[2] == side && s[3] == 3
	if !first && !last || s[0] == 0 {
		return nil, "", fmt.Errorf("read %s: images of shape %v: want colour images [N, 3, %d, %d] or [N, %d, %d, 3] with N > 0", path, s, side, side, side, side)
	}
	n, plane := s[0], side*side
	planes := *x // the channels as 3N gray images [3N, side, side]
	planes.Shape = []int{3 * n, side, side}
	if last {
		// Channels last to channels first, value by value (Size bytes each).
		planes.Data = make([]byte, len(x.Data))
		for i := range n {
			for p := range plane {
				for ch := range 3 {
					src := ((i*plane+p)*3 + ch) * x.Size
					dst := ((i*3+ch)*plane + p) * x.Size
					copy(planes.Data[dst:dst+x.Size], x.Data[src:src+x.Size])
				}
			}
		}
	}
	set, err := grayFromNPY(&planes, side, r)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", path, err)
	}
	format := fmt.Sprintf("npy %s %v", x.Descr(), s)
	if i := strings.Index(set.Format, ", values"); i >= 0 {
		format += set.Format[i:]
	}
	return tensor.Reshape(set.Images, n, 3, side, side), format, nil
}
