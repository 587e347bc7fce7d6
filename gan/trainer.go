package gan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

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

// Game is a two-player GAN variant: what the discriminator and the
// generator see at each update and which terms their losses add up to.
// TwoPlayer turns a Game into the Trainer's phases, so a new variant
// (conditional, InfoGAN, BiGAN) is a new Game; a model with other players
// (a VAE, an AAE, CycleGAN) gives the Trainer its phases directly.
type Game interface {
	// DiscriminatorTerms builds the terms of one discriminator update.
	DiscriminatorTerms(step int) []Term
	// GeneratorTerms builds the terms of one generator update.
	GeneratorTerms(step int) []Term
}

// Logs are the scalars of one training step, keyed "<player>/<term>",
// "<player>/loss" and "lr/<player>" ("d/gp", "g/loss", "lr/d", ...).
type Logs map[string]float64

// Callback runs after every step; an error stops training and is returned
// by Run.
type Callback func(t *Trainer, logs Logs) error

// Player is one side of the game: a module (which may hold several
// networks) trained by one optimizer. Its Name keys its logs and its
// checkpoint groups.
type Player struct {
	Name   string
	Module nn.Module
	Opt    optim.Optimizer
	// LR, when set, gives each step's learning rate (TTUR is two players
	// with different rates); nil keeps the rate the optimizer was made
	// with. Rollbacks scale either.
	LR optim.Schedule
	// Clip, when positive, clamps every parameter to [-Clip, Clip] after
	// each of the player's updates (WGAN's weight clipping).
	Clip float32
	// EMA, when set, tracks the player's weights; it is updated at the end
	// of every step in which the player was updated.
	EMA *optim.EMA

	baseLR float32 // the optimizer's rate before any schedule or rollback
}

// Evaluate puts the player's module into evaluation mode with its EMA
// weights, when it keeps an EMA, and the buffers derived from weights
// (spectral norm's u and v) fitted to them; the function it returns puts
// the trained weights and training mode back. The fitted buffers stay with
// the EMA's shadows, so the trained ones are left as they were.
//
//	defer p.Evaluate()()
func (p *Player) Evaluate() (restore func()) {
	if p.EMA != nil {
		p.EMA.Swap()
		nn.SyncBuffers(p.Module)
	}
	p.Module.SetTraining(false)
	return func() {
		p.Module.SetTraining(true)
		if p.EMA != nil {
			p.EMA.Swap()
		}
	}
}

// Phase is one kind of update within a training step: which player updates,
// how often, and the terms of its loss.
type Phase struct {
	Player *Player
	// Repeat is the number of updates per step (n_critic); 0 means 1.
	Repeat int
	// Every runs the phase only on steps divisible by it (lazy
	// regularisation); 0 means every step.
	Every int
	// Terms builds the terms of one update at a step.
	Terms func(step int) []Term
	// Keep lists players whose parameters keep their gradients in this
	// phase, because a later phase of the step backpropagates through a
	// graph built here (a fake batch reused for G's update). The phase's
	// intermediates then live until the end of the step, not the update.
	Keep []*Player
}

// FakeReuser is a Game whose generator update reuses the fake batch of the
// discriminator's last update in the same step (PyTorch's DCGAN example;
// one generator pass per step fewer) instead of drawing fresh noise
// (Goodfellow et al.'s Algorithm 1). TwoPlayer keeps G's gradients in D's
// phase for such a game.
type FakeReuser interface {
	ReusesFake() bool
}

// TwoPlayer returns the phases of the classic game: nCritic updates of d,
// then nGen of g (0 counts as 1). More than one update of g per step is
// what the code behind PacGAN's Stacked MNIST rows does (carpedm20's
// DCGAN, which runs G's optimizer twice "to make sure that d_loss does not
// go to zero"); each of g's updates draws its own fake batch, but for the
// first under a FakeReuser.
func TwoPlayer(game Game, g, d *Player, nCritic, nGen int) []Phase {
	ph := []Phase{{Player: d, Repeat: nCritic, Terms: game.DiscriminatorTerms}, {Player: g, Repeat: nGen, Terms: game.GeneratorTerms}}
	if r, ok := game.(FakeReuser); ok && r.ReusesFake() {
		ph[0].Keep = []*Player{g}
	}
	return ph
}

