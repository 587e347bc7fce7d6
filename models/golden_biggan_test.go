package models

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestGoldenBigGAN checks BigGAN's generator block and a small whole
// generator (shared embedding, hierarchical z, attention, spectral norm)
// against PyTorch twins (testdata/gen_golden_biggan.py) as TestGoldenResNet
// does: outputs, gradients at first and second order, buffers, evaluation
// mode.
func TestGoldenBigGAN(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_biggan.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with testdata/gen_golden_biggan.py): %v", err)
	}
	var g struct {
		Cases map[string]*resnetCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 2 {
		t.Fatalf("%d golden cases, want 2", len(g.Cases))
	}
	rng := tensor.NewRNG(1)
	t.Run("bigblock", func(t *testing.T) {
		blk := NewBigGBlock(3, 2, 4, true, rng)
		checkGolden(t, g.Cases["bigblock"], blk, func(x, v *autograd.Value) *autograd.Value { return blk.Forward(x, v) })
	})
	t.Run("biggen28", func(t *testing.T) {
		c := g.Cases["biggen28"]
		gen, err := NewBigGANGenerator(BigGANConfig{SNGANConfig: SNGANConfig{Size: 28, Channels: 1, GWidth: 4, DWidth: 1, ZDim: 6, Classes: 3, Attention: true}, SharedDim: 2}, rng)
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, c, gen, func(z, _ *autograd.Value) *autograd.Value { return gen.Forward(z, c.Labels) })
	})
}
