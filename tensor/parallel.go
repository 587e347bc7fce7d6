package tensor

import (
	"runtime"
	"sync"
)

// Parallel kernels. Large kernels split their work into contiguous blocks
// run on up to GOMAXPROCS goroutines. Blocks write disjoint parts of the
// output and every output element is computed by the same sequence of
// operations whatever the split, so results do not depend on the number of
// goroutines. Kernels that call into BLAS do so outside these loops, so Go's
// goroutines and OpenBLAS's threads never compete for the cores.

// parallelGrain is roughly how many float32 elements of work justify one
// more goroutine: below it, the goroutine's start and join cost (about a
// microsecond) outweighs the gain. A variable so tests can force splits.
var parallelGrain = 1 << 15

// workers returns how many goroutines a parallel kernel may use:
// runtime.GOMAXPROCS(0).
func workers() int { return runtime.GOMAXPROCS(0) }

// parallelFor runs body over [0, n) split into at most workers() contiguous
// blocks [lo, hi), each holding at least enough items that items*cost
// elements reach parallelGrain (cost is the work of one item in elements).
// It runs body inline when one block suffices.
func parallelFor(n, cost int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	w := workers()
	if cost < 1 {
		cost = 1
	}
	if byWork := n * cost / parallelGrain; byWork < w {
		w = max(byWork, 1)
	}
	w = min(w, n)
	if w == 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for k := 1; k < w; k++ {
		lo, hi := k*n/w, (k+1)*n/w
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	body(0, n/w)
	wg.Wait()
}

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
