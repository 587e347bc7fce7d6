package data

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/kallima-gan/kallima/tensor"
)

// Task is an image-to-image data set made from gray digits (MNIST): the
// translation families' tests and benchmarks need no download beyond MNIST,
// and `kallima data make` writes the same sets as ordinary folders.
type Task struct {
	// Name is the task's name (see TaskNames).
	Name string
	// Kind is "paired" (B's image i is the target of A's image i),
	// "unpaired" (A and B come from disjoint halves of the digits) or
	// "domains" (one set, its labels the domains).
	Kind string
	// A and B are the two domains of a paired or unpaired task, labelled
	// with the digits' classes; nil for a domains task.
	A, B *Set
	// Domains is a domains task's set: Labels are domain indices and
	// Classes the domain names; nil otherwise.
	Domains *Set
	// Digits is the digit class of each of Domains' images; nil otherwise.
	Digits []int
}

// taskInfo describes one task for TaskNames and error messages.
var taskInfo = map[string]string{
	"edges":    "paired: A is a digit's edge map (Sobel magnitude), B the digit",
	"thick":    "unpaired: A digits from one half of the set, B thickened digits (3x3 dilation) from the other",
	"inverted": "unpaired: A digits from one half of the set, B inverted digits (white background) from the other",
	"width":    "domains thin, normal and thick (strokes eroded by one pixel, kept, dilated by two), each from a disjoint third of the set",
}

// TaskNames lists the tasks MakeTask knows, sorted, each with a line
// describing it.
func TaskNames() []string {
	var r []string
	for n, d := range taskInfo {
		r = append(r, n+": "+d)
	}
	sort.Strings(r)
	return r
}

// WidthDomains are the domain names of the "width" task, in label order.
var WidthDomains = []string{"thin", "normal", "thick"}

// MakeTask builds the task name from gray digits ([N, 1, H, W] in [-1, 1],
// background -1, as LoadMNIST gives) and their labels. The split of an
// unpaired or domains task into disjoint parts is a permutation drawn from
// seed alone: the same digits and seed give the same task. An unknown name
// is an error listing the known ones.
func MakeTask(name string, digits *Set, seed uint64) (*Task, error) {
	if _, ok := taskInfo[name]; !ok {
		return nil, fmt.Errorf("task %q: not a task (have %s)", name, strings.Join(sortedKeys(), ", "))
	}
	s := digits.Images.Shape()
	if len(s) != 4 || s[1] != 1 || s[0] < 3 || len(digits.Labels) != s[0] {
		return nil, fmt.Errorf("task %s: source images %v with %d labels: want at least 3 gray images [N, 1, H, W], one label each", name, s, len(digits.Labels))
	}
	n, h, w := s[0], s[2], s[3]
	t := &Task{Name: name}
	switch name {
	case "edges":
		t.Kind = "paired"
		t.A = mapSet(digits, allIndices(n), func(dst, src []float32) { sobel(dst, src, h, w) })
		t.B = mapSet(digits, allIndices(n), func(dst, src []float32) { copy(dst, src) })
	case "thick", "inverted":
		t.Kind = "unpaired"
		perm := tensor.NewRNG(seed ^ 0x7a5c).Perm(n)
		half := n / 2
		t.A = mapSet(digits, perm[:half], func(dst, src []float32) { copy(dst, src) })
		f := func(dst, src []float32) { dilate(dst, src, h, w) }
		if name == "inverted" {
			f = func(dst, src []float32) {
				for i, v := range src {
					dst[i] = -v
				}
			}
		}
		t.B = mapSet(digits, perm[half:], f)
	case "width":
		t.Kind = "domains"
		perm := tensor.NewRNG(seed ^ 0x31d7).Perm(n)
		third := n / 3
		parts := [][]int{perm[:third], perm[third : 2*third], perm[2*third : 3*third]}
		fs := []func(dst, src []float32){
			func(dst, src []float32) { erode(dst, src, h, w) },
			func(dst, src []float32) { copy(dst, src) },
			func(dst, src []float32) { dilate(dst, src, h, w) },
		}
		plane := h * w
		img := make([]float32, 3*third*plane)
		labels := make([]int, 3*third)
		t.Digits = make([]int, 3*third)
		src := digits.Images.Data()
		for d, idx := range parts {
			for k, j := range idx {
				i := d*third + k
				fs[d](img[i*plane:(i+1)*plane], src[j*plane:(j+1)*plane])
				labels[i] = d
				t.Digits[i] = digits.Labels[j]
			}
		}
		t.Domains = &Set{Images: tensor.FromSlice(img, 3*third, 1, h, w), Labels: labels, Classes: append([]string(nil), WidthDomains...)}
	}
	return t, nil
}

