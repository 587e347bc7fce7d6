package tensor

import "sync"

// The buffer pool lets a training loop in steady state reuse the memory of
// the previous step instead of allocating: Release gives a tensor's buffer
// back, and alloc takes buffers of the same length out again.

var pool = struct {
	sync.Mutex
	free map[int][][]float32
}{free: map[int][][]float32{}}

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
	l := pool.free[n]
	if k := len(l); k > 0 {
		b := l[k-1]
		pool.free[n] = l[:k-1]
		pool.Unlock()
		return b
	}
	pool.Unlock()
	return make([]float32, n)
}

// Release returns t's buffer to the pool for reuse and leaves t empty. The
// caller promises that nothing else still reads the buffer (views made by
// Reshape share it).
func Release(t *Tensor) {
	if t == nil || cap(t.data) == 0 {
		return
	}
	b := t.data[:cap(t.data)]
	t.data = nil
	pool.Lock()
	pool.free[len(b)] = append(pool.free[len(b)], b)
	pool.Unlock()
}
