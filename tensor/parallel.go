package tensor

import "github.com/kallima-gan/kallima/internal/parallel"

// Parallel kernels. Large kernels split their work into contiguous blocks
// run on up to GOMAXPROCS goroutines (package internal/parallel). Blocks
// write disjoint parts of the output and every output element is computed
// by the same sequence of operations whatever the split, so results do not
// depend on the number of goroutines. Kernels that call into BLAS do so
// outside these loops, so Go's goroutines and OpenBLAS's threads never
// compete for the cores.

// parallelFor is parallel.For: body over [0, n) in blocks, cost elements
// of work per item.
func parallelFor(n, cost int, body func(lo, hi int)) { parallel.For(n, cost, body) }

// each runs body over matching blocks of out and x (same length), split
// across goroutines for long slices: for elementwise kernels with one
// input. out may be x.
func each(out, x []float32, body func(out, x []float32)) {
	x = x[:len(out)]
	parallelFor(len(out), 1, func(lo, hi int) { body(out[lo:hi], x[lo:hi]) })
}

// zip is each for two inputs of out's length.
func zip(out, x, y []float32, body func(out, x, y []float32)) {
	x, y = x[:len(out)], y[:len(out)]
	parallelFor(len(out), 1, func(lo, hi int) { body(out[lo:hi], x[lo:hi], y[lo:hi]) })
}
