package gan

import (
	"math"
	"slices"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// top2x2 returns the largest singular value of the 2x2 matrix a
// (row-major) in closed form.
func top2x2(a []float32) float64 {
	p, q, r, s := float64(a[0]), float64(a[1]), float64(a[2]), float64(a[3])
	f := p*p + q*q + r*r + s*s
	det := p*s - q*r
	return math.Sqrt((f + math.Sqrt(f*f-4*det*det)) / 2)
}

// TestEvaluateFitsSpectralNormToEMA trains nothing but turns a spectrally
// normalised layer's weight W = R(θ)·diag(3, 1) a little each step, as a
// generator's weights drift, with the layer's power iteration and an EMA
// following. The EMA's averaged u is short (an average of turning unit
// vectors), so sigma taken with it is far too small; Evaluate must fit u
// and v to the averaged weight, whose top singular value is known in closed
// form, and its restore must give back the trained weight and vectors bit
// for bit.
func TestEvaluateFitsSpectralNormToEMA(t *testing.T) {
	rng := tensor.NewRNG(3)
	lin := nn.NewLinear(2, 2, rng).WithSpectralNorm(rng)
	ema, err := optim.NewEMA(nn.Parameters(lin), nn.BufferTensors(lin), optim.EMAConfig{Decay: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	x := ag.Const(tensor.FromSlice([]float32{1, 0.5}, 1, 2))
	for k := range 200 {
		c, s := float32(math.Cos(0.05*float64(k))), float32(math.Sin(0.05*float64(k)))
		lin.Weight.Data().CopyFrom(tensor.FromSlice([]float32{3 * c, -s, 3 * s, c}, 2, 2))
		lin.Forward(x) // one power-iteration step, as in training
		ema.Update()
	}
	trained := []*tensor.Tensor{lin.Weight.Data().Clone(), lin.SN.U.Clone(), lin.SN.V.Clone()}
	shadows, _ := ema.Shadows()
	avgW, avgB := shadows[0].Clone().Data(), shadows[1].Clone().Data()
	want := top2x2(avgW)
	p := &Player{Name: "g", Module: lin, EMA: ema}

	ema.Swap()
	if stale := lin.SN.Sigma(lin.Weight.Data()); stale > 0.9*want {
		t.Fatalf("averaged u and v give sigma %.4g, top singular value %.4g: the EMA spoiled nothing to repair", stale, want)
	}
	ema.Swap()

	restore := p.Evaluate()
	if got := lin.SN.Sigma(lin.Weight.Data()); math.Abs(got/want-1) > 1e-4 {
		t.Errorf("sigma under Evaluate %.6g, top singular value of the EMA weight %.6g", got, want)
	}
	// The forward pass uses the EMA's W / sigma and bias.
	y := lin.Forward(x).Data().Data()
	for i := range 2 {
		wantY := (float64(avgW[2*i])+0.5*float64(avgW[2*i+1]))/want + float64(avgB[i])
		if math.Abs(float64(y[i])-wantY) > 1e-4 {
			t.Errorf("output %d under Evaluate %.6g, want %.6g from the EMA weights", i, y[i], wantY)
		}
	}
	restore()
	for i, got := range []*tensor.Tensor{lin.Weight.Data(), lin.SN.U, lin.SN.V} {
		if !slices.Equal(got.Data(), trained[i].Data()) {
			t.Errorf("after restore, tensor %d is %v, trained %v", i, got.Data(), trained[i].Data())
		}
	}
}
