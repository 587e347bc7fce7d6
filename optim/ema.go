package optim

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/internal/parallel"
	"github.com/kallima-gan/kallima/tensor"
)

// EMAConfig holds the settings of an exponential moving average of weights.
type EMAConfig struct {
	// Decay β in [0, 1]: each Update sets shadow ← β·shadow + (1−β)·live.
	// 0.999 or 0.9999 are common for generators (Karras et al.,
	// "Progressive Growing of GANs", arXiv:1710.10196; Yazıcı et al., "The
	// Unusual Effectiveness of Averaging in GAN Training", arXiv:1806.04498).
	Decay float32
	// Warmup uses β_n = min(Decay, (1+n)/(10+n)) at the update that follows
	// n earlier ones (TensorFlow's ExponentialMovingAverage with
	// num_updates), so early shadows are not dominated by the initial
	// weights.
	Warmup bool
	// CopyBuffers copies buffers (for example batch-norm running
	// statistics) into their shadows at each Update instead of averaging
	// them.
	CopyBuffers bool
}

func (c EMAConfig) validate() error {
	if !(c.Decay >= 0 && c.Decay <= 1) {
		return fmt.Errorf("invalid decay %v, want [0, 1]", c.Decay)
	}
	return nil
}

// EMA keeps shadow copies of parameters (and buffers) that track an
// exponential moving average of their values, for evaluating or sampling a
// generator with averaged weights. The shadows start as copies of the live
// values. Swap (twice) or CopyTo put the averaged weights into the model.
type EMA struct {
	params   []*autograd.Value
	buffers  []*tensor.Tensor
	cfg      EMAConfig
	n        int              // updates so far
	shadow   []*tensor.Tensor // one per parameter
	shadowBf []*tensor.Tensor // one per buffer
}

