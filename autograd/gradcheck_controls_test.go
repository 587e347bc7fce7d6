package autograd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// The negative controls: deliberately wrong backward rules that GradCheck
// must reject. Each has the right rule beside it, which must pass on the
// same inputs, so a control cannot pass by the check failing for another
// reason.

// testOp registers name for the duration of the test (record panics on
// unregistered names), without adding it to the op list for good.
func testOp(t *testing.T, name string) string {
	t.Helper()
	register(name)
	t.Cleanup(func() { delete(registry, name) })
	return name
}

// control is one wrong rule: bad must fail GradCheck (at second order
// only, when second), good must pass, both on inputs(seed); want is a
// string the error must contain.
type control struct {
	name      string
	bad, good func(x []*Value) *Value
	inputs    func(seed uint64) []*tensor.Tensor
	second    bool
	want      string
}

// controls registers the wrong ops for the test and returns the controls.
func controls(t *testing.T) []control {
	square, log := testOp(t, "test_bad_square"), testOp(t, "test_bad_log")
	detached, conv2 := testOp(t, "test_detached_square"), testOp(t, "test_bad_conv2d")
	dropLast := testOp(t, "test_conv_drop_last")
	normal := func(shapes ...[]int) func(uint64) []*tensor.Tensor {
		return func(seed uint64) []*tensor.Tensor {
			rng := tensor.NewRNG(seed)
			xs := make([]*tensor.Tensor, len(shapes))
			for i, s := range shapes {
				xs[i] = rng.Normal(0, 1, s...)
			}
			return xs
		}
	}
	p := tensor.ConvParams{Padding: [2]int{1, 1}}
	return []control{{
		// A square whose gradient is g*a, half the right 2*g*a.
		name: "square half gradient", want: "gradient of input 0",
		bad: func(x []*Value) *Value {
			a := x[0]
			return record(square, tensor.Mul(a.data, a.data), []*Value{a}, func(g *Value) []*Value {
				return []*Value{Mul(g, a)} // should be 2*g*a
			})
		},
		good: un(Square), inputs: normal([]int{5}),
	}, {
		// At x = 0.005 the default steps reach x <= 0, where log is NaN or
		// -Inf: a NaN numeric value must not pass. GradCheck shrinks the
		// step until it is finite, so a log gradient 7 times too large
		// fails and the right log passes.
		name: "log 7x near 0", want: "gradient of input 0 at element 0",
		bad: func(x []*Value) *Value {
			a := x[0]
			return record(log, tensor.Log(a.data), []*Value{a}, func(g *Value) []*Value {
				return []*Value{Scale(Div(g, a), 7)} // should be g/a
			})
		},
		good:   un(Log),
		inputs: func(uint64) []*tensor.Tensor { return []*tensor.Tensor{tensor.FromSlice([]float32{0.005, 0.8}, 2)} },
	}, {
		// TestSecondOrderCatchesBadBackward's first case: a square whose
		// backward is right at first order, 2*g*a, but built from a
		// detached a, so its own derivative (the Hessian 2*g) is lost.
		name: "square detached backward", second: true, want: "Hessian-vector product",
		bad: func(x []*Value) *Value {
			a := x[0]
			return record(detached, tensor.Mul(a.data, a.data), []*Value{a}, func(g *Value) []*Value {
				return []*Value{Scale(Mul(g, a.Detach()), 2)} // should not detach a
			})
		},
		good: un(Square), inputs: normal([]int{4}),
	}, {
		// A second-order error confined to the double backward: conv2d
		// whose weight gradient has the right value and 1.5 times the
		// right derivative.
		name: "conv double backward 1.5x", second: true, want: "Hessian-vector product",
		bad: func(xs []*Value) *Value {
			x, w := xs[0], xs[1]
			return Square(record(conv2, tensor.Conv2d(x.data, w.data, p), []*Value{x, w}, func(g *Value) []*Value {
				gw := conv2dWeightGrad(x, g, p, 3, 3)
				return []*Value{convTranspose(g, w, p, 4, 4), Add(Scale(gw, 1.5), Scale(gw.Detach(), -0.5))}
			}))
		},
		good:   func(xs []*Value) *Value { return Square(Conv2d(xs[0], xs[1], p)) },
		inputs: normal([]int{2, 2, 4, 4}, []int{3, 2, 3, 3}),
	}, {
		// A conv on the batched path (C*kh*kw = 72 >= 64) with a batch of
		// 10 (> 8) whose weight gradient leaves out the last sample, the
		// kind of bug a chunk loop's bound makes; its input gradient is
		// right.
		name: "batched conv weight gradient drops a sample", want: "gradient of input 1",
		bad: func(xs []*Value) *Value {
			x, w := xs[0], xs[1]
			return Square(record(dropLast, tensor.Conv2d(x.data, w.data, p), []*Value{x, w}, func(g *Value) []*Value {
				n := x.Shape()[0]
				gw := conv2dWeightGrad(Slice(x, 0, 0, n-1), Slice(g, 0, 0, n-1), p, 3, 3)
				return []*Value{convTranspose(g, w, p, 4, 4), gw}
			}))
		},
		good:   func(xs []*Value) *Value { return Square(Conv2d(xs[0], xs[1], p)) },
		inputs: normal([]int{10, 8, 4, 4}, []int{3, 8, 3, 3}),
	}}
}

