package nn

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// SpectralNorm reparametrises a weight W as W / sigma(W), sigma being W's
// largest singular value estimated by power iteration (Miyato et al. 2018,
// "Spectral Normalization for Generative Adversarial Networks",
// arXiv:1802.05957), as torch.nn.utils.spectral_norm does.
//
// W is seen as the matrix [rows, cols] that puts dimension Dim first and
// flattens the rest. In training mode each Apply first runs Iters steps of
// v = normalize(W^T u), u = normalize(W v) on the stored vectors, without
// gradient, and stores the result; in evaluation mode u and v are used as
// they are. Then sigma = u^T W v is built with autograd ops, u and v held
// constant, so the gradient flows through sigma as in PyTorch:
// d(W/sigma)/dW includes the -W u v^T / sigma^2 term.
//
// A layer with spectral norm lists its raw weight as "weight_orig" and the
// vectors as the buffers "weight_u" and "weight_v", PyTorch's state_dict
// names.
type SpectralNorm struct {
	U     *tensor.Tensor // [rows], unit norm: the left singular vector estimate
	V     *tensor.Tensor // [cols], unit norm: the right singular vector estimate
	Iters int            // power iterations per training Apply; default 1
	Eps   float64        // floor on norms when normalising; default 1e-12
	Dim   int            // the weight's output dimension: 0, or 1 for ConvTranspose2d

	training bool
}

// NewSpectralNorm returns a spectral norm for a weight of the given shape
// whose output dimension is dim, in training mode, with u and v drawn from
// N(0, 1) by rng and normalised, as PyTorch initialises them. It panics if
// the shape has fewer than two dimensions or dim is out of range.
func NewSpectralNorm(shape []int, dim int, rng *tensor.RNG) *SpectralNorm {
	if len(shape) < 2 || dim < 0 || dim >= len(shape) {
		panic(fmt.Sprintf("nn.NewSpectralNorm: dim %d of weight shape %v", dim, shape))
	}
	rows := shape[dim]
	cols := 1
	for _, d := range shape {
		cols *= d
	}
	cols /= rows
	s := &SpectralNorm{Iters: 1, Eps: 1e-12, Dim: dim, training: true}
	s.U = normalize(rng.Normal(0, 1, rows), s.Eps)
	s.V = normalize(rng.Normal(0, 1, cols), s.Eps)
	return s
}

// SetTraining turns power iteration on (training) or off (evaluation).
func (s *SpectralNorm) SetTraining(on bool) { s.training = on }

// Buffers lists u and v as weight+"_u" and weight+"_v", weight being the
// full dotted name of the weight they normalise.
func (s *SpectralNorm) Buffers(weight string) []Buffer {
	return []Buffer{{Name: weight + "_u", Tensor: s.U}, {Name: weight + "_v", Tensor: s.V}}
}

// perm is the permutation that brings Dim to the front.
func (s *SpectralNorm) perm(n int) []int {
	p := []int{s.Dim}
	for i := range n {
		if i != s.Dim {
			p = append(p, i)
		}
	}
	return p
}

// Apply returns w / sigma, running the power iteration first in training
// mode. w must have the shape the SpectralNorm was made for; it panics
// otherwise.
func (s *SpectralNorm) Apply(w *autograd.Value) *autograd.Value {
	rows, cols := s.U.Len(), s.V.Len()
	if w.Data().Dim() <= s.Dim || w.Data().Size(s.Dim) != rows || w.Data().Len() != rows*cols {
		panic(fmt.Sprintf("nn.SpectralNorm: weight shape %v for u [%d], v [%d], dim %d", w.Shape(), rows, cols, s.Dim))
	}
	wm := w
	if s.Dim != 0 {
		wm = autograd.Permute(w, s.perm(w.Data().Dim())...)
	}
	wm = autograd.Reshape(wm, rows, cols)
	if s.training && s.Iters > 0 {
		m := wm.Data()
		u := tensor.Reshape(s.U, rows, 1)
		v := tensor.Reshape(s.V, cols, 1)
		for range s.Iters {
			v = normalize(tensor.MatMul(m, u, true, false), s.Eps)
			u = normalize(tensor.MatMul(m, v, false, false), s.Eps)
		}
		s.U.CopyFrom(u)
		s.V.CopyFrom(v)
	}
	// Snapshots, so a later Apply's update does not change this graph.
	u := autograd.Const(tensor.Reshape(s.U.Clone(), rows, 1))
	v := autograd.Const(tensor.Reshape(s.V.Clone(), cols, 1))
	sigma := autograd.Sum(autograd.Mul(u, autograd.MatMul(wm, v, false, false)), nil, false)
	return autograd.Div(w, sigma)
}

