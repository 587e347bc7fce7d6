package gan

import (
	"context"
	"errors"
	"fmt"
	"math"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// Term is one named summand of a loss, so that logs and divergence errors
// can say which part of the objective did what.
type Term struct {
	Name  string
	Value *ag.Value
}

// Game is a GAN variant: what the discriminator and the generator see at
// each update and which terms their losses add up to. The Trainer owns
// everything else (alternation, optimizers, schedules, EMA, callbacks), so a
// new variant (conditional, InfoGAN, BiGAN, CycleGAN) is a new Game.
type Game interface {
	// DiscriminatorTerms builds the terms of one discriminator update.
	DiscriminatorTerms(step int) []Term
	// GeneratorTerms builds the terms of one generator update.
	GeneratorTerms(step int) []Term
}

// Logs are the scalars of one training step, keyed "d/<term>", "g/<term>",
// "d/loss", "g/loss", "lr/d", "lr/g".
type Logs map[string]float64

// Callback runs after every step; an error stops training and is returned
// by Run.
type Callback func(t *Trainer, logs Logs) error

// Trainer alternates discriminator and generator updates.
type Trainer struct {
	Game       Game
	G, D       nn.Module
	OptG, OptD optim.Optimizer
	// LRG and LRD, when set, give each step's learning rate (TTUR is two
	// different schedules or base rates).
	LRG, LRD optim.Schedule
	// NCritic discriminator updates per generator update; default 1.
	NCritic int
	// Steps is the number of generator updates to train for.
	Steps int
	// ClipD, when positive, clamps every discriminator parameter to
	// [-ClipD, ClipD] after each of its updates (WGAN's weight clipping).
	ClipD float32
	// EMA, when set, tracks the generator's weights and is updated after
	// every generator update.
	EMA       *optim.EMA
	Callbacks []Callback
	// Step counts completed generator updates; a resumed trainer starts
	// from the restored value.
	Step int
	// Rollback, when set, recovers from divergence instead of stopping.
	Rollback *Rollback
	// Rollbacks counts the recoveries so far.
	Rollbacks int

	lrScale float32
	baseLRG float32
	baseLRD float32
	snap    *snapshot
}

// Rollback recovers from divergence the way practitioners do by hand: go
// back to the last good state and retry with smaller steps. Every Every
// generator steps the Trainer keeps an in-memory copy of both players'
// weights and buffers, both optimizers' states and the EMA; a
// DivergenceError restores that copy, multiplies both learning rates by
// LRFactor from then on and carries on, at most MaxRetries times (after
// that the error is returned). The random streams are not rewound, so the
// retry sees fresh batches; the run stays reproducible from its seed.
type Rollback struct {
	Every      int     // steps between snapshots; default 100
	LRFactor   float32 // learning-rate multiplier per rollback; default 0.5
	MaxRetries int     // default 3
	// OnRollback, when set, is told of each recovery: the error and the
	// step training resumes from.
	OnRollback func(err *DivergenceError, resumeStep int)
}

// snapshot is the state Rollback restores.
type snapshot struct {
	step       int
	g, d, ema  map[string]*tensor.Tensor
	optG, optD map[string]*tensor.Tensor
}

// ErrStopped is returned by Run when its context is cancelled; the step
// counter and weights are those after the last completed step.
var ErrStopped = errors.New("training stopped")

// DivergenceError reports a non-finite loss term or weight.
type DivergenceError struct {
	Step int
	What string // "d/gp", "g/loss", "weight gen.0.weight", ...
	V    float64
}

func (e *DivergenceError) Error() string {
	return fmt.Sprintf("step %d: %s is %v: training diverged (lower the learning rate, or add a penalty or spectral norm)", e.Step, e.What, e.V)
}

// Run trains until Steps generator updates are done, ctx is cancelled
// (ErrStopped, after the current step), a callback fails, or training
// diverges (*DivergenceError, unless Rollback recovers from it).
func (t *Trainer) Run(ctx context.Context) error {
	if t.NCritic <= 0 {
		t.NCritic = 1
	}
	if t.lrScale == 0 {
		t.lrScale, t.baseLRG, t.baseLRD = 1, t.OptG.LR(), t.OptD.LR()
	}
	for {
		err := t.run(ctx)
		var div *DivergenceError
		if t.Rollback == nil || !errors.As(err, &div) || t.Rollbacks >= t.Rollback.retries() {
			return err
		}
		if rerr := t.restore(); rerr != nil {
			return fmt.Errorf("%w; rolling back: %v", err, rerr)
		}
		t.Rollbacks++
		t.lrScale *= t.Rollback.factor()
		if t.Rollback.OnRollback != nil {
			t.Rollback.OnRollback(div, t.Step)
		}
	}
}

func (t *Trainer) run(ctx context.Context) error {
	dParams := nn.Parameters(t.D)
	if t.Rollback != nil && t.snap == nil {
		t.snapshot()
	}
	for t.Step < t.Steps {
		if ctx.Err() != nil {
			return ErrStopped
		}
		logs := Logs{}
		t.setLR(t.OptD, t.LRD, t.baseLRD)
		t.setLR(t.OptG, t.LRG, t.baseLRG)
		logs["lr/d"], logs["lr/g"] = float64(t.OptD.LR()), float64(t.OptG.LR())
		for k := 0; k < t.NCritic; k++ {
			if err := t.update("d", t.Game.DiscriminatorTerms, t.OptD, logs); err != nil {
				return err
			}
			if t.ClipD > 0 {
				clip(dParams, t.ClipD)
			}
		}
		// D's parameters need no gradient in G's update: skip that work.
		setRequiresGrad(dParams, false)
		err := t.update("g", t.Game.GeneratorTerms, t.OptG, logs)
		setRequiresGrad(dParams, true)
		if err != nil {
			return err
		}
		if t.EMA != nil {
			t.EMA.Update()
		}
		t.Step++
		if err := t.checkWeights(); err != nil {
			return err
		}
		if t.Rollback != nil && t.Step%t.Rollback.every() == 0 {
			t.snapshot()
		}
		for _, cb := range t.Callbacks {
			if err := cb(t, logs); err != nil {
				return err
			}
		}
	}
	return nil
}

// setLR sets an optimizer's rate from its schedule (or its base rate when
// there is none), scaled down by any rollbacks.
func (t *Trainer) setLR(opt optim.Optimizer, s optim.Schedule, base float32) {
	switch {
	case s != nil:
		opt.SetLR(s.LR(t.Step) * t.lrScale)
	case t.lrScale != 1:
		opt.SetLR(base * t.lrScale)
	}
}

func (r *Rollback) every() int {
	if r.Every <= 0 {
		return 100
	}
	return r.Every
}

func (r *Rollback) factor() float32 {
	if r.LRFactor <= 0 || r.LRFactor >= 1 {
		return 0.5
	}
	return r.LRFactor
}

func (r *Rollback) retries() int {
	if r.MaxRetries <= 0 {
		return 3
	}
	return r.MaxRetries
}

// snapshot copies the state Rollback restores.
func (t *Trainer) snapshot() {
	tensor.Persistent(func() {
		s := &snapshot{step: t.Step, g: moduleState(t.G), d: moduleState(t.D), optG: t.OptG.State(), optD: t.OptD.State()}
		if t.EMA != nil {
			s.ema = t.EMA.State()
		}
		t.snap = s
	})
}

func (t *Trainer) restore() error {
	s := t.snap
	if err := nn.LoadState(t.G, s.g); err != nil {
		return fmt.Errorf("generator: %w", err)
	}
	if err := nn.LoadState(t.D, s.d); err != nil {
		return fmt.Errorf("discriminator: %w", err)
	}
	if err := t.OptG.LoadState(s.optG); err != nil {
		return fmt.Errorf("generator optimizer: %w", err)
	}
	if err := t.OptD.LoadState(s.optD); err != nil {
		return fmt.Errorf("discriminator optimizer: %w", err)
	}
	if t.EMA != nil {
		if err := t.EMA.LoadState(s.ema); err != nil {
			return fmt.Errorf("EMA: %w", err)
		}
	}
	t.Step = s.step
	return nil
}

// moduleState copies m's parameters and buffers by name.
func moduleState(m nn.Module) map[string]*tensor.Tensor {
	r := map[string]*tensor.Tensor{}
	for _, b := range nn.State(m) {
		r[b.Name] = b.Tensor.Clone()
	}
	return r
}

// update runs one optimizer update of one player inside a step arena, so
// its intermediates are reused by the next update.
func (t *Trainer) update(who string, terms func(int) []Term, opt optim.Optimizer, logs Logs) error {
	arena := tensor.OpenArena()
	defer arena.Close()
	ts := terms(t.Step)
	var loss *ag.Value
	for _, term := range ts {
		v := float64(term.Value.Item())
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &DivergenceError{Step: t.Step, What: who + "/" + term.Name, V: v}
		}
		logs[who+"/"+term.Name] = v
		if loss == nil {
			loss = term.Value
		} else {
			loss = ag.Add(loss, term.Value)
		}
	}
	if loss == nil {
		return fmt.Errorf("step %d: the game gave no %s terms", t.Step, who)
	}
	logs[who+"/loss"] = float64(loss.Item())
	opt.ZeroGrad()
	ag.Backward(loss)
	opt.Step()
	return nil
}

func (t *Trainer) checkWeights() error {
	for _, m := range []nn.Module{t.G, t.D} {
		for _, p := range m.Params("") {
			for _, v := range p.Value.Data().Data() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return &DivergenceError{Step: t.Step, What: "weight " + p.Name, V: float64(v)}
				}
			}
		}
	}
	return nil
}

func clip(ps []*ag.Value, c float32) {
	for _, p := range ps {
		d := p.Data().Data()
		for i, v := range d {
			d[i] = min(max(v, -c), c)
		}
	}
}

func setRequiresGrad(ps []*ag.Value, on bool) {
	for _, p := range ps {
		p.SetRequiresGrad(on)
	}
}
