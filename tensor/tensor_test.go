package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// Helpers shared by this package's tests. They are named so as not to clash
// with helpers of the kernel files' own tests.

// newTestRand returns a deterministic generator for test data.
func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// seededTensor returns a tensor of the shape filled with N(0, 1) values.
func seededTensor(r *rand.Rand, shape ...int) *Tensor {
	d := make([]float32, numel(shape))
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return FromSlice(d, shape...)
}

// seededInts returns a tensor of the shape filled with integers in [-k, k],
// so comparisons see ties and divisions see zeros.
func seededInts(r *rand.Rand, k int, shape ...int) *Tensor {
	d := make([]float32, numel(shape))
	for i := range d {
		d[i] = float32(r.IntN(2*k+1) - k)
	}
	return FromSlice(d, shape...)
}

// wantPanic fails t unless f panics with a message containing every sub.
func wantPanic(t *testing.T, f func(), subs ...string) {
	t.Helper()
	msg := func() (msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
				if msg == "" {
					msg = "<empty panic>"
				}
			}
		}()
		f()
		return ""
	}()
	if msg == "" {
		t.Fatalf("no panic; want one mentioning %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(msg, s) {
			t.Fatalf("panic %q does not mention %q", msg, s)
		}
	}
}

// sameFloat is == except that NaN equals NaN.
func sameFloat(a, b float32) bool { return a == b || (a != a && b != b) }

// checkExact fails t unless got has shape and exactly the values want
// (NaN matching NaN).
func checkExact(t *testing.T, what string, got *Tensor, shape []int, want []float32) {
	t.Helper()
	if !SameShape(got.Shape(), shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	if len(got.Data()) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.Data()), len(want))
	}
	for i, w := range want {
		if !sameFloat(got.Data()[i], w) {
			t.Fatalf("%s: flat[%d] (index %v) = %g, want %g", what, i, unravel(i, shape), got.Data()[i], w)
		}
	}
}

// checkClose is checkExact with tolerance |got-want| <= atol + rtol*|want|.
func checkClose(t *testing.T, what string, got *Tensor, shape []int, want []float64, rtol, atol float64) {
	t.Helper()
	if !SameShape(got.Shape(), shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	if len(got.Data()) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.Data()), len(want))
	}
	for i, w := range want {
		g := float64(got.Data()[i])
		if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			t.Fatalf("%s: flat[%d] (index %v) = %g, want %g", what, i, unravel(i, shape), g, w)
		}
	}
}

// unravel turns a row-major flat position into an index, by div and mod.
func unravel(flat int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = flat % shape[d]
			flat /= shape[d]
		}
	}
	return idx
}

// ravel turns an index into a row-major flat position.
func ravel(idx, shape []int) int {
	off := 0
	for d, i := range idx {
		off = off*shape[d] + i
	}
	return off
}

// innerProduct is the float64 inner product of two equally long tensors.
func innerProduct(a, b *Tensor) float64 {
	if a.Len() != b.Len() {
		panic(fmt.Sprintf("innerProduct: %v and %v", a.Shape(), b.Shape()))
	}
	s := 0.0
	for i, x := range a.Data() {
		s += float64(x) * float64(b.Data()[i])
	}
	return s
}

// checkAdjoint fails t unless <fx, y> equals <x, gy> to float32 accuracy.
func checkAdjoint(t *testing.T, what string, x, fx, y, gy *Tensor) {
	t.Helper()
	l, r := innerProduct(fx, y), innerProduct(x, gy)
	scale := math.Sqrt(innerProduct(fx, fx)*innerProduct(y, y)) + math.Sqrt(innerProduct(x, x)*innerProduct(gy, gy)) + 1
	if math.Abs(l-r) > 1e-5*scale {
		t.Fatalf("%s: <f(x), y> = %g but <x, f*(y)> = %g", what, l, r)
	}
}

