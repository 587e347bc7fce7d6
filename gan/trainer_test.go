package gan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// countingGame is a game whose players are one linear layer each; it counts
// the updates and can inject a NaN term.
type countingGame struct {
	g, d        *nn.Linear
	dCalls      int
	gCalls      int
	nanAt       int  // G step whose D term is NaN (-1: never)
	nanOnce     bool // inject the NaN only the first time
	dSawGradOnD bool
	gSawGradOnD bool
	dParamsOfG  []*ag.Value
}

func (c *countingGame) DiscriminatorTerms(step int) []Term {
	c.dCalls++
	c.dSawGradOnD = c.d.Weight.RequiresGrad()
	x := ag.Const(tensor.Full(1, 4, 3))
	v := ag.Mean(c.d.Forward(x), nil, false)
	if step == c.nanAt {
		v = ag.Mul(v, ag.Scalar(float32(math.NaN())))
		if c.nanOnce {
			c.nanAt = -1
		}
	}
	return []Term{{Name: "main", Value: v}, {Name: "extra", Value: ag.Scale(v, 0)}}
}

func (c *countingGame) GeneratorTerms(step int) []Term {
	c.gCalls++
	c.gSawGradOnD = c.d.Weight.RequiresGrad()
	z := ag.Const(tensor.Full(1, 4, 2))
	return []Term{{Name: "main", Value: ag.Mean(c.d.Forward(c.g.Forward(z)), nil, false)}}
}

