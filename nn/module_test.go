package nn

import (
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// testBlock and testGen are composite modules built the way models/ builds
// them: by listing their children.
type testBlock struct {
	Conv *Conv2d
	BN   *BatchNorm
}

func (b *testBlock) children() Children {
	return Children{{Name: "conv", Module: b.Conv}, {Name: "bn", Module: b.BN}}
}
func (b *testBlock) Params(p string) []Param   { return b.children().Params(p) }
func (b *testBlock) Buffers(p string) []Buffer { return b.children().Buffers(p) }
func (b *testBlock) SetTraining(on bool)       { b.children().SetTraining(on) }

type testGen struct {
	Block1 *testBlock
	Attn   *SelfAttention
	Head   *Sequential
	Skip   *Linear // optional, nil here
}

func (g *testGen) children() Children {
	return Children{{Name: "block1", Module: g.Block1}, {Name: "attn", Module: g.Attn}, {Name: "head", Module: g.Head}, {Name: "skip", Module: g.Skip}}
}
func (g *testGen) Params(p string) []Param   { return g.children().Params(p) }
func (g *testGen) Buffers(p string) []Buffer { return g.children().Buffers(p) }
func (g *testGen) SetTraining(on bool)       { g.children().SetTraining(on) }

func newTestGen(seed uint64) *testGen {
	rng := tensor.NewRNG(seed)
	head := NewSequential(NewLinear(4, 3, rng), ReLU{}, NewDropout(0.5, rng), NewLinear(3, 2, rng))
	head.Layers[3].(*Linear).Bias = nil
	return &testGen{
		Block1: &testBlock{Conv: NewConv2d(2, 8, 3, ConvOptions{Padding: 1}, rng).WithSpectralNorm(rng), BN: NewBatchNorm2d(8)},
		Attn:   NewSelfAttention(8, rng),
		Head:   head,
	}
}

func names[T any](xs []T, name func(T) string) []string {
	r := make([]string, len(xs))
	for i, x := range xs {
		r[i] = name(x)
	}
	return r
}

func TestParamNames(t *testing.T) {
	wantParams := []string{
		"gen.block1.conv.weight_orig", "gen.block1.conv.bias", "gen.block1.bn.weight", "gen.block1.bn.bias",
		"gen.attn.f.weight", "gen.attn.f.bias", "gen.attn.g.weight", "gen.attn.g.bias",
		"gen.attn.h.weight", "gen.attn.h.bias", "gen.attn.gamma",
		"gen.head.0.weight", "gen.head.0.bias", "gen.head.3.weight",
	}
	wantBuffers := []string{
		"gen.block1.conv.weight_u", "gen.block1.conv.weight_v",
		"gen.block1.bn.running_mean", "gen.block1.bn.running_var",
	}
	for _, seed := range []uint64{1, 2} { // same structure, same names, whatever the weights
		g := newTestGen(seed)
		ps := names(g.Params("gen"), func(p Param) string { return p.Name })
		if !slices.Equal(ps, wantParams) {
			t.Errorf("params:\n got %q\nwant %q", ps, wantParams)
		}
		bs := names(g.Buffers("gen"), func(b Buffer) string { return b.Name })
		if !slices.Equal(bs, wantBuffers) {
			t.Errorf("buffers:\n got %q\nwant %q", bs, wantBuffers)
		}
		if got := g.Params("")[0].Name; got != "block1.conv.weight_orig" {
			t.Errorf("unprefixed first name %q", got)
		}
	}
}

func TestParametersMatchesParams(t *testing.T) {
	g := newTestGen(1)
	vs := Parameters(g)
	ps := g.Params("x")
	if len(vs) != len(ps) {
		t.Fatalf("%d values for %d params", len(vs), len(ps))
	}
	for i := range vs {
		if vs[i] != ps[i].Value {
			t.Errorf("value %d is not param %s", i, ps[i].Name)
		}
		if !vs[i].RequiresGrad() {
			t.Errorf("param %s does not require its gradient", ps[i].Name)
		}
	}
}

func TestSetTrainingPropagates(t *testing.T) {
	g := newTestGen(1)
	bn, sn := g.Block1.BN, g.Block1.Conv.SN
	drop := g.Head.Layers[2].(*Dropout)
	attnSN := g.Attn.WithSpectralNorm(tensor.NewRNG(9)).F.SN
	if !bn.training || !sn.training || !drop.training || !attnSN.training {
		t.Fatal("new modules are not in training mode")
	}
	g.SetTraining(false)
	if bn.training || sn.training || drop.training || attnSN.training {
		t.Fatal("SetTraining(false) did not reach every child")
	}
	// Evaluation mode behaves as such end to end: no state changes, and
	// two forward passes agree exactly.
	x := autograd.Const(tensor.NewRNG(3).Normal(0, 1, 2, 2, 3, 3))
	before := State(g)
	snap := make([]*tensor.Tensor, len(before))
	for i, b := range before {
		snap[i] = b.Tensor.Clone()
	}
	fwd := func() *tensor.Tensor {
		h := g.Attn.Forward(g.Block1.BN.Forward(g.Block1.Conv.Forward(x)))
		return g.Head.Forward(autograd.Reshape(autograd.Mean(h, []int{2, 3}, false), -1, 4)).Data()
	}
	a, b := fwd(), fwd()
	if !slices.Equal(a.Data(), b.Data()) {
		t.Error("evaluation-mode forward passes differ")
	}
	for i, e := range before {
		if !slices.Equal(e.Tensor.Data(), snap[i].Data()) {
			t.Errorf("%s changed in evaluation mode", e.Name)
		}
	}
	g.SetTraining(true)
	if !bn.training || !sn.training || !drop.training || !attnSN.training {
		t.Fatal("SetTraining(true) did not reach every child")
	}
}

func TestLoadState(t *testing.T) {
	src, dst := newTestGen(1), newTestGen(2)
	state := map[string]*tensor.Tensor{}
	for _, b := range State(src) {
		state[b.Name] = b.Tensor
	}
	if len(state) != 18 {
		t.Fatalf("state has %d entries, want 14 params + 4 buffers", len(state))
	}
	bad := []struct {
		name   string
		edit   func(m map[string]*tensor.Tensor)
		errHas string
	}{
		{"missing", func(m map[string]*tensor.Tensor) { delete(m, "attn.gamma") }, `missing "attn.gamma"`},
		{"shape", func(m map[string]*tensor.Tensor) { m["head.0.bias"] = tensor.New(4) }, `"head.0.bias" has shape [4], want [3]`},
		{"extra", func(m map[string]*tensor.Tensor) { m["head.3.bias"] = tensor.New(2) }, `unexpected entries ["head.3.bias"]`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]*tensor.Tensor{}
			for k, v := range state {
				m[k] = v
			}
			c.edit(m)
			before := dst.Attn.F.Weight.Data().Clone()
			err := LoadState(dst, m)
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("error %v, want one containing %s", err, c.errHas)
			}
			if !slices.Equal(before.Data(), dst.Attn.F.Weight.Data().Data()) {
				t.Fatal("a failed load changed the weights")
			}
		})
	}
	if err := LoadState(dst, state); err != nil {
		t.Fatal(err)
	}
	got := State(dst)
	for i, b := range State(src) {
		if got[i].Name != b.Name || !slices.Equal(got[i].Tensor.Data(), b.Tensor.Data()) {
			t.Errorf("%s not loaded", b.Name)
		}
		if got[i].Tensor == b.Tensor {
			t.Errorf("%s shares the source's tensor instead of copying", b.Name)
		}
	}
}

func TestStatePanicsOnDuplicateNames(t *testing.T) {
	rng := tensor.NewRNG(1)
	dup := Children{{Name: "a", Module: NewLinear(2, 2, rng)}, {Name: "a", Module: NewLinear(2, 2, rng)}}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `two entries named "a.weight"`) {
			t.Fatalf("panic %v", r)
		}
	}()
	State(dup)
}
