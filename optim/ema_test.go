package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

func TestEMAUpdate(t *testing.T) {
	cases := []struct {
		name   string
		cfg    EMAConfig
		decays []float64 // β at each update
	}{
		{"plain", EMAConfig{Decay: 0.9}, []float64{0.9, 0.9, 0.9}},
		{"warm-up", EMAConfig{Decay: 0.999, Warmup: true}, []float64{1.0 / 10, 2.0 / 11, 3.0 / 12}},
		{"warm-up capped", EMAConfig{Decay: 0.15, Warmup: true}, []float64{0.1, 0.15, 0.15}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := autograd.Param(tensor.New(2))
			buf := tensor.New(1)
			e, err := NewEMA([]*autograd.Value{p}, []*tensor.Tensor{buf}, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			want := 0.0
			for i, beta := range tc.decays {
				if d := e.Decay(); math.Abs(float64(d)-beta) > 1e-7 {
					t.Fatalf("update %d: Decay %v, want %v", i, d, beta)
				}
				x := float64(i + 1) // live value at this update
				p.Data().Fill(float32(x))
				buf.Fill(float32(-x))
				e.Update()
				want = beta*want + (1-beta)*x
				ps, bs := e.Shadows()
				if got := ps[0].Data()[1]; math.Abs(float64(got)-want) > 1e-6 {
					t.Fatalf("update %d: shadow %v, want %v", i, got, want)
				}
				if got := bs[0].Data()[0]; math.Abs(float64(got)+want) > 1e-6 {
					t.Fatalf("update %d: buffer shadow %v, want %v", i, got, -want)
				}
			}
			if e.Updates() != len(tc.decays) {
				t.Fatalf("Updates %d, want %d", e.Updates(), len(tc.decays))
			}
		})
	}
}

func TestEMACopyBuffers(t *testing.T) {
	p := autograd.Param(tensor.New(1))
	buf := tensor.Full(3, 2)
	e, _ := NewEMA([]*autograd.Value{p}, []*tensor.Tensor{buf}, EMAConfig{Decay: 0.5, CopyBuffers: true})
	buf.Fill(7)
	p.Data().Fill(2)
	e.Update()
	ps, bs := e.Shadows()
	if bs[0].Data()[1] != 7 || ps[0].Item() != 1 {
		t.Fatalf("buffer shadow %v (want copied 7), param shadow %v (want averaged 1)", bs[0], ps[0])
	}
}

func TestEMASwapCopy(t *testing.T) {
	p := autograd.Param(tensor.FromSlice([]float32{1, 2}, 2))
	buf := tensor.FromSlice([]float32{5}, 1)
	e, _ := NewEMA([]*autograd.Value{p}, []*tensor.Tensor{buf}, EMAConfig{Decay: 0.5})
	p.Data().Fill(3)
	buf.Fill(9)
	e.Update() // shadows: [2, 2.5], [7]
	e.Swap()
	if got := p.Data().Data(); got[0] != 2 || got[1] != 2.5 || buf.Item() != 7 {
		t.Fatalf("after Swap live %v %v, want EMA values [2 2.5] [7]", p.Data(), buf)
	}
	e.Swap()
	if got := p.Data().Data(); got[0] != 3 || got[1] != 3 || buf.Item() != 9 {
		t.Fatalf("after two Swaps live %v %v, want trained [3 3] [9]", p.Data(), buf)
	}
	if n := testing.AllocsPerRun(20, func() { e.Swap(); e.Update() }); n != 0 {
		t.Fatalf("Swap and Update allocate %v times", n)
	}
	e.Swap()
	e.CopyTo()
	ps, _ := e.Shadows()
	if !sameBits(p.Data(), ps[0]) {
		t.Fatal("CopyTo did not copy the shadow into the parameter")
	}
	p.Data().Fill(-1)
	buf.Fill(-2)
	e.CopyFrom()
	ps, bs := e.Shadows()
	if ps[0].Data()[0] != -1 || bs[0].Item() != -2 {
		t.Fatalf("CopyFrom: shadows %v %v, want -1 -2", ps[0], bs[0])
	}
}

// TestEMAResumeBitExact saves an EMA mid-run, restores it into a fresh one
// built with other settings, and checks that both continue identically.
func TestEMAResumeBitExact(t *testing.T) {
	rng := tensor.NewRNG(21)
	ps := problemParams(22)
	buf := rng.Normal(0, 1, 3)
	cfg := EMAConfig{Decay: 0.99, Warmup: true}
	e, _ := NewEMA(ps, []*tensor.Tensor{buf}, cfg)
	perturb := func() {
		for _, p := range ps {
			tensor.AddInPlace(p.Data(), rng.Normal(0, 0.1, p.Shape()...))
		}
		tensor.AddInPlace(buf, rng.Normal(0, 0.1, 3))
	}
	for range 5 {
		perturb()
		e.Update()
	}
	saved := e.State()
	e2, _ := NewEMA(ps, []*tensor.Tensor{buf}, EMAConfig{Decay: 0.5, CopyBuffers: true})
	if err := e2.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	if e2.Config() != cfg || e2.Updates() != 5 {
		t.Fatalf("restored config %+v, %d updates", e2.Config(), e2.Updates())
	}
	for range 4 {
		perturb()
		e.Update()
		e2.Update()
	}
	sameState(t, e2.State(), e.State())

	// Every key is needed, and failed loads change nothing.
	target, _ := NewEMA(ps, []*tensor.Tensor{buf}, EMAConfig{Decay: 0.5})
	before := target.State()
	for key := range saved {
		partial := map[string]*tensor.Tensor{}
		for k, v := range saved {
			if k != key {
				partial[k] = v
			}
		}
		if err := target.LoadState(partial); err == nil || !strings.Contains(err.Error(), key) {
			t.Fatalf("without %q: error %v", key, err)
		}
	}
	for _, bad := range []struct{ key, want string }{{"ema.param.1", "shape"}, {"ema.updates", "integer"}, {"ema.decay", "decay"}} {
		m := map[string]*tensor.Tensor{}
		for k, v := range saved {
			m[k] = v
		}
		m[bad.key] = tensor.Scalar(2.5)
		if err := target.LoadState(m); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("%s = 2.5: error %v, want one containing %q", bad.key, err, bad.want)
		}
	}
	sameState(t, target.State(), before)
}
