package tensor

import (
	"fmt"
	"math"
)

// Fused kernels. Each does in one or two passes over memory, on up to
// GOMAXPROCS goroutines, what a composition of elementwise ops and
// reductions does in many; fused_test.go checks each against that
// composition (rule 5 of the house style: the composed version is the
// oracle). Sums accumulate in float64 in a fixed order, so results do not
// depend on the number of goroutines.

// LeakyRelu returns x where x > 0 and slope*x elsewhere, elementwise.
func LeakyRelu(x *Tensor, slope float32) *Tensor {
	out := empty(x.shape...)
	f := [2]float32{1, slope}
	parallelFor(len(x.data), 1, func(lo, hi int) {
		o, a := out.data[lo:hi], x.data[lo:hi]
		o = o[:len(a)]
		for i, v := range a {
			o[i] = v * f[^positiveMask(v)&1]
		}
	})
	return out
}

// LeakyReluGrad returns g * d/dx LeakyRelu(x): g where x > 0 and slope*g
// elsewhere (the subgradient at 0 is slope, like PyTorch). It panics if g
// and x differ in shape.
func LeakyReluGrad(g, x *Tensor, slope float32) *Tensor {
	if !SameShape(g.shape, x.shape) {
		panic(fmt.Sprintf("tensor.LeakyReluGrad: gradient %v and input %v differ", g.shape, x.shape))
	}
	out := empty(x.shape...)
	f := [2]float32{1, slope}
	parallelFor(len(x.data), 1, func(lo, hi int) {
		o, a, b := out.data[lo:hi], x.data[lo:hi], g.data[lo:hi]
		o, b = o[:len(a)], b[:len(a)]
		for i, v := range a {
			o[i] = b[i] * f[^positiveMask(v)&1]
		}
	})
	return out
}

// Batch norm. x [N, C, ...] is viewed as [N, C, L], L the product of the
// dimensions after the channels (1 for [N, C]); statistics are per channel
// over its M = N*L values.

// bnDims returns N, C and L of x, and panics naming op for fewer than two
// dimensions or a channel without values.
func bnDims(op string, x *Tensor) (n, c, l int) {
	if x.Dim() < 2 {
		panic(fmt.Sprintf("tensor.%s: input %v is not [N, C, ...]", op, x.shape))
	}
	n, c, l = x.shape[0], x.shape[1], 1
	for _, d := range x.shape[2:] {
		l *= d
	}
	if n*l == 0 && c > 0 {
		panic(fmt.Sprintf("tensor.%s: input %v has no values per channel", op, x.shape))
	}
	return n, c, l
}

// checkChannels panics naming op unless every non-nil t holds c values.
func checkChannels(op string, c int, ts ...*Tensor) {
	for _, t := range ts {
		if t != nil && t.Len() != c {
			panic(fmt.Sprintf("tensor.%s: per-channel tensor %v for %d channels", op, t.shape, c))
		}
	}
}

// The per-channel sums below run in parallel over blocks of channels and
// accumulate in float64 in a fixed order: for [N, C] (L = 1) one value per
// sample in sample order, otherwise per sample four interleaved partial
// sums over the L values (k mod 4), added at the end of the sample, which
// keeps the additions from waiting on each other.

// channelSum returns the sum of each channel of x [N, C, L].
func channelSum(x []float32, n, c, l int) []float64 {
	return channelDot(x, nil, nil, n, c, l)
}

// channelDot returns per channel the sum of (x - shift[ch]) * y (y nil: of
// x - shift[ch]; shift nil: zero shift) over x [N, C, L] and y alike.
func channelDot(x, y []float32, shift []float64, n, c, l int) []float64 {
	acc := make([]float64, c)
	if shift == nil {
		shift = make([]float64, c)
	}
	parallelFor(c, n*l, func(lo, hi int) {
		if l == 1 { // [N, C]: rows of channels
			a, u := acc[lo:hi], shift[lo:hi]
			u = u[:len(a)]
			for i := 0; i < n; i++ {
				xs := x[i*c+lo : i*c+hi]
				xs = xs[:len(a)]
				if y == nil {
					for k, v := range xs {
						a[k] += float64(v) - u[k]
					}
					continue
				}
				ys := y[i*c+lo : i*c+hi]
				ys = ys[:len(a)]
				for k, v := range xs {
					a[k] += (float64(v) - u[k]) * float64(ys[k])
				}
			}
			return
		}
		for i := 0; i < n; i++ {
			for ch := lo; ch < hi; ch++ {
				off := (i*c + ch) * l
				var ys []float32
				if y != nil {
					ys = y[off : off+l]
				}
				acc[ch] += dot4(x[off:off+l], ys, shift[ch])
			}
		}
	})
	return acc
}

