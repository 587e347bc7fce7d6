package data

import "fmt"

// NumpyShuffle returns 0..n-1 in the order numpy's legacy
// numpy.random.RandomState(seed).shuffle leaves numpy.arange(n), which is
// also the order sklearn.utils.shuffle(..., random_state=RandomState(seed))
// draws. Python projects split their data that way; reproducing the
// permutation bit for bit is what lets Kallima score on the same split
// (the BiGAN authors' MNIST validation set is NumpyShuffle(60000, 42)'s
// last 10000).
func NumpyShuffle(n int, seed uint32) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	mt := newMT19937(seed)
	// numpy's Fisher-Yates from the end, each j drawn by random_interval.
	for i := n - 1; i > 0; i-- {
		j := mt.interval(uint32(i))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// mt19937 is the Mersenne Twister as numpy's legacy RandomState runs it.
type mt19937 struct {
	key [624]uint32
	pos int
}

// newMT19937 seeds the generator as RandomState(seed) does for an integer
// seed (Matsumoto and Nishimura's init_genrand).
func newMT19937(seed uint32) *mt19937 {
	m := &mt19937{pos: 624}
	m.key[0] = seed
	for i := 1; i < 624; i++ {
		prev := m.key[i-1]
		m.key[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return m
}

// next returns the next 32 random bits.
func (m *mt19937) next() uint32 {
	const upper, lower, matrix = 0x80000000, 0x7fffffff, 0x9908b0df
	if m.pos == 624 {
		for i := range 624 {
			y := m.key[i]&upper | m.key[(i+1)%624]&lower
			v := m.key[(i+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= matrix
			}
			m.key[i] = v
		}
		m.pos = 0
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// interval returns a uniform integer in 0..max by numpy's masked rejection
// (random_interval: draw 32 bits, keep the bits of max's width, retry
// while above max).
func (m *mt19937) interval(max uint32) uint32 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := m.next() & mask; v <= max {
			return v
		}
	}
}

// OrderBiGAN is the data.order that puts MNIST's training digits in the
// order the BiGAN authors' code does (github.com/jeffdonahue/bigan,
// load.py's mnist_with_valid_set: sklearn's shuffle with numpy's
// RandomState(42)), so the first 50000 are the digits they trained on and
// the last 10000 their validation split.
const OrderBiGAN = "bigan"

// MNISTOrder returns the training digits' indices in the named order: nil
// (the files' order) for "", NumpyShuffle(MNISTTrainN, 42) for OrderBiGAN.
func MNISTOrder(name string) ([]int, error) {
	switch name {
	case "":
		return nil, nil
	case OrderBiGAN:
		return NumpyShuffle(MNISTTrainN, 42), nil
	}
	return nil, fmt.Errorf("order %q: want %q (the BiGAN authors' shuffle) or none (the files' order)", name, OrderBiGAN)
}
