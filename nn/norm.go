package nn

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// The normalisation layers are composed from autograd ops (Mean, Sub, Mul,
// Sqrt, Div), so the gradient flows through the batch mean and variance and
// gradients of gradients work. Variances are biased (divide by n), as
// PyTorch normalises with.

// standardize returns (x - mean) / sqrt(var + eps) over axes, and the mean
// and biased variance (kept dimensions).
func standardize(x *autograd.Value, axes []int, eps float64) (y, mean, variance *autograd.Value) {
	mean = autograd.Mean(x, axes, true)
	d := autograd.Sub(x, mean)
	variance = autograd.Mean(autograd.Mul(d, d), axes, true)
	y = autograd.Div(d, autograd.Sqrt(autograd.AddScalar(variance, float32(eps))))
	return y, mean, variance
}

// affine returns y * w + b with w, b [C] broadcast along dimension 1 of y
// (either may be nil).
func affine(y, w, b *autograd.Value) *autograd.Value {
	n := len(y.Shape())
	if w != nil {
		y = autograd.Mul(y, autograd.Reshape(w, channelShape(n, w.Shape()[0])...))
	}
	return addChannelBias(y, b)
}

// BatchNorm is batch normalisation over the channel dimension 1 (Ioffe &
// Szegedy 2015, "Batch Normalization", arXiv:1502.03167), like
// torch.nn.BatchNorm1d (x [N, C] or [N, C, L]) and torch.nn.BatchNorm2d
// (x [N, C, H, W]):
//
//	y = (x - mean) / sqrt(var + Eps) * Weight + Bias
//
// In training mode mean and the biased var are the batch's, per channel,
// and the gradient flows through them; the running statistics are updated
// as r = (1 - Momentum) r + Momentum s with the batch mean, and with the
// unbiased variance (times n/(n-1)) for RunningVar, like PyTorch. In
// evaluation mode the running statistics are used as constants. PyTorch's
// num_batches_tracked counter is not kept (it only matters for
// momentum=None).
type BatchNorm struct {
	Weight      *autograd.Value // [C], init 1; nil (with Bias) for affine=False
	Bias        *autograd.Value // [C], init 0
	RunningMean *tensor.Tensor  // [C], init 0
	RunningVar  *tensor.Tensor  // [C], init 1
	Eps         float64         // default 1e-5
	Momentum    float64         // default 0.1

	twoD     bool // BatchNorm2d: input must be 4-D
	training bool
	est      *bnEstimate // while EstimateStatistics runs: the batches' sums
}

// bnEstimate sums the batch statistics a BatchNorm sees while
// EstimateStatistics runs, in float64 so a thousand batches lose nothing.
type bnEstimate struct {
	n              int
	mean, variance []float64
}

func newBatchNorm(c int, twoD bool) *BatchNorm {
	return &BatchNorm{
		Weight: autograd.Param(tensor.Ones(c)), Bias: autograd.Param(tensor.New(c)),
		RunningMean: tensor.New(c), RunningVar: tensor.Ones(c),
		Eps: 1e-5, Momentum: 0.1, twoD: twoD, training: true,
	}
}

// NewBatchNorm1d returns batch norm for [N, C] or [N, C, L] inputs with c
// channels, PyTorch's defaults, in training mode.
func NewBatchNorm1d(c int) *BatchNorm { return newBatchNorm(c, false) }

// NewBatchNorm2d returns batch norm for [N, C, H, W] inputs with c
// channels, PyTorch's defaults, in training mode.
func NewBatchNorm2d(c int) *BatchNorm { return newBatchNorm(c, true) }

