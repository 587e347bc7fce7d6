package tensor

import (
	"fmt"
	"math"
	"testing"
)

func TestUpsampleNearest(t *testing.T) {
	x := FromSlice([]float32{1, 2, 3, 4}, 1, 1, 2, 2)
	wantValues(t, "scale 2", UpsampleNearest(x, 2), []int{1, 1, 4, 4},
		[]float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4})
	wantValues(t, "scale 3, 1x2", UpsampleNearest(FromSlice([]float32{5, 6}, 1, 1, 1, 2), 3), []int{1, 1, 3, 6},
		[]float32{5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6})
	wantValues(t, "scale 1", UpsampleNearest(x, 1), []int{1, 1, 2, 2}, []float32{1, 2, 3, 4})
	wantValues(t, "planes", UpsampleNearest(FromSlice([]float32{1, 2}, 2, 1, 1, 1), 2), []int{2, 1, 2, 2},
		[]float32{1, 1, 1, 1, 2, 2, 2, 2})
}

func TestUpsampleNearestTranspose(t *testing.T) {
	wantValues(t, "block sums", UpsampleNearestTranspose(Reshape(Arange(0, 16, 1), 1, 1, 4, 4), 2), []int{1, 1, 2, 2},
		[]float32{10, 18, 42, 50})
	wantValues(t, "scale 3, 3x6", UpsampleNearestTranspose(Ones(1, 1, 3, 6), 3), []int{1, 1, 1, 2}, []float32{9, 9})
}

func TestUpsampleBilinear(t *testing.T) {
	// Along one axis 2 -> 4 samples at -0.25 (clamped to 0), 0.25, 0.75,
	// 1.25 (past the last pixel, so it reads the last pixel).
	f := []float32{0, .25, .75, 1}
	grid := make([]float32, 16)
	for i := range 4 {
		for j := range 4 {
			grid[i*4+j] = 2*f[i] + f[j]
		}
	}
	for _, c := range []struct {
		name   string
		x      *Tensor
		ho, wo int
		want   []float32
	}{
		{"1x2 to 1x4", FromSlice([]float32{0, 1}, 1, 1, 1, 2), 1, 4, []float32{0, .25, .75, 1}},
		{"2x2 to 4x4", FromSlice([]float32{0, 1, 2, 3}, 1, 1, 2, 2), 4, 4, grid},
		// 3 -> 5: sources -0.2 (clamped), 0.4, 1.0, 1.6, 2.2 (clamped).
		{"1x3 to 1x5", FromSlice([]float32{0, 10, 20}, 1, 1, 1, 3), 1, 5, []float32{0, 4, 10, 16, 20}},
		// 4 -> 2 shrinks: sources 0.5 and 2.5.
		{"1x4 to 1x2", FromSlice([]float32{0, 1, 2, 3}, 1, 1, 1, 4), 1, 2, []float32{.5, 2.5}},
		{"same size", FromSlice([]float32{3, 1, 4, 1, 5, 9}, 1, 1, 2, 3), 2, 3, []float32{3, 1, 4, 1, 5, 9}},
		{"1x1 to 2x3", FromSlice([]float32{7, -1}, 2, 1, 1, 1), 2, 3, []float32{7, 7, 7, 7, 7, 7, -1, -1, -1, -1, -1, -1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.x.Shape()
			wantValues(t, "UpsampleBilinear", UpsampleBilinear(c.x, c.ho, c.wo), []int{s[0], s[1], c.ho, c.wo}, c.want)
		})
	}
}

func TestUpsampleBilinearTranspose(t *testing.T) {
	// 1x2 -> 1x4 weights per output: (1,0), (.75,.25), (.25,.75), (0,1).
	wantValues(t, "1x4 to 1x2", UpsampleBilinearTranspose(FromSlice([]float32{1, 2, 3, 4}, 1, 1, 1, 4), 1, 2), []int{1, 1, 1, 2},
		[]float32{1 + 1.5 + .75, .5 + 2.25 + 4})
}

