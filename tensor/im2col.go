package tensor

import "sync"

// How the convolutions run. All three ops are GEMMs over im2col matrices.
// When C*kh*kw is large (see perSample), one GEMM covers a chunk of samples
// laid side by side: cols [C*kh*kw, S*Ho*Wo], where column s*Ho*Wo + p
// holds sample s's receptive field of output position p. One large GEMM
// per chunk keeps BLAS at its best (internal/blas splits it across the
// cores); im2col, col2im and the copies between the [N, O, Ho*Wo] image
// layout and the [O, S*Ho*Wo] GEMM layout run in parallel goroutines
// between the GEMMs. Chunks hold as many samples as fit in maxColsFloats, so
// memory stays bounded for large batches, and depend only on the shapes.
// When C*kh*kw is small, goroutines take one sample at a time instead. The
// unrolling and the layout copies give the same bits for any number of
// goroutines; the GEMMs' split follows blas.Threads.

// maxColsFloats bounds the im2col matrix of one chunk (32 MiB of float32).
// A variable so tests can force several chunks.
var maxColsFloats = 1 << 23

// geom holds one convolution's sizes: input [C, H, W], kernel [kh, kw],
// output [Ho, Wo].
type geom struct {
	p              ConvParams
	c, h, w        int
	kh, kw, ho, wo int
}

func (g geom) ckk() int { return g.c * g.kh * g.kw }

// perSample reports whether g's convolutions run one sample at a time:
// with few taps times channels (K of the GEMMs below smallK), a batched
// GEMM is memory-bound and the copies between image and GEMM layouts cost
// more than it saves, while one sample's GEMM reads and writes the image
// layout directly, in cache. Samples then run in parallel goroutines.
func (g geom) perSample() bool { return g.ckk() < smallK }

// smallK is the smallest C*kh*kw batched into one GEMM (measured: D's
// 1x4x4 convolution, K = 16, runs 1.3-1.5x faster per sample).
const smallK = 64

// weightGradBlocks is how many partial weight gradients the per-sample path
// sums (fixed, so the sum's order does not depend on the number of cores).
const weightGradBlocks = 8

// chunk returns how many samples go into one GEMM.
func (g geom) chunk(n int) int {
	return max(1, min(n, maxColsFloats/max(g.ckk()*g.ho*g.wo, 1)))
}

// span returns the range [lo, hi) of output positions (of n) whose input
// index o*stride + off falls inside [0, in).
func span(n, stride, off, in int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if in-1-off < 0 {
		return 0, 0
	}
	hi = min(n, (in-1-off)/stride+1)
	if hi < lo {
		return 0, 0
	}
	return lo, hi
}

// Two ways to unroll one (sample, channel) plane. Narrow outputs (the small
// feature maps of GANs, 7x7 to 32x32 with stride 2) are dominated by
// per-row overhead, so they gather through a table built once per call:
// tab[r*Ho*Wo + p] is the input offset that kernel tap r reads for output p,
// or H*W, which points at a zero appended to a copy of the plane. Wide
// stride-1 outputs copy whole rows instead.

// wideRows reports whether g unrolls by row copies rather than the table.
func (g geom) wideRows() bool { return g.p.Stride[1] == 1 && g.wo >= 32 }

// sumRows reports whether col2im sums g by row adds rather than the inverse
// table: wherever im2col copies rows, and also for narrow stride-1 outputs
// of large or 1x1 kernels. The table holds one entry per tap that reads an
// input element, 49 for CycleGAN's 7x7 convolutions, and gathering through
// it took 1.5-3x as long as the row adds there (and 3x for 1x1); for 3x3
// kernels over many channels the two are within 20% either way.
func (g geom) sumRows() bool {
	taps := g.kh * g.kw
	return g.wideRows() || (g.p.Stride[1] == 1 && (taps >= 25 || taps == 1))
}