// checkControl runs one control with seed; see control.
func checkControl(c control, seed uint64) error {
	xs := c.inputs(seed)
	opts := CheckOptions{Seed: seed}
	if c.second {
		if err := GradCheck(c.bad, xs, opts); err != nil {
			return fmt.Errorf("first order of the wrong rule should pass (its gradient is right): %v", err)
		}
		opts.SecondOrder = true
	}
	err := GradCheck(c.bad, xs, opts)
	if err == nil {
		return fmt.Errorf("GradCheck accepted the wrong rule")
	}
	if !strings.Contains(err.Error(), c.want) {
		return fmt.Errorf("error %q does not name %q", err, c.want)
	}
	if err := GradCheck(c.good, xs, opts); err != nil {
		return fmt.Errorf("the right rule: %v", err)
	}
	return nil
}

// TestGradCheckDetectsWrongGradient runs every negative control; the
// second-order ones are TestSecondOrderCatchesBadBackward.
func TestGradCheckDetectsWrongGradient(t *testing.T) {
	for _, c := range controls(t) {
		if !c.second {
			t.Run(c.name, func(t *testing.T) {
				if err := checkControl(c, 1); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestSecondOrderCatchesBadBackward: rules right at first order and wrong
// at second must pass the first-order check and fail the second.
func TestSecondOrderCatchesBadBackward(t *testing.T) {
	for _, c := range controls(t) {
		if c.second {
			t.Run(c.name, func(t *testing.T) {
				if err := checkControl(c, 1); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestNegativeControlsSeeds runs every negative control on sweepSeeds
// seeds: a tolerance derived from a measured noise floor must never grow
// wide enough to let one pass. Long: skipped with -short.
func TestNegativeControlsSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the negative controls on 100 seeds")
	}
	for _, c := range controls(t) {
		t.Run(c.name, func(t *testing.T) {
			for seed := uint64(1); seed <= sweepSeeds; seed++ {
				if err := checkControl(c, seed); err != nil {
					t.Errorf("seed %d: %v", seed, err)
				}
			}
		})
	}
}

// TestGradCheckNaNNumericFails: a function that is NaN everywhere beside
// the point fails with a not-finite error rather than passing.
func TestGradCheckNaNNumericFails(t *testing.T) {
	x := tensor.FromSlice([]float32{0.5, 0.8}, 2)
	nanOff := func(xs []*Value) *Value {
		return Log(Neg(Square(Sub(xs[0], Const(x)))))
	}
	if err := GradCheck(nanOff, []*tensor.Tensor{x}, CheckOptions{}); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("GradCheck of a function NaN beside the point: %v, want a not-finite error", err)
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
