package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// topSingular returns the largest singular value of the rows x cols matrix
// a (row-major) in float64, by power iteration on a^T a run until the
// estimate stops changing: the reference the float32 layer is checked
// against.
func topSingular(a []float64, rows, cols int) float64 {
	v := make([]float64, cols)
	for i := range v {
		v[i] = 1 + 0.1*float64(i%7) // any start not orthogonal to the top vector
	}
	u := make([]float64, rows)
	prev := 0.0
	for it := 0; it < 100000; it++ {
		for i := range rows {
			u[i] = dot(a[i*cols:(i+1)*cols], v)
		}
		clear(v)
		for i := range rows {
			for j := range cols {
				v[j] += a[i*cols+j] * u[i]
			}
		}
		n := math.Sqrt(dot(v, v)) // = sigma^2 |v_prev| at convergence
		for j := range v {
			v[j] /= n
		}
		if math.Abs(n-prev) <= 1e-13*n {
			return math.Sqrt(n)
		}
		prev = n
	}
	panic("topSingular did not converge")
}

// matrixOf returns w as the float64 matrix [w.Size(dim), rest] that
// spectral norm sees.
func matrixOf(w *tensor.Tensor, dim int) ([]float64, int, int) {
	perm := []int{dim}
	for i := range w.Dim() {
		if i != dim {
			perm = append(perm, i)
		}
	}
	p := tensor.Permute(w, perm...)
	a := make([]float64, p.Len())
	for i, x := range p.Data() {
		a[i] = float64(x)
	}
	return a, w.Size(dim), w.Len() / w.Size(dim)
}

// snLayers returns one layer of each kind that takes spectral norm, drawn
// from rng: the ConvTranspose2d normalises along its weight's dimension 1.
func snLayers(rng *tensor.RNG) (*Linear, *Conv2d, *ConvTranspose2d, *Embedding) {
	return NewLinear(10, 6, rng).WithSpectralNorm(rng),
		NewConv2d(3, 8, 3, ConvOptions{Padding: 1}, rng).WithSpectralNorm(rng),
		NewConvTranspose2d(4, 6, 3, ConvOptions{Stride: 2}, rng).WithSpectralNorm(rng),
		NewEmbedding(5, 7, rng).WithSpectralNorm(rng)
}

