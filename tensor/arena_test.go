package tensor

import (
	"math"
	"testing"
)

func TestArenaReusesBuffers(t *testing.T) {
	a := OpenArena()
	x := New(1000)
	first := &x.data[0]
	a.Close()
	b := OpenArena()
	y := New(1000)
	if &y.data[0] != first {
		t.Fatal("a closed arena's buffer was not reused by the next allocation of the same size")
	}
	for _, v := range y.data {
		if v != 0 {
			t.Fatal("New returned a reused buffer that was not zeroed")
		}
	}
	b.Close()
}

func TestArenaPersistentSurvives(t *testing.T) {
	a := OpenArena()
	var keep *Tensor
	Persistent(func() { keep = Full(3, 100) })
	tmp := Full(5, 100)
	_ = tmp
	a.Close()
	// A new allocation of the same size must not hand out keep's buffer.
	b := OpenArena()
	z := Full(7, 100)
	b.Close()
	if &z.data[0] == &keep.data[0] || keep.data[0] != 3 {
		t.Fatalf("persistent tensor was reclaimed: %v", keep.data[:3])
	}
}

func TestArenaReleaseInsideIsNotDoubleFreed(t *testing.T) {
	a := OpenArena()
	x := New(64)
	p := &x.data[0]
	Release(x)
	y := New(64) // takes the same buffer back
	if &y.data[0] != p {
		t.Fatal("released buffer not reused")
	}
	a.Close()
	// After Close the buffer is free exactly once: two allocations of the
	// same size must get different buffers.
	u, v := New(64), New(64)
	if &u.data[0] == &v.data[0] {
		t.Fatal("buffer handed out twice: freed twice by the arena")
	}
}

func TestArenaPoison(t *testing.T) {
	SetPoison(true)
	defer SetPoison(false)
	a := OpenArena()
	x := Full(1, 16)
	a.Close()
	if !math.IsNaN(float64(x.data[0])) {
		t.Fatal("poisoned release left the old value in place")
	}
}

func TestArenaClosePanicsOutOfOrder(t *testing.T) {
	a := OpenArena()
	b := OpenArena()
	defer func() {
		if recover() == nil {
			t.Fatal("closing the outer arena first did not panic")
		}
		b.Close()
		a.Close()
	}()
	a.Close()
}
