package run

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/optim"
	"github.com/kallima-gan/kallima/tensor"
)

// trainee is a small model with parameters and buffers (batch norm's
// running statistics), its Adam optimizer, an EMA of its weights and the
// RNG that draws its inputs: everything a resumed run must restore.
type trainee struct {
	model *nn.Sequential
	opt   *optim.Adam
	ema   *optim.EMA
	rng   *tensor.RNG
}

func newTrainee(t *testing.T, seed uint64, lr float32) *trainee {
	t.Helper()
	rng := tensor.NewRNG(seed)
	m := nn.NewSequential(nn.NewLinear(3, 5, rng), nn.NewBatchNorm1d(5), nn.LeakyReLU{Slope: 0.2}, nn.NewLinear(5, 2, rng))
	cfg := optim.DefaultAdamConfig()
	cfg.LR = lr
	opt, err := optim.NewAdam(nn.Parameters(m), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ema, err := optim.NewEMA(nn.Parameters(m), nn.BufferTensors(m), optim.EMAConfig{Decay: 0.9, Warmup: true})
	if err != nil {
		t.Fatal(err)
	}
	return &trainee{model: m, opt: opt, ema: ema, rng: rng}
}

// step trains on a batch drawn from the trainee's RNG.
func (tr *trainee) step() {
	x := autograd.Const(tr.rng.Normal(0, 1, 8, 3))
	y := tr.model.Forward(x)
	loss := autograd.Mean(autograd.Square(autograd.AddScalar(y, -1)), nil, false)
	tr.opt.ZeroGrad()
	autograd.Backward(loss)
	tr.opt.Step()
	tr.ema.Update()
}

// snapshot copies every tensor of the trainee's state, keyed by group.
func (tr *trainee) snapshot() map[string]*tensor.Tensor {
	ck := NewCheckpoint(0)
	ck.PutModule("g", tr.model)
	ck.PutState("opt_g", tr.opt)
	ck.PutState("ema_g", tr.ema)
	return ck.Tensors
}

// sameBits reports the first tensor that differs in bits between two
// snapshots, or "".
func sameBits(got, want map[string]*tensor.Tensor) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d tensors, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			return fmt.Sprintf("missing %q", name)
		}
		if !tensor.SameShape(g.Shape(), w.Shape()) {
			return fmt.Sprintf("%q has shape %v, want %v", name, g.Shape(), w.Shape())
		}
		for i, v := range w.Data() {
			if math.Float32bits(g.Data()[i]) != math.Float32bits(v) {
				return fmt.Sprintf("%q[%d] = %v, want %v", name, i, g.Data()[i], v)
			}
		}
	}
	return ""
}

