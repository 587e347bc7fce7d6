package cyclegan

import (
	"fmt"

	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// Pool is CycleGAN's history of generated images (Zhu et al. 2017,
// section 4, after Shrivastava et al. 2017, arXiv:1612.07828): the
// discriminator is updated on images drawn from the last Size images the
// generator made, not only on the newest batch, which damps oscillation.
//
// Query follows the rule of the authors' code, image by image: while the
// pool holds fewer than Size images, the new image is stored and returned;
// once full, with probability 1/2 a uniformly chosen stored image is
// returned and the new one takes its place, and otherwise the new image is
// returned and the pool is left alone. Images are copied in and out, so
// what the pool holds is detached from any graph and outlives the step's
// arena. A Size of 0 returns the batch unchanged.
//
// The pool is a family.Extra: a checkpoint keeps its images, its count and
// its random stream, so a resumed run queries it exactly as an
// uninterrupted one.
type Pool struct {
	Size   int
	images *tensor.Tensor // [Size, C, H, W], persistent; rows 0..count-1 used
	count  int
	rng    *tensor.RNG
}

// NewPool returns an empty pool of size images of shape [C, H, W] that
// draws from rng.
func NewPool(size int, shape []int, rng *tensor.RNG) *Pool {
	p := &Pool{Size: size, rng: rng}
	tensor.Persistent(func() { p.images = tensor.New(append([]int{max(size, 1)}, shape...)...) })
	return p
}

// Len is the number of images the pool holds.
func (p *Pool) Len() int { return p.count }

// Query returns a batch of the shape of x [N, C, H, W] for the
// discriminator: x's images or earlier ones, by the rule above. x is read,
// never kept; the result is a new tensor.
func (p *Pool) Query(x *tensor.Tensor) *tensor.Tensor {
	out := x.Clone()
	if p.Size == 0 {
		return out
	}
	n, px := x.Size(0), x.Size(1)*x.Size(2)*x.Size(3)
	if want := p.images.Size(1) * p.images.Size(2) * p.images.Size(3); px != want {
		panic(fmt.Sprintf("cyclegan.Pool.Query: images %v, pool holds %v", x.Shape(), p.images.Shape()[1:]))
	}
	src, dst, store := x.Data(), out.Data(), p.images.Data()
	for i := range n {
		img := src[i*px : (i+1)*px]
		if p.count < p.Size {
			copy(store[p.count*px:(p.count+1)*px], img)
			p.count++
			continue
		}
		if p.rng.Float64() > 0.5 {
			k := p.rng.Intn(p.Size)
			old := store[k*px : (k+1)*px]
			copy(dst[i*px:(i+1)*px], old)
			copy(old, img)
		}
	}
	return out
}

// State returns a copy of the pool's images (the Stateful half of a
// checkpoint; Save adds the count and the stream).
func (p *Pool) State() map[string]*tensor.Tensor {
	var c *tensor.Tensor
	tensor.Persistent(func() { c = p.images.Clone() })
	return map[string]*tensor.Tensor{"images": c}
}

// LoadState copies the images of a State into the pool.
func (p *Pool) LoadState(state map[string]*tensor.Tensor) error {
	im, ok := state["images"]
	if !ok || len(state) != 1 {
		return fmt.Errorf("image pool: want one tensor \"images\", have %d", len(state))
	}
	if !tensor.SameShape(im.Shape(), p.images.Shape()) {
		return fmt.Errorf("image pool: images %v, want %v (model.pool or the image shape changed)", im.Shape(), p.images.Shape())
	}
	copy(p.images.Data(), im.Data())
	return nil
}

// Save puts the pool's images under group name, and its count and random
// stream under the same name.
func (p *Pool) Save(ck *run.Checkpoint, name string) error {
	ck.PutState(name, p)
	ck.PutRNG(name, p.rng)
	return ck.PutJSON(name, p.count)
}

// Load restores what Save stored; a count beyond the pool's size is an
// error, and nothing changes on one.
func (p *Pool) Load(ck *run.Checkpoint, name string) error {
	var n int
	if err := ck.LoadJSON(name, &n); err != nil {
		return err
	}
	if n < 0 || n > p.Size {
		return fmt.Errorf("image pool %s: holds %d images, but model.pool is %d", name, n, p.Size)
	}
	rng := tensor.NewRNG(0)
	if err := ck.LoadRNG(name, rng); err != nil {
		return err
	}
	if err := ck.LoadState(name, p); err != nil {
		return err
	}
	p.count = n
	return p.rng.SetState(rng.State())
}