// Forward normalises x. It panics if x's shape does not suit the layer
// (see NewBatchNorm1d, NewBatchNorm2d), or, in training mode, if a channel
// has a single value (its unbiased variance is undefined).
func (b *BatchNorm) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	c := b.RunningMean.Len()
	if (b.twoD && len(xs) != 4) || (!b.twoD && len(xs) != 2 && len(xs) != 3) || xs[1] != c {
		kind := "BatchNorm1d"
		if b.twoD {
			kind = "BatchNorm2d"
		}
		panic(fmt.Sprintf("nn.%s: input shape %v for %d channels", kind, xs, c))
	}
	axes := []int{0}
	for i := 2; i < len(xs); i++ {
		axes = append(axes, i)
	}
	if !b.training {
		n := len(xs)
		inv := tensor.New(c)
		for i, v := range b.RunningVar.Data() {
			inv.Data()[i] = float32(1 / math.Sqrt(float64(v)+b.Eps))
		}
		if !autograd.GradEnabled() {
			// Sampling: one pass, the same bits as the composed ops below.
			var w, bias *tensor.Tensor
			if b.Weight != nil {
				w = b.Weight.Data()
			}
			if b.Bias != nil {
				bias = b.Bias.Data()
			}
			return autograd.Const(tensor.BatchNormEval(x.Data(), b.RunningMean, inv, w, bias))
		}
		mean := autograd.Const(tensor.Reshape(b.RunningMean.Clone(), channelShape(n, c)...))
		y := autograd.Mul(autograd.Sub(x, mean), autograd.Const(tensor.Reshape(inv, channelShape(n, c)...)))
		return affine(y, b.Weight, b.Bias)
	}
	n := x.Data().Len() / c
	if n <= 1 {
		panic(fmt.Sprintf("nn.BatchNorm: input shape %v has one value per channel in training mode", xs))
	}
	// One fused op: forward and first-order backward are single kernels;
	// higher orders differentiate the composed formula.
	y, mean, variance := autograd.BatchNorm(x, b.Weight, b.Bias, b.Eps)
	unbias := float64(n) / float64(n-1)
	if e := b.est; e != nil {
		e.n++
		for i, v := range mean.Data() {
			e.mean[i] += float64(v)
			e.variance[i] += unbias * float64(variance.Data()[i])
		}
		return y
	}
	m := b.Momentum
	rm, rv := b.RunningMean.Data(), b.RunningVar.Data()
	for i := range rm {
		rm[i] = float32((1-m)*float64(rm[i]) + m*float64(mean.Data()[i]))
		rv[i] = float32((1-m)*float64(rv[i]) + m*unbias*float64(variance.Data()[i]))
	}
	return y
}

// TwoD reports whether b is a BatchNorm2d, normalising maps
// [N, C, H, W], rather than a BatchNorm1d.
func (b *BatchNorm) TwoD() bool { return b.twoD }

// Params lists weight and bias (none for affine=False).
func (b *BatchNorm) Params(prefix string) []Param {
	return named(prefix, Param{Name: "weight", Value: b.Weight}, Param{Name: "bias", Value: b.Bias})
}

// Buffers lists running_mean and running_var.
func (b *BatchNorm) Buffers(prefix string) []Buffer {
	return []Buffer{{Name: Join(prefix, "running_mean"), Tensor: b.RunningMean, norm: b}, {Name: Join(prefix, "running_var"), Tensor: b.RunningVar}}
}

// SetTraining chooses batch statistics (true) or running statistics.
func (b *BatchNorm) SetTraining(on bool) { b.training = on }

// InstanceNorm2d normalises each sample's each channel over its spatial
// positions (Ulyanov et al. 2016, "Instance Normalization",
// arXiv:1607.08022), like torch.nn.InstanceNorm2d with
// track_running_stats=False: x [N, C, H, W],
//
//	y = (x - mean_hw) / sqrt(var_hw + Eps) * Weight + Bias
//
// with the biased variance. It behaves the same in training and
// evaluation mode and has no buffers.
type InstanceNorm2d struct {
	Weight *autograd.Value // [C], init 1; nil unless affine
	Bias   *autograd.Value // [C], init 0; nil unless affine
	Eps    float64         // default 1e-5
}

// NewInstanceNorm2d returns instance norm for c channels, with a learnt
// per-channel scale and shift when affine (PyTorch's default is without).
func NewInstanceNorm2d(c int, affine bool) *InstanceNorm2d {
	n := &InstanceNorm2d{Eps: 1e-5}
	if affine {
		n.Weight, n.Bias = autograd.Param(tensor.Ones(c)), autograd.Param(tensor.New(c))
	}
	return n
}