// TestUpsampleAdjoint checks <U(x), y> = <x, U^T(y)> for both resizes.
func TestUpsampleAdjoint(t *testing.T) {
	rng := NewRNG(11)
	check := func(t *testing.T, x *Tensor, fwd func(*Tensor) *Tensor, tr func(*Tensor) *Tensor) {
		t.Helper()
		ux := fwd(x)
		y := rng.Normal(0, 1, ux.Shape()...)
		lhs, rhs := dot64(ux, y), dot64(x, tr(y))
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Errorf("<U(x), y> = %v, <x, U^T(y)> = %v", lhs, rhs)
		}
	}
	for _, s := range [][]int{{2, 3, 4, 5}, {1, 1, 1, 3}, {1, 2, 7, 2}} {
		x := rng.Normal(0, 1, s...)
		for _, k := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("nearest/%v/x%d", s, k), func(t *testing.T) {
				check(t, x, func(a *Tensor) *Tensor { return UpsampleNearest(a, k) },
					func(b *Tensor) *Tensor { return UpsampleNearestTranspose(b, k) })
			})
		}
		for _, o := range [][2]int{{8, 10}, {3, 3}, {s[2], s[3]}, {2 * s[2], 2*s[3] + 1}} {
			t.Run(fmt.Sprintf("bilinear/%v/%v", s, o), func(t *testing.T) {
				check(t, x, func(a *Tensor) *Tensor { return UpsampleBilinear(a, o[0], o[1]) },
					func(b *Tensor) *Tensor { return UpsampleBilinearTranspose(b, s[2], s[3]) })
			})
		}
	}
}

func TestUpsamplePanicsOnShape(t *testing.T) {
	for _, c := range []struct {
		name, op string
		f        func()
	}{
		{"nearest 3-D", "tensor.UpsampleNearest", func() { UpsampleNearest(New(1, 2, 2), 2) }},
		{"nearest scale 0", "tensor.UpsampleNearest", func() { UpsampleNearest(New(1, 1, 2, 2), 0) }},
		{"nearest transpose not a multiple", "tensor.UpsampleNearestTranspose", func() { UpsampleNearestTranspose(New(1, 1, 4, 5), 2) }},
		{"nearest transpose 2-D", "tensor.UpsampleNearestTranspose", func() { UpsampleNearestTranspose(New(4, 4), 2) }},
		{"bilinear 5-D", "tensor.UpsampleBilinear", func() { UpsampleBilinear(New(1, 1, 1, 2, 2), 4, 4) }},
		{"bilinear zero size", "tensor.UpsampleBilinear", func() { UpsampleBilinear(New(1, 1, 2, 2), 0, 4) }},
		{"bilinear empty input", "tensor.UpsampleBilinear", func() { UpsampleBilinear(New(1, 1, 0, 2), 4, 4) }},
		{"bilinear transpose 3-D", "tensor.UpsampleBilinearTranspose", func() { UpsampleBilinearTranspose(New(1, 4, 4), 2, 2) }},
		{"bilinear transpose zero size", "tensor.UpsampleBilinearTranspose", func() { UpsampleBilinearTranspose(New(1, 1, 4, 4), 2, 0) }},
	} {
		t.Run(c.name, func(t *testing.T) { mustPanic(t, c.f, c.op) })
	}
}

func BenchmarkUpsample(b *testing.B) {
	x := NewRNG(1).Normal(0, 1, 16, 64, 16, 16)
	b.Run("Nearest/16x64x16x16/x2", func(b *testing.B) {
		b.SetBytes(int64(4 * 4 * x.Len()))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			Release(UpsampleNearest(x, 2))
		}
	})
	b.Run("Bilinear/16x64x16x16/32x32", func(b *testing.B) {
		b.SetBytes(int64(4 * 4 * x.Len()))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			Release(UpsampleBilinear(x, 32, 32))
		}
	})
}