// dot4 returns the sum of (x - u) * y (y nil: of x - u) in float64, with
// four interleaved partial sums added at the end.
func dot4(x, y []float32, u float64) float64 {
	var s0, s1, s2, s3 float64
	n := len(x) &^ 3
	if y == nil {
		for k := 0; k < n; k += 4 {
			v := x[k : k+4 : k+4]
			s0 += float64(v[0]) - u
			s1 += float64(v[1]) - u
			s2 += float64(v[2]) - u
			s3 += float64(v[3]) - u
		}
		for k := n; k < len(x); k++ {
			s0 += float64(x[k]) - u
		}
		return (s0 + s1) + (s2 + s3)
	}
	y = y[:len(x)]
	for k := 0; k < n; k += 4 {
		v, w := x[k:k+4:k+4], y[k:k+4:k+4]
		s0 += (float64(v[0]) - u) * float64(w[0])
		s1 += (float64(v[1]) - u) * float64(w[1])
		s2 += (float64(v[2]) - u) * float64(w[2])
		s3 += (float64(v[3]) - u) * float64(w[3])
	}
	for k := n; k < len(x); k++ {
		s0 += (float64(x[k]) - u) * float64(y[k])
	}
	return (s0 + s1) + (s2 + s3)
}

// channelSqDev returns per channel the sum of (x - mu[ch])^2 over x
// [N, C, L], ordered like channelDot.
func channelSqDev(x []float32, mu []float64, n, c, l int) []float64 {
	acc := make([]float64, c)
	parallelFor(c, n*l, func(lo, hi int) {
		if l == 1 {
			a, u := acc[lo:hi], mu[lo:hi]
			u = u[:len(a)]
			for i := 0; i < n; i++ {
				xs := x[i*c+lo : i*c+hi]
				xs = xs[:len(a)]
				for k, v := range xs {
					d := float64(v) - u[k]
					a[k] += d * d
				}
			}
			return
		}
		for i := 0; i < n; i++ {
			for ch := lo; ch < hi; ch++ {
				off := (i*c + ch) * l
				xs, u := x[off:off+l], mu[ch]
				var s0, s1, s2, s3 float64
				m := len(xs) &^ 3
				for k := 0; k < m; k += 4 {
					v := xs[k : k+4 : k+4]
					d0, d1, d2, d3 := float64(v[0])-u, float64(v[1])-u, float64(v[2])-u, float64(v[3])-u
					s0 += d0 * d0
					s1 += d1 * d1
					s2 += d2 * d2
					s3 += d3 * d3
				}
				for k := m; k < len(xs); k++ {
					d := float64(xs[k]) - u
					s0 += d * d
				}
				acc[ch] += (s0 + s1) + (s2 + s3)
			}
		}
	})
	return acc
}

// BatchNormStats returns the per-channel mean and biased variance (divided
// by the count M) of x [N, C, ...] over every dimension but 1, each of
// shape [C]: the statistics batch norm normalises with in training mode.
// The variance is the mean of squared deviations from the mean, summed in
// float64 in a second pass. It panics if x has fewer than two dimensions or
// no values per channel.
func BatchNormStats(x *Tensor) (mean, variance *Tensor) {
	n, c, l := bnDims("BatchNormStats", x)
	m := float64(n * l)
	sx := channelSum(x.data, n, c, l)
	mu := make([]float64, c)
	for ch, s := range sx {
		mu[ch] = s / m
	}
	sq := channelSqDev(x.data, mu, n, c, l)
	mean, variance = empty(c), empty(c)
	for ch := range mu {
		mean.data[ch] = float32(mu[ch])
		variance.data[ch] = float32(sq[ch] / m)
	}
	return mean, variance
}