// Trainer runs a list of phases for a number of steps. It owns the order of
// updates, learning-rate schedules, clipping, EMA, divergence checks,
// rollback and callbacks; what a player's loss is belongs to the phase.
//
// In a phase, only the updating player's parameters need gradients: every
// other player's parameters (those it does not share) are frozen for it, so
// no work is spent on gradients nobody applies.
type Trainer struct {
	// Players lists every player: their weights are checked for NaN after
	// each step and kept by Rollback. Phases name players from this list.
	Players []*Player
	Phases  []Phase
	// Steps is the number of steps to train for (a step runs every phase
	// once); Step counts the completed ones, so a resumed trainer starts
	// from the restored value.
	Steps, Step int
	Callbacks   []Callback
	// Rollback, when set, recovers from divergence instead of stopping.
	Rollback *Rollback
	// Rollbacks counts the recoveries so far, and LRScale is the product
	// of their learning-rate factors (1 before any; 0 means 1). Both belong
	// in a checkpoint, so a resumed run keeps the reduced rates.
	Rollbacks int
	LRScale   float32
	// AllReduce, when set, runs after a player's backward pass and before
	// its optimizer step: the place where data-parallel training sums the
	// gradients of every rank.
	AllReduce func(p *Player) error

	snap *snapshot
}

