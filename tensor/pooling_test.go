package tensor

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// wantValues fails t unless got has the given shape and values within
// 1e-5 (absolute plus relative); NaN must match NaN.
func wantValues(t *testing.T, what string, got *Tensor, shape []int, want []float32) {
	t.Helper()
	if !SameShape(got.Shape(), shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), shape)
	}
	for i, w := range want {
		g := got.Data()[i]
		if math.IsNaN(float64(w)) {
			if !math.IsNaN(float64(g)) {
				t.Fatalf("%s: element %d is %v, want NaN (got %v)", what, i, g, got.Data())
			}
			continue
		}
		if math.Abs(float64(g-w)) > 1e-5*(1+math.Abs(float64(w))) {
			t.Fatalf("%s: element %d is %v, want %v (got %v)", what, i, g, w, got.Data())
		}
	}
}

// dot64 is the float64 inner product of two same-sized tensors.
func dot64(a, b *Tensor) float64 {
	s := 0.0
	for i, v := range a.Data() {
		s += float64(v) * float64(b.Data()[i])
	}
	return s
}

// mustPanic fails t unless f panics with a message containing each of subs.
func mustPanic(t *testing.T, f func(), subs ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic; want one mentioning %q", subs)
		}
		msg := fmt.Sprint(r)
		for _, s := range subs {
			if !strings.Contains(msg, s) {
				t.Fatalf("panic %q does not mention %q", msg, s)
			}
		}
	}()
	f()
}

// grid16 is the 1x1x4x4 tensor 0..15.
func grid16() *Tensor { return Reshape(Arange(0, 16, 1), 1, 1, 4, 4) }

func TestPoolOutSize(t *testing.T) {
	for _, c := range []struct{ in, k, s, p, want int }{
		{4, 2, 2, 0, 2}, {5, 2, 2, 0, 2}, {5, 3, 2, 1, 3}, {4, 3, 0, 0, 1}, {7, 3, 1, 1, 7}, {2, 3, 1, 0, 0},
	} {
		if got := PoolOutSize(c.in, c.k, c.s, c.p); got != c.want {
			t.Errorf("PoolOutSize(%d, k=%d, s=%d, p=%d) = %d, want %d", c.in, c.k, c.s, c.p, got, c.want)
		}
	}
}

func TestAvgPool2d(t *testing.T) {
	nine := Reshape(Arange(1, 10, 1), 1, 1, 3, 3)
	for _, c := range []struct {
		name  string
		x     *Tensor
		p     PoolParams
		shape []int
		want  []float32
	}{
		{"k2s2", grid16(), PoolParams{Kernel: [2]int{2, 2}}, []int{1, 1, 2, 2}, []float32{2.5, 4.5, 10.5, 12.5}},
		// count_include_pad: border windows still divide by 9.
		{"k3s1p1", nine, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}, []int{1, 1, 3, 3},
			[]float32{12. / 9, 21. / 9, 16. / 9, 27. / 9, 5, 33. / 9, 24. / 9, 39. / 9, 28. / 9}},
		{"k1x2", Reshape(Arange(1, 9, 1), 1, 1, 2, 4), PoolParams{Kernel: [2]int{1, 2}}, []int{1, 1, 2, 2}, []float32{1.5, 3.5, 5.5, 7.5}},
		// Odd size: the last row and column are dropped (ceil_mode=False).
		{"odd", Reshape(Arange(0, 25, 1), 1, 1, 5, 5), PoolParams{Kernel: [2]int{2, 2}}, []int{1, 1, 2, 2}, []float32{3, 5, 13, 15}},
		{"planes", Reshape(Arange(0, 8, 1), 2, 1, 2, 2), PoolParams{Kernel: [2]int{2, 2}}, []int{2, 1, 1, 1}, []float32{1.5, 5.5}},
	} {
		t.Run(c.name, func(t *testing.T) { wantValues(t, "AvgPool2d", AvgPool2d(c.x, c.p), c.shape, c.want) })
	}
}