// NewEMA returns an EMA of params and buffers (buffers may be nil) whose
// shadows are copies of their current values. It returns an error if the
// configuration is invalid, params repeats a Value, or both lists are
// empty.
func NewEMA(params []*autograd.Value, buffers []*tensor.Tensor, cfg EMAConfig) (*EMA, error) {
	if len(params) > 0 {
		if err := checkParams("NewEMA", params); err != nil {
			return nil, err
		}
	} else if len(buffers) == 0 {
		return nil, fmt.Errorf("optim.NewEMA: no parameters or buffers")
	}
	for i, b := range buffers {
		if b == nil {
			return nil, fmt.Errorf("optim.NewEMA: buffer %d is nil", i)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("optim.NewEMA: %w", err)
	}
	e := &EMA{params: params, buffers: buffers, cfg: cfg}
	tensor.Persistent(func() {
		e.shadow = make([]*tensor.Tensor, len(params))
		for i, p := range params {
			e.shadow[i] = p.Data().Clone()
		}
		e.shadowBf = make([]*tensor.Tensor, len(buffers))
		for i, b := range buffers {
			e.shadowBf[i] = b.Clone()
		}
	})
	return e, nil
}

// Config returns the EMA's settings.
func (e *EMA) Config() EMAConfig { return e.cfg }

// Updates returns how many times Update has run.
func (e *EMA) Updates() int { return e.n }

// Decay returns the β the next Update will use.
func (e *EMA) Decay() float32 {
	if !e.cfg.Warmup {
		return e.cfg.Decay
	}
	n := float64(e.n)
	return float32(math.Min(float64(e.cfg.Decay), (1+n)/(10+n)))
}

// Update moves every shadow towards its live value:
// shadow ← β·shadow + (1−β)·live, with β from Decay; buffers are copied
// instead when CopyBuffers is set. It allocates nothing.
func (e *EMA) Update() {
	beta := e.Decay()
	c := float32(1 - float64(beta))
	for i, p := range e.params {
		average(e.shadow[i], p.Data(), beta, c)
	}
	for i, b := range e.buffers {
		if e.cfg.CopyBuffers {
			e.shadowBf[i].CopyFrom(b)
		} else {
			average(e.shadowBf[i], b, beta, c)
		}
	}
	e.n++
}

func average(shadow, live *tensor.Tensor, beta, c float32) {
	s, x := shadow.Data(), live.Data()
	if len(s) != len(x) {
		panic(fmt.Sprintf("optim.EMA.Update: live shape %v, shadow shape %v", live.Shape(), shadow.Shape()))
	}
	x = x[:len(s)]
	if len(s) < 2*parallel.Grain {
		blend(s, x, beta, c)
		return
	}
	blendParallel(s, x, beta, c)
}

// blendParallel is blend in blocks on several goroutines (a function of its
// own so that small tensors' updates allocate no closure).
func blendParallel(s, x []float32, beta, c float32) {
	parallel.For(len(s), 1, func(lo, hi int) { blend(s[lo:hi], x[lo:hi], beta, c) })
}

// blend sets s = beta*s + c*x elementwise (x of s's length).
func blend(s, x []float32, beta, c float32) {
	x = x[:len(s)]
	for j := range s {
		s[j] = s[j]*beta + c*x[j]
	}
}

// CopyTo writes the shadows into the live parameters and buffers, replacing
// the trained weights (see Swap to keep them).
func (e *EMA) CopyTo() {
	for i, p := range e.params {
		p.Data().CopyFrom(e.shadow[i])
	}
	for i, b := range e.buffers {
		b.CopyFrom(e.shadowBf[i])
	}
}

// CopyFrom resets the shadows to the live values (the update count is kept).
func (e *EMA) CopyFrom() {
	for i, p := range e.params {
		e.shadow[i].CopyFrom(p.Data())
	}
	for i, b := range e.buffers {
		e.shadowBf[i].CopyFrom(b)
	}
}

// Swap exchanges the live values and the shadows element by element, so a
// model can be evaluated with the averaged weights and a second Swap puts
// the trained weights back. It allocates nothing.
func (e *EMA) Swap() {
	for i, p := range e.params {
		swap(p.Data(), e.shadow[i])
	}
	for i, b := range e.buffers {
		swap(b, e.shadowBf[i])
	}
}

func swap(a, b *tensor.Tensor) {
	x, y := a.Data(), b.Data()
	if len(x) != len(y) {
		panic(fmt.Sprintf("optim.EMA.Swap: live shape %v, shadow shape %v", a.Shape(), b.Shape()))
	}
	y = y[:len(x)]
	for j := range x {
		x[j], y[j] = y[j], x[j]
	}
}

// Shadows returns the shadow tensors of the parameters and of the buffers,
// in the order given to NewEMA (shared, not copies: for saving the averaged
// weights; do not modify them).
func (e *EMA) Shadows() (params, buffers []*tensor.Tensor) { return e.shadow, e.shadowBf }

// State returns copies of "ema.updates" (the update count), "ema.param.i",
// "ema.buffer.i" (the shadows) and the settings "ema.decay", "ema.warmup"
// and "ema.copy_buffers" (0 or 1).
func (e *EMA) State() map[string]*tensor.Tensor {
	w := newStateWriter("ema.")
	w.scalar("updates", float32(e.n))
	w.tensors("param", e.shadow)
	w.tensors("buffer", e.shadowBf)
	w.scalar("decay", e.cfg.Decay)
	w.flag("warmup", e.cfg.Warmup)
	w.flag("copy_buffers", e.cfg.CopyBuffers)
	return w.m
}

// LoadState restores a state saved by State, settings included. It returns
// an error, leaving the EMA unchanged, if a key is missing or a tensor has
// the wrong shape or an invalid value.
func (e *EMA) LoadState(state map[string]*tensor.Tensor) error {
	r := newStateReader("EMA", "ema.", state)
	cfg := EMAConfig{
		Decay:       r.scalar("decay"),
		Warmup:      r.flag("warmup"),
		CopyBuffers: r.flag("copy_buffers"),
	}
	n := r.scalar("updates")
	if r.err == nil && (n < 0 || n > maxExactStep || n != float32(math.Trunc(float64(n)))) {
		r.fail("%q is %v, want a non-negative integer", "ema.updates", n)
	}
	shadow := r.tensors("param", shapesOf(e.params))
	bshapes := make([][]int, len(e.buffers))
	for i, b := range e.buffers {
		bshapes[i] = b.Shape()
	}
	shadowBf := r.tensors("buffer", bshapes)
	if r.err != nil {
		return r.err
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("optim.EMA.LoadState: %w", err)
	}
	e.cfg = cfg
	e.n = int(n)
	copyAll(&e.shadow, shadow)
	copyAll(&e.shadowBf, shadowBf)
	return nil
}