// table builds the gather table of g.
func (g geom) table() []int32 {
	hw, plane := g.ho*g.wo, g.h*g.w
	tab := make([]int32, g.kh*g.kw*hw)
	for i := 0; i < g.kh; i++ {
		for j := 0; j < g.kw; j++ {
			t := tab[(i*g.kw+j)*hw : (i*g.kw+j+1)*hw]
			for oy := 0; oy < g.ho; oy++ {
				iy := oy*g.p.Stride[0] - g.p.Padding[0] + i*g.p.Dilation[0]
				for ox := 0; ox < g.wo; ox++ {
					ix := ox*g.p.Stride[1] - g.p.Padding[1] + j*g.p.Dilation[1]
					k := plane
					if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
						k = iy*g.w + ix
					}
					t[oy*g.wo+ox] = int32(k)
				}
			}
		}
	}
	return tab
}

// im2col unrolls samples [s0, s1) of x [N, C, H, W] into cols
// [C*kh*kw, (s1-s0)*Ho*Wo] (row stride ld), in parallel over (sample,
// channel) planes.
func im2col(x []float32, g geom, s0, s1 int, cols []float32, ld int) {
	hw, plane, taps := g.ho*g.wo, g.h*g.w, g.kh*g.kw
	if g.wideRows() {
		parallelFor((s1-s0)*g.c, taps*hw, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				s, c := q/g.c, q%g.c
				src := x[((s0+s)*g.c+c)*plane : ((s0+s)*g.c+c+1)*plane]
				im2colRows(src, g, cols[c*taps*ld+s*hw:], ld)
			}
		})
		return
	}
	// Copy the planes channel by channel, each with a zero after it (the
	// table's padding target), then fill cols row by row: a row holds every
	// sample's Ho*Wo values for one kernel tap of one channel, gathered in
	// one long loop from that channel's planes through a table that spans
	// all the samples.
	ns, np := s1-s0, plane+1
	tab := g.batchTable(ns)
	xp := scratch(g.c * ns * np)
	parallelFor(ns*g.c, np, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			s, c := q/g.c, q%g.c
			d := xp[(c*ns+s)*np : (c*ns+s+1)*np]
			copy(d, x[((s0+s)*g.c+c)*plane:((s0+s)*g.c+c+1)*plane])
			d[plane] = 0
		}
	})
	parallelFor(g.c*taps, ns*hw, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			c, r := row/taps, row%taps
			gather(cols[row*ld:row*ld+ns*hw], xp[c*ns*np:(c+1)*ns*np], tab[r*ns*hw:(r+1)*ns*hw])
		}
	})
	release(xp)
}

// tables caches batch tables by geometry and sample count: they are pure
// functions of those, and building one costs about as much as using it
// once for single-channel convolutions.
var tables = struct {
	sync.Mutex
	m map[tableKey][]int32
}{m: map[tableKey][]int32{}}

type tableKey struct {
	g      geom
	ns, ld int // ld: col2im's inverse tables only
}

// maxTables bounds the cache; past it, it starts afresh.
const maxTables = 64

// batchTable returns the (shared, read-only) batch table of g for ns
// samples, from the cache when it can.
func (g geom) batchTable(ns int) []int32 {
	key := tableKey{g: g, ns: ns}
	tables.Lock()
	t, ok := tables.m[key]
	tables.Unlock()
	if ok {
		return t
	}
	t = g.makeBatchTable(ns)
	tables.Lock()
	if len(tables.m) >= maxTables {
		clear(tables.m)
	}
	tables.m[key] = t
	tables.Unlock()
	return t
}

// makeBatchTable is table for ns samples side by side: entry r*ns*Ho*Wo +
// s*Ho*Wo + p is sample s's offset in a channel's ns planes of H*W+1
// floats.
func (g geom) makeBatchTable(ns int) []int32 {
	t := g.table()
	hw, np := g.ho*g.wo, g.h*g.w+1
	taps := g.kh * g.kw
	bt := make([]int32, taps*ns*hw)
	for r := 0; r < taps; r++ {
		for s := 0; s < ns; s++ {
			d := bt[(r*ns+s)*hw : (r*ns+s+1)*hw]
			for p, k := range t[r*hw : (r+1)*hw] {
				d[p] = int32(s*np) + k
			}
		}
	}
	return bt
}

// gather sets dst[i] = src[idx[i]].
func gather(dst, src []float32, idx []int32) {
	dst = dst[:len(idx)]
	n := len(idx) &^ 3
	for i := 0; i < n; i += 4 {
		t := idx[i : i+4 : i+4]
		d := dst[i : i+4 : i+4]
		d[0] = src[t[0]]
		d[1] = src[t[1]]
		d[2] = src[t[2]]
		d[3] = src[t[3]]
	}
	for i := n; i < len(idx); i++ {
		dst[i] = src[idx[i]]
	}
}