// Player returns the player with the given name, or nil.
func (t *Trainer) Player(name string) *Player {
	for _, p := range t.Players {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Rollback recovers from divergence the way practitioners do by hand: go
// back to the last good state and retry with smaller steps. Every Every
// steps the Trainer keeps an in-memory copy of every player's weights and
// buffers, optimizer state and EMA; a DivergenceError restores that copy,
// multiplies every learning rate by LRFactor from then on and carries on,
// at most MaxRetries times (after that the error is returned). The random
// streams are not rewound, so the retry sees fresh batches; the run stays
// reproducible from its seed.
type Rollback struct {
	Every      int     // steps between snapshots; default 100
	LRFactor   float32 // learning-rate multiplier per rollback; default 0.5
	MaxRetries int     // default 3
	// OnRollback, when set, is told of each recovery: the error and the
	// step training resumes from.
	OnRollback func(err *DivergenceError, resumeStep int)
}

// snapshot is the state Rollback restores, by player.
type snapshot struct {
	step          int
	net, opt, ema []map[string]*tensor.Tensor
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

// Error names the step and the value that was not finite, and what to try.
func (e *DivergenceError) Error() string {
	return fmt.Sprintf("step %d: %s is %v: training diverged (lower the learning rate, or add a penalty or spectral norm)", e.Step, e.What, e.V)
}

// Run trains until Steps steps are done, ctx is cancelled (ErrStopped,
// after the current step), a callback fails, or training diverges
// (*DivergenceError, unless Rollback recovers from it).
func (t *Trainer) Run(ctx context.Context) error {
	if err := t.check(); err != nil {
		return err
	}
	if t.LRScale == 0 {
		t.LRScale = 1
	}
	for _, p := range t.Players {
		if p.baseLR == 0 {
			p.baseLR = p.Opt.LR()
		}
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
		t.LRScale *= t.Rollback.factor()
		if t.Rollback.OnRollback != nil {
			t.Rollback.OnRollback(div, t.Step)
		}
	}
}

// check reports a phase whose player is not in Players, or a player
// without a module or optimizer: wiring mistakes of the model's builder.
func (t *Trainer) check() error {
	for _, p := range t.Players {
		if p.Module == nil || p.Opt == nil {
			return fmt.Errorf("gan: player %q has no module or optimizer", p.Name)
		}
	}
	if len(t.Phases) == 0 {
		return errors.New("gan: a trainer needs at least one phase")
	}
	for i, ph := range t.Phases {
		if ph.Player == nil || t.Player(ph.Player.Name) != ph.Player || ph.Terms == nil {
			return fmt.Errorf("gan: phase %d: its player is not one of the trainer's players, or it has no terms", i)
		}
	}
	return nil
}

func (t *Trainer) run(ctx context.Context) error {
	if t.Rollback != nil && t.snap == nil {
		t.snapshot()
	}
	for t.Step < t.Steps {
		if ctx.Err() != nil {
			return ErrStopped
		}
		logs := Logs{}
		for _, p := range t.Players {
			t.setLR(p)
			logs["lr/"+p.Name] = float64(p.Opt.LR())
		}
		updated := map[*Player]bool{}
		if err := t.phases(logs, updated); err != nil {
			return err
		}
		for _, p := range t.Players {
			if p.EMA != nil && updated[p] {
				p.EMA.Update()
			}
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

// phases runs one step's phases inside a step arena, which holds what a
// phase with Keep builds for a later one.
func (t *Trainer) phases(logs Logs, updated map[*Player]bool) error {
	arena := tensor.OpenArena()
	defer arena.Close()
	for _, ph := range t.Phases {
		if ph.Every > 1 && t.Step%ph.Every != 0 {
			continue
		}
		frozen := t.freezeOthers(ph.Player, ph.Keep)
		var err error
		for range max(ph.Repeat, 1) {
			if err = t.update(ph, logs); err != nil {
				break
			}
		}
		setRequiresGrad(frozen, true)
		if err != nil {
			return err
		}
		updated[ph.Player] = true
	}
	return nil
}

// freezeOthers turns off gradients for the parameters of every player but
// p and keep (except those they share) and returns them, to be turned back
// on.
func (t *Trainer) freezeOthers(p *Player, keep []*Player) []*ag.Value {
	own := map[*ag.Value]bool{}
	for _, q := range append([]*Player{p}, keep...) {
		for _, v := range nn.Parameters(q.Module) {
			own[v] = true
		}
	}
	var frozen []*ag.Value
	for _, q := range t.Players {
		if q == p || slices.Contains(keep, q) {
			continue
		}
		for _, v := range nn.Parameters(q.Module) {
			if !own[v] && v.RequiresGrad() {
				frozen = append(frozen, v)
			}
		}
	}
	setRequiresGrad(frozen, false)
	return frozen
}

// setLR sets a player's rate from its schedule (or its base rate when it
// has none), scaled down by any rollbacks.
func (t *Trainer) setLR(p *Player) {
	switch {
	case p.LR != nil:
		p.Opt.SetLR(p.LR.LR(t.Step) * t.LRScale)
	case t.LRScale != 1:
		p.Opt.SetLR(p.baseLR * t.LRScale)
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
		s := &snapshot{step: t.Step}
		for _, p := range t.Players {
			var ema map[string]*tensor.Tensor
			if p.EMA != nil {
				ema = p.EMA.State()
			}
			s.net, s.opt, s.ema = append(s.net, moduleState(p.Module)), append(s.opt, p.Opt.State()), append(s.ema, ema)
		}
		t.snap = s
	})
}

func (t *Trainer) restore() error {
	s := t.snap
	for i, p := range t.Players {
		if err := nn.LoadState(p.Module, s.net[i]); err != nil {
			return fmt.Errorf("player %s: %w", p.Name, err)
		}
		if err := p.Opt.LoadState(s.opt[i]); err != nil {
			return fmt.Errorf("player %s: optimizer: %w", p.Name, err)
		}
		if p.EMA != nil {
			if err := p.EMA.LoadState(s.ema[i]); err != nil {
				return fmt.Errorf("player %s: EMA: %w", p.Name, err)
			}
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

// update runs one optimizer update of a phase's player inside an update
// arena, so its intermediates are reused by the next update (in the step
// arena instead for a phase with Keep).
func (t *Trainer) update(ph Phase, logs Logs) error {
	p := ph.Player
	if len(ph.Keep) == 0 {
		arena := tensor.OpenArena()
		defer arena.Close()
	}
	ts := ph.Terms(t.Step)
	var loss *ag.Value
	for _, term := range ts {
		v := float64(term.Value.Item())
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &DivergenceError{Step: t.Step, What: p.Name + "/" + term.Name, V: v}
		}
		logs[p.Name+"/"+term.Name] = v
		if loss == nil {
			loss = term.Value
		} else {
			loss = ag.Add(loss, term.Value)
		}
	}
	if loss == nil {
		return fmt.Errorf("step %d: the phase of player %s gave no terms", t.Step, p.Name)
	}
	logs[p.Name+"/loss"] = float64(loss.Item())
	p.Opt.ZeroGrad()
	ag.Backward(loss)
	if t.AllReduce != nil {
		if err := t.AllReduce(p); err != nil {
			return fmt.Errorf("step %d: all-reduce of player %s: %w", t.Step, p.Name, err)
		}
	}
	p.Opt.Step()
	if p.Clip > 0 {
		clip(nn.Parameters(p.Module), p.Clip)
	}
	return nil
}

func (t *Trainer) checkWeights() error {
	for _, pl := range t.Players {
		for _, p := range pl.Module.Params("") {
			if tensor.AllFinite(p.Value.Data()) {
				continue
			}
			for _, v := range p.Value.Data().Data() { // find the value to report
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return &DivergenceError{Step: t.Step, What: "weight " + pl.Name + "." + p.Name, V: float64(v)}
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
