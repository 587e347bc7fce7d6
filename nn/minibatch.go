package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// MinibatchDiscrimination lets a discriminator see a whole batch at once,
// so it can tell a collapsed generator from a diverse one (Salimans et al.
// 2016, "Improved Techniques for Training GANs", arXiv:1606.03498, sec.
// 3.2). For features x [N, A] and the learnt tensor T [A, B*C]:
//
//	M   = x T, reshaped [N, B, C]
//	c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1)
//	o(x_i)_b      = sum_j c_b(x_i, x_j)            (j over the whole batch)
//	y   = concat(x, o(x))                          [N, A+B]
//
// The sum includes j = i, which adds exactly 1 to every o(x_i)_b, as the
// paper writes it; ExcludeSelf drops that term, as the authors' code does
// (it also adds a learnt bias, which the layer after this one provides). A
// batch of N identical rows gives o = N (N-1 without the self term), a
// batch of rows far apart gives o near 1 (near 0).
//
// The layer is composed from autograd ops (MatMul, Sub, Abs, Exp, Sum,
// Concat), so it may sit in a critic with a gradient penalty; |.|'s
// derivative at 0 is taken as 0, which only the j = i terms meet and whose
// differences are identically 0. It builds an [N, N, B, C] intermediate.
type MinibatchDiscrimination struct {
	T           *autograd.Value // [A, B*C]; init N(0, 0.05^2) as the authors' code
	Kernels     int             // B
	KernelDim   int             // C
	ExcludeSelf bool            // leave out c_b(x_i, x_i) = 1 from the sum
}

// NewMinibatchDiscrimination returns the layer for in features with
// kernels kernels of dimension kernelDim (the paper's B and C; the authors
// use B = 100, C = 5 on CIFAR-10), its T drawn from N(0, 0.05^2) by rng. It
// panics if a size is not positive.
func NewMinibatchDiscrimination(in, kernels, kernelDim int, rng *tensor.RNG) *MinibatchDiscrimination {
	if in <= 0 || kernels <= 0 || kernelDim <= 0 {
		panic(fmt.Sprintf("nn.NewMinibatchDiscrimination: sizes in %d, kernels %d, kernel dim %d must be positive", in, kernels, kernelDim))
	}
	return &MinibatchDiscrimination{
		T:       autograd.Param(rng.Normal(0, 0.05, in, kernels*kernelDim)),
		Kernels: kernels, KernelDim: kernelDim,
	}
}

// Forward returns concat(x, o(x)) [N, A+B] for x [N, A]. It panics if x is
// not 2-D with A features or T is not [A, B*C].
func (m *MinibatchDiscrimination) Forward(x *autograd.Value) *autograd.Value {
	xs, ts := x.Shape(), m.T.Shape()
	b, c := m.Kernels, m.KernelDim
	if len(xs) != 2 || len(ts) != 2 || xs[1] != ts[0] || ts[1] != b*c {
		panic(fmt.Sprintf("nn.MinibatchDiscrimination: input shape %v for T %v with %d kernels of dimension %d", xs, ts, b, c))
	}
	n := xs[0]
	mm := autograd.MatMul(x, m.T, false, false)
	d := autograd.Sub(autograd.Reshape(mm, n, 1, b, c), autograd.Reshape(mm, 1, n, b, c)) // [N, N, B, C]
	l1 := autograd.Sum(autograd.Abs(d), []int{3}, false)                                  // [N, N, B]
	o := autograd.Sum(autograd.Exp(autograd.Neg(l1)), []int{1}, false)                    // [N, B]
	if m.ExcludeSelf {
		o = autograd.AddScalar(o, -1)
	}
	return autograd.Concat([]*autograd.Value{x, o}, 1)
}

// Params lists T.
func (m *MinibatchDiscrimination) Params(prefix string) []Param {
	return []Param{{Name: Join(prefix, "T"), Value: m.T}}
}

// Buffers lists nothing.
func (m *MinibatchDiscrimination) Buffers(string) []Buffer { return nil }

// SetTraining does nothing: the layer acts the same in both modes.
func (m *MinibatchDiscrimination) SetTraining(bool) {}

// MinibatchStdDev appends the batch's standard deviation as one more
// feature (Karras et al. 2018, "Progressive Growing of GANs for Improved
// Quality, Stability, and Variation", arXiv:1710.10196, sec. 3): the batch
// is split into groups of Group samples, sample n going to group n mod
// (N/Group) as in the authors' code; within each group the standard
// deviation of every feature (and pixel) over the group's samples is
// taken, then averaged over features to one scalar s per group:
//
//	s = mean_f sqrt(mean_g (x_gf - mean_g x_gf)^2 + Eps)
//
// (the biased, divide-by-Group variance). For x [N, F] the output is
// [N, F+1] with s as the last column; for x [N, C, H, W] it is
// [N, C+1, H, W] with s filling the extra channel. Identical samples give
// s = sqrt(Eps), about 0. The gradient flows through s to every sample.
type MinibatchStdDev struct {
	stateless
	// Group is the group size; 0, or a value above N, means the whole
	// batch. The authors use 4. N must be a multiple of the group size.
	Group int
	Eps   float64 // added to the variance before the square root; 0 means 1e-8
}

// NewMinibatchStdDev returns the layer with the given group size (0: the
// whole batch) and Eps 1e-8.
func NewMinibatchStdDev(group int) *MinibatchStdDev {
	return &MinibatchStdDev{Group: group, Eps: 1e-8}
}

// Forward appends s to x [N, F] or [N, C, H, W]. It panics on another rank
// or if N is not a multiple of the group size.
func (m *MinibatchStdDev) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	if len(xs) != 2 && len(xs) != 4 {
		panic(fmt.Sprintf("nn.MinibatchStdDev: input shape %v, want [N, F] or [N, C, H, W]", xs))
	}
	n := xs[0]
	g := m.Group
	if g <= 0 || g > n {
		g = n
	}
	if g == 0 || n%g != 0 {
		panic(fmt.Sprintf("nn.MinibatchStdDev: input shape %v: batch %d is not a multiple of group size %d", xs, n, g))
	}
	eps := m.Eps
	if eps == 0 {
		eps = 1e-8
	}
	groups := n / g
	rest := xs[1:]
	y := autograd.Reshape(x, append([]int{g, groups}, rest...)...)      // [G, M, ...]
	v := autograd.Var(y, []int{0}, false)                               // [M, ...]
	s := autograd.Sqrt(autograd.AddScalar(v, float32(eps)))             // [M, ...]
	s = autograd.Mean(autograd.Reshape(s, groups, -1), []int{1}, false) // [M]
	// Tile s to one entry per sample: sample n = g*M + m gets s[m].
	shape := []int{1, groups, 1} // [1, M, 1] for [N, F]
	tiled := []int{g, groups, 1} // [G, M, 1]
	final := []int{n, 1}         // [N, 1]
	if len(xs) == 4 {
		shape = []int{1, groups, 1, 1, 1}
		tiled = []int{g, groups, 1, xs[2], xs[3]}
		final = []int{n, 1, xs[2], xs[3]}
	}
	t := autograd.BroadcastTo(autograd.Reshape(s, shape...), tiled)
	return autograd.Concat([]*autograd.Value{x, autograd.Reshape(t, final...)}, 1)
}
