package gan_test

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/tensor"
)

// The losses take the discriminator's raw outputs. At logits 0 for real and
// fake, D is at chance: its minimax loss is 2 ln 2, and the non-saturating
// generator loss -log sigmoid(0) = ln 2.
func ExampleMinimaxDiscriminatorLoss() {
	real := ag.Const(tensor.FromSlice([]float32{0, 0}, 2))
	fake := ag.Const(tensor.FromSlice([]float32{0, 0}, 2))
	d := gan.MinimaxDiscriminatorLoss(real, fake, 0)
	g := gan.NonSaturatingGeneratorLoss(fake)
	fmt.Printf("D %.4f, G %.4f\n", d.Item(), g.Item())
	// Output: D 1.3863, G 0.6931
}

// GradientPenalty differentiates the critic's gradient norm: for a linear
// critic D(x) = w . x with w = (3, 4) the norm is 5 everywhere, the penalty
// 10 (5 - 1)^2 = 160, and its gradient with respect to w, a second
// derivative, 2 10 (5 - 1) w / 5 = (48, 64).
func ExampleGradientPenalty() {
	w := ag.Param(tensor.FromSlice([]float32{3, 4}, 2, 1))
	critic := func(x *ag.Value) *ag.Value { return ag.MatMul(x, w, false, false) }
	xHat := gan.Interpolate(tensor.NewRNG(1).Normal(0, 1, 8, 2), tensor.NewRNG(2).Normal(0, 1, 8, 2), tensor.NewRNG(3))
	gp := gan.GradientPenalty(critic, xHat, 10, false)
	ag.Backward(gp)
	fmt.Println(gp.Item(), w.Grad().Data())
	// Output: 160 [48 64]
}