func sortedKeys() []string {
	var r []string
	for n := range taskInfo {
		r = append(r, n)
	}
	sort.Strings(r)
	return r
}

func allIndices(n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = i
	}
	return r
}

// mapSet returns the images idx of digits, each transformed by f (which
// writes one image plane from another), with their labels and classes.
func mapSet(digits *Set, idx []int, f func(dst, src []float32)) *Set {
	s := digits.Images.Shape()
	plane := s[2] * s[3]
	src := digits.Images.Data()
	img := make([]float32, len(idx)*plane) // not from tensor's pool: no arena can reclaim it
	labels := make([]int, len(idx))
	for i, j := range idx {
		f(img[i*plane:(i+1)*plane], src[j*plane:(j+1)*plane])
		labels[i] = digits.Labels[j]
	}
	return &Set{Images: tensor.FromSlice(img, len(idx), 1, s[2], s[3]), Labels: labels, Classes: append([]string(nil), digits.Classes...)}
}

// at reads pixel (y, x) of an h x w plane, with the background (-1)
// outside it.
func at(p []float32, y, x, h, w int) float32 {
	if y < 0 || y >= h || x < 0 || x >= w {
		return -1
	}
	return p[y*w+x]
}

// dilate writes the 3x3 maximum of src: strokes about two pixels wider.
func dilate(dst, src []float32, h, w int) {
	for y := range h {
		for x := range w {
			m := float32(-1)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					m = max(m, at(src, y+dy, x+dx, h, w))
				}
			}
			dst[y*w+x] = m
		}
	}
}

// erode writes the minimum of src over each pixel and its right and lower
// neighbours: strokes about one pixel thinner. A wider erosion (the plus
// shape, two pixels) breaks MNIST's thinner strokes so often that the
// classifier reads only about 60% of the thin digits.
func erode(dst, src []float32, h, w int) {
	for y := range h {
		for x := range w {
			dst[y*w+x] = min(src[y*w+x], at(src, y+1, x, h, w), at(src, y, x+1, h, w))
		}
	}
}

// sobel writes the digit's edge map: the Sobel gradient magnitude of the
// image in [0, 1], divided by 2 (a sharp 0-to-1 step gives 4) and clipped
// to [0, 1], mapped back to [-1, 1]. Edges are white on black, as the
// digits are.
func sobel(dst, src []float32, h, w int) {
	v := func(y, x int) float64 { return (float64(at(src, y, x, h, w)) + 1) / 2 }
	for y := range h {
		for x := range w {
			gx := v(y-1, x+1) + 2*v(y, x+1) + v(y+1, x+1) - v(y-1, x-1) - 2*v(y, x-1) - v(y+1, x-1)
			gy := v(y+1, x-1) + 2*v(y+1, x) + v(y+1, x+1) - v(y-1, x-1) - 2*v(y-1, x) - v(y-1, x+1)
			e := math.Min(1, math.Hypot(gx, gy)/2)
			dst[y*w+x] = float32(2*e - 1)
		}
	}
}

// Readable returns how Kallima's MNIST classifier should read images of
// the task's domain (a copy of x, negated for the inverted task's domain
// B, whose digits are dark on white; x itself otherwise) and says which.
// Scoring a translation's class through it measures whether the digit was
// kept, not whether the classifier knows the domain's look.
func (t *Task) Readable(domain string) (func(x *tensor.Tensor) *tensor.Tensor, string) {
	if t.Name == "inverted" && domain == "B" {
		return func(x *tensor.Tensor) *tensor.Tensor {
			y := tensor.New(x.Shape()...)
			for i, v := range x.Data() {
				y.Data()[i] = -v
			}
			return y
		}, "negated"
	}
	return func(x *tensor.Tensor) *tensor.Tensor { return x }, "as is"
}