// Forward normalises x [N, C, H, W]. It panics if x is not 4-D or, when
// affine, has the wrong channel count.
func (n *InstanceNorm2d) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	if len(xs) != 4 || (n.Weight != nil && xs[1] != n.Weight.Shape()[0]) {
		panic(fmt.Sprintf("nn.InstanceNorm2d: input shape %v", xs))
	}
	// Each (sample, channel) plane is batch norm's one channel of
	// [1, N*C, H*W]: the fused batch norm (one pass for the statistics in
	// float64, one to normalise, and its fused backward) with the scale and
	// shift repeated for every sample. Written as standardize and affine,
	// the norm took about 15% of a CycleGAN step in eight elementwise passes.
	ns, c := xs[0], xs[1]
	tile := func(p *autograd.Value) *autograd.Value {
		if p == nil {
			return nil
		}
		return autograd.Reshape(autograd.BroadcastTo(autograd.Reshape(p, 1, c), []int{ns, c}), ns*c)
	}
	y, _, _ := autograd.BatchNorm(autograd.Reshape(x, 1, ns*c, xs[2]*xs[3]), tile(n.Weight), tile(n.Bias), n.Eps)
	return autograd.Reshape(y, xs...)
}

// Params lists weight and bias when affine.
func (n *InstanceNorm2d) Params(prefix string) []Param {
	return named(prefix, Param{Name: "weight", Value: n.Weight}, Param{Name: "bias", Value: n.Bias})
}

// Buffers lists nothing: instance norm keeps no running statistics.
func (n *InstanceNorm2d) Buffers(string) []Buffer { return nil }

// SetTraining does nothing: instance norm acts the same in both modes.
func (n *InstanceNorm2d) SetTraining(bool) {}

// LayerNorm normalises over the trailing dimensions given by its shape (Ba
// et al. 2016, "Layer Normalization", arXiv:1607.06450), like
// torch.nn.LayerNorm: for x [..., S...] with S the normalised shape,
//
//	y = (x - mean_S) / sqrt(var_S + Eps) * Weight + Bias
//
// with the biased variance and Weight, Bias of shape S.
type LayerNorm struct {
	Weight *autograd.Value // shape S, init 1; nil (with Bias) for elementwise_affine=False
	Bias   *autograd.Value // shape S, init 0
	Eps    float64         // default 1e-5
	shape  []int
}

// NewLayerNorm returns layer norm over trailing dimensions of the given
// shape, with elementwise affine parameters.
func NewLayerNorm(shape ...int) *LayerNorm {
	return &LayerNorm{
		Weight: autograd.Param(tensor.Ones(shape...)), Bias: autograd.Param(tensor.New(shape...)),
		Eps: 1e-5, shape: append([]int(nil), shape...),
	}
}

// Forward normalises x over its trailing dimensions. It panics if they do
// not match the layer's shape.
func (l *LayerNorm) Forward(x *autograd.Value) *autograd.Value {
	xs := x.Shape()
	k := len(l.shape)
	if len(xs) < k || !tensor.SameShape(xs[len(xs)-k:], l.shape) {
		panic(fmt.Sprintf("nn.LayerNorm: input shape %v for normalised shape %v", xs, l.shape))
	}
	axes := make([]int, k)
	for i := range axes {
		axes[i] = len(xs) - k + i
	}
	y, _, _ := standardize(x, axes, l.Eps)
	if l.Weight != nil {
		y = autograd.Mul(y, l.Weight)
	}
	if l.Bias != nil {
		y = autograd.Add(y, l.Bias)
	}
	return y
}

// Params lists weight and bias.
func (l *LayerNorm) Params(prefix string) []Param {
	return named(prefix, Param{Name: "weight", Value: l.Weight}, Param{Name: "bias", Value: l.Bias})
}

// Buffers lists nothing.
func (l *LayerNorm) Buffers(string) []Buffer { return nil }

// SetTraining does nothing: layer norm acts the same in both modes.
func (l *LayerNorm) SetTraining(bool) {}