func TestNewZerosOnesFull(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {1}, {5}, {2, 3}, {2, 0, 3}, {2, 1, 3, 4}} {
		n := numel(shape)
		for _, c := range []struct {
			name string
			make func(...int) *Tensor
			v    float32
		}{
			{"New", New, 0},
			{"Zeros", Zeros, 0},
			{"Ones", Ones, 1},
			{"Full", func(s ...int) *Tensor { return Full(-2.5, s...) }, -2.5},
		} {
			arg := append([]int(nil), shape...)
			x := c.make(arg...)
			if len(arg) > 0 {
				arg[0] = 99 // the tensor must hold its own copy of the shape
			}
			want := make([]float32, n)
			for i := range want {
				want[i] = c.v
			}
			checkExact(t, fmt.Sprintf("%s%v", c.name, shape), x, shape, want)
			if x.Len() != n || x.Dim() != len(shape) {
				t.Fatalf("%s%v: Len %d Dim %d, want %d %d", c.name, shape, x.Len(), x.Dim(), n, len(shape))
			}
		}
	}
}

func TestNewPanicsOnNegativeDim(t *testing.T) {
	wantPanic(t, func() { New(2, -1) }, "tensor.New", "[2 -1]")
	wantPanic(t, func() { Full(1, -3) }, "[-3]")
	wantPanic(t, func() { FromSlice(nil, 0, -1) }, "tensor.FromSlice", "[0 -1]")
}

func TestScalar(t *testing.T) {
	s := Scalar(3.5)
	checkExact(t, "Scalar", s, []int{}, []float32{3.5})
	if s.Dim() != 0 || s.Item() != 3.5 || s.At() != 3.5 {
		t.Fatalf("Scalar(3.5): Dim %d Item %g At %g", s.Dim(), s.Item(), s.At())
	}
}

func TestArange(t *testing.T) {
	for _, c := range []struct {
		start, stop, step float32
		want              []float32
	}{
		{0, 5, 1, []float32{0, 1, 2, 3, 4}},
		{2, 5, 1, []float32{2, 3, 4}},
		{0, 1, 0.25, []float32{0, 0.25, 0.5, 0.75}},
		{0, 1.1, 0.25, []float32{0, 0.25, 0.5, 0.75, 1}},
		{-1, 1, 0.5, []float32{-1, -0.5, 0, 0.5}},
		{5, 0, -1.5, []float32{5, 3.5, 2, 0.5}},
		{3, -3, -2, []float32{3, 1, -1}},
		{0, -1, -0.25, []float32{0, -0.25, -0.5, -0.75}},
		{0, 0, 1, []float32{}},
		{0, -1, 1, []float32{}},
		{1, 0, 1, []float32{}},
		{0, 1, -1, []float32{}},
		{2, 2, -1, []float32{}},
		// float32(0.3) rounds up and 0.1+0.1+0.1 lands exactly on it:
		// the stop must still be excluded, as numpy does for float32.
		{0, 0.3, 0.1, []float32{0, 0.1, 0.2}},
		{0, -0.3, -0.1, []float32{0, -0.1, -0.2}},
	} {
		got := Arange(c.start, c.stop, c.step)
		name := fmt.Sprintf("Arange(%g, %g, %g)", c.start, c.stop, c.step)
		if !SameShape(got.Shape(), []int{len(c.want)}) {
			t.Fatalf("%s = %v, want %v", name, got, c.want)
		}
		for i, w := range c.want {
			if math.Abs(float64(got.Data()[i]-w)) > 1e-6 {
				t.Fatalf("%s = %v, want %v", name, got, c.want)
			}
		}
	}
}

// TestArangeExcludesStop checks on random fractional ranges that every
// element is strictly before stop and that the next one would not be.
func TestArangeExcludesStop(t *testing.T) {
	r := newTestRand(1)
	elem := func(start, step float32, i int) float32 { return start + float32(float32(i)*step) }
	for range 2000 {
		start := float32(math.Round(r.Float64()*200-100) / 10)
		stop := float32(math.Round(r.Float64()*200-100) / 10)
		step := float32(math.Round(r.Float64()*30+1) / 10)
		if r.IntN(2) == 0 {
			step = -step
		}
		before := func(v float32) bool { return step > 0 && v < stop || step < 0 && v > stop }
		got := Arange(start, stop, step)
		n := got.Len()
		for i, v := range got.Data() {
			if v != elem(start, step, i) || !before(v) {
				t.Fatalf("Arange(%g, %g, %g)[%d] = %g, want %g strictly before stop", start, stop, step, i, v, elem(start, step, i))
			}
		}
		if before(elem(start, step, n)) {
			t.Fatalf("Arange(%g, %g, %g) stops after %d elements, but %g is before stop", start, stop, step, n, elem(start, step, n))
		}
	}
}

