package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

func TestDropout(t *testing.T) {
	x := tensor.Full(2, 200, 500)
	for _, p := range []float64{0, 0.25, 0.5, 0.9, 1} {
		d := NewDropout(p, tensor.NewRNG(1))
		y := d.Forward(autograd.Const(x)).Data()
		zeros := 0
		for _, v := range y.Data() {
			switch {
			case v == 0:
				zeros++
			case p < 1 && math.Abs(float64(v)-2/(1-p)) > 1e-5:
				t.Fatalf("p=%g: kept value %g, want %g", p, v, 2/(1-p))
			}
		}
		// 100000 draws: the zero fraction's standard error is <= 0.0016.
		if f := float64(zeros) / float64(x.Len()); math.Abs(f-p) > 0.01 {
			t.Errorf("p=%g: %.4f of the elements dropped", p, f)
		}
		d.SetTraining(false)
		xv := autograd.Const(x)
		if d.Forward(xv) != xv {
			t.Errorf("p=%g: evaluation mode is not the identity", p)
		}
	}
}

func TestDropoutIsSeeded(t *testing.T) {
	x := autograd.Const(tensor.Ones(10, 10))
	a := NewDropout(0.5, tensor.NewRNG(7)).Forward(x).Data().Data()
	b := NewDropout(0.5, tensor.NewRNG(7)).Forward(x).Data().Data()
	d := NewDropout(0.5, tensor.NewRNG(7))
	d.Forward(x)
	c := d.Forward(x).Data().Data()
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different masks")
	}
	if slices.Equal(a, c) {
		t.Fatal("a second call repeated the first mask")
	}
}
