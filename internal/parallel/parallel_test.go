package parallel

import (
	"runtime"
	"sync"
	"testing"
)

// TestForCoversOnce checks that For's blocks cover [0, n) exactly once, in
// contiguous non-empty blocks, however many goroutines and whatever the
// grain, and that it calls nothing for n <= 0.
func TestForCoversOnce(t *testing.T) {
	prevGrain, prevProcs := Grain, runtime.GOMAXPROCS(0)
	defer func() { Grain = prevGrain; runtime.GOMAXPROCS(prevProcs) }()
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, grain := range []int{1, 5, 1 << 15} {
			Grain = grain
			for _, n := range []int{-1, 0, 1, 2, 7, 100, 1 << 16} {
				for _, cost := range []int{0, 1, 3} {
					var mu sync.Mutex
					seen := make([]int, max(n, 0))
					blocks := 0
					For(n, cost, func(lo, hi int) {
						mu.Lock()
						defer mu.Unlock()
						if lo >= hi {
							t.Errorf("procs %d grain %d n %d: empty block [%d, %d)", procs, grain, n, lo, hi)
						}
						blocks++
						for i := lo; i < hi; i++ {
							seen[i]++
						}
					})
					for i, c := range seen {
						if c != 1 {
							t.Fatalf("procs %d grain %d n %d cost %d: item %d covered %d times", procs, grain, n, cost, i, c)
						}
					}
					if n <= 0 && blocks != 0 {
						t.Fatalf("n %d: %d blocks, want none", n, blocks)
					}
					if blocks > procs {
						t.Fatalf("procs %d grain %d n %d: %d blocks", procs, grain, n, blocks)
					}
				}
			}
		}
	}
}
