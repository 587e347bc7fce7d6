package autograd

import "github.com/kallima-gan/kallima/tensor"

// distinct returns a tensor of the shape holding a seeded shuffle of
// spacing-apart values centred on 0: max pool's kink lies where two window
// entries tie, and a spacing of 0.25 keeps every finite-difference step far
// from one: GradCheck's steps are at most 0.02, 0.02 |v_i| along the
// second-order direction, so two entries close in by 0.02 (|v_a| + |v_b|),
// which reaches 0.25 only if |v_a| + |v_b| > 12 (normal v: never).
func distinct(seed uint64, spacing float32, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	n := t.Len()
	for i, p := range tensor.NewRNG(seed).Perm(n) {
		t.Data()[i] = (float32(p) - float32(n)/2) * spacing
	}
	return t
}

func init() {
	k2 := tensor.PoolParams{Kernel: [2]int{2, 2}}
	k3s2p1 := tensor.PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}
	k3s1p1 := tensor.PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}
	k23 := tensor.PoolParams{Kernel: [2]int{2, 3}, Stride: [2]int{1, 2}, Padding: [2]int{0, 1}}
	sq := func(f func(*Value) *Value) func([]*Value) *Value {
		return func(x []*Value) *Value { return Square(f(x[0])) }
	}
	addCases(
		gradCase{op: "avg_pool2d", shapes: [][]int{{2, 3, 4, 6}}, f: nl(func(a *Value) *Value { return AvgPool2d(a, k2) })},
		gradCase{op: "avg_pool2d", shapes: [][]int{{1, 2, 5, 5}}, f: nl(func(a *Value) *Value { return AvgPool2d(a, k3s2p1) })},
		gradCase{op: "avg_pool2d", shapes: [][]int{{2, 1, 4, 5}}, f: nl(func(a *Value) *Value { return AvgPool2d(a, k23) })},
		gradCase{op: "avg_pool2d_transpose", shapes: [][]int{{2, 2, 3, 3}}, f: nl(func(a *Value) *Value { return avgPool2dTranspose(a, k3s2p1, 5, 6) })},
		gradCase{op: "avg_pool2d_transpose", shapes: [][]int{{1, 3, 2, 2}}, f: nl(func(a *Value) *Value { return avgPool2dTranspose(a, k2, 5, 4) })},
		// Max pool is piecewise linear: Square makes the second order
		// non-trivial, and spaced inputs keep steps away from ties.
		gradCase{op: "max_pool2d", shapes: [][]int{{2, 2, 5, 5}}, spaced: 0.25,
			f: sq(func(a *Value) *Value { return MaxPool2d(a, k3s2p1) })},
		gradCase{op: "max_pool2d", shapes: [][]int{{1, 2, 4, 6}}, spaced: 0.25,
			f: sq(func(a *Value) *Value { return MaxPool2d(a, k2) })},
		// Overlapping windows send several gradients to one maximum.
		gradCase{op: "max_pool2d", shapes: [][]int{{1, 1, 4, 4}}, spaced: 0.25,
			f: sq(func(a *Value) *Value { return MaxPool2d(a, k3s1p1) })},
		gradCase{op: "max_pool2d", shapes: [][]int{{1, 2, 3, 5}}, spaced: 0.25,
			f: sq(func(a *Value) *Value { return MaxPool2d(a, k23) })},
	)
}
