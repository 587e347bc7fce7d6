package data

import (
	"slices"
	"testing"
)

// TestNumpyShuffle compares the permutations with numpy 1.24.2's
// (Debian's python3-numpy): q = numpy.arange(n);
// numpy.random.RandomState(seed).shuffle(q), the checksum being
// sum(i*q[i]) mod 1000000007.
func TestNumpyShuffle(t *testing.T) {
	checksum := func(p []int) int {
		s := 0
		for i, v := range p {
			s = (s + i*v) % 1000000007
		}
		return s
	}
	// The BiGAN authors' MNIST order (load.py, mnist_with_valid_set).
	p := NumpyShuffle(60000, 42)
	if got, want := p[:8], []int{12628, 37730, 39991, 8525, 8279, 51012, 14871, 15127}; !slices.Equal(got, want) {
		t.Errorf("seed 42: first 8 %v, want %v", got, want)
	}
	if got, want := p[len(p)-8:], []int{54886, 11284, 44732, 54343, 38158, 860, 15795, 56422}; !slices.Equal(got, want) {
		t.Errorf("seed 42: last 8 %v, want %v", got, want)
	}
	if got := checksum(p); got != 965689709 {
		t.Errorf("seed 42: checksum %d, want 965689709", got)
	}
	if got, want := NumpyShuffle(10, 7), []int{8, 5, 0, 2, 1, 9, 7, 3, 6, 4}; !slices.Equal(got, want) {
		t.Errorf("seed 7: %v, want %v", got, want)
	}
	if got := NumpyShuffle(1, 0); !slices.Equal(got, []int{0}) {
		t.Errorf("one element: %v", got)
	}
	if got := NumpyShuffle(0, 0); len(got) != 0 {
		t.Errorf("no elements: %v", got)
	}
	// The largest seed, and n above 2^16 (wider masks).
	q := NumpyShuffle(100000, 4294967295)
	if got, want := q[:5], []int{85117, 19600, 4648, 56853, 35772}; !slices.Equal(got, want) {
		t.Errorf("seed 2^32-1: first 5 %v, want %v", got, want)
	}
	if got := checksum(q); got != 663461200 {
		t.Errorf("seed 2^32-1: checksum %d, want 663461200", got)
	}
}
