package nn

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// estimateNet is Linear, BatchNorm, Dropout, ReLU, Linear, BatchNorm, the
// same weights for the same seed.
func estimateNet(seed uint64) *Sequential {
	rng := tensor.NewRNG(seed)
	return NewSequential(NewLinear(3, 4, rng), NewBatchNorm1d(4), NewDropout(0.5, rng), ReLU{}, NewLinear(4, 2, rng), NewBatchNorm1d(2))
}

// TestEstimateStatistics checks the re-estimated statistics against a
// copy of the network whose batch norm layers alone train with momentum 1
// (running statistics = the last batch's): the mean over the batches of
// those, layer by layer. Dropout stays in evaluation mode (it would change
// the second layer's statistics otherwise), a layer no batch reaches keeps
// its statistics and mode, and the others return to evaluation mode.
func TestEstimateStatistics(t *testing.T) {
	net := estimateNet(3)
	net.SetTraining(false)
	unused := NewBatchNorm1d(2)
	unused.RunningMean.Data()[0], unused.RunningVar.Data()[1] = 7, 9
	m := Children{{Name: "net", Module: net}, {Name: "unused", Module: unused}}
	if got := BatchNorms(m); len(got) != 3 || got[2] != unused {
		t.Fatalf("BatchNorms found %d layers, want net's two then unused", len(got))
	}
	rng := tensor.NewRNG(5)
	batches := make([]*tensor.Tensor, 6)
	for i := range batches {
		batches[i] = rng.Normal(float32(i)/3, 1+float32(i)/4, 8, 3)
	}

	ref := estimateNet(3)
	ref.SetTraining(false)
	refNorms := BatchNorms(ref)
	want := make([][]float64, 2*len(refNorms)) // mean, var per layer
	for _, b := range refNorms {
		b.Momentum = 1
		b.SetTraining(true)
	}
	autograd.NoGrad(func() {
		for _, x := range batches {
			ref.Forward(autograd.Const(x))
			for j, b := range refNorms {
				for k, s := range []*tensor.Tensor{b.RunningMean, b.RunningVar} {
					if want[2*j+k] == nil {
						want[2*j+k] = make([]float64, s.Len())
					}
					for c, v := range s.Data() {
						want[2*j+k][c] += float64(v) / float64(len(batches))
					}
				}
			}
		}
	})

	n, err := EstimateStatistics(m, len(batches), func(i int) error {
		autograd.NoGrad(func() { net.Forward(autograd.Const(batches[i])) })
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("EstimateStatistics = %d, %v; want 2 layers", n, err)
	}
	for j, b := range BatchNorms(net) {
		for k, s := range []*tensor.Tensor{b.RunningMean, b.RunningVar} {
			for c, v := range s.Data() {
				if w := want[2*j+k][c]; math.Abs(float64(v)-w) > 1e-5*(1+math.Abs(w)) {
					t.Errorf("layer %d statistic %d channel %d = %.7g, want %.7g", j, k, c, v, w)
				}
			}
		}
		if b.training || b.est != nil {
			t.Errorf("layer %d left in training mode or estimating", j)
		}
	}
	if unused.RunningMean.Data()[0] != 7 || unused.RunningVar.Data()[1] != 9 || !unused.training {
		t.Errorf("the unreached layer changed: mean %v var %v training %v", unused.RunningMean.Data(), unused.RunningVar.Data(), unused.training)
	}
}

// TestEstimateStatisticsError checks that forward's error comes back and
// leaves every layer's statistics and mode as they were.
func TestEstimateStatisticsError(t *testing.T) {
	net := estimateNet(4)
	net.SetTraining(false)
	before := BufferTensors(net)
	var saved [][]float32
	for _, b := range before {
		saved = append(saved, slices.Clone(b.Data()))
	}
	x := tensor.NewRNG(6).Normal(2, 3, 8, 3)
	boom := errors.New("boom")
	n, err := EstimateStatistics(net, 4, func(i int) error {
		if i == 2 {
			return boom
		}
		autograd.NoGrad(func() { net.Forward(autograd.Const(x)) })
		return nil
	})
	if !errors.Is(err, boom) || n != 0 {
		t.Fatalf("EstimateStatistics = %d, %v; want forward's error", n, err)
	}
	for i, b := range before {
		if !slices.Equal(b.Data(), saved[i]) {
			t.Errorf("buffer %d changed after an error: %v, was %v", i, b.Data(), saved[i])
		}
	}
	for j, b := range BatchNorms(net) {
		if b.training || b.est != nil {
			t.Errorf("layer %d left in training mode or estimating", j)
		}
	}
}

// TestBatchNormsOnce checks that a layer listed twice is returned once.
func TestBatchNormsOnce(t *testing.T) {
	bn := NewBatchNorm2d(3)
	if got := BatchNorms(Children{{Name: "a", Module: bn}, {Name: "b", Module: bn}}); len(got) != 1 || got[0] != bn {
		t.Errorf("BatchNorms = %d layers, want the one", len(got))
	}
}