// im2colRows unrolls one plane src [H, W] into rows of cols (the first at
// cols[0], stride ld) by row copies: for stride-1 wide outputs.
func im2colRows(src []float32, g geom, cols []float32, ld int) {
	sh, sw := g.p.Stride[0], g.p.Stride[1]
	ph, pw := g.p.Padding[0], g.p.Padding[1]
	dh, dw := g.p.Dilation[0], g.p.Dilation[1]
	hw := g.ho * g.wo
	for i := 0; i < g.kh; i++ {
		offY := i*dh - ph
		yLo, yHi := span(g.ho, sh, offY, g.h)
		for j := 0; j < g.kw; j++ {
			offX := j*dw - pw
			xLo, xHi := span(g.wo, sw, offX, g.w)
			r := i*g.kw + j
			dst := cols[r*ld : r*ld+hw]
			clear(dst[:yLo*g.wo])
			clear(dst[yHi*g.wo:])
			for oy := yLo; oy < yHi; oy++ {
				d := dst[oy*g.wo : (oy+1)*g.wo]
				srow := src[(oy*sh+offY)*g.w : (oy*sh+offY+1)*g.w]
				clear(d[:xLo])
				clear(d[xHi:])
				copy(d[xLo:xHi], srow[xLo*sw+offX:])
			}
		}
	}
}

// col2im writes into samples [s0, s1) of x [N, C, H, W] the sums of cols
// [C*kh*kw, (s1-s0)*Ho*Wo] (row stride ld) over the positions im2col reads
// them from: the transpose of im2col. It overwrites those samples and runs
// in parallel over (sample, channel) planes. Unless g sums by rows, each
// row of cols must have room for one more float after its (s1-s0)*Ho*Wo
// values (ld > (s1-s0)*Ho*Wo), which col2im sets to zero.
//
// Each input element is a gather: the sum of the cols entries that read it,
// in a fixed order (by kernel tap), through an inverse table padded with
// references to a zero.
func col2im(cols []float32, ld int, g geom, s0, s1 int, x []float32) {
	hw, plane, taps := g.ho*g.wo, g.h*g.w, g.kh*g.kw
	ns := s1 - s0
	if g.sumRows() {
		parallelFor(ns*g.c, taps*hw, func(lo, hi int) {
			for q := lo; q < hi; q++ {
				s, c := q/g.c, q%g.c
				dst := x[((s0+s)*g.c+c)*plane : ((s0+s)*g.c+c+1)*plane]
				clear(dst)
				col2imRows(cols[c*taps*ld+s*hw:], ld, g, dst)
			}
		})
		return
	}
	for r := 0; r < g.c*taps; r++ {
		cols[r*ld+ns*hw] = 0
	}
	inv, slots := g.inverseTable(ns, ld)
	// Channel-major: consecutive planes read consecutive stretches of the
	// same taps rows of cols, which streams them; sample-major jumped to
	// another channel's rows at every plane and was 1.5x slower for G's
	// 128x7x7 -> 64x14x14 transposed convolution at batch 64 (cols 13 MB).
	parallelFor(ns*g.c, slots*plane, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			c, s := q/ns, q%ns
			blk := cols[c*taps*ld : (c+1)*taps*ld]
			dst := x[((s0+s)*g.c+c)*plane : ((s0+s)*g.c+c+1)*plane]
			sumGather(dst, blk, inv[s*plane*slots:(s+1)*plane*slots], slots)
		}
	})
}

// sumGather sets dst[i] to the sum of src[idx[i*slots+q]] over q in order.
func sumGather(dst, src []float32, idx []int32, slots int) {
	idx = idx[:len(dst)*slots]
	if slots == 4 {
		for i := range dst {
			t := idx[4*i : 4*i+4 : 4*i+4]
			dst[i] = src[t[0]] + src[t[1]] + src[t[2]] + src[t[3]]
		}
		return
	}
	for i := range dst {
		t := idx[i*slots : (i+1)*slots]
		v := src[t[0]]
		for _, k := range t[1:] {
			v += src[k]
		}
		dst[i] = v
	}
}

