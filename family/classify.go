package family

import "github.com/kallima-gan/kallima/tensor"

// Classifier is a model that assigns images to classes of its own: an
// AAE with the categorical prior (model.kind aae, prior categorical), whose
// encoder's softmax y is read as the class. A semi-supervised model's
// classes are the labels it was taught; an unsupervised one's are clusters,
// matched to the true classes by whoever scores them (kallima eval
// -classify).
type Classifier interface {
	// Classify returns the class of each image of x [N, C, H, W] in
	// [-1, 1] (the argmax of y) without recording gradients, and an error
	// naming the shape expected for images of another shape.
	Classify(x *tensor.Tensor) ([]int, error)
}