// BatchNormInvStd returns 1 / sqrt(variance + eps) per element, computed in
// float64 and rounded once.
func BatchNormInvStd(variance *Tensor, eps float64) *Tensor {
	out := empty(variance.shape...)
	for i, v := range variance.data {
		out.data[i] = float32(1 / math.Sqrt(float64(v)+eps))
	}
	return out
}

// bnCoefficients returns per-channel a, b with y = x*a + b equal to
// (x - mean) * invstd * w + bias (w, bias nil: 1, 0).
func bnCoefficients(c int, mean, invstd, w, bias *Tensor) (a, b []float32) {
	a, b = make([]float32, c), make([]float32, c)
	for ch := 0; ch < c; ch++ {
		s := float64(invstd.data[ch])
		if w != nil {
			s *= float64(w.data[ch])
		}
		sh := 0.0
		if bias != nil {
			sh = float64(bias.data[ch])
		}
		a[ch] = float32(s)
		b[ch] = float32(sh - float64(mean.data[ch])*s)
	}
	return a, b
}

// BatchNormNormalize returns y = (x - mean[c]) * invstd[c] * w[c] + b[c]
// for x [N, C, ...] with per-channel mean, invstd, w and b of C values
// each (w and b may be nil: no scale, no shift). The per-channel factors
// are folded in float64 into y = x*A + B before the pass, so y can differ
// from the op-by-op composition in the last bits. It panics on mismatched
// sizes.
func BatchNormNormalize(x, mean, invstd, w, b *Tensor) *Tensor {
	n, c, l := bnDims("BatchNormNormalize", x)
	checkChannels("BatchNormNormalize", c, mean, invstd, w, b)
	ka, kb := bnCoefficients(c, mean, invstd, w, b)
	out := empty(x.shape...)
	if l == 1 {
		parallelFor(n, c, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xs, ys := x.data[i*c:(i+1)*c], out.data[i*c:(i+1)*c]
				xs, ys, a, b := xs[:c], ys[:c], ka[:c], kb[:c]
				for k, v := range xs {
					ys[k] = v*a[k] + b[k]
				}
			}
		})
		return out
	}
	parallelFor(n*c, l, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			a, b := ka[q%c], kb[q%c]
			xs, ys := x.data[q*l:(q+1)*l], out.data[q*l:(q+1)*l]
			ys = ys[:len(xs)]
			for k, v := range xs {
				ys[k] = v*a + b
			}
		}
	})
	return out
}

// BatchNormBackward returns the gradients of y = BatchNormNormalize(x,
// mean, invstd, w, b) with respect to x, w and b, where mean and invstd are
// x's batch statistics (mean and 1/sqrt(biased variance + eps)), so the
// gradient flows through them too. With g = dL/dy and per-channel sums over
// the M values of a channel:
//
//	xhat = (x - mean) * invstd,  db = sum g,  dw = sum g*xhat,
//	dx = w * invstd * (g - db/M - xhat*dw/M)
//
// w may be nil (scale 1); dw and db are returned anyway. It panics on
// mismatched shapes.
func BatchNormBackward(g, x, mean, invstd, w *Tensor) (dx, dw, db *Tensor) {
	n, c, l := bnDims("BatchNormBackward", x)
	if !SameShape(g.shape, x.shape) {
		panic(fmt.Sprintf("tensor.BatchNormBackward: gradient %v and input %v differ", g.shape, x.shape))
	}
	checkChannels("BatchNormBackward", c, mean, invstd, w)
	m := float64(n * l)
	mu := make([]float64, c)
	for ch := range mu {
		mu[ch] = float64(mean.data[ch])
	}
	// db is sum g; sum (x - mean)*g gives dw.
	sg := channelSum(g.data, n, c, l)
	sxg := channelDot(x.data, g.data, mu, n, c, l)
	dw, db = empty(c), empty(c)
	// dx = A*g + B*x + C per channel, with A = w*invstd,
	// B = -A*invstd^2*sxg/M and C = -A*sg/M - B*mean.
	ka, kb, kc := make([]float32, c), make([]float32, c), make([]float32, c)
	for ch := 0; ch < c; ch++ {
		s := float64(invstd.data[ch])
		db.data[ch] = float32(sg[ch])
		dw.data[ch] = float32(sxg[ch] * s)
		a := s
		if w != nil {
			a *= float64(w.data[ch])
		}
		b := -a * s * s * sxg[ch] / m
		ka[ch] = float32(a)
		kb[ch] = float32(b)
		kc[ch] = float32(-a*sg[ch]/m - b*mu[ch])
	}
	dx = empty(x.shape...)
	if l == 1 {
		parallelFor(n, c, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xs, gs, ds := x.data[i*c:(i+1)*c], g.data[i*c:(i+1)*c], dx.data[i*c:(i+1)*c]
				xs, gs, ds = xs[:c], gs[:c], ds[:c]
				a, b, cc := ka[:c], kb[:c], kc[:c]
				for k, v := range xs {
					ds[k] = a[k]*gs[k] + b[k]*v + cc[k]
				}
			}
		})
		return dx, dw, db
	}
	parallelFor(n*c, l, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			a, b, cc := ka[q%c], kb[q%c], kc[q%c]
			xs, gs, ds := x.data[q*l:(q+1)*l], g.data[q*l:(q+1)*l], dx.data[q*l:(q+1)*l]
			gs, ds = gs[:len(xs)], ds[:len(xs)]
			for k, v := range xs {
				ds[k] = a*gs[k] + b*v + cc
			}
		}
	})
	return dx, dw, db
}

