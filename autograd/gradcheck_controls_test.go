package autograd

import (
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// The negative controls: deliberately wrong backward rules that GradCheck
// must reject. Each also checks that the right rule passes on the same
// inputs, so a control cannot pass by the check failing for another reason.

// testOp registers name for the duration of the test (record panics on
// unregistered names), without adding it to the op list for good.
func testOp(t *testing.T, name string) string {
	t.Helper()
	register(name)
	t.Cleanup(func() { delete(registry, name) })
	return name
}

// TestGradCheckDetectsWrongGradient: a square whose gradient is g*a, half
// the right 2*g*a.
func TestGradCheckDetectsWrongGradient(t *testing.T) {
	op := testOp(t, "test_bad_square")
	bad := func(x []*Value) *Value {
		a := x[0]
		return record(op, tensor.Mul(a.data, a.data), []*Value{a}, func(g *Value) []*Value {
			return []*Value{Mul(g, a)} // should be 2*g*a
		})
	}
	x := []*tensor.Tensor{tensor.FromSlice([]float32{1, -2, 3}, 3)}
	if err := GradCheck(bad, x, CheckOptions{}); err == nil {
		t.Fatal("GradCheck accepted a gradient off by a factor of 2")
	}
	if err := GradCheck(un(Square), x, CheckOptions{}); err != nil {
		t.Fatalf("the right square: %v", err)
	}
}

// TestGradCheckNaNNumericFails: at x = 0.005 the default steps reach x <= 0,
// where log is NaN or -Inf. A NaN numeric value must not pass: GradCheck
// shrinks the step until it is finite, so a log whose gradient is 7 times
// too large fails, and the right log passes.
func TestGradCheckNaNNumericFails(t *testing.T) {
	op := testOp(t, "test_bad_log")
	bad := func(x []*Value) *Value {
		a := x[0]
		return record(op, tensor.Log(a.data), []*Value{a}, func(g *Value) []*Value {
			return []*Value{Scale(Div(g, a), 7)} // should be g/a
		})
	}
	x := []*tensor.Tensor{tensor.FromSlice([]float32{0.005, 0.8}, 2)}
	if err := GradCheck(bad, x, CheckOptions{}); err == nil {
		t.Fatal("GradCheck accepted a log gradient 7 times too large near 0")
	}
	if err := GradCheck(un(Log), x, CheckOptions{}); err != nil {
		t.Fatalf("the right log near 0: %v", err)
	}
	// A function that is NaN everywhere off x fails rather than passing.
	nanOff := func(xs []*Value) *Value {
		return Log(AddScalar(Neg(Square(Sub(xs[0], Const(x[0])))), 0))
	}
	if err := GradCheck(nanOff, x, CheckOptions{}); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("GradCheck of a function NaN beside the point: %v, want a not-finite error", err)
	}
}

// TestSecondOrderCatchesBadBackward: a square whose backward is right at
// first order, 2*g*a, but built from a detached a, so its own derivative
// (the Hessian 2*g) is lost. The first-order check passes; the second-order
// check must fail.
func TestSecondOrderCatchesBadBackward(t *testing.T) {
	op := testOp(t, "test_detached_square")
	bad := func(x []*Value) *Value {
		a := x[0]
		return record(op, tensor.Mul(a.data, a.data), []*Value{a}, func(g *Value) []*Value {
			return []*Value{Scale(Mul(g, a.Detach()), 2)} // should not detach a
		})
	}
	x := []*tensor.Tensor{tensor.FromSlice([]float32{1, -2, 3, 0.5}, 4)}
	if err := GradCheck(bad, x, CheckOptions{}); err != nil {
		t.Fatalf("first order should pass (the gradient is right): %v", err)
	}
	if err := GradCheck(bad, x, CheckOptions{SecondOrder: true}); err == nil {
		t.Fatal("GradCheck accepted a backward whose own derivative is missing")
	}
	// A second-order error confined to the double backward: the gradient
	// of conv2d_weight_grad with respect to its input scaled by 1.5 (the
	// first derivative of conv2d is untouched).
	op2 := testOp(t, "test_bad_conv2d")
	p := tensor.ConvParams{Padding: [2]int{1, 1}}
	badConv := func(xs []*Value) *Value {
		x, w := xs[0], xs[1]
		return Square(record(op2, tensor.Conv2d(x.data, w.data, p), []*Value{x, w}, func(g *Value) []*Value {
			gw := conv2dWeightGrad(x, g, p, 3, 3)
			return []*Value{convTranspose(g, w, p, 4, 4), Add(Scale(gw, 1.5), Scale(gw.Detach(), -0.5))}
		}))
	}
	rng := tensor.NewRNG(5)
	xs := []*tensor.Tensor{rng.Normal(0, 1, 2, 2, 4, 4), rng.Normal(0, 1, 3, 2, 3, 3)}
	if err := GradCheck(badConv, xs, CheckOptions{}); err != nil {
		t.Fatalf("first order should pass: %v", err)
	}
	if err := GradCheck(badConv, xs, CheckOptions{SecondOrder: true}); err == nil {
		t.Fatal("GradCheck accepted a conv whose weight gradient's derivative is 1.5 times too large")
	}
}

// TestGradCheckCatchesBatchedConvWeightBug: a conv on the batched path
// (C*kh*kw = 72 >= 64) with a batch of 10 (> 8) whose weight gradient
// leaves out the last sample, the kind of bug a chunk loop's bound makes.
// Its input gradient is right.
func TestGradCheckCatchesBatchedConvWeightBug(t *testing.T) {
	op := testOp(t, "test_conv_drop_last")
	p := tensor.ConvParams{Padding: [2]int{1, 1}}
	bad := func(xs []*Value) *Value {
		x, w := xs[0], xs[1]
		return Square(record(op, tensor.Conv2d(x.data, w.data, p), []*Value{x, w}, func(g *Value) []*Value {
			n := x.Shape()[0]
			gw := conv2dWeightGrad(Slice(x, 0, 0, n-1), Slice(g, 0, 0, n-1), p, 3, 3)
			return []*Value{convTranspose(g, w, p, 4, 4), gw}
		}))
	}
	good := func(xs []*Value) *Value { return Square(Conv2d(xs[0], xs[1], p)) }
	rng := tensor.NewRNG(6)
	xs := []*tensor.Tensor{rng.Normal(0, 1, 10, 8, 4, 4), rng.Normal(0, 1, 3, 8, 3, 3)}
	err := GradCheck(bad, xs, CheckOptions{})
	if err == nil {
		t.Fatal("GradCheck accepted a batched conv weight gradient missing a sample")
	}
	if !strings.Contains(err.Error(), "input 1") {
		t.Fatalf("the error should name the weight (input 1): %v", err)
	}
	if err := GradCheck(good, xs, CheckOptions{SecondOrder: true}); err != nil {
		t.Fatalf("the right conv: %v", err)
	}
}

// TestRecordPanicsOnUnregisteredOp: every op must be registered, so that
// TestEveryOpHasGradCheck sees it.
func TestRecordPanicsOnUnregisteredOp(t *testing.T) {
	defer func() {
		if r, _ := recover().(string); !strings.Contains(r, "not registered") {
			t.Fatalf("panic %q, want one saying the op is not registered", r)
		}
	}()
	record("test_unregistered", tensor.New(1), nil, nil)
}
