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
// diverges (*DivergenceError).
func (t *Trainer) Run(ctx context.Context) error {
	if t.NCritic <= 0 {
		t.NCritic = 1
	}
	dParams := nn.Parameters(t.D)
	for t.Step < t.Steps {
		if ctx.Err() != nil {
			return ErrStopped
		}
		logs := Logs{}
		if t.LRD != nil {
			t.OptD.SetLR(t.LRD.LR(t.Step))
		}
		if t.LRG != nil {
			t.OptG.SetLR(t.LRG.LR(t.Step))
		}
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
		for _, cb := range t.Callbacks {
			if err := cb(t, logs); err != nil {
				return err
			}
		}
	}
	return nil
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
