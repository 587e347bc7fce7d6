package nn

import (
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

func TestSelfAttentionIsIdentityAtZeroGamma(t *testing.T) {
	rng := tensor.NewRNG(1)
	a := NewSelfAttention(16, rng)
	if a.Gamma.Data().Item() != 0 {
		t.Fatalf("gamma starts at %g", a.Gamma.Data().Item())
	}
	if a.F.Weight.Shape()[0] != 2 || a.G.Weight.Shape()[0] != 2 || a.H.Weight.Shape()[0] != 16 {
		t.Fatalf("f, g, h output channels %d, %d, %d; want 2, 2, 16", a.F.Weight.Shape()[0], a.G.Weight.Shape()[0], a.H.Weight.Shape()[0])
	}
	x := autograd.Param(rng.Normal(0, 1, 2, 16, 3, 4))
	y := a.Forward(x)
	if !slices.Equal(y.Data().Data(), x.Data().Data()) || !tensor.SameShape(y.Shape(), x.Shape()) {
		t.Fatal("output differs from x at gamma = 0")
	}
	// gamma still learns: its gradient is <o, dL/dy>, non-zero.
	autograd.Backward(autograd.Sum(autograd.Square(y), nil, false))
	if g := a.Gamma.Grad(); g == nil || g.Item() == 0 {
		t.Fatal("gamma gets no gradient at 0")
	}
}

// TestSelfAttentionMatchesLoops compares the block with gamma != 0 against
// the paper's formulas written as float64 loops.
func TestSelfAttentionMatchesLoops(t *testing.T) {
	rng := tensor.NewRNG(2)
	const n, c, h, w = 2, 8, 2, 3
	a := NewSelfAttention(c, rng)
	a.Gamma.Data().Fill(0.75)
	x := rng.Normal(0, 1, n, c, h, w)
	y := a.Forward(autograd.Const(x)).Data()

	p := h * w
	conv1x1 := func(l *Conv2d, b int) [][]float64 { // [out][pos]
		wt, bs := l.Weight.Data(), l.Bias.Data().Data()
		out := wt.Size(0)
		r := make([][]float64, out)
		for o := range out {
			r[o] = make([]float64, p)
			for q := range p {
				s := float64(bs[o])
				for ci := range c {
					s += float64(wt.At(o, ci, 0, 0)) * float64(x.Data()[(b*c+ci)*p+q])
				}
				r[o][q] = s
			}
		}
		return r
	}
	worst := 0.0
	for b := range n {
		f, g, hh := conv1x1(a.F, b), conv1x1(a.G, b), conv1x1(a.H, b)
		for j := range p {
			// beta_ji = softmax_i(f_i . g_j)
			s := make([]float64, p)
			mx := math.Inf(-1)
			for i := range p {
				for k := range f {
					s[i] += f[k][i] * g[k][j]
				}
				mx = math.Max(mx, s[i])
			}
			z := 0.0
			for i := range s {
				s[i] = math.Exp(s[i] - mx)
				z += s[i]
			}
			for ch := range c {
				o := 0.0
				for i := range p {
					o += s[i] / z * hh[ch][i]
				}
				want := 0.75*o + float64(x.Data()[(b*c+ch)*p+j])
				worst = math.Max(worst, math.Abs(float64(y.Data()[(b*c+ch)*p+j])-want))
			}
		}
	}
	if worst > 1e-5 {
		t.Fatalf("self-attention differs from the loops by %.3g", worst)
	}
}