// inverseTable returns col2im's table for ns samples and cols row stride
// ld, and its slots per input element: entry (s*H*W + i)*slots + q is the
// offset, within one channel's taps rows of cols, of the q-th value (by
// tap) that sample s's input element i sums; unused slots point at the
// zero after the first row's values. Cached like batchTable.
func (g geom) inverseTable(ns, ld int) ([]int32, int) {
	key := tableKey{g: g, ns: ns, ld: ld}
	tables.Lock()
	t, ok := tables.m[key]
	tables.Unlock()
	if !ok {
		t = g.makeInverseTable(ns, ld)
		tables.Lock()
		if len(tables.m) >= maxTables {
			clear(tables.m)
		}
		tables.m[key] = t
		tables.Unlock()
	}
	return t, len(t) / (ns * g.h * g.w)
}

func (g geom) makeInverseTable(ns, ld int) []int32 {
	hw, plane := g.ho*g.wo, g.h*g.w
	fwd := g.table()
	lists := make([][]int32, plane) // for one sample: offsets r*ld + p
	slots := 1
	for r := 0; r < g.kh*g.kw; r++ {
		for p, k := range fwd[r*hw : (r+1)*hw] {
			if int(k) < plane {
				lists[k] = append(lists[k], int32(r*ld+p))
				slots = max(slots, len(lists[k]))
			}
		}
	}
	zero := int32(ns * hw)
	inv := make([]int32, ns*plane*slots)
	for s := 0; s < ns; s++ {
		for i, l := range lists {
			d := inv[(s*plane+i)*slots : (s*plane+i+1)*slots]
			for q := range d {
				d[q] = zero
				if q < len(l) {
					d[q] = l[q] + int32(s*hw)
				}
			}
		}
	}
	return inv
}

// col2imRows adds rows of cols (the first at cols[0], stride ld) into one
// plane dst [H, W]: the transpose of im2colRows.
func col2imRows(cols []float32, ld int, g geom, dst []float32) {
	sh, sw := g.p.Stride[0], g.p.Stride[1]
	ph, pw := g.p.Padding[0], g.p.Padding[1]
	dh, dw := g.p.Dilation[0], g.p.Dilation[1]
	for i := 0; i < g.kh; i++ {
		offY := i*dh - ph
		yLo, yHi := span(g.ho, sh, offY, g.h)
		for j := 0; j < g.kw; j++ {
			offX := j*dw - pw
			xLo, xHi := span(g.wo, sw, offX, g.w)
			if xLo >= xHi {
				continue
			}
			r := i*g.kw + j
			for oy := yLo; oy < yHi; oy++ {
				srow := cols[r*ld+oy*g.wo+xLo : r*ld+oy*g.wo+xHi]
				d := dst[(oy*sh+offY)*g.w+xLo*sw+offX:]
				d = d[:len(srow)]
				for k, v := range srow {
					d[k] += v
				}
			}
		}
	}
}

// toGEMM copies samples [s0, s1) of y [N, O, HW] into yt [O, (s1-s0)*HW]:
// the layout the GEMMs read.
func toGEMM(y []float32, o, hw, s0, s1 int, yt []float32) {
	ld := (s1 - s0) * hw
	parallelFor((s1-s0)*o, hw, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			s, k := q/o, q%o
			copy(yt[k*ld+s*hw:k*ld+(s+1)*hw], y[((s0+s)*o+k)*hw:((s0+s)*o+k+1)*hw])
		}
	})
}

// fromGEMM copies yt [O, (s1-s0)*HW] into samples [s0, s1) of y [N, O, HW]:
// the inverse of toGEMM.
func fromGEMM(yt []float32, o, hw, s0, s1 int, y []float32) {
	ld := (s1 - s0) * hw
	parallelFor((s1-s0)*o, hw, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			s, k := q/o, q%o
			copy(y[((s0+s)*o+k)*hw:((s0+s)*o+k+1)*hw], yt[k*ld+s*hw:k*ld+(s+1)*hw])
		}
	})
}

// scratch returns a pooled buffer of n floats with unspecified contents;
// give it back with release.
func scratch(n int) []float32 { return allocDirty(n) }

func release(b []float32) { Release(&Tensor{data: b}) }
