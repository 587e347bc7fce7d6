package nn

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// VirtualBatchNorm is virtual batch normalisation (Salimans et al. 2016,
// "Improved Techniques for Training GANs", arXiv:1606.03498, sec. 3.5):
// each example is normalised with the statistics of a fixed reference
// batch together with the example itself, so its output does not depend on
// the other examples of its batch, as batch norm's does.
//
// Design. The reference statistics at a layer deep in a network depend on
// the current weights of every layer before it, so they have to be
// recomputed by running the reference batch through the network at every
// step. Rather than keep them as state between calls (state that would
// outlive the trainer's step arena and need a separate call by the game),
// the reference batch travels with the data: the first Ref rows of every
// batch this layer sees are the reference batch, the rows after them the
// live examples. VirtualBatch does the bookkeeping for a whole network:
// it prepends the fixed reference input and drops those rows from the
// output. Every other layer of such a network must treat examples
// independently (Linear, convolutions, activations; not BatchNorm or
// MinibatchStdDev), so the first Ref rows stay the reference batch's
// activations at every depth. As in the authors' code, the gradient flows
// through the reference statistics into the earlier layers' weights.
//
// For x [R+N, C] or [R+N, C, H, W] (R = Ref), with statistics per channel
// c taken over samples and spatial positions, biased variances, and
// a = 1/(R+1):
//
//	reference rows:  y = (x - mu_ref) / sqrt(var_ref + Eps)
//	live example i:  mu_i  = (1-a) mu_ref + a m_i
//	                 var_i = (1-a) var_ref + a v_i + a(1-a) (m_i - mu_ref)^2
//	                 y_i   = (x_i - mu_i) / sqrt(var_i + Eps)
//
// then y * Weight + Bias, where m_i and v_i are example i's own mean and
// variance over its positions (x_i and 0 for [N, C] inputs). mu_i and
// var_i are exactly the mean and variance of the R+1 examples formed by the
// reference batch and x_i, the paper's definition, written in a form that
// cannot go negative. The layer acts the same in training and evaluation
// mode.
type VirtualBatchNorm struct {
	Weight *autograd.Value // [C], init 1
	Bias   *autograd.Value // [C], init 0
	Ref    int             // R: the number of leading rows that are the reference batch
	Eps    float64         // default 1e-5
}

// NewVirtualBatchNorm returns virtual batch norm for c channels whose
// inputs start with ref reference rows, with Weight 1, Bias 0 and Eps
// 1e-5. It panics if c or ref is not positive.
func NewVirtualBatchNorm(c, ref int) *VirtualBatchNorm {
	if c <= 0 || ref <= 0 {
		panic(fmt.Sprintf("nn.NewVirtualBatchNorm: %d channels and reference batch size %d must be positive", c, ref))
	}
	return &VirtualBatchNorm{Weight: autograd.Param(tensor.Ones(c)), Bias: autograd.Param(tensor.New(c)), Ref: ref, Eps: 1e-5}
}

// Forward normalises x [R+N, C] or [R+N, C, H, W] (also [R+N, C, L]),
// whose first R rows are the reference batch; the output has x's shape.
// It panics if x has another rank, a channel count other than C, or no
// row after the reference batch.
func (v *VirtualBatchNorm) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	c := v.Weight.Shape()[0]
	if len(xs) < 2 || len(xs) > 4 || xs[1] != c || v.Ref <= 0 || xs[0] <= v.Ref {
		panic(fmt.Sprintf("nn.VirtualBatchNorm: input shape %v for %d channels and %d reference rows", xs, c, v.Ref))
	}
	var spatial []int
	for i := 2; i < len(xs); i++ {
		spatial = append(spatial, i)
	}
	eps := float32(v.Eps)
	r := v.Ref
	ref := autograd.Slice(x, 0, 0, r)
	live := autograd.Slice(x, 0, r, xs[0])
	refOut, muRef, varRef := standardize(ref, append([]int{0}, spatial...), v.Eps)

	m, vi := live, (*autograd.Value)(nil) // an example's own mean and variance
	if len(spatial) > 0 {
		m = autograd.Mean(live, spatial, true)
		d := autograd.Sub(live, m)
		vi = autograd.Mean(autograd.Mul(d, d), spatial, true)
	}
	a := float32(1) / float32(r+1)
	mu := autograd.Add(autograd.Scale(muRef, 1-a), autograd.Scale(m, a))
	dm := autograd.Sub(m, muRef)
	variance := autograd.Add(autograd.Scale(varRef, 1-a), autograd.Scale(autograd.Mul(dm, dm), a*(1-a)))
	if vi != nil {
		variance = autograd.Add(variance, autograd.Scale(vi, a))
	}
	liveOut := autograd.Div(autograd.Sub(live, mu), autograd.Sqrt(autograd.AddScalar(variance, eps)))
	return affine(autograd.Concat([]*autograd.Value{refOut, liveOut}, 0), v.Weight, v.Bias)
}

// Params lists weight and bias.
func (v *VirtualBatchNorm) Params(prefix string) []Param {
	return named(prefix, Param{Name: "weight", Value: v.Weight}, Param{Name: "bias", Value: v.Bias})
}

// Buffers lists nothing: the reference statistics are recomputed from the
// reference rows at every call.
func (v *VirtualBatchNorm) Buffers(string) []Buffer { return nil }

// SetTraining does nothing: the layer acts the same in both modes.
func (v *VirtualBatchNorm) SetTraining(bool) {}

// VirtualBatch wraps a network whose VirtualBatchNorm layers all have Ref
// equal to Ref's first dimension: Forward(x) runs Net on [Ref; x] and
// returns the rows of x, so the wrapped network is a drop-in generator
// that costs one extra forward pass of the reference batch per call, the
// price the paper notes (it uses virtual batch norm in the generator
// only). Ref is fixed for the whole run, for instance noise drawn once; it
// is checkpointed with the network's state as "reference_batch".
type VirtualBatch struct {
	Net Layer
	Ref *tensor.Tensor // [R, ...]: the reference input; allocate it outside any step arena
}

// NewVirtualBatch returns net run with the reference input ref [R, ...].
func NewVirtualBatch(net Layer, ref *tensor.Tensor) *VirtualBatch {
	return &VirtualBatch{Net: net, Ref: ref}
}

// Forward returns the rows of Net([Ref; x]) that belong to x [N, ...]. It
// panics if x's trailing shape differs from Ref's.
func (b *VirtualBatch) Forward(x *autograd.Value) *autograd.Value {
	xs, rs := x.Shape(), b.Ref.Shape()
	if len(xs) == 0 || len(rs) == 0 || !tensor.SameShape(xs[1:], rs[1:]) {
		panic(fmt.Sprintf("nn.VirtualBatch: input shape %v for reference batch %v", xs, rs))
	}
	r := rs[0]
	y := b.Net.Forward(autograd.Concat([]*autograd.Value{autograd.Const(b.Ref), x}, 0))
	return autograd.Slice(y, 0, r, r+xs[0])
}

// Params lists Net's parameters under their own names.
func (b *VirtualBatch) Params(prefix string) []Param { return b.Net.Params(prefix) }

// Buffers lists Net's buffers and then reference_batch.
func (b *VirtualBatch) Buffers(prefix string) []Buffer {
	return append(b.Net.Buffers(prefix), Buffer{Name: Join(prefix, "reference_batch"), Tensor: b.Ref})
}

// SetTraining sets Net's mode.
func (b *VirtualBatch) SetTraining(on bool) { b.Net.SetTraining(on) }