// BatchNormEval returns batch norm in evaluation mode for x [N, C, ...],
//
//	y = ((x - mean[c]) * inv[c]) * w[c] + b[c]
//
// in one pass, rounding to float32 after each operation in that order, so
// y is bit for bit what Sub, Mul, Mul and Add give one after the other
// (nn.BatchNorm's composed evaluation path, which a gradient needs) at a
// quarter of their memory traffic. w and b may be nil (no scale, no
// shift). It panics on mismatched sizes.
func BatchNormEval(x, mean, inv, w, b *Tensor) *Tensor {
	n, c, l := bnDims("BatchNormEval", x)
	checkChannels("BatchNormEval", c, mean, inv, w, b)
	if mean == nil || inv == nil {
		panic("tensor.BatchNormEval: nil mean or inv")
	}
	m, s := mean.data, inv.data
	var ws, bs []float32
	if w != nil {
		ws = w.data
	}
	if b != nil {
		bs = b.data
	}
	out := empty(x.shape...)
	// The explicit float32 conversions keep the compiler from fusing a
	// multiply and an add into one rounding.
	if l == 1 {
		// [N, C]: a row at a time, the channels along it.
		parallelFor(n, c, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				xs, ys := x.data[i*c:(i+1)*c], out.data[i*c:(i+1)*c]
				ys, m, s := ys[:len(xs)], m[:len(xs)], s[:len(xs)]
				switch {
				case ws != nil && bs != nil:
					ws, bs := ws[:len(xs)], bs[:len(xs)]
					for k, v := range xs {
						ys[k] = float32(float32(float32(v-m[k])*s[k])*ws[k]) + bs[k]
					}
				case ws != nil:
					ws := ws[:len(xs)]
					for k, v := range xs {
						ys[k] = float32(float32(v-m[k])*s[k]) * ws[k]
					}
				case bs != nil:
					bs := bs[:len(xs)]
					for k, v := range xs {
						ys[k] = float32(float32(v-m[k])*s[k]) + bs[k]
					}
				default:
					for k, v := range xs {
						ys[k] = float32(v-m[k]) * s[k]
					}
				}
			}
		})
		return out
	}
	parallelFor(n*c, l, func(lo, hi int) {
		for q := lo; q < hi; q++ {
			ch := q % c
			mc, sc := m[ch], s[ch]
			xs, ys := x.data[q*l:(q+1)*l], out.data[q*l:(q+1)*l]
			ys = ys[:len(xs)]
			switch {
			case ws != nil && bs != nil:
				wc, bc := ws[ch], bs[ch]
				for k, v := range xs {
					ys[k] = float32(float32(float32(v-mc)*sc)*wc) + bc
				}
			case ws != nil:
				wc := ws[ch]
				for k, v := range xs {
					ys[k] = float32(float32(v-mc)*sc) * wc
				}
			case bs != nil:
				bc := bs[ch]
				for k, v := range xs {
					ys[k] = float32(float32(v-mc)*sc) + bc
				}
			default:
				for k, v := range xs {
					ys[k] = float32(v-mc) * sc
				}
			}
		}
	})
	return out
}