func TestAvgPool2dTranspose(t *testing.T) {
	y := FromSlice([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	wantValues(t, "k2s2", AvgPool2dTranspose(y, PoolParams{Kernel: [2]int{2, 2}}, 4, 4), []int{1, 1, 4, 4},
		[]float32{.25, .25, .5, .5, .25, .25, .5, .5, .75, .75, 1, 1, .75, .75, 1, 1})
	// Each input pixel gets (number of windows covering it) / 9.
	wantValues(t, "k3s1p1", AvgPool2dTranspose(Ones(1, 1, 3, 3), PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}, 3, 3),
		[]int{1, 1, 3, 3}, []float32{4. / 9, 6. / 9, 4. / 9, 6. / 9, 1, 6. / 9, 4. / 9, 6. / 9, 4. / 9})
}

// TestPoolAdjoint checks <AvgPool2d(x), y> = <x, AvgPool2dTranspose(y)>
// over several geometries, and that MaxPool2d's indices point at its values.
func TestPoolAdjoint(t *testing.T) {
	rng := NewRNG(7)
	for _, c := range []struct {
		shape []int
		p     PoolParams
	}{
		{[]int{2, 3, 6, 6}, PoolParams{Kernel: [2]int{2, 2}}},
		{[]int{1, 2, 7, 5}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
		{[]int{2, 1, 5, 8}, PoolParams{Kernel: [2]int{3, 2}, Stride: [2]int{1, 3}, Padding: [2]int{1, 0}}},
	} {
		t.Run(fmt.Sprint(c.shape, c.p), func(t *testing.T) {
			x := rng.Normal(0, 1, c.shape...)
			ax := AvgPool2d(x, c.p)
			y := rng.Normal(0, 1, ax.Shape()...)
			lhs, rhs := dot64(ax, y), dot64(x, AvgPool2dTranspose(y, c.p, c.shape[2], c.shape[3]))
			if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
				t.Errorf("<AvgPool2d(x), y> = %v, <x, transpose(y)> = %v", lhs, rhs)
			}
			mx, idx := MaxPool2d(x, c.p)
			if !SameShape(mx.Shape(), ax.Shape()) {
				t.Fatalf("MaxPool2d shape %v, AvgPool2d shape %v", mx.Shape(), ax.Shape())
			}
			for i, j := range idx {
				if x.Data()[j] != mx.Data()[i] || mx.Data()[i] < ax.Data()[i] {
					t.Fatalf("output %d: max %v, x[%d] = %v, avg %v", i, mx.Data()[i], j, x.Data()[j], ax.Data()[i])
				}
			}
		})
	}
}

func TestMaxPool2d(t *testing.T) {
	x := FromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 7,
		9, 6, 1, 2,
		0, 3, 4, 5}, 1, 1, 4, 4)
	negNine := Reshape(Scale(Arange(1, 10, 1), -1), 1, 1, 3, 3)
	nan := float32(math.NaN())
	for _, c := range []struct {
		name    string
		x       *Tensor
		p       PoolParams
		shape   []int
		want    []float32
		wantIdx []int32
	}{
		{"k2s2", x, PoolParams{Kernel: [2]int{2, 2}}, []int{1, 1, 2, 2}, []float32{5, 8, 9, 5}, []int32{1, 6, 8, 15}},
		{"k3s2p1", x, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, []int{1, 1, 2, 2}, []float32{5, 8, 9, 8}, []int32{1, 6, 8, 6}},
		// Padding is -Inf: an all-negative border window keeps its own max.
		{"negative padded", negNine, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}, []int{1, 1, 3, 3},
			[]float32{-1, -1, -2, -1, -1, -2, -4, -4, -5}, []int32{0, 0, 1, 0, 0, 1, 3, 3, 4}},
		// Ties pick the first maximum in the window.
		{"ties", Full(7, 1, 1, 2, 2), PoolParams{Kernel: [2]int{2, 2}}, []int{1, 1, 1, 1}, []float32{7}, []int32{0}},
		{"nan", FromSlice([]float32{1, nan, 3, 2}, 1, 1, 2, 2), PoolParams{Kernel: [2]int{2, 2}}, []int{1, 1, 1, 1}, []float32{nan}, []int32{1}},
		// Indices are flat over the whole tensor, across planes.
		{"planes", FromSlice([]float32{4, 1, 2, 3, 0, 1, 6, 2}, 1, 2, 2, 2), PoolParams{Kernel: [2]int{2, 2}}, []int{1, 2, 1, 1}, []float32{4, 6}, []int32{0, 6}},
		{"k1x3", FromSlice([]float32{1, 3, 2, 0, 5, 4}, 1, 1, 1, 6), PoolParams{Kernel: [2]int{1, 3}}, []int{1, 1, 1, 2}, []float32{3, 5}, []int32{1, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, idx := MaxPool2d(c.x, c.p)
			wantValues(t, "MaxPool2d", out, c.shape, c.want)
			if !slices.Equal(idx, c.wantIdx) {
				t.Errorf("MaxPool2d indices %v, want %v", idx, c.wantIdx)
			}
		})
	}
}

func TestPool2dPanicsOnShape(t *testing.T) {
	k2 := PoolParams{Kernel: [2]int{2, 2}}
	for _, c := range []struct {
		name, op string
		f        func()
	}{
		{"avg 3-D", "tensor.AvgPool2d", func() { AvgPool2d(New(1, 4, 4), k2) }},
		{"avg zero kernel", "tensor.AvgPool2d", func() { AvgPool2d(New(1, 1, 4, 4), PoolParams{}) }},
		{"avg pad over half", "tensor.AvgPool2d", func() {
			AvgPool2d(New(1, 1, 4, 4), PoolParams{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}})
		}},
		{"avg negative pad", "tensor.AvgPool2d", func() {
			AvgPool2d(New(1, 1, 4, 4), PoolParams{Kernel: [2]int{2, 2}, Padding: [2]int{0, -1}})
		}},
		{"avg empty output", "tensor.AvgPool2d", func() { AvgPool2d(New(1, 1, 1, 4), k2) }},
		{"avg transpose size", "tensor.AvgPool2dTranspose", func() { AvgPool2dTranspose(New(1, 1, 2, 2), k2, 6, 4) }},
		{"avg transpose 2-D", "tensor.AvgPool2dTranspose", func() { AvgPool2dTranspose(New(2, 2), k2, 4, 4) }},
		{"max 5-D", "tensor.MaxPool2d", func() { MaxPool2d(New(1, 1, 1, 4, 4), k2) }},
		{"max empty output", "tensor.MaxPool2d", func() { MaxPool2d(New(1, 1, 4, 1), k2) }},
	} {
		t.Run(c.name, func(t *testing.T) { mustPanic(t, c.f, c.op) })
	}
}

func BenchmarkPool2d(b *testing.B) {
	x := NewRNG(1).Normal(0, 1, 16, 64, 32, 32)
	p := PoolParams{Kernel: [2]int{2, 2}}
	b.Run("AvgPool2d/16x64x32x32/k2", func(b *testing.B) {
		b.SetBytes(int64(4 * x.Len()))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			Release(AvgPool2d(x, p))
		}
	})
	b.Run("MaxPool2d/16x64x32x32/k2", func(b *testing.B) {
		b.SetBytes(int64(4 * x.Len()))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			out, _ := MaxPool2d(x, p)
			Release(out)
		}
	})
}
