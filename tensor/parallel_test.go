package tensor

import (
	"math"
	"runtime"
	"testing"

	"github.com/kallima-gan/kallima/internal/parallel"
)

// TestElementwiseWorkersAgree checks that the elementwise kernels split
// across goroutines give the same bits as on one: every block must start at
// the right element of each operand, broadcast ones included.
func TestElementwiseWorkersAgree(t *testing.T) {
	rng := NewRNG(3)
	x := rng.Normal(0, 1, 3, 5, 4, 7)
	y := rng.Normal(0, 1, 3, 5, 4, 7)
	x.data[11] = float32(math.NaN())
	bias := rng.Normal(0, 1, 1, 5, 1, 1) // a channel bias: runs of 4*7
	col := rng.Normal(0, 1, 3, 1, 4, 1)  // broadcast inside the run
	row := rng.Normal(0, 1, 7)           // the innermost axis only
	lhs := rng.Normal(0, 1, 1, 5, 1, 1)  // the broadcast operand on the left
	small := rng.Normal(0.5, 1, 5, 1, 1) // rank 3 against rank 4
	ops := map[string]func() *Tensor{
		"Add":          func() *Tensor { return Add(x, y) },
		"Add bias":     func() *Tensor { return Add(x, bias) },
		"Sub col":      func() *Tensor { return Sub(x, col) },
		"Sub left":     func() *Tensor { return Sub(lhs, x) },
		"Mul row":      func() *Tensor { return Mul(x, row) },
		"Mul":          func() *Tensor { return Mul(x, y) },
		"Div":          func() *Tensor { return Div(x, y) },
		"Div small":    func() *Tensor { return Div(small, x) },
		"Maximum":      func() *Tensor { return Maximum(x, y) },
		"Maximum col":  func() *Tensor { return Maximum(col, x) },
		"Map":          func() *Tensor { return Tanh(x) },
		"Neg":          func() *Tensor { return Neg(x) },
		"Scale":        func() *Tensor { return Scale(x, 0.3) },
		"AddScalar":    func() *Tensor { return AddScalar(x, -1.5) },
		"SlopeMask":    func() *Tensor { return SlopeMask(x, 0.2) },
		"Relu":         func() *Tensor { return Relu(x) },
		"Step":         func() *Tensor { return Step(x) },
		"BroadcastTo":  func() *Tensor { return BroadcastTo(col, []int{3, 5, 4, 7}) },
		"Permute":      func() *Tensor { return Permute(x, 2, 0, 3, 1) },
		"AddInPlace":   func() *Tensor { z := x.Clone(); AddInPlace(z, y); return z },
		"Axpy":         func() *Tensor { z := x.Clone(); Axpy(-0.7, y, z); return z },
		"ScaleInPlace": func() *Tensor { z := x.Clone(); ScaleInPlace(z, 3); return z },
	}
	prevGrain, prevProcs := parallel.Grain, runtime.GOMAXPROCS(1)
	defer func() { parallel.Grain = prevGrain; runtime.GOMAXPROCS(prevProcs) }()
	for name, op := range ops {
		runtime.GOMAXPROCS(1)
		parallel.Grain = prevGrain
		want := op()
		parallel.Grain = 1
		for _, procs := range []int{2, 3, 5} {
			runtime.GOMAXPROCS(procs)
			got := op()
			if !SameShape(got.shape, want.shape) {
				t.Fatalf("%s on %d goroutines: shape %v, want %v", name, procs, got.shape, want.shape)
			}
			for i := range want.data {
				if math.Float32bits(got.data[i]) != math.Float32bits(want.data[i]) {
					t.Fatalf("%s on %d goroutines: element %d = %v, want %v", name, procs, i, got.data[i], want.data[i])
				}
			}
		}
	}
}
