package family

import "github.com/kallima-gan/kallima/tensor"

// Standardise maps points x [N, D] to (x - mean) / std in place (mean has
// D values) and returns x: the coordinates the 2-D families' networks see.
func Standardise(x *tensor.Tensor, mean []float64, std float64) *tensor.Tensor {
	d := len(mean)
	for i, v := range x.Data() {
		x.Data()[i] = float32((float64(v) - mean[i%d]) / std)
	}
	return x
}

// Unstandardise is Standardise's inverse, x * std + mean, in place.
func Unstandardise(x *tensor.Tensor, mean []float64, std float64) *tensor.Tensor {
	d := len(mean)
	for i, v := range x.Data() {
		x.Data()[i] = float32(float64(v)*std + mean[i%d])
	}
	return x
}
