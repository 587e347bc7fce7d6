package family

import "github.com/kallima-gan/kallima/tensor"

// Featurer is an Encoder whose last hidden layer can be read as well as its
// codes: BiGAN's E, whose authors score 1-nearest-neighbour classification
// on both (their NNC_e on the codes, NNC_e- on the features before the
// output layer; arXiv:1605.09782 and github.com/jeffdonahue/bigan).
// kallima eval -nn type-asserts it.
type Featurer interface {
	Encoder
	// Features maps images x [N, C, H, W] in [-1, 1] to the encoder's
	// features before its output layer, [N, F], without recording
	// gradients, and returns an error naming the shape expected for
	// images of another shape.
	Features(x *tensor.Tensor) (*tensor.Tensor, error)
}
