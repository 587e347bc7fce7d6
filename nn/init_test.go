package nn

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// moments returns the mean, standard deviation and largest magnitude of
// t's entries, in float64.
func moments(t *tensor.Tensor) (mean, std, maxAbs float64) {
	n := float64(t.Len())
	for _, v := range t.Data() {
		mean += float64(v)
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	mean /= n
	for _, v := range t.Data() {
		d := float64(v) - mean
		std += d * d
	}
	return mean, math.Sqrt(std / n), maxAbs
}

func TestFans(t *testing.T) {
	for _, c := range []struct {
		shape   []int
		in, out int
	}{
		{[]int{5}, 5, 5},
		{[]int{7, 3}, 3, 7},
		{[]int{64, 32, 4, 4}, 512, 1024},
		{[]int{32, 64, 4, 4}, 1024, 512}, // a ConvTranspose2d weight [in, out, k, k]: fan_in from out
	} {
		in, out := Fans(c.shape)
		if in != c.in || out != c.out {
			t.Errorf("Fans(%v) = %d, %d; want %d, %d", c.shape, in, out, c.in, c.out)
		}
	}
}

// TestInitStatistics draws large tensors and checks each scheme's mean,
// standard deviation and (for uniform schemes) bound against its formula.
// With n = 65536 samples the standard error of the std estimate is about
// std/sqrt(2n) = 0.3%; the checks allow 2%.
func TestInitStatistics(t *testing.T) {
	shape := []int{256, 64, 2, 2} // fan_in 256, fan_out 1024
	fanIn, fanOut := 256.0, 1024.0
	for _, c := range []struct {
		name    string
		init    func(w *tensor.Tensor, rng *tensor.RNG)
		std     float64
		uniform bool // then the bound is sqrt(3) std
	}{
		{"normal(0, 0.02)", func(w *tensor.Tensor, r *tensor.RNG) { InitNormal(w, 0, 0.02, r) }, 0.02, false},
		{"xavier uniform", func(w *tensor.Tensor, r *tensor.RNG) { XavierUniform(w, 1, r) }, math.Sqrt(2 / (fanIn + fanOut)), true},
		{"xavier normal gain tanh", func(w *tensor.Tensor, r *tensor.RNG) { XavierNormal(w, TanhGain, r) }, TanhGain * math.Sqrt(2/(fanIn+fanOut)), false},
		{"kaiming uniform relu", func(w *tensor.Tensor, r *tensor.RNG) { KaimingUniform(w, 0, r) }, math.Sqrt(2 / fanIn), true},
		{"kaiming uniform a=sqrt5", func(w *tensor.Tensor, r *tensor.RNG) { KaimingUniform(w, math.Sqrt(5), r) }, 1 / math.Sqrt(3*fanIn), true},
		{"kaiming normal leaky 0.2", func(w *tensor.Tensor, r *tensor.RNG) { KaimingNormal(w, 0.2, r) }, math.Sqrt(2/1.04) / math.Sqrt(fanIn), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := tensor.New(shape...)
			c.init(w, tensor.NewRNG(11))
			mean, std, maxAbs := moments(w)
			if math.Abs(mean) > 0.02*c.std {
				t.Errorf("mean %.3g, want 0 (std %.3g)", mean, c.std)
			}
			if math.Abs(std/c.std-1) > 0.02 {
				t.Errorf("std %.5g, want %.5g", std, c.std)
			}
			if c.uniform {
				bound := math.Sqrt(3) * c.std
				if maxAbs > bound*(1+1e-6) || maxAbs < 0.99*bound {
					t.Errorf("largest |w| %.5g, want just under the bound %.5g", maxAbs, bound)
				}
			}
		})
	}
}

// TestDefaultInit checks PyTorch's defaults: weight and bias within
// 1/sqrt(fan_in), and reaching near it.
func TestDefaultInit(t *testing.T) {
	rng := tensor.NewRNG(5)
	for _, c := range []struct {
		name string
		w, b *tensor.Tensor
		fan  int
	}{
		{"Linear", NewLinear(300, 200, rng).Weight.Data(), NewLinear(300, 2000, rng).Bias.Data(), 300},
		{"Conv2d", NewConv2d(16, 32, 3, ConvOptions{}, rng).Weight.Data(), NewConv2d(16, 2000, 3, ConvOptions{}, rng).Bias.Data(), 144},
		{"ConvTranspose2d", NewConvTranspose2d(32, 16, 4, ConvOptions{}, rng).Weight.Data(), NewConvTranspose2d(8, 2000, 4, ConvOptions{}, rng).Bias.Data(), 256},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, x := range []*tensor.Tensor{c.w, c.b} {
				bound := 1 / math.Sqrt(float64(c.fan))
				if c.name == "ConvTranspose2d" && x == c.b {
					bound = 1 / math.Sqrt(2000*16) // fan_in of [8, 2000, 4, 4] is 2000*16
				}
				_, std, maxAbs := moments(x)
				if maxAbs > bound || maxAbs < 0.98*bound {
					t.Errorf("largest |x| %.5g for bound %.5g", maxAbs, bound)
				}
				if math.Abs(std/(bound/math.Sqrt(3))-1) > 0.05 {
					t.Errorf("std %.5g, want %.5g", std, bound/math.Sqrt(3))
				}
			}
		})
	}
}

func TestOrthogonal(t *testing.T) {
	for _, c := range []struct {
		shape []int
		gain  float64
	}{
		{[]int{6, 10}, 1},        // wide: rows orthonormal
		{[]int{10, 3, 2}, 1},     // tall [10, 6]: columns orthonormal
		{[]int{8, 2, 2, 2}, 2},   // square [8, 8] with gain
		{[]int{64, 64}, 1},       // larger square, where plain Gram-Schmidt loses orthogonality
		{[]int{3, 4, 3, 3}, 0.5}, // a conv weight [3, 36]
	} {
		w := tensor.New(c.shape...)
		Orthogonal(w, c.gain, tensor.NewRNG(3))
		rows := c.shape[0]
		cols := w.Len() / rows
		// Gram matrix of the shorter side must be gain^2 I.
		n, m := rows, cols
		at := func(i, k int) float64 { return float64(w.Data()[i*cols+k]) }
		if rows > cols {
			n, m = cols, rows
			at = func(i, k int) float64 { return float64(w.Data()[k*cols+i]) }
		}
		worst := 0.0
		for i := range n {
			for j := range n {
				s := 0.0
				for k := range m {
					s += at(i, k) * at(j, k)
				}
				want := 0.0
				if i == j {
					want = c.gain * c.gain
				}
				worst = math.Max(worst, math.Abs(s-want))
			}
		}
		if worst > 1e-5*c.gain*c.gain {
			t.Errorf("Orthogonal %v: Gram matrix off gain^2 I by %.3g", c.shape, worst)
		}
	}
}

func TestOrthogonalIsSeeded(t *testing.T) {
	a, b, c := tensor.New(5, 7), tensor.New(5, 7), tensor.New(5, 7)
	Orthogonal(a, 1, tensor.NewRNG(1))
	Orthogonal(b, 1, tensor.NewRNG(1))
	Orthogonal(c, 1, tensor.NewRNG(2))
	for i := range a.Data() {
		if a.Data()[i] != b.Data()[i] {
			t.Fatal("same seed, different matrices")
		}
	}
	same := true
	for i := range a.Data() {
		same = same && a.Data()[i] == c.Data()[i]
	}
	if same {
		t.Fatal("different seeds, same matrix")
	}
}
