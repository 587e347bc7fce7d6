package cyclegan

import (
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// batchOf returns n one-pixel images [n, 1, 1, 1] holding from, from+1, ...
func batchOf(from, n int) *tensor.Tensor {
	x := tensor.New(n, 1, 1, 1)
	for i := range n {
		x.Data()[i] = float32(from + i)
	}
	return x
}

// TestPoolFillsThenSwapsHalf checks the history pool's rule: while filling
// it returns the new images and keeps copies; once full, about half of the
// images returned are older ones, each of which the new image replaced,
// and the rest the new images themselves.
func TestPoolFillsThenSwapsHalf(t *testing.T) {
	p := NewPool(4, []int{1, 1, 1}, tensor.NewRNG(3))
	x := batchOf(0, 3)
	if got := p.Query(x).Data(); !slices.Equal(got, []float32{0, 1, 2}) || p.Len() != 3 {
		t.Fatalf("filling: got %v, pool holds %d", got, p.Len())
	}
	x.Data()[0] = 99 // the pool holds copies, not the caller's tensor
	held := func() []float32 { return slices.Clone(p.images.Data()[:p.Len()]) }
	if got := p.Query(batchOf(3, 2)).Data(); !slices.Equal(got[:1], []float32{3}) || p.Len() != 4 || !slices.Equal(held(), []float32{0, 1, 2, 3}) {
		t.Fatalf("last free place: got %v, pool %v", got, held())
	}
	old, n := 0, 2000
	for i := range n {
		before := held()
		v := float32(100 + i)
		got := p.Query(batchOf(100+i, 1)).Data()[0]
		after := held()
		switch {
		case got == v:
			if !slices.Equal(before, after) {
				t.Fatalf("query %d returned the new image but changed the pool %v -> %v", i, before, after)
			}
		case slices.Contains(before, got):
			k := slices.Index(before, got)
			if after[k] != v {
				t.Fatalf("query %d returned stored %v but put %v in its place, not the new image", i, got, after[k])
			}
			old++
		default:
			t.Fatalf("query %d returned %v, neither new nor stored %v", i, got, before)
		}
	}
	if f := float64(old) / float64(n); f < 0.45 || f > 0.55 {
		t.Errorf("%.3f of full-pool queries returned a stored image, want about 1/2", f)
	}
	if got := NewPool(0, []int{1, 1, 1}, tensor.NewRNG(1)).Query(batchOf(7, 2)).Data(); !slices.Equal(got, []float32{7, 8}) {
		t.Errorf("pool of size 0: %v", got)
	}
}

// TestPoolCheckpoint saves a pool part-way and checks that a new pool
// loaded from the checkpoint answers the following queries exactly as the
// original does (images, count and stream restored), and that a
// checkpoint of a larger pool is refused.
func TestPoolCheckpoint(t *testing.T) {
	p := NewPool(5, []int{1, 2, 2}, tensor.NewRNG(9))
	rng := tensor.NewRNG(4)
	for range 4 {
		p.Query(rng.Normal(0, 1, 3, 1, 2, 2))
	}
	ck := run.NewCheckpoint(4)
	if err := p.Save(ck, "pool_a"); err != nil {
		t.Fatal(err)
	}
	q := NewPool(5, []int{1, 2, 2}, tensor.NewRNG(1))
	if err := q.Load(ck, "pool_a"); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		x := rng.Normal(0, 1, 3, 1, 2, 2)
		if a, b := p.Query(x).Data(), q.Query(x).Data(); !slices.Equal(a, b) {
			t.Fatalf("query %d after loading: %v and %v", i, a, b)
		}
	}
	small := NewPool(2, []int{1, 2, 2}, tensor.NewRNG(1))
	if err := small.Load(ck, "pool_a"); err == nil {
		t.Error("a pool of 2 loaded a checkpoint of a pool of 5")
	}
}