// TestCheckpointRoundTrip trains a model for a few steps, checkpoints it
// with its Adam and EMA state, its RNG and a data loader position, then
// restores all of it into a model built from another seed with another
// learning rate in a reopened run. The restored state must be bit-identical
// to the saved one, and the next training step (same input, drawn from the
// restored RNG; same Adam moments, counters and learning rate) must give
// bit-identical weights, moments and EMA shadows to the uninterrupted run's.
func TestCheckpointRoundTrip(t *testing.T) {
	opts, warn := quiet(0)
	r := newRun(t, opts)
	a := newTrainee(t, 1, 1e-2)
	for range 3 {
		a.step()
	}
	loader := data.LoaderState{Epoch: 2, Batch: 5, RNG: tensor.NewRNG(7).State()}
	ck := NewCheckpoint(3)
	ck.PutModule("g", a.model)
	ck.PutState("opt_g", a.opt)
	ck.PutState("ema_g", a.ema)
	ck.PutRNG("data", a.rng)
	if err := ck.PutJSON("loader", loader); err != nil {
		t.Fatal(err)
	}
	ck.Meta["note"] = "quoted \"text\" ü"
	saved := a.snapshot()
	if err := r.SaveCheckpoint(ck, nil); err != nil {
		t.Fatal(err)
	}
	r.Close()
	a.step()
	want := a.snapshot()

	b := newTrainee(t, 99, 5e-3)
	if diff := sameBits(b.snapshot(), saved); diff == "" {
		t.Fatal("the fresh model already equals the saved one; the test would prove nothing")
	}
	r, err := Open(r.Dir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, skipped, err := r.Resume()
	if err != nil || len(skipped) != 0 {
		t.Fatalf("Resume: %v, skipped %v", err, skipped)
	}
	if got.Step != 3 || got.Meta["note"] != ck.Meta["note"] {
		t.Errorf("step %d, note %q", got.Step, got.Meta["note"])
	}
	for k := range got.Meta {
		if strings.HasPrefix(k, "run.") {
			t.Errorf("loaded Meta holds the reserved key %q", k)
		}
	}
	if g := got.Groups(); !reflect.DeepEqual(g, []string{"ema_g", "g", "opt_g"}) {
		t.Errorf("Groups() = %q", g)
	}
	if err := got.LoadModule("g", b.model); err != nil {
		t.Fatal(err)
	}
	if err := got.LoadState("opt_g", b.opt); err != nil {
		t.Fatal(err)
	}
	if err := got.LoadState("ema_g", b.ema); err != nil {
		t.Fatal(err)
	}
	if err := got.LoadRNG("data", b.rng); err != nil {
		t.Fatal(err)
	}
	var back data.LoaderState
	if err := got.LoadJSON("loader", &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, loader) {
		t.Errorf("loader state %+v, want %+v", back, loader)
	}
	if diff := sameBits(b.snapshot(), saved); diff != "" {
		t.Fatalf("restored state differs from the saved one: %s", diff)
	}
	if b.opt.LR() != a.opt.LR() {
		t.Errorf("restored learning rate %v, want %v", b.opt.LR(), a.opt.LR())
	}
	b.step()
	if diff := sameBits(b.snapshot(), want); diff != "" {
		t.Fatalf("the step after resuming differs from the uninterrupted one: %s", diff)
	}
	if warn.Len() != 0 {
		t.Errorf("unexpected warnings: %s", warn)
	}
}

// TestCheckpointErrors checks the errors of the pack/unpack helpers.
func TestCheckpointErrors(t *testing.T) {
	tr := newTrainee(t, 1, 1e-3)
	ck := NewCheckpoint(5)
	ck.PutModule("g", tr.model)
	ck.Meta["rng/bad"] = "not base64!"
	ck.Meta["json/bad"] = "{"
	other := nn.NewSequential(nn.NewLinear(3, 4, tensor.NewRNG(1)))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"missing group", ck.LoadModule("d", tr.model), `no group "d"`},
		{"wrong architecture", ck.LoadModule("g", other), `group "g"`},
		{"missing state", ck.LoadState("opt_g", tr.opt), `no group "opt_g"`},
		{"missing RNG", ck.LoadRNG("noise", tr.rng), `no RNG "noise"`},
		{"bad RNG", ck.LoadRNG("bad", tr.rng), `RNG "bad"`},
		{"missing JSON", ck.LoadJSON("loader", new(data.LoaderState)), `no JSON "loader"`},
		{"bad JSON", ck.LoadJSON("bad", new(data.LoaderState)), `JSON "bad"`},
		{"unencodable JSON value", ck.PutJSON("f", func() {}), `JSON "f"`},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, tt.err, tt.want)
		}
	}
	for _, k := range []string{"run.step", "run.mine"} {
		bad := NewCheckpoint(1)
		bad.Meta[k] = "x"
		if err := newRun(t, Options{}).SaveCheckpoint(bad, nil); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("Meta key %q: SaveCheckpoint error %v, want a reserved-key error", k, err)
		}
	}
	if err := newRun(t, Options{}).SaveCheckpoint(NewCheckpoint(-1), nil); err == nil {
		t.Error("SaveCheckpoint accepted a negative step")
	}
}

// TestCheckpointPanics checks that putting two things under one group, or
// using an invalid group name, panics naming the method.
func TestCheckpointPanics(t *testing.T) {
	tr := newTrainee(t, 1, 1e-3)
	tests := []struct {
		name string
		f    func(ck *Checkpoint)
		want string
	}{
		{"group twice", func(ck *Checkpoint) { ck.PutModule("g", tr.model); ck.PutState("g", tr.opt) }, "PutState"},
		{"empty group", func(ck *Checkpoint) { ck.PutModule("", tr.model) }, "PutModule"},
		{"slash in group", func(ck *Checkpoint) { ck.PutState("opt/g", tr.opt) }, "PutState"},
		{"nil checkpoint", func(*Checkpoint) { newRun(t, Options{}).SaveCheckpoint(nil, nil) }, "SaveCheckpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want one naming %s", msg, tt.want)
				}
			}()
			tt.f(&Checkpoint{})
		})
	}
}
