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
	if err := checkRandomBroadcastShapes(42); err != nil {
		t.Fatal(err)
	}
}

// checkRandomBroadcastShapes runs 12 trials drawn from seed; see
// TestGradCheckRandomBroadcastShapes.
func checkRandomBroadcastShapes(seed uint64) error {
	rng := tensor.NewRNG(seed)
	// A slice, not a map: the ops draw their inputs from rng in turn, so
	// their order must not change between runs.
	ops := []struct {
		name string
		f    func(a, b *Value) *Value
	}{
		{"add", func(a, b *Value) *Value { return Square(Add(a, b)) }},
		{"sub", func(a, b *Value) *Value { return Square(Sub(a, b)) }},
		{"mul", Mul},
		{"div", func(a, b *Value) *Value { return Div(a, AddScalar(Square(b), 1)) }},
	}
	for trial := range uint64(12) {
		opts := CheckOptions{SecondOrder: true, Seed: seed*100 + trial}
		sa, sb := randomBroadcastPair(rng)
		for _, op := range ops {
			xs := []*tensor.Tensor{rng.Normal(0, 1, sa...), rng.Normal(0, 1, sb...)}
			fn := func(x []*Value) *Value { return op.f(x[0], x[1]) }
			if err := GradCheck(fn, xs, opts); err != nil {
				return fmt.Errorf("trial %d, %s on %v and %v: %w", trial, op.name, sa, sb, err)
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
		if err := GradCheck(fn, xs, opts); err != nil {
			return fmt.Errorf("trial %d, sum over %v of %v*%v: %w", trial, axes, sa, sb, err)
		}
	}
	return nil
}
