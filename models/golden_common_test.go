package models

import (
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// loadGoldenState loads a PyTorch twin's weights into m: the names must be
// exactly PyTorch's state_dict keys.
func loadGoldenState(t *testing.T, m nn.Module, state map[string]goldenTensor) {
	t.Helper()
	s := map[string]*tensor.Tensor{}
	for name, g := range state {
		s[name] = g.tensor()
	}
	if err := nn.LoadState(m, s); err != nil {
		t.Fatalf("PyTorch's state_dict names should load: %v", err)
	}
}

// goldenInputs returns x as a leaf followed by the values of ps: what a
// golden test differentiates by.
func goldenInputs(x *tensor.Tensor, ps []nn.Param) []*autograd.Value {
	in := []*autograd.Value{autograd.Param(x)}
	for _, p := range ps {
		in = append(in, p.Value)
	}
	return in
}

// checkGoldenGrads checks grads (one per parameter of ps; nil where a
// parameter does not reach the loss, read as zeros) against PyTorch's, by
// name. With orZero, a gradient that is zero in exact arithmetic (a bias
// before instance norm) may be rounding noise (checkCloseOrZero).
func checkGoldenGrads(t *testing.T, what string, ps []nn.Param, grads []*autograd.Value, want map[string]goldenTensor, orZero bool) {
	t.Helper()
	for i, p := range ps {
		w, ok := want[p.Name]
		if !ok {
			t.Fatalf("no PyTorch %s for %s", what, p.Name)
		}
		var g *tensor.Tensor
		if grads[i] != nil {
			g = grads[i].Data()
		}
		if orZero {
			checkCloseOrZero(t, what+" "+p.Name, g, w, scale(want))
		} else {
			checkClose(t, what+" "+p.Name, g, w)
		}
	}
}

// checkPenaltyGrads checks the gradients of |gx|^2, gx an input gradient
// recorded with createGraph, with respect to the parameters ps (the
// second-order path of WGAN-GP and R1) against PyTorch's.
func checkPenaltyGrads(t *testing.T, gx *autograd.Value, ps []nn.Param, want map[string]goldenTensor, orZero bool) {
	t.Helper()
	params := make([]*autograd.Value, len(ps))
	for i, p := range ps {
		params[i] = p.Value
	}
	pg := autograd.Grad([]*autograd.Value{autograd.Sum(autograd.Mul(gx, gx), nil, false)}, params, nil, false)
	checkGoldenGrads(t, "penalty grad", ps, pg, want, orZero)
}
