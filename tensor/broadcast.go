package tensor

import "fmt"

// BroadcastShapes returns the NumPy broadcast of two shapes, and panics
// naming op if they are incompatible.
func BroadcastShapes(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("tensor.%s: shapes %v and %v do not broadcast", op, a, b))
		}
	}
	return out
}

// bstrides returns the strides with which a tensor of shape s is read when
// broadcast to out: 0 on broadcast dimensions.
func bstrides(s, out []int) []int {
	st := stridesOf(s)
	r := make([]int, len(out))
	for i := range out {
		j := len(s) - len(out) + i
		if j >= 0 && s[j] != 1 {
			r[i] = st[j]
		}
	}
	return r
}

// walk2 calls row for each innermost run of out, giving the starting offsets
// in a and b and their inner strides. out is contiguous. Dimensions that a
// and b both step through as one are merged first, so runs are as long as
// the layouts allow (a bias [1, C, 1, 1] on [N, C, H, W] runs over H*W).
// The runs come in order, one at a time: row may accumulate.
func walk2(out, sa, sb []int, row func(o, ia, ib, n, ja, jb int)) { walk(out, sa, sb, row, false) }

// walk2Par is walk2 with the runs split across goroutines for large
// outputs: row must write only its own run of the output.
func walk2Par(out, sa, sb []int, row func(o, ia, ib, n, ja, jb int)) { walk(out, sa, sb, row, true) }

func walk(out, sa, sb []int, row func(o, ia, ib, n, ja, jb int), par bool) {
	if numel(out) == 0 {
		return
	}
	out, sa, sb = coalesce(out, sa, sb)
	if len(out) == 0 {
		row(0, 0, 0, 1, 0, 0)
		return
	}
	inner := out[len(out)-1]
	if !par {
		walkRuns(out, sa, sb, 0, numel(out)/inner, row)
		return
	}
	parallelFor(numel(out)/inner, inner, func(lo, hi int) { walkRuns(out, sa, sb, lo, hi, row) })
}

// walkRuns calls row for runs [lo, hi) of coalesced out (a run is one
// index of every dimension but the last).
func walkRuns(out, sa, sb []int, lo, hi int, row func(o, ia, ib, n, ja, jb int)) {
	nd := len(out)
	inner := out[nd-1]
	idx := make([]int, nd-1)
	ia, ib := 0, 0
	for d, r := nd-2, lo; d >= 0; d-- {
		idx[d] = r % out[d]
		r /= out[d]
		ia += idx[d] * sa[d]
		ib += idx[d] * sb[d]
	}
	o := lo * inner
	for k := lo; k < hi; k++ {
		row(o, ia, ib, inner, sa[nd-1], sb[nd-1])
		o += inner
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * out[d]
			ib -= sb[d] * out[d]
			idx[d] = 0
		}
	}
}

// coalesce drops dimensions of length 1 and merges each dimension into the
// one before it when both a and b step through the pair as one (outer
// stride = inner stride * inner length).
func coalesce(out, sa, sb []int) (co, ca, cb []int) {
	nd := len(out)
	buf := make([]int, 3*nd)
	co, ca, cb = buf[:0:nd], buf[nd:nd:2*nd], buf[2*nd:2*nd:3*nd]
	for d, n := range out {
		if n == 1 {
			continue
		}
		if k := len(co) - 1; k >= 0 && ca[k] == sa[d]*n && cb[k] == sb[d]*n {
			co[k] *= n
			ca[k], cb[k] = sa[d], sb[d]
			continue
		}
		co, ca, cb = append(co, n), append(ca, sa[d]), append(cb, sb[d])
	}
	return co, ca, cb
}

// binary applies f elementwise with broadcasting.