// Sigma returns the current estimate u^T W v of w's largest singular value,
// without gradient and without iterating.
func (s *SpectralNorm) Sigma(w *tensor.Tensor) float64 {
	t := w
	if s.Dim != 0 {
		t = tensor.Permute(w, s.perm(w.Dim())...)
	}
	wv := tensor.MatMul(tensor.Reshape(t, s.U.Len(), s.V.Len()), tensor.Reshape(s.V, s.V.Len(), 1), false, false)
	sum := 0.0
	for i, x := range wv.Data() {
		sum += float64(x) * float64(s.U.Data()[i])
	}
	return sum
}

// Converge runs power iteration on w, without gradient, until the estimate
// of sigma settles (relative change at most 1e-6, at most 1000 steps),
// and stores u and v. It fits u and v to weights this layer did not train
// to, such as an exponential moving average of them: an average of u
// vectors is neither a unit vector nor w's singular vector, and sigma
// taken with it is far too small. It returns the converged sigma.
func (s *SpectralNorm) Converge(w *tensor.Tensor) float64 {
	rows, cols := s.U.Len(), s.V.Len()
	if w.Dim() <= s.Dim || w.Size(s.Dim) != rows || w.Len() != rows*cols {
		panic(fmt.Sprintf("nn.SpectralNorm.Converge: weight shape %v for u [%d], v [%d], dim %d", w.Shape(), rows, cols, s.Dim))
	}
	t := w
	if s.Dim != 0 {
		t = tensor.Permute(w, s.perm(w.Dim())...)
	}
	m := tensor.Reshape(t, rows, cols)
	u := tensor.Reshape(s.U.Clone(), rows, 1)
	if norm(u) < 1e-6 {
		// A start orthogonal to nothing in particular, for a u averaged
		// (or zeroed) away.
		u = tensor.Full(float32(1/math.Sqrt(float64(rows))), rows, 1)
	}
	u = normalize(u, s.Eps)
	var v *tensor.Tensor
	sigma := 0.0
	for range 1000 {
		v = normalize(tensor.MatMul(m, u, true, false), s.Eps)
		wv := tensor.MatMul(m, v, false, false)
		next := norm(wv)
		u = normalize(wv, s.Eps)
		done := math.Abs(next-sigma) <= 1e-6*next
		sigma = next
		if done {
			break
		}
	}
	s.U.CopyFrom(tensor.Reshape(u, rows))
	s.V.CopyFrom(tensor.Reshape(v, cols))
	return sigma
}

// norm returns the Euclidean norm of x.
func norm(x *tensor.Tensor) float64 {
	n := 0.0
	for _, v := range x.Data() {
		n += float64(v) * float64(v)
	}
	return math.Sqrt(n)
}

// normalize returns x / max(||x||, eps) as a new tensor.
func normalize(x *tensor.Tensor, eps float64) *tensor.Tensor {
	return tensor.Scale(x, float32(1/math.Max(norm(x), eps)))
}

// snWeight returns w, or w / sigma when sn is set.
func snWeight(w *autograd.Value, sn *SpectralNorm) *autograd.Value {
	if sn == nil {
		return w
	}
	return sn.Apply(w)
}

// weightParams lists a layer's weight under "weight", or under
// "weight_orig" when spectral norm wraps it, then its bias.
func weightParams(prefix string, w, b *autograd.Value, sn *SpectralNorm) []Param {
	name := "weight"
	if sn != nil {
		name = "weight_orig"
	}
	return named(prefix, Param{Name: name, Value: w}, Param{Name: "bias", Value: b})
}

// snBuffers lists sn's buffers for the layer's weight w (none when sn is
// nil); u's Sync converges u and v on w's current value.
func snBuffers(prefix string, w *autograd.Value, sn *SpectralNorm) []Buffer {
	if sn == nil {
		return nil
	}
	b := sn.Buffers(Join(prefix, "weight"))
	b[0].Sync = func() { sn.Converge(w.Data()) }
	return b
}