func TestArangePanics(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, c := range [][3]float32{{0, 1, 0}, {0, inf, 1}, {nan, 1, 1}, {0, 1, nan}, {-inf, 0, 1}, {0, 1, 1e-30}, {1, 0, -1e-30}} {
		wantPanic(t, func() { Arange(c[0], c[1], c[2]) }, "tensor.Arange")
	}
}

func TestFromSlice(t *testing.T) {
	d := []float32{1, 2, 3, 4, 5, 6}
	x := FromSlice(d, 2, 3)
	if &x.Data()[0] != &d[0] {
		t.Fatal("FromSlice copied its data; it should own the slice")
	}
	if x.At(1, 2) != 6 || x.At(0, 1) != 2 {
		t.Fatalf("At on %v", x)
	}
	wantPanic(t, func() { FromSlice(d, 4) }, "tensor.FromSlice", "6 values", "[4]")
	wantPanic(t, func() { FromSlice(d, 2, 4) }, "[2 4]", "needs 8")
	wantPanic(t, func() { FromSlice(nil) }, "0 values", "needs 1")
	checkExact(t, "FromSlice(empty)", FromSlice([]float32{}, 3, 0), []int{3, 0}, nil)
}

func TestAtSet(t *testing.T) {
	shape := []int{2, 3, 4}
	x := New(shape...)
	for i := range x.Len() {
		x.Set(float32(i), unravel(i, shape)...)
	}
	for i, v := range x.Data() {
		if v != float32(i) {
			t.Fatalf("Set(%d, %v) wrote flat %d", i, unravel(i, shape), i)
		}
		if x.At(unravel(i, shape)...) != float32(i) {
			t.Fatalf("At(%v) = %g, want %d", unravel(i, shape), x.At(unravel(i, shape)...), i)
		}
	}
	wantPanic(t, func() { x.At(1, 2) }, "tensor.At", "[1 2]", "[2 3 4]")
	wantPanic(t, func() { x.At(0, 3, 0) }, "tensor.At", "[0 3 0]", "out of range")
	wantPanic(t, func() { x.At(0, 0, -1) }, "out of range")
	wantPanic(t, func() { x.Set(1, 2, 0, 0) }, "tensor.Set", "[2 0 0]")
}

func TestSizeItem(t *testing.T) {
	x := New(2, 3, 4)
	for i, want := range map[int]int{0: 2, 1: 3, 2: 4, -1: 4, -2: 3, -3: 2} {
		if got := x.Size(i); got != want {
			t.Fatalf("Size(%d) = %d, want %d", i, got, want)
		}
	}
	wantPanic(t, func() { x.Size(3) }, "tensor.Size", "axis 3", "[2 3 4]")
	wantPanic(t, func() { x.Size(-4) }, "tensor.Size", "axis -4", "[2 3 4]")
	wantPanic(t, func() { x.Item() }, "tensor.Item", "[2 3 4]", "24 elements")
	if got := Full(7, 1, 1).Item(); got != 7 {
		t.Fatalf("Item of [1 1] = %g", got)
	}
}

func TestCloneCopyFromFill(t *testing.T) {
	r := newTestRand(2)
	x := seededTensor(r, 3, 4)
	c := x.Clone()
	checkExact(t, "Clone", c, x.Shape(), x.Data())
	c.Data()[0]++
	if c.Data()[0] == x.Data()[0] {
		t.Fatal("Clone shares data with the original")
	}
	y := New(2, 6)
	y.CopyFrom(x)
	checkExact(t, "CopyFrom", y, []int{2, 6}, x.Data())
	wantPanic(t, func() { y.CopyFrom(New(5)) }, "tensor.CopyFrom", "[2 6]", "[5]")
	y.Fill(-1)
	for _, v := range y.Data() {
		if v != -1 {
			t.Fatalf("Fill(-1) left %v", y)
		}
	}
}

func TestSameShape(t *testing.T) {
	for _, c := range []struct {
		a, b []int
		want bool
	}{
		{nil, []int{}, true},
		{[]int{2, 3}, []int{2, 3}, true},
		{[]int{2, 3}, []int{3, 2}, false},
		{[]int{2, 3}, []int{2, 3, 1}, false},
		{[]int{1}, []int{}, false},
	} {
		if got := SameShape(c.a, c.b); got != c.want {
			t.Fatalf("SameShape(%v, %v) = %v", c.a, c.b, got)
		}
	}
}

