package autograd

import (
	"fmt"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// randomBroadcastPair draws a random shape of rank 1-4 with odd sizes and a
// second shape that broadcasts against it (some dimensions 1, maybe a lower
// rank), in either order.
func randomBroadcastPair(rng *tensor.RNG) ([]int, []int) {
	rank := 1 + rng.Intn(4)
	a := make([]int, rank)
	for i := range a {
		a[i] = 1 + rng.Intn(4) // 1..4, odd and even
	}
	drop := rng.Intn(rank)
	b := append([]int(nil), a[drop:]...)
	for i := range b {
		if rng.Intn(2) == 0 {
			b[i] = 1
		}
	}
	if rng.Intn(2) == 0 {
		return b, a
	}
	return a, b
}

// TestGradCheckRandomBroadcastShapes runs the broadcasting binary ops and
// the reductions on random shapes, first and second order.
func TestGradCheckRandomBroadcastShapes(t *testing.T) {
	rng := tensor.NewRNG(42)
	ops := map[string]func(a, b *Value) *Value{
		"add": func(a, b *Value) *Value { return Square(Add(a, b)) },
		"sub": func(a, b *Value) *Value { return Square(Sub(a, b)) },
		"mul": Mul,
		"div": func(a, b *Value) *Value { return Div(a, AddScalar(Square(b), 1)) },
	}
	for trial := 0; trial < 12; trial++ {
		sa, sb := randomBroadcastPair(rng)
		for name, f := range ops {
			xs := []*tensor.Tensor{rng.Normal(0, 1, sa...), rng.Normal(0, 1, sb...)}
			fn := func(x []*Value) *Value { return f(x[0], x[1]) }
			if err := GradCheck(fn, xs, CheckOptions{SecondOrder: true, Seed: uint64(trial)}); err != nil {
				t.Fatalf("%s on %v and %v: %v", name, sa, sb, err)
			}
		}
		// A reduction over a random subset of axes of the broadcast result.
		out := tensor.BroadcastShapes("test", sa, sb)
		var axes []int
		for i := range out {
			if rng.Intn(2) == 0 {
				axes = append(axes, i)
			}
		}
		xs := []*tensor.Tensor{rng.Normal(0, 1, sa...), rng.Normal(0, 1, sb...)}
		fn := func(x []*Value) *Value { return Square(Sum(Mul(x[0], x[1]), axes, trial%2 == 0)) }
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			if err := GradCheck(fn, xs, CheckOptions{SecondOrder: true, Seed: uint64(trial)}); err != nil {
				t.Fatalf("sum over %v of %v*%v: %v", axes, sa, sb, err)
			}
		})
	}
}
