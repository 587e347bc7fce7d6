package family

import "github.com/kallima-gan/kallima/tensor"

// Critic is a 2-D model's discriminator asked about points of the plane:
// what the live 2-D view draws as a heat map (D's value) and as arrows on
// the generator's samples (D's gradient, the direction in which G's loss
// pushes them, for every loss whose generator side decreases in D).
type Critic interface {
	// Score returns D's raw output (a logit, or a critic's value) at each
	// point of x [N, 2] in data coordinates, with the current weights in
	// evaluation mode, and with grad also d D / d x [N, 2] in data
	// coordinates (nil without). It records no gradient on any weight and
	// leaves every weight and statistic as it was.
	Score(x *tensor.Tensor, grad bool) (d []float32, dx *tensor.Tensor, err error)
}