func TestString(t *testing.T) {
	if got, want := FromSlice([]float32{1, 2.5}, 2, 1).String(), "Tensor[2 1][1 2.5]"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
	if got, want := New(10, 10).String(), "Tensor[10 10]"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}

// The pool tests use sizes no other test allocates, so that buffers they
// release cannot be taken by someone else in between.

func TestReleaseReusesBuffer(t *testing.T) {
	const n = 7919 // prime: not a shape any kernel test uses
	x := Full(3, n)
	p := &x.Data()[0]
	Release(x)
	if x.Data() != nil {
		t.Fatal("Release left the tensor holding its buffer")
	}
	Release(x) // releasing twice is a no-op
	z := New(n)
	if &z.Data()[0] != p {
		t.Fatal("New after Release of the same size did not reuse the buffer")
	}
	for i, v := range z.Data() {
		if v != 0 {
			t.Fatalf("New after reuse: flat[%d] = %g, want 0", i, v)
		}
	}
	w := New(n)
	if &w.Data()[0] == p {
		t.Fatal("the released buffer was handed out twice")
	}
}

// TestPoolReuseKeepsConstructorsCorrect checks every allocating constructor
// and kernel family on a buffer that was dirty when released.
func TestPoolReuseKeepsConstructorsCorrect(t *testing.T) {
	const n = 7907
	for _, c := range []struct {
		name string
		make func() *Tensor
		want func(i int) float32
	}{
		{"New", func() *Tensor { return New(n) }, func(int) float32 { return 0 }},
		{"Zeros", func() *Tensor { return Zeros(1, n) }, func(int) float32 { return 0 }},
		{"Ones", func() *Tensor { return Ones(n, 1) }, func(int) float32 { return 1 }},
		{"Arange", func() *Tensor { return Arange(0, n, 1) }, func(i int) float32 { return float32(i) }},
		{"PadZero", func() *Tensor { return PadZero(Ones(n-7), [][2]int{{3, 4}}) }, func(i int) float32 { return b2f(i >= 3 && i < n-4) }},
		{"IndexAdd", func() *Tensor { return IndexAdd(Ones(1), 0, []int{5}, n) }, func(i int) float32 { return b2f(i == 5) }},
		{"ScatterAdd", func() *Tensor { return ScatterAdd(Ones(1), []int32{9}, n) }, func(i int) float32 { return b2f(i == 9) }},
	} {
		dirty := Full(float32(math.NaN()), n)
		p := &dirty.Data()[0]
		Release(dirty)
		x := c.make()
		if &x.Data()[0] != p {
			t.Fatalf("%s did not take the released buffer", c.name)
		}
		for i, v := range x.Data() {
			if v != c.want(i) {
				t.Fatalf("%s after reuse: flat[%d] = %g, want %g", c.name, i, v, c.want(i))
			}
		}
		Release(x)
	}
}

// TestReleaseOfSubsliceKeepsNeighbours checks that releasing a tensor made
// by FromSlice over part of a larger array gives back only its own part.
func TestReleaseOfSubsliceKeepsNeighbours(t *testing.T) {
	const n = 7901
	backing := make([]float32, 2*n)
	a := FromSlice(backing[:n], n)
	b := FromSlice(backing[n:], n)
	b.Fill(5)
	Release(a)
	for _, x := range []*Tensor{New(2 * n), New(n), New(2 * n)} {
		x.Fill(-1)
	}
	for i, v := range b.Data() {
		if v != 5 {
			t.Fatalf("a neighbour's data was reused after Release: flat[%d] = %g", i, v)
		}
	}
}

func TestReleaseNilAndEmpty(t *testing.T) {
	Release(nil)
	Release(New(0))
	Release(&Tensor{})
	if New(0).Len() != 0 {
		t.Fatal("New(0) not empty after releasing empty tensors")
	}
}

// TestNewReleaseSteadyStateAllocatesNoBuffer checks the steady state the
// pool is for: a loop that releases what it allocates allocates no new
// buffers (a few header bytes at most, far below the 31 kB buffer).
func TestNewReleaseSteadyStateAllocatesNoBuffer(t *testing.T) {
	const n, runs = 7883, 100
	Release(New(n))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		Release(New(n))
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > n {
		t.Fatalf("New+Release of %d floats allocates %d bytes per run", n, per)
	}
}
