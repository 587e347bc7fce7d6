package tensor

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/kallima-gan/kallima/internal/parallel"
)

// convCase is one convolution geometry: input [n, c, h, w], weight
// [o, c, kh, kw] and the parameters.
type convCase struct {
	n, c, h, w, o, kh, kw int
	p                     ConvParams
}

func (cc convCase) String() string {
	return fmt.Sprintf("x%dx%dx%dx%d_w%dx%dx%dx%d_s%v_p%v_d%v", cc.n, cc.c, cc.h, cc.w, cc.o, cc.c, cc.kh, cc.kw, cc.p.Stride, cc.p.Padding, cc.p.Dilation)
}

var convCases = []convCase{
	{n: 1, c: 1, h: 5, w: 5, o: 1, kh: 3, kw: 3},
	{n: 2, c: 3, h: 5, w: 6, o: 4, kh: 3, kw: 2, p: ConvParams{Stride: [2]int{2, 1}, Padding: [2]int{1, 0}, Dilation: [2]int{1, 2}}},
	{n: 3, c: 2, h: 7, w: 7, o: 5, kh: 4, kw: 4, p: ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{n: 4, c: 3, h: 8, w: 5, o: 2, kh: 1, kw: 1},
	{n: 2, c: 2, h: 6, w: 9, o: 3, kh: 3, kw: 5, p: ConvParams{Stride: [2]int{3, 2}, Padding: [2]int{2, 3}, Dilation: [2]int{2, 1}}},
	{n: 3, c: 3, h: 14, w: 14, o: 4, kh: 4, kw: 4, p: ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{n: 2, c: 1, h: 3, w: 3, o: 2, kh: 5, kw: 5, p: ConvParams{Padding: [2]int{2, 2}}},
	// Padding wider than the kernel reach: rows and columns that see only zeros.
	{n: 2, c: 2, h: 4, w: 4, o: 2, kh: 2, kw: 2, p: ConvParams{Stride: [2]int{3, 3}, Padding: [2]int{3, 3}}},
	// More samples than the per-sample weight gradient's partial sums.
	{n: 11, c: 1, h: 6, w: 6, o: 2, kh: 3, kw: 3, p: ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	// C*kh*kw >= smallK: batched GEMMs over the whole batch (the cases
	// above run one sample at a time).
	{n: 3, c: 5, h: 9, w: 8, o: 3, kh: 4, kw: 4, p: ConvParams{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{n: 2, c: 8, h: 5, w: 33, o: 2, kh: 3, kw: 3, p: ConvParams{Padding: [2]int{1, 1}}},
	// Wide stride-1 outputs (32 and more columns) unroll by row copies.
	{n: 2, c: 2, h: 6, w: 33, o: 3, kh: 3, kw: 2, p: ConvParams{Padding: [2]int{1, 0}}},
	{n: 1, c: 2, h: 5, w: 36, o: 2, kh: 2, kw: 3, p: ConvParams{Stride: [2]int{2, 1}, Padding: [2]int{0, 2}, Dilation: [2]int{2, 2}}},
	// Narrow stride-1 outputs of 5x5 and larger kernels (CycleGAN's 7x7)
	// sum by row adds in col2im; the 1x1 and 5x5 cases above do too.
	{n: 2, c: 3, h: 12, w: 11, o: 2, kh: 7, kw: 7},
	{n: 3, c: 2, h: 6, w: 7, o: 2, kh: 5, kw: 6, p: ConvParams{Stride: [2]int{2, 1}, Padding: [2]int{3, 2}}},
}

// geom returns the case's convolution geometry.
func (cc convCase) geom() geom {
	p := cc.p.norm()
	g := geom{p: p, c: cc.c, h: cc.h, w: cc.w, kh: cc.kh, kw: cc.kw}
	g.ho = ConvOutSize(cc.h, cc.kh, p.Stride[0], p.Padding[0], p.Dilation[0])
	g.wo = ConvOutSize(cc.w, cc.kw, p.Stride[1], p.Padding[1], p.Dilation[1])
	return g
}

// naiveConv is the direct definition of Conv2d in float64.
func naiveConv(x, w []float64, cc convCase, ho, wo int) []float64 {
	p := cc.p.norm()
	out := make([]float64, cc.n*cc.o*ho*wo)
	for n := 0; n < cc.n; n++ {
		for o := 0; o < cc.o; o++ {
			for y := 0; y < ho; y++ {
				for xx := 0; xx < wo; xx++ {
					var s float64
					for c := 0; c < cc.c; c++ {
						for i := 0; i < cc.kh; i++ {
							for j := 0; j < cc.kw; j++ {
								iy := y*p.Stride[0] - p.Padding[0] + i*p.Dilation[0]
								ix := xx*p.Stride[1] - p.Padding[1] + j*p.Dilation[1]
								if iy < 0 || iy >= cc.h || ix < 0 || ix >= cc.w {
									continue
								}
								s += w[((o*cc.c+c)*cc.kh+i)*cc.kw+j] * x[((n*cc.c+c)*cc.h+iy)*cc.w+ix]
							}
						}
					}
					out[((n*cc.o+o)*ho+y)*wo+xx] = s
				}
			}
		}
	}
	return out
}

func convF64(t *Tensor) []float64 {
	r := make([]float64, len(t.data))
	for i, v := range t.data {
		r[i] = float64(v)
	}
	return r
}

func convDot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func convAssertClose(t *testing.T, what string, got *Tensor, want []float64) {
	t.Helper()
	if len(got.data) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.data), len(want))
	}
	for i, v := range got.data {
		if d := math.Abs(float64(v) - want[i]); d > 1e-4*(1+math.Abs(want[i])) {
			t.Fatalf("%s: [%d] = %g, want %g", what, i, v, want[i])
		}
	}
}

// TestConvAgainstDirect checks the im2col kernels against the direct
// float64 definition: Conv2d itself, and its two adjoints through the
// identities <Conv2d(x, w), g> = <x, ConvTranspose2d(g, w)> =
// <w, Conv2dWeightGrad(x, g)>, evaluated with one-hot probes so every
// element of each result is checked.
func TestConvAgainstDirect(t *testing.T) {
	for ci, cc := range convCases {
		t.Run(cc.String(), func(t *testing.T) {
			rng := NewRNG(uint64(ci + 1))
			x := rng.Normal(0, 1, cc.n, cc.c, cc.h, cc.w)
			w := rng.Normal(0, 1, cc.o, cc.c, cc.kh, cc.kw)
			y := Conv2d(x, w, cc.p)
			ho, wo := y.shape[2], y.shape[3]
			p := cc.p.norm()
			if ho != ConvOutSize(cc.h, cc.kh, p.Stride[0], p.Padding[0], p.Dilation[0]) || wo != ConvOutSize(cc.w, cc.kw, p.Stride[1], p.Padding[1], p.Dilation[1]) {
				t.Fatalf("output shape %v", y.shape)
			}
			convAssertClose(t, "Conv2d", y, naiveConv(convF64(x), convF64(w), cc, ho, wo))

			g := rng.Normal(0, 1, cc.n, cc.o, ho, wo)
			// ConvTranspose2d(g, w)[k] = <Conv2d(e_k, w), g>.
			gx := ConvTranspose2d(g, w, cc.p, cc.h, cc.w)
			want := make([]float64, x.Len())
			e := make([]float64, x.Len())
			for k := range e {
				e[k] = 1
				want[k] = convDot64(naiveConv(e, convF64(w), cc, ho, wo), convF64(g))
				e[k] = 0
			}
			convAssertClose(t, "ConvTranspose2d", gx, want)

			// Conv2dWeightGrad(x, g)[k] = <Conv2d(x, e_k), g>.
			gw := Conv2dWeightGrad(x, g, cc.p, cc.kh, cc.kw)
			want = make([]float64, w.Len())
			e = make([]float64, w.Len())
			for k := range e {
				e[k] = 1
				want[k] = convDot64(naiveConv(convF64(x), e, cc, ho, wo), convF64(g))
				e[k] = 0
			}
			convAssertClose(t, "Conv2dWeightGrad", gw, want)
		})
	}
}

// TestIm2colWorkersAgree checks that im2col and col2im give bit-identical
// results on one goroutine and on several, for both unrolling methods.
func TestIm2colWorkersAgree(t *testing.T) {
	prevGrain, prevProcs := parallel.Grain, runtime.GOMAXPROCS(1)
	defer func() { parallel.Grain = prevGrain; runtime.GOMAXPROCS(prevProcs) }()
	parallel.Grain = 1
	for ci, cc := range convCases {
		g := cc.geom()
		ld := cc.n * g.ho * g.wo
		rng := NewRNG(uint64(100 + ci))
		x := rng.Normal(0, 1, cc.n, cc.c, cc.h, cc.w)
		cols := rng.Normal(0, 1, g.ckk(), ld+1) // col2im wants a spare float per row
		run := func(procs int) (*Tensor, *Tensor) {
			runtime.GOMAXPROCS(procs)
			c := Full(7, g.ckk(), ld) // stale values must be overwritten
			im2col(x.data, g, 0, cc.n, c.data, ld)
			back := Full(7, cc.n, cc.c, cc.h, cc.w)
			col2im(cols.data, ld+1, g, 0, cc.n, back.data)
			return c, back
		}
		c1, b1 := run(1)
		for i, v := range append(append([]float32{}, c1.data...), b1.data...) {
			if v == 7 {
				t.Fatalf("%v: element %d of im2col/col2im output not overwritten", cc, i)
			}
		}
		for _, procs := range []int{2, 3, 5} {
			c2, b2 := run(procs)
			for i := range c1.data {
				if c1.data[i] != c2.data[i] {
					t.Fatalf("%v: im2col with %d goroutines differs at %d: %g vs %g", cc, procs, i, c2.data[i], c1.data[i])
				}
			}
			for i := range b1.data {
				if b1.data[i] != b2.data[i] {
					t.Fatalf("%v: col2im with %d goroutines differs at %d: %g vs %g", cc, procs, i, b2.data[i], b1.data[i])
				}
			}
		}
	}
}

// TestConvChunksAgree checks that splitting the batch into several GEMM
// chunks gives the results of one chunk (up to rounding: other chunk sizes
// are other GEMM shapes, and the weight gradient sums chunks in turn).
func TestConvChunksAgree(t *testing.T) {
	cc := convCases[9]
	if (geom{c: cc.c, kh: cc.kh, kw: cc.kw}).perSample() {
		t.Fatalf("case %v runs per sample; the test needs the batched path", cc)
	}
	rng := NewRNG(9)
	x := rng.Normal(0, 1, cc.n, cc.c, cc.h, cc.w)
	w := rng.Normal(0, 1, cc.o, cc.c, cc.kh, cc.kw)
	run := func() [3]*Tensor {
		y := Conv2d(x, w, cc.p)
		return [3]*Tensor{y, ConvTranspose2d(y, w, cc.p, cc.h, cc.w), Conv2dWeightGrad(x, y, cc.p, cc.kh, cc.kw)}
	}
	ref := run()
	names := [3]string{"Conv2d", "ConvTranspose2d", "Conv2dWeightGrad"}
	prevMax := maxColsFloats
	defer func() { maxColsFloats = prevMax }()
	for _, maxCols := range []int{1, 2 * cc.c * cc.kh * cc.kw * 49} {
		maxColsFloats = maxCols
		got := run()
		for k := range got {
			want := convF64(ref[k])
			for i, v := range got[k].data {
				if d := math.Abs(float64(v) - want[i]); d > 1e-4*(1+math.Abs(want[i])) {
					t.Fatalf("maxCols=%d: %s[%d] = %g, want %g", maxCols, names[k], i, v, want[i])
				}
			}
		}
	}
}

// TestCols checks that a kept im2col matrix gives Conv2d and
// Conv2dWeightGrad bit for bit, used twice, for every case and with the
// batch too large to keep unrolled.
func TestCols(t *testing.T) {
	prevMax := maxColsFloats
	defer func() { maxColsFloats = prevMax }()
	for _, maxCols := range []int{1 << 23, 1} {
		maxColsFloats = maxCols
		for ci, cc := range convCases {
			rng := NewRNG(uint64(200 + ci))
			x := rng.Normal(0, 1, cc.n, cc.c, cc.h, cc.w)
			w := rng.Normal(0, 1, cc.o, cc.c, cc.kh, cc.kw)
			y := Conv2d(x, w, cc.p)
			gw := Conv2dWeightGrad(x, y, cc.p, cc.kh, cc.kw)
			c := Im2col(x, cc.kh, cc.kw, cc.p)
			if kept := c.data != nil; kept != (maxCols > 1 && !c.g.perSample()) {
				t.Errorf("%v maxCols=%d: unrolled matrix kept = %v", cc, maxCols, kept)
			}
			for use := 0; use < 2; use++ {
				for name, pair := range map[string][2]*Tensor{"Conv2d": {c.Conv2d(w), y}, "WeightGrad": {c.WeightGrad(y), gw}} {
					for i, v := range pair[0].data {
						if v != pair[1].data[i] {
							t.Fatalf("%v maxCols=%d use %d: Cols.%s[%d] = %g, want %g", cc, maxCols, use, name, i, v, pair[1].data[i])
						}
					}
				}
			}
			c.Release()
		}
	}
}

// TestConvEmptyBatch checks that a batch of zero samples gives empty
// outputs and a zero weight gradient on both paths.
func TestConvEmptyBatch(t *testing.T) {
	for _, c := range []int{1, 8} { // per sample (K = 9) and batched (K = 72)
		x, w := New(0, c, 5, 5), Full(1, 3, c, 3, 3)
		y := Conv2d(x, w, ConvParams{})
		if !SameShape(y.shape, []int{0, 3, 3, 3}) {
			t.Errorf("C=%d: Conv2d of an empty batch has shape %v", c, y.shape)
		}
		if gx := ConvTranspose2d(y, w, ConvParams{}, 5, 5); !SameShape(gx.shape, x.shape) {
			t.Errorf("C=%d: ConvTranspose2d of an empty batch has shape %v", c, gx.shape)
		}
		gw := Conv2dWeightGrad(x, y, ConvParams{}, 3, 3)
		for _, v := range gw.data {
			if v != 0 || !SameShape(gw.shape, w.shape) {
				t.Fatalf("C=%d: weight gradient of an empty batch is %v", c, gw)
			}
		}
	}
}

func TestConvPanicsOnShape(t *testing.T) {
	cases := []struct {
		name string
		f    func()
	}{
		{"Conv2d channels", func() { Conv2d(New(1, 2, 5, 5), New(3, 3, 3, 3), ConvParams{}) }},
		{"Conv2d empty", func() { Conv2d(New(1, 2, 2, 2), New(3, 2, 3, 3), ConvParams{}) }},
		{"ConvTranspose2d size", func() { ConvTranspose2d(New(1, 3, 3, 3), New(3, 2, 3, 3), ConvParams{}, 6, 6) }},
		{"Conv2dWeightGrad batch", func() { Conv2dWeightGrad(New(2, 2, 5, 5), New(1, 3, 3, 3), ConvParams{}, 3, 3) }},
		{"Conv2dWeightGrad size", func() { Conv2dWeightGrad(New(2, 2, 5, 5), New(2, 3, 4, 3), ConvParams{}, 3, 3) }},
		{"Im2col 3-D", func() { Im2col(New(2, 5, 5), 3, 3, ConvParams{}) }},
		{"Cols.Conv2d kernel", func() { Im2col(New(1, 2, 5, 5), 3, 3, ConvParams{}).Conv2d(New(4, 2, 2, 3)) }},
		{"Cols.Conv2d channels", func() { Im2col(New(1, 2, 5, 5), 3, 3, ConvParams{}).Conv2d(New(4, 3, 3, 3)) }},
		{"Cols.WeightGrad size", func() { Im2col(New(1, 2, 5, 5), 3, 3, ConvParams{}).WeightGrad(New(1, 4, 2, 3)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			c.f()
		})
	}
}
