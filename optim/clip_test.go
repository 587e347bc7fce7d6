package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// clipParams returns two parameters with gradients [3, 4] and [12] (global
// L2 norm 13) and a third without a gradient.
func clipParams() []*autograd.Value {
	a := autograd.Param(tensor.New(2))
	b := autograd.Param(tensor.New(1))
	c := autograd.Param(tensor.New(3))
	setGrad(a, tensor.FromSlice([]float32{3, 4}, 2))
	setGrad(b, tensor.FromSlice([]float32{12}, 1))
	return []*autograd.Value{a, b, c}
}

func TestClipGradNorm(t *testing.T) {
	cases := []struct {
		name    string
		maxNorm float32
		norm    float64
		total   float64
		scale   float64 // expected factor applied to the gradients
	}{
		{"l2 clipped", 6.5, 2, 13, 6.5 / (13 + 1e-6)},
		{"l2 below max", 20, 2, 13, 1},
		{"l2 at max", 13, 2, 13, 1}, // 13/(13+1e-6) rounds to 1 in float32: no change
		{"inf clipped", 6, math.Inf(1), 12, 6 / (12 + 1e-6)},
		{"l1 clipped", 1.9, 1, 19, 1.9 / (19 + 1e-6)},
		{"l3 clipped", 1, 3, math.Cbrt(27 + 64 + 1728), 1 / (math.Cbrt(1819) + 1e-6)},
		{"zero max", 0, 2, 13, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := clipParams()
			total := ClipGradNorm(ps, tc.maxNorm, tc.norm)
			if math.Abs(float64(total)-tc.total) > 1e-6*tc.total {
				t.Fatalf("total norm %v, want %v", total, tc.total)
			}
			want := []float64{3 * tc.scale, 4 * tc.scale, 12 * tc.scale}
			got := append(append([]float32(nil), ps[0].Grad().Data()...), ps[1].Grad().Data()...)
			for i := range want {
				if math.Abs(float64(got[i])-want[i]) > 1e-6*math.Max(1, want[i]) {
					t.Fatalf("clipped gradients %v, want %v", got, want)
				}
			}
			if ps[2].Grad() != nil {
				t.Fatal("a parameter without gradient got one")
			}
		})
	}
}

func TestClipGradNormEdgeCases(t *testing.T) {
	none := []*autograd.Value{autograd.Param(tensor.New(2))}
	if n := ClipGradNorm(none, 1, 2); n != 0 {
		t.Errorf("norm of no gradients = %v, want 0", n)
	}
	for _, bad := range []float32{float32(math.Inf(1)), float32(math.NaN())} {
		ps := clipParams()
		ps[0].Grad().Data()[1] = bad
		n := ClipGradNorm(ps, 1, 2)
		if !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 1) {
			t.Errorf("gradient %v: norm %v, want non-finite", bad, n)
		}
		if g := ps[1].Grad().Data()[0]; g != 12 {
			t.Errorf("gradient %v: finite gradients were scaled to %v", bad, g)
		}
	}
	for _, tc := range []struct {
		name    string
		maxNorm float32
		norm    float64
	}{{"negative max", -1, 2}, {"zero norm type", 1, 0}, {"NaN norm type", 1, math.NaN()}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "optim.ClipGradNorm") {
					t.Fatalf("panic %v, want one naming optim.ClipGradNorm", r)
				}
			}()
			ClipGradNorm(clipParams(), tc.maxNorm, tc.norm)
		})
	}
	ps := clipParams()
	if n := testing.AllocsPerRun(20, func() { ClipGradNorm(ps, 1, 2) }); n != 0 {
		t.Errorf("ClipGradNorm allocates %v times", n)
	}
}

func TestClipGradValue(t *testing.T) {
	p := autograd.Param(tensor.New(5))
	nan := float32(math.NaN())
	setGrad(p, tensor.FromSlice([]float32{-3, 0.5, 7, -2, 0}, 5))
	p.Grad().Data()[4] = nan
	ClipGradValue([]*autograd.Value{p, autograd.Param(tensor.New(1))}, 2)
	got := p.Grad().Data()
	want := []float32{-2, 0.5, 2, -2}
	for i, w := range want {
		if got[i] != w {
			t.Fatalf("clipped %v, want %v then NaN", got, want)
		}
	}
	if !math.IsNaN(float64(got[4])) {
		t.Fatalf("NaN became %v", got[4])
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("negative clip did not panic")
		}
	}()
	ClipGradValue([]*autograd.Value{p}, -1)
}
