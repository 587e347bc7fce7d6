// Package parallel splits loops over many independent elements across
// goroutines, for the engine's kernels and the optimisers' updates.
//
// Blocks are contiguous and each writes its own part of the output, so as
// long as every element is computed by the same operations whatever the
// split, results do not depend on the number of goroutines.
package parallel

import (
	"runtime"
	"sync"
)

// Grain is roughly how many float32 elements of work justify one more
// goroutine: below it, the goroutine's start and join cost (about a
// microsecond) outweighs the gain. A variable so tests can force splits.
var Grain = 1 << 15

// For runs body over [0, n) split into at most GOMAXPROCS contiguous blocks
// [lo, hi), each holding at least enough items that items*cost elements
// reach Grain (cost is the work of one item in elements). It runs body
// inline when one block suffices.
func For(n, cost int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	w := runtime.GOMAXPROCS(0)
	if cost < 1 {
		cost = 1
	}
	if byWork := n * cost / Grain; byWork < w {
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