// TestSpectralNormTopSingularValue runs training-mode forward passes (one
// power iteration each, the default) until the estimate has converged, and
// checks that W / sigma has largest singular value 1 and that sigma is W's
// largest singular value, both against a float64 reference.
func TestSpectralNormTopSingularValue(t *testing.T) {
	lin, conv, convT, emb := snLayers(tensor.NewRNG(4))
	for _, c := range []struct {
		name string
		w    *autograd.Value
		sn   *SpectralNorm
		fwd  func()
	}{
		{"Linear", lin.Weight, lin.SN, func() { lin.Forward(autograd.Const(tensor.New(1, 10))) }},
		{"Conv2d", conv.Weight, conv.SN, func() { conv.Forward(autograd.Const(tensor.New(1, 3, 4, 4))) }},
		{"ConvTranspose2d", convT.Weight, convT.SN, func() { convT.Forward(autograd.Const(tensor.New(1, 4, 2, 2))) }},
		{"Embedding", emb.Weight, emb.SN, func() { emb.Forward([]int{0}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, rows, cols := matrixOf(c.w.Data(), c.sn.Dim)
			want := topSingular(a, rows, cols)
			for range 300 {
				c.fwd()
			}
			sigma := c.sn.Sigma(c.w.Data())
			if math.Abs(sigma/want-1) > 1e-4 {
				t.Errorf("sigma %.6g, float64 top singular value %.6g", sigma, want)
			}
			wn := c.sn.Apply(c.w).Data()
			an, r2, c2 := matrixOf(wn, c.sn.Dim)
			if got := topSingular(an, r2, c2); math.Abs(got-1) > 1e-4 {
				t.Errorf("top singular value of W/sigma is %.6g, want 1", got)
			}
		})
	}
}

// TestSpectralNormOneStepFromScratch checks that without converged vectors
// the estimate is a lower bound that rises toward sigma as iterations add
// up, as power iteration's must.
func TestSpectralNormOneStepFromScratch(t *testing.T) {
	rng := tensor.NewRNG(8)
	w := rng.Normal(0, 1, 12, 9)
	a, rows, cols := matrixOf(w, 0)
	want := topSingular(a, rows, cols)
	sn := NewSpectralNorm(w.Shape(), 0, rng)
	prev := -math.MaxFloat64
	for i := range 6 {
		sn.Apply(autograd.Const(w))
		s := sn.Sigma(w)
		if s > want*(1+1e-5) || s < prev-1e-4*want {
			t.Fatalf("iteration %d: estimate %.6g after %.6g, true %.6g", i, s, prev, want)
		}
		prev = s
	}
}

func TestSpectralNormEvalDoesNotIterate(t *testing.T) {
	rng := tensor.NewRNG(2)
	l := NewLinear(5, 4, rng).WithSpectralNorm(rng)
	u, v := l.SN.U.Clone(), l.SN.V.Clone()
	l.SetTraining(false)
	x := autograd.Const(rng.Normal(0, 1, 3, 5))
	y1 := l.Forward(x).Data().Clone()
	y2 := l.Forward(x).Data()
	if !slices.Equal(u.Data(), l.SN.U.Data()) || !slices.Equal(v.Data(), l.SN.V.Data()) {
		t.Fatal("evaluation mode changed u or v")
	}
	if !slices.Equal(y1.Data(), y2.Data()) {
		t.Fatal("evaluation-mode outputs differ")
	}
	l.SetTraining(true)
	l.Forward(x)
	if slices.Equal(u.Data(), l.SN.U.Data()) {
		t.Fatal("training mode did not update u")
	}
}

// TestSpectralNormGraphKeepsItsVectors checks that a graph built before a
// later training step still uses the vectors it was built with: the
// second forward's power iteration must not change the first's gradient.
func TestSpectralNormGraphKeepsItsVectors(t *testing.T) {
	rng := tensor.NewRNG(3)
	w := rng.Normal(0, 1, 4, 3)
	grad := func(second bool) []float32 {
		l := &Linear{Weight: autograd.Param(w.Clone()), SN: NewSpectralNorm(w.Shape(), 0, tensor.NewRNG(1))}
		y := l.Forward(autograd.Const(tensor.Ones(2, 3)))
		if second {
			l.Forward(autograd.Const(tensor.Ones(2, 3)))
		}
		autograd.Backward(autograd.Sum(autograd.Square(y), nil, false))
		return l.Weight.Grad().Data()
	}
	if a, b := grad(false), grad(true); !slices.Equal(a, b) {
		t.Fatalf("gradient changed by a later forward pass: %v vs %v", a, b)
	}
}

// TestSyncBuffersConvergesSpectralNorm spoils u and v as an EMA does (an
// average of rotating unit vectors is short and off the singular vector;
// one layer's is zeroed outright) and checks that SyncBuffers fits them
// again: sigma is each weight's top singular value and, in evaluation
// mode, W / sigma has top singular value 1.
func TestSyncBuffersConvergesSpectralNorm(t *testing.T) {
	rng := tensor.NewRNG(5)
	lin, conv, convT, emb := snLayers(rng)
	m := Children{{"lin", lin}, {"conv", conv}, {"convT", convT}, {"emb", emb}}
	m.SetTraining(false)
	layers := []struct {
		w  *autograd.Value
		sn *SpectralNorm
	}{{lin.Weight, lin.SN}, {conv.Weight, conv.SN}, {convT.Weight, convT.SN}, {emb.Weight, emb.SN}}
	for i, l := range layers {
		l.sn.U.CopyFrom(tensor.Scale(rng.Normal(0, 1, l.sn.U.Len()), 0.05))
		l.sn.V.CopyFrom(tensor.Scale(rng.Normal(0, 1, l.sn.V.Len()), 0.05))
		if i == 3 {
			l.sn.U.CopyFrom(tensor.New(l.sn.U.Len()))
		}
	}
	a, rows, cols := matrixOf(lin.Weight.Data(), 0)
	if s := lin.SN.Sigma(lin.Weight.Data()); s > 0.1*topSingular(a, rows, cols) {
		t.Fatalf("spoiled sigma %.4g is not far below the top singular value %.4g: the test spoils nothing", s, topSingular(a, rows, cols))
	}
	SyncBuffers(m)
	for i, l := range layers {
		a, rows, cols := matrixOf(l.w.Data(), l.sn.Dim)
		want := topSingular(a, rows, cols)
		if got := l.sn.Sigma(l.w.Data()); math.Abs(got/want-1) > 1e-4 {
			t.Errorf("layer %d: sigma after SyncBuffers %.6g, top singular value %.6g", i, got, want)
		}
		if n := norm(l.sn.U); math.Abs(n-1) > 1e-5 {
			t.Errorf("layer %d: |u| = %.6g after SyncBuffers, want 1", i, n)
		}
		an, r2, c2 := matrixOf(l.sn.Apply(l.w).Data(), l.sn.Dim)
		if got := topSingular(an, r2, c2); math.Abs(got-1) > 1e-4 {
			t.Errorf("layer %d: top singular value of W/sigma in evaluation mode %.6g, want 1", i, got)
		}
	}
}