func newCounting(t *testing.T) (*countingGame, *Trainer) {
	rng := tensor.NewRNG(1)
	g, d := nn.NewLinear(2, 3, rng), nn.NewLinear(3, 1, rng)
	cg := &countingGame{g: g, d: d, nanAt: -1}
	og, err := optim.NewSGD(nn.Parameters(g), optim.SGDConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	od, err := optim.NewSGD(nn.Parameters(d), optim.SGDConfig{LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	pg, pd := &Player{Name: "g", Module: g, Opt: og}, &Player{Name: "d", Module: d, Opt: od}
	return cg, &Trainer{Players: []*Player{pg, pd}, Phases: TwoPlayer(cg, pg, pd, 3, 1), Steps: 4}
}

func TestTrainerAlternation(t *testing.T) {
	cg, tr := newCounting(t)
	var logged []Logs
	tr.Callbacks = append(tr.Callbacks, func(_ *Trainer, l Logs) error { logged = append(logged, l); return nil })
	before := cg.g.Weight.Data().Clone()
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cg.dCalls != 12 || cg.gCalls != 4 || tr.Step != 4 {
		t.Fatalf("D updates %d, G updates %d, step %d: want 12, 4, 4 (n_critic 3)", cg.dCalls, cg.gCalls, tr.Step)
	}
	if !cg.dSawGradOnD || cg.gSawGradOnD || !cg.d.Weight.RequiresGrad() {
		t.Fatal("D's parameters should need gradients in D's update only, and be restored after G's")
	}
	if len(logged) != 4 || logged[0]["d/main"] == 0 || logged[0]["lr/g"] != float64(float32(0.1)) {
		t.Fatalf("logs %v", logged)
	}
	if _, ok := logged[0]["g/loss"]; !ok {
		t.Fatal("no g/loss logged")
	}
	same := true
	for i, v := range cg.g.Weight.Data().Data() {
		same = same && v == before.Data()[i]
	}
	if same {
		t.Fatal("the generator did not change")
	}
}

// TestTrainerGSteps: g_steps 2 makes two G updates after each D update.
func TestTrainerGSteps(t *testing.T) {
	cg, tr := newCounting(t)
	tr.Phases = TwoPlayer(cg, tr.Player("g"), tr.Player("d"), 1, 2)
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cg.dCalls != 4 || cg.gCalls != 8 || tr.Step != 4 {
		t.Fatalf("D updates %d, G updates %d, step %d: want 4, 8, 4 (g_steps 2)", cg.dCalls, cg.gCalls, tr.Step)
	}
}

func TestTrainerDivergenceNamesTerm(t *testing.T) {
	cg, tr := newCounting(t)
	cg.nanAt = 2
	err := tr.Run(context.Background())
	var de *DivergenceError
	if !errors.As(err, &de) || de.Step != 2 || de.What != "d/main" || !strings.Contains(err.Error(), "step 2") {
		t.Fatalf("error %v, want a DivergenceError at step 2 naming d/main", err)
	}
}

func TestTrainerRollback(t *testing.T) {
	// The weights after 4 clean steps, which the rollback must return to.
	_, ref := newCounting(t)
	ref.Steps = 4
	if err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := ref.Player("g").Module.Params("")[0].Value.Data().Clone()

	cg, tr := newCounting(t)
	cg.nanAt, cg.nanOnce = 5, true
	tr.Steps = 10
	var events []int
	tr.Rollback = &Rollback{Every: 4, OnRollback: func(e *DivergenceError, resume int) {
		events = append(events, e.Step, resume)
		for i, v := range tr.Player("g").Module.Params("")[0].Value.Data().Data() {
			if v != want.Data()[i] {
				t.Errorf("after rollback G weight %d is %g, want %g (the step-4 snapshot)", i, v, want.Data()[i])
				return
			}
		}
	}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatalf("rollback did not recover: %v", err)
	}
	if len(events) != 2 || events[0] != 5 || events[1] != 4 || tr.Rollbacks != 1 || tr.Step != 10 {
		t.Fatalf("rollback events %v, %d rollbacks, step %d: want one at step 5 back to 4, and 10 steps", events, tr.Rollbacks, tr.Step)
	}
	if lr := tr.Player("g").Opt.LR(); lr != 0.05 || tr.Player("d").Opt.LR() != 0.05 {
		t.Fatalf("learning rates %g and %g after one rollback, want 0.1 * 0.5", lr, tr.Player("d").Opt.LR())
	}

	// A divergence that keeps coming back is reported after MaxRetries.
	cg, tr = newCounting(t)
	cg.nanAt, tr.Steps = 5, 10
	tr.Rollback = &Rollback{Every: 4, MaxRetries: 2}
	err := tr.Run(context.Background())
	var de *DivergenceError
	if !errors.As(err, &de) || de.Step != 5 || tr.Rollbacks != 2 {
		t.Fatalf("error %v after %d rollbacks, want the step-5 divergence after 2", err, tr.Rollbacks)
	}
}

func TestTrainerWeightClipping(t *testing.T) {
	_, tr := newCounting(t)
	tr.Player("d").Clip = 0.01
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range tr.Player("d").Module.Params("") {
		for _, v := range p.Value.Data().Data() {
			if v < -0.01 || v > 0.01 {
				t.Fatalf("%s has %g outside [-0.01, 0.01]", p.Name, v)
			}
		}
	}
}

func TestTrainerStopsOnCancel(t *testing.T) {
	_, tr := newCounting(t)
	ctx, cancel := context.WithCancel(context.Background())
	tr.Callbacks = append(tr.Callbacks, func(t *Trainer, _ Logs) error {
		if t.Step == 2 {
			cancel()
		}
		return nil
	})
	if err := tr.Run(ctx); !errors.Is(err, ErrStopped) || tr.Step != 2 {
		t.Fatalf("err %v at step %d, want ErrStopped after step 2", err, tr.Step)
	}
}

func TestInstanceNoiseSchedule(t *testing.T) {
	n := InstanceNoise{Sigma: 0.5, Steps: 100}
	for _, c := range []struct {
		step int
		want float32
	}{{0, 0.5}, {50, 0.25}, {99, 0.005}, {100, 0}, {1000, 0}} {
		if got := n.At(c.step); math.Abs(float64(got-c.want)) > 1e-6 {
			t.Errorf("sigma at step %d = %g, want %g", c.step, got, c.want)
		}
	}
	if (InstanceNoise{}).At(0) != 0 {
		t.Error("no noise configured but sigma > 0")
	}
}

func TestLookupObjective(t *testing.T) {
	for _, name := range ObjectiveNames() {
		o, err := LookupObjective(name, 0)
		if err != nil || o.Name != name || o.D == nil || o.G == nil {
			t.Fatalf("%s: %+v %v", name, o, err)
		}
	}
	if _, err := LookupObjective("ns", 0.1); err != nil {
		t.Fatal(err)
	}
	if _, err := LookupObjective("hinge", 0.1); err == nil {
		t.Fatal("label smoothing accepted for hinge")
	}
	if _, err := LookupObjective("nope", 0); err == nil || !strings.Contains(err.Error(), "rasgan") {
		t.Fatalf("unknown loss error %v should list the names", err)
	}
	if len(ObjectiveNames()) < 16 {
		t.Fatalf("only %d objectives", len(ObjectiveNames()))
	}
}

// TestLabelSmoothingChangesTarget: with smoothing s the optimal D logit on
// real data is log((1-s)/s) rather than +inf.
func TestLabelSmoothingChangesTarget(t *testing.T) {
	s := float32(0.1)
	best := float32(math.Log(0.9 / 0.1))
	f := ag.Const(tensor.Full(-10, 1))
	loss := func(r float32) float32 {
		return MinimaxDiscriminatorLoss(ag.Const(tensor.Full(r, 1)), f, s).Item()
	}
	if !(loss(best) < loss(best+0.5) && loss(best) < loss(best-0.5)) {
		t.Fatalf("smoothed loss not minimised at logit %g", best)
	}
	if MinimaxDiscriminatorLoss(ag.Const(tensor.Full(10, 1)), f, 0).Item() >= MinimaxDiscriminatorLoss(ag.Const(tensor.Full(5, 1)), f, 0).Item() {
		t.Fatal("unsmoothed loss should keep falling as the real logit grows")
	}
}

// TestTrainerRunsAnyPhaseList runs three players in three phases (as an
// AAE does), one of them every other step, and checks the order of
// updates, that only the updating player's parameters need gradients
// (except those it shares), the all-reduce hook's place between backward
// and step, and per-player EMA updates.
func TestTrainerRunsAnyPhaseList(t *testing.T) {
	rng := tensor.NewRNG(2)
	a, b := nn.NewLinear(3, 3, rng), nn.NewLinear(3, 1, rng)
	shared := nn.NewLinear(3, 3, rng)
	// Player "ab" owns a and the shared layer; player "b" owns b and the
	// shared layer too.
	ab := nn.Children{{Name: "a", Module: a}, {Name: "s", Module: shared}}
	bs := nn.Children{{Name: "b", Module: b}, {Name: "s", Module: shared}}
	mods := map[string]nn.Module{"ab": moduleOf{ab}, "b": moduleOf{bs}, "c": nn.NewLinear(3, 1, rng)}
	var players []*Player
	for _, name := range []string{"ab", "b", "c"} {
		opt, err := optim.NewSGD(nn.Parameters(mods[name]), optim.SGDConfig{LR: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		players = append(players, &Player{Name: name, Module: mods[name], Opt: opt})
	}
	ema, err := optim.NewEMA(nn.Parameters(mods["c"]), nil, optim.EMAConfig{Decay: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	players[2].EMA = ema
	var order []string
	x := ag.Const(tensor.Full(1, 2, 3))
	term := func(name string, f func() *ag.Value, check func()) func(int) []Term {
		return func(step int) []Term {
			order = append(order, fmt.Sprintf("%s@%d", name, step))
			check()
			return []Term{{Name: "l", Value: ag.Mean(f(), nil, false)}}
		}
	}
	phases := []Phase{
		{Player: players[0], Terms: term("ab", func() *ag.Value { return shared.Forward(a.Forward(x)) }, func() {
			if !a.Weight.RequiresGrad() || !shared.Weight.RequiresGrad() || b.Weight.RequiresGrad() {
				t.Error("phase ab: want a and the shared layer trainable, b frozen")
			}
		})},
		{Player: players[1], Repeat: 2, Terms: term("b", func() *ag.Value { return b.Forward(shared.Forward(x)) }, func() {
			if a.Weight.RequiresGrad() || !shared.Weight.RequiresGrad() {
				t.Error("phase b: want a frozen and the shared layer trainable")
			}
		})},
		{Player: players[2], Every: 2, Terms: term("c", func() *ag.Value { return mods["c"].(*nn.Linear).Forward(x) }, func() {})},
	}
	var hooked []string
	tr := &Trainer{Players: players, Phases: phases, Steps: 3, AllReduce: func(p *Player) error {
		hooked = append(hooked, p.Name)
		for _, v := range nn.Parameters(p.Module) {
			if v.Grad() == nil {
				return fmt.Errorf("player %s: no gradient before its step", p.Name)
			}
		}
		return nil
	}}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "ab@0 b@0 b@0 c@0 ab@1 b@1 b@1 ab@2 b@2 b@2 c@2"
	if got := strings.Join(order, " "); got != want {
		t.Fatalf("updates %q, want %q", got, want)
	}
	if len(hooked) != len(order) {
		t.Fatalf("all-reduce ran %d times for %d updates", len(hooked), len(order))
	}
	if !a.Weight.RequiresGrad() || !b.Weight.RequiresGrad() {
		t.Fatal("frozen parameters were not restored after their phase")
	}
	if ema.Updates() != 2 {
		t.Fatalf("c's EMA updated %d times, want 2 (the steps c trained)", ema.Updates())
	}
	// A phase naming a player the trainer does not have is a wiring error.
	bad := &Trainer{Players: players[:1], Phases: phases, Steps: 1}
	if err := bad.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "phase 1") {
		t.Fatalf("phase with an unknown player: %v", err)
	}
}

// moduleOf makes a module of named children.
type moduleOf struct{ c nn.Children }

func (m moduleOf) Params(p string) []nn.Param   { return m.c.Params(p) }
func (m moduleOf) Buffers(p string) []nn.Buffer { return m.c.Buffers(p) }
func (m moduleOf) SetTraining(on bool)          { m.c.SetTraining(on) }
