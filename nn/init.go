package nn

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// The init schemes below fill a tensor in place, drawing from rng, and
// follow torch.nn.init. A weight's fans are PyTorch's: for a shape
// [a, b, k...], fan_in = b * prod(k) and fan_out = a * prod(k). (So for a
// ConvTranspose2d weight [Cin, Cout, kh, kw] fan_in is Cout*kh*kw, as in
// PyTorch.)

// Fans returns the fan_in and fan_out of a weight shape of at least two
// dimensions, as torch.nn.init._calculate_fan_in_and_fan_out. A 1-D shape
// [n] has fan_in = fan_out = n. It panics on a 0-D shape.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		panic("nn.Fans: scalar has no fans")
	case 1:
		return shape[0], shape[0]
	}
	rf := 1
	for _, k := range shape[2:] {
		rf *= k
	}
	return shape[1] * rf, shape[0] * rf
}

// LeakyReLUGain is the gain sqrt(2 / (1 + slope^2)) that keeps activations'
// variance through a leaky ReLU of the given negative slope (slope 0 is a
// ReLU, gain sqrt 2), as torch.nn.init.calculate_gain("leaky_relu", slope).
func LeakyReLUGain(slope float64) float64 { return math.Sqrt(2 / (1 + slope*slope)) }

// TanhGain is torch.nn.init.calculate_gain("tanh"): 5/3.
const TanhGain = 5.0 / 3

// InitNormal fills t with N(mean, std^2) samples. InitNormal(w, 0, 0.02, rng)
// is the DCGAN initialisation (Radford et al. 2015, arXiv:1511.06434).
func InitNormal(t *tensor.Tensor, mean, std float64, rng *tensor.RNG) {
	d := t.Data()
	for i := range d {
		d[i] = float32(mean + std*rng.NormFloat64())
	}
}

// InitUniform fills t with U[lo, hi) samples.
func InitUniform(t *tensor.Tensor, lo, hi float64, rng *tensor.RNG) {
	d := t.Data()
	for i := range d {
		d[i] = float32(lo + (hi-lo)*rng.Float64())
	}
}

// XavierUniform fills t from U[-b, b] with b = gain * sqrt(6 / (fan_in +
// fan_out)) (Glorot & Bengio 2010, "Understanding the difficulty of training
// deep feedforward neural networks"), as torch.nn.init.xavier_uniform_.
func XavierUniform(t *tensor.Tensor, gain float64, rng *tensor.RNG) {
	in, out := Fans(t.Shape())
	b := gain * math.Sqrt(6/float64(in+out))
	InitUniform(t, -b, b, rng)
}

// XavierNormal fills t from N(0, s^2) with s = gain * sqrt(2 / (fan_in +
// fan_out)), as torch.nn.init.xavier_normal_.
func XavierNormal(t *tensor.Tensor, gain float64, rng *tensor.RNG) {
	in, out := Fans(t.Shape())
	InitNormal(t, 0, gain*math.Sqrt(2/float64(in+out)), rng)
}

// KaimingUniform fills t from U[-b, b] with b = sqrt(3) * g / sqrt(fan_in)
// and g = LeakyReLUGain(a) (He et al. 2015, "Delving Deep into Rectifiers",
// arXiv:1502.01852), as torch.nn.init.kaiming_uniform_ with mode "fan_in"
// and nonlinearity "leaky_relu". a = 0 suits a ReLU; a = sqrt(5) gives
// PyTorch's default Linear and Conv weights, b = 1/sqrt(fan_in).
func KaimingUniform(t *tensor.Tensor, a float64, rng *tensor.RNG) {
	in, _ := Fans(t.Shape())
	b := math.Sqrt(3) * LeakyReLUGain(a) / math.Sqrt(float64(in))
	InitUniform(t, -b, b, rng)
}

// KaimingNormal fills t from N(0, s^2) with s = LeakyReLUGain(a) /
// sqrt(fan_in), as torch.nn.init.kaiming_normal_ with mode "fan_in".
func KaimingNormal(t *tensor.Tensor, a float64, rng *tensor.RNG) {
	in, _ := Fans(t.Shape())
	InitNormal(t, 0, LeakyReLUGain(a)/math.Sqrt(float64(in)), rng)
}

// Orthogonal fills t, seen as a matrix [rows, cols] with rows = t's first
// dimension, with gain times a random (semi-)orthogonal matrix (Saxe et al.
// 2013, arXiv:1312.6120), as torch.nn.init.orthogonal_: the orthonormal
// factor Q of the QR decomposition of a standard normal matrix, signs fixed
// so R's diagonal is positive, which makes Q Haar-distributed. Rows are
// orthonormal when rows <= cols, columns otherwise. It is computed in
// float64 by modified Gram-Schmidt with one re-orthogonalisation pass. It
// panics if t has fewer than two dimensions.
func Orthogonal(t *tensor.Tensor, gain float64, rng *tensor.RNG) {
	if t.Dim() < 2 {
		panic(fmt.Sprintf("nn.Orthogonal: shape %v has fewer than 2 dimensions", t.Shape()))
	}
	rows := t.Size(0)
	cols := t.Len() / rows
	// Draw the [rows, cols] matrix as PyTorch does, then orthonormalise the
	// columns of the tall one of it and its transpose.
	a := make([]float64, rows*cols)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	m, n := rows, cols // tall matrix is m x n with m >= n, column j = vecs[j]
	at := func(i, j int) float64 { return a[i*cols+j] }
	if rows < cols {
		m, n = cols, rows
		at = func(i, j int) float64 { return a[j*cols+i] }
	}
	vecs := make([][]float64, n)
	for j := range vecs {
		v := make([]float64, m)
		for i := range v {
			v[i] = at(i, j)
		}
		for range 2 { // twice is enough (Giraud et al. 2005)
			for k := 0; k < j; k++ {
				d := dot(vecs[k], v)
				for i := range v {
					v[i] -= d * vecs[k][i]
				}
			}
		}
		nrm := math.Sqrt(dot(v, v))
		for i := range v {
			v[i] /= nrm
		}
		vecs[j] = v
	}
	d := t.Data()
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			x := float32(gain * vecs[j][i])
			if rows < cols {
				d[j*cols+i] = x
			} else {
				d[i*cols+j] = x
			}
		}
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// defaultInit gives a Linear or convolution weight and bias PyTorch's
// default initialisation: KaimingUniform with a = sqrt(5) for the weight,
// U[-1/sqrt(fan_in), 1/sqrt(fan_in)] for the bias (which may be nil).
func defaultInit(w, b *tensor.Tensor, rng *tensor.RNG) {
	KaimingUniform(w, math.Sqrt(5), rng)
	if b != nil {
		in, _ := Fans(w.Shape())
		bound := 1 / math.Sqrt(float64(in))
		InitUniform(b, -bound, bound, rng)
	}
}
