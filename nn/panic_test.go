package nn

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// TestLayersPanicsOnShape checks that misuse panics with a message naming
// the layer and the shapes.
func TestLayersPanicsOnShape(t *testing.T) {
	rng := tensor.NewRNG(1)
	v := func(shape ...int) *autograd.Value { return autograd.Const(tensor.New(shape...)) }
	for _, c := range []struct {
		name string
		f    func()
		want string
	}{
		{"Linear", func() { NewLinear(3, 2, rng).Forward(v(4, 5)) }, "nn.Linear: input shape [4 5] for weight [2 3]"},
		{"Conv2d", func() { NewConv2d(3, 2, 3, ConvOptions{}, rng).Forward(v(1, 2, 5, 5)) }, "nn.Conv2d: input shape [1 2 5 5] for weight [2 3 3 3]"},
		{"Conv2d/3-D", func() { NewConv2d(3, 2, 3, ConvOptions{}, rng).Forward(v(3, 5, 5)) }, "nn.Conv2d: input shape [3 5 5]"},
		{"ConvTranspose2d", func() { NewConvTranspose2d(3, 2, 3, ConvOptions{}, rng).Forward(v(1, 2, 5, 5)) }, "nn.ConvTranspose2d: input shape [1 2 5 5] for weight [3 2 3 3]"},
		{"BatchNorm2d", func() { NewBatchNorm2d(3).Forward(v(4, 3)) }, "nn.BatchNorm2d: input shape [4 3] for 3 channels"},
		{"BatchNorm1d", func() { NewBatchNorm1d(3).Forward(v(4, 2)) }, "nn.BatchNorm1d: input shape [4 2] for 3 channels"},
		{"BatchNorm/one value", func() { NewBatchNorm1d(3).Forward(v(1, 3)) }, "one value per channel"},
		{"LayerNorm", func() { NewLayerNorm(2, 4).Forward(v(3, 4, 2)) }, "nn.LayerNorm: input shape [3 4 2] for normalised shape [2 4]"},
		{"InstanceNorm2d", func() { NewInstanceNorm2d(3, true).Forward(v(2, 4, 3, 3)) }, "nn.InstanceNorm2d: input shape [2 4 3 3]"},
		{"Embedding", func() { NewEmbedding(4, 2, rng).Forward([]int{1, 4}) }, "nn.Embedding: index 4 out of range for 4 embeddings"},
		{"Dropout", func() { NewDropout(1.5, rng) }, "nn.NewDropout: probability 1.5"},
		{"SelfAttention", func() { NewSelfAttention(8, rng).Forward(v(1, 4, 2, 2)) }, "nn.SelfAttention: input shape [1 4 2 2] for 8 channels"},
		{"SpectralNorm/1-D", func() { NewSpectralNorm([]int{5}, 0, rng) }, "nn.NewSpectralNorm: dim 0 of weight shape [5]"},
		{"SpectralNorm/shape", func() { NewSpectralNorm([]int{4, 3}, 0, rng).Apply(v(3, 4)) }, "nn.SpectralNorm: weight shape [3 4] for u [4], v [3], dim 0"},
		{"Orthogonal", func() { Orthogonal(tensor.New(4), 1, rng) }, "nn.Orthogonal: shape [4]"},
		{"Fans", func() { Fans(nil) }, "nn.Fans"},
		{"Flatten", func() { Flatten{}.Forward(autograd.Scalar(1)) }, "nn.Flatten: scalar input"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, c.want) {
					t.Fatalf("panic %q, want it to contain %q", msg, c.want)
				}
			}()
			c.f()
		})
	}
}
