package avb

import (
	"math"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestAdversaryLoss compares T's two terms with the logistic loss written
// with probabilities, -log sigmoid(tq) and -log(1 - sigmoid(tp)) averaged,
// in float64, far into the tails, and checks their derivatives against
// finite differences.
func TestAdversaryLoss(t *testing.T) {
	tq := []float32{-30, -2, 0, 0.5, 3, 25}
	tp := []float32{-25, -1, 0, 0.7, 4, 30}
	q, p := AdversaryLoss(ag.Const(tensor.FromSlice(tq, 6)), ag.Const(tensor.FromSlice(tp, 6)))
	var wq, wp float64
	for i := range tq {
		sq := 1 / (1 + math.Exp(-float64(tq[i])))
		notP := 1 / (1 + math.Exp(float64(tp[i]))) // 1 - sigmoid(tp), without cancellation
		wq += -math.Log(sq) / 6
		wp += -math.Log(notP) / 6
	}
	if g := float64(q.Item()); math.Abs(g-wq) > 1e-5*wq {
		t.Errorf("q term %v, want %v", g, wq)
	}
	if g := float64(p.Item()); math.Abs(g-wp) > 1e-5*wp {
		t.Errorf("p term %v, want %v", g, wp)
	}
	rng := tensor.NewRNG(4)
	f := func(xs []*ag.Value) *ag.Value {
		q, p := AdversaryLoss(xs[0], xs[1])
		return ag.Add(q, ag.Scale(p, 1.7))
	}
	if err := ag.GradCheck(f, []*tensor.Tensor{rng.Normal(0, 2, 5), rng.Normal(0, 2, 5)}, ag.CheckOptions{SecondOrder: true, Seed: 3}); err != nil {
		t.Error(err)
	}
}

// TestNormalise: (z - mu) / sigma, and its derivatives.
func TestNormalise(t *testing.T) {
	z := tensor.FromSlice([]float32{1, -2, 0.5, 3}, 2, 2)
	mu := tensor.FromSlice([]float32{0.5, 1, -0.5, 3}, 2, 2)
	lv := tensor.FromSlice([]float32{0, 2 * float32(math.Log(2)), -1, 0.3}, 2, 2)
	got := Normalise(ag.Const(z), ag.Const(mu), ag.Const(lv)).Data().Data()
	for i, v := range got {
		want := (float64(z.Data()[i]) - float64(mu.Data()[i])) / math.Exp(float64(lv.Data()[i])/2)
		if math.Abs(float64(v)-want) > 1e-6 {
			t.Errorf("%d: %v, want %v", i, v, want)
		}
	}
	rng := tensor.NewRNG(2)
	f := func(xs []*ag.Value) *ag.Value { return Normalise(xs[0], xs[1], xs[2]) }
	if err := ag.GradCheck(f, []*tensor.Tensor{rng.Normal(0, 1, 3, 2), rng.Normal(0, 1, 3, 2), rng.Normal(0, 0.5, 3, 2)}, ag.CheckOptions{SecondOrder: true, Seed: 5}); err != nil {
		t.Error(err)
	}
}

// TestContrastKL: the value is KL(N(mu, var) || N(0, I)) in closed form
// whatever z is; the gradient with respect to z is that of the per-sample
// log r(z) - log p(z), z - (z - mu) / var; and the per-sample term's mean
// over z ~ r is the closed form (within four standard errors), which is
// why the value may stand for it.
func TestContrastKL(t *testing.T) {
	mu := tensor.FromSlice([]float32{0.3, -1.2, 2, 0, 0.5, -0.4}, 2, 3)
	lv := tensor.FromSlice([]float32{-1, 0.4, -2.5, 0, 1, -0.3}, 2, 3)
	z := tensor.FromSlice([]float32{0.1, -0.7, 1.9, 1.5, -2, 0.2}, 2, 3)
	zv := ag.Param(z.Clone())
	out := ContrastKL(zv, ag.Const(mu), ag.Const(lv))
	ag.Backward(ag.Sum(out, nil, false))
	grad := zv.Grad().Data()
	rng := tensor.NewRNG(9)
	for i := range 2 {
		kl := 0.0
		for j := range 3 {
			m, v := float64(mu.At(i, j)), math.Exp(float64(lv.At(i, j)))
			kl += 0.5 * (m*m + v - 1 - math.Log(v))
			zz := float64(z.At(i, j))
			if g, want := float64(grad[i*3+j]), zz-(zz-m)/v; math.Abs(g-want) > 1e-5*max(1, math.Abs(want)) {
				t.Errorf("row %d, dim %d: d/dz %v, want %v", i, j, g, want)
			}
		}
		if g := float64(out.Data().Data()[i]); math.Abs(g-kl) > 1e-5*max(1, kl) {
			t.Errorf("row %d: value %v, want the closed form %v", i, g, kl)
		}
		const n = 200000
		var sum, sq float64
		for range n {
			var s float64
			for j := range 3 {
				m, sd := float64(mu.At(i, j)), math.Exp(float64(lv.At(i, j))/2)
				e := rng.NormFloat64()
				zz := m + sd*e
				s += -0.5*e*e - math.Log(sd) + 0.5*zz*zz
			}
			sum += s
			sq += s * s
		}
		mean := sum / n
		se := math.Sqrt((sq/n - mean*mean) / n)
		if math.Abs(mean-kl) > 4*se {
			t.Errorf("row %d: E_r[log r - log p] %v ± %v, closed form %v", i, mean, se, kl)
		}
	}
}
