package tensor

import (
	"fmt"
	"math"
	"sync"
)

// Memory reuse. A training step in steady state should not allocate: the
// buffers of one step's intermediates serve the next. Two mechanisms give
// that:
//
//   - Release hands one tensor's buffer back to a free list keyed by length,
//     and every allocation here takes from that list first.
//   - An Arena collects every buffer allocated while it is open (by any
//     goroutine) and releases them all at once: a trainer opens one around a
//     step's forward and backward passes and closes it after the optimizer
//     has read the gradients. Tensors that must outlive the step (parameters,
//     optimizer state, accumulated gradients, data batches) are allocated
//     before the arena opens or inside Persistent.
//
// The free list keeps what it is given, so the resident size settles at the
// largest step's working set and stays flat.

var pool = struct {
	sync.Mutex
	free   map[int][][]float32
	arenas []*Arena
	hold   int // >0 inside Persistent: allocations bypass arenas
	poison bool
}{free: map[int][][]float32{}}

// Arena owns the buffers allocated while it is the innermost open arena.
type Arena struct {
	owned map[*float32]struct{}
	bufs  [][]float32
	done  bool
}

// OpenArena opens a new innermost arena.
func OpenArena() *Arena {
	a := &Arena{owned: map[*float32]struct{}{}}
	pool.Lock()
	pool.arenas = append(pool.arenas, a)
	pool.Unlock()
	return a
}

// Close releases every buffer the arena owns, so tensors allocated while it
// was open must not be used afterwards. It panics if a is not the innermost
// open arena (arenas nest).
func (a *Arena) Close() {
	pool.Lock()
	defer pool.Unlock()
	n := len(pool.arenas)
	if n == 0 || pool.arenas[n-1] != a || a.done {
		panic("tensor.Arena.Close: not the innermost open arena")
	}
	pool.arenas = pool.arenas[:n-1]
	a.done = true
	for _, b := range a.bufs {
		// A buffer released and reallocated inside the arena is listed
		// twice but owned once: free it once.
		if _, ok := a.owned[&b[0]]; ok {
			delete(a.owned, &b[0])
			putLocked(b)
		}
	}
	a.bufs, a.owned = nil, nil
}

// Persistent runs f with arenas suspended: tensors it allocates outlive any
// open arena. Used for state created lazily during a step (accumulated
// gradients, optimizer moments).
func Persistent(f func()) {
	pool.Lock()
	pool.hold++
	pool.Unlock()
	defer func() {
		pool.Lock()
		pool.hold--
		pool.Unlock()
	}()
	f()
}

// SetPoison makes released buffers fill with NaN, so that a use after
// release shows up in results. For tests; it costs a pass over memory.
func SetPoison(on bool) {
	pool.Lock()
	pool.poison = on
	pool.Unlock()
}

// alloc returns a zeroed buffer of length n.
func alloc(n int) []float32 {
	b := allocDirty(n)
	clear(b)
	return b
}

// allocDirty returns a buffer of length n with unspecified contents.
func allocDirty(n int) []float32 {
	if n == 0 {
		return []float32{}
	}
	pool.Lock()
	defer pool.Unlock()
	var b []float32
	if l := pool.free[n]; len(l) > 0 {
		b = l[len(l)-1]
		pool.free[n] = l[:len(l)-1]
	} else {
		b = make([]float32, n)
	}
	if k := len(pool.arenas); k > 0 && pool.hold == 0 {
		a := pool.arenas[k-1]
		a.owned[&b[0]] = struct{}{}
		a.bufs = append(a.bufs, b)
	}
	return b
}

// putLocked adds b to the free list; the caller holds pool's lock.
func putLocked(b []float32) {
	if pool.poison {
		nan := float32(math.NaN())
		for i := range b {
			b[i] = nan
		}
	}
	pool.free[len(b)] = append(pool.free[len(b)], b)
}

// Release returns t's buffer to the pool for reuse and leaves t empty. The
// caller promises that nothing else still reads the buffer (views made by
// Reshape share it). Releasing a buffer an open arena owns takes it out of
// the arena, so it is never freed twice. Only t's own elements go back,
// never the rest of a larger array t's data was sliced from (FromSlice of
// a sub-slice), which may belong to another tensor.
func Release(t *Tensor) {
	if t == nil || len(t.data) == 0 {
		return
	}
	b := t.data[:len(t.data):len(t.data)]
	t.data = nil
	pool.Lock()
	defer pool.Unlock()
	for _, a := range pool.arenas {
		if _, ok := a.owned[&b[0]]; ok {
			delete(a.owned, &b[0])
		}
	}
	putLocked(b)
}

// PoolStats reports the free list's size: how many buffers and float32s it
// holds. For tests and diagnostics.
func PoolStats() (buffers, floats int) {
	pool.Lock()
	defer pool.Unlock()
	for n, l := range pool.free {
		buffers += len(l)
		floats += n * len(l)
	}
	return
}

// String says how many buffers the arena holds.
func (a *Arena) String() string { return fmt.Sprintf("Arena(%d buffers)", len(a.owned)) }
