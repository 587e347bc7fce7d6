// Package tensor holds Kallima's dense float32 tensors and their kernels.
//
// A Tensor is a shape and a contiguous row-major data slice; images are NCHW
// like PyTorch. The package knows nothing of gradients (see package autograd).
// Functions here allocate their results; misuse of shapes or axes panics with
// a message naming the function and the shapes, since it is a programmer error.
package tensor

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is a dense float32 array of a given shape, stored contiguously in
// row-major order. A zero-dimensional tensor (shape []) holds one scalar.
type Tensor struct {
	shape []int
	data  []float32
}

// New returns a zero-filled tensor of the given shape.
func New(shape ...int) *Tensor {
	n := checkShape("New", shape)
	return &Tensor{shape: append([]int(nil), shape...), data: alloc(n)}
}

// empty returns a tensor whose data will be fully overwritten by the caller.
func empty(shape ...int) *Tensor {
	n := checkShape("empty", shape)
	return &Tensor{shape: append([]int(nil), shape...), data: allocDirty(n)}
}

// Zeros is New: a zero-filled tensor.
func Zeros(shape ...int) *Tensor { return New(shape...) }

// Ones returns a tensor of the shape filled with 1.
func Ones(shape ...int) *Tensor { return Full(1, shape...) }

// Full returns a tensor of the shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := empty(shape...)
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// Scalar returns a zero-dimensional tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{shape: []int{}, data: []float32{v}} }

// Arange returns the 1-D tensor start, start+step, ... up to but excluding stop.
// Elements are computed in float32 as start + i*step; when rounding lands an
// element on or past stop it is dropped, so stop is always excluded (numpy's
// float32 arange agrees; torch's can include it). It panics if step is zero,
// an argument is not finite, or the range holds more than 2^31-1 elements.
func Arange(start, stop, step float32) *Tensor {
	if step == 0 || !finite(start) || !finite(stop) || !finite(step) {
		panic(fmt.Sprintf("tensor.Arange: start %g, stop %g, step %g", start, stop, step))
	}
	elem := func(i int) float32 { return start + float32(float32(i)*step) }
	before := func(v float32) bool { return step > 0 && v < stop || step < 0 && v > stop }
	count := math.Ceil((float64(stop) - float64(start)) / float64(step))
	if count > math.MaxInt32 {
		panic(fmt.Sprintf("tensor.Arange: start %g, stop %g, step %g make %g elements", start, stop, step, count))
	}
	n := max(int(count), 0)
	for n > 0 && !before(elem(n-1)) {
		n--
	}
	for before(elem(n)) {
		n++
	}
	t := empty(n)
	for i := range t.data {
		t.data[i] = elem(i)
	}
	return t
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// FromSlice returns a tensor of the given shape that owns data (no copy).
// It panics if len(data) does not match the shape.
func FromSlice(data []float32, shape ...int) *Tensor {
	n := checkShape("FromSlice", shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.FromSlice: %d values for shape %v (needs %d)", len(data), shape, n))
	}
	return &Tensor{shape: append([]int(nil), shape...), data: data}
}

func checkShape(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor.%s: negative dimension in shape %v", op, shape))
		}
		n *= d
	}
	return n
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Data returns the underlying row-major data, shared with the tensor.
func (t *Tensor) Data() []float32 { return t.data }

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Dim is the number of dimensions.
func (t *Tensor) Dim() int { return len(t.shape) }

// Size returns the length of dimension i; negative i counts from the end.
func (t *Tensor) Size(i int) int { return t.shape[t.axis("Size", i)] }

// Item returns the single value of a one-element tensor, and panics otherwise.
func (t *Tensor) Item() float32 {
	if len(t.data) != 1 {
		panic(fmt.Sprintf("tensor.Item: tensor of shape %v has %d elements", t.shape, len(t.data)))
	}
	return t.data[0]
}

// At returns the element at the given index.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.offset("At", idx)] }

// Set stores v at the given index.
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.offset("Set", idx)] = v }

func (t *Tensor) offset(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor.%s: index %v for shape %v", op, idx, t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor.%s: index %v out of range for shape %v", op, idx, t.shape))
		}
		off = off*t.shape[i] + x
	}
	return off
}

// axis normalises a possibly negative axis and panics if it is out of range.
func (t *Tensor) axis(op string, a int) int {
	n := a
	if n < 0 {
		n += len(t.shape)
	}
	if n < 0 || n >= len(t.shape) {
		panic(fmt.Sprintf("tensor.%s: axis %d out of range for shape %v", op, a, t.shape))
	}
	return n
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := empty(t.shape...)
	copy(c.data, t.data)
	return c
}

// CopyFrom copies src's values into t; the shapes must have the same size.
func (t *Tensor) CopyFrom(src *Tensor) {
	if len(src.data) != len(t.data) {
		panic(fmt.Sprintf("tensor.CopyFrom: shape %v from %v", t.shape, src.shape))
	}
	copy(t.data, src.data)
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.data {
		t.data[i] = v
	}
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String formats small tensors in full and large ones by shape.
func (t *Tensor) String() string {
	if len(t.data) > 64 {
		return fmt.Sprintf("Tensor%v", t.shape)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v%v", t.shape, t.data)
	return b.String()
}

// numel is the product of a shape's dimensions.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// stridesOf returns the row-major strides of a shape.
func stridesOf(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}
