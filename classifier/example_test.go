package classifier_test

import (
	"fmt"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// Features of a batch of images from the shipped weights, for FID, KID or
// precision/recall ("fc1") and for the IS-style score ("probs").
func ExampleClassifier_Features() {
	c, err := classifier.Load()
	if err != nil {
		panic(err)
	}
	x := tensor.NewRNG(1).Uniform(-1, 1, 20, 1, 28, 28) // 20 images in [-1, 1]
	fc1, _ := c.Features(x, "fc1")
	probs, _ := c.Features(x, "probs")
	fmt.Println(fc1.Shape(), probs.Shape())
	is, _ := metrics.InceptionScore(probs, metrics.ISConfig{Splits: 2})
	r := is.Result(c.Provenance("probs", ""))
	fmt.Println(r.Metric, r.Layer, r.Dim)
	// Output:
	// [20 128] [20 10]
	// IS probs 10
}
