package aae

import (
	"fmt"
	"slices"

	"github.com/kallima-gan/kallima/tensor"
)

// LabelledSubset picks the labelled digits of a semi-supervised run: n
// indices into a training set with the given labels, n/classes of each
// class 0 .. classes-1 (balanced), drawn without replacement from rng (one
// permutation of each class's indices, class 0 first). It returns them
// class by class, each class's ascending, so the same rng state always
// gives the same subset. It returns an error when n is not a positive
// multiple of classes, a label is out of range, or a class has too few
// images.
func LabelledSubset(labels []int, classes, n int, rng *tensor.RNG) ([]int, error) {
	if classes <= 0 || n <= 0 || n%classes != 0 {
		return nil, fmt.Errorf("model.labels: %d labelled digits for %d classes (want a positive multiple of the classes, such as 100)", n, classes)
	}
	byClass := make([][]int, classes)
	for i, y := range labels {
		if y < 0 || y >= classes {
			return nil, fmt.Errorf("model.labels: training image %d has label %d, outside the %d classes (model.classes)", i, y, classes)
		}
		byClass[y] = append(byClass[y], i)
	}
	per := n / classes
	out := make([]int, 0, n)
	for y, idx := range byClass {
		if len(idx) < per {
			return nil, fmt.Errorf("model.labels: class %d has %d training images, fewer than the %d labelled ones asked for (lower model.labels)", y, len(idx), per)
		}
		perm := rng.Perm(len(idx))
		pick := make([]int, per)
		for j := range pick {
			pick[j] = idx[perm[j]]
		}
		slices.Sort(pick)
		out = append(out, pick...)
	}
	return out, nil
}
