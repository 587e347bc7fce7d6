package autograd

import (
	"fmt"
	"math"

	"github.com/kallima-gan/kallima/tensor"
)

// CheckOptions tunes GradCheck. The zero value is the setting every test
// should use: the tolerance of each comparison is derived from the case's
// measured float32 noise and from the spread of the extrapolated finite
// differences (see GradCheck), so no case needs its own step or seed.
type CheckOptions struct {
	// Eps is the largest finite-difference step; GradCheck also uses Eps/2
	// and Eps/4. Default 2e-2: every step, and every step along the
	// second-order direction (whose entries rarely exceed 4), stays below
	// the 0.1 margin the tests keep around kinks.
	Eps float64
	// Rtol is the relative part of the tolerance; default 1e-3, a floor for
	// float32 relative errors neither noise estimate sees.
	Rtol float64
	// Atol is an extra absolute tolerance; default 0.
	Atol        float64
	SecondOrder bool   // also check Hessian-vector products
	Seed        uint64 // seeds the random projection, directions and jitter
}

func (o *CheckOptions) defaults() {
	if o.Eps == 0 {
		o.Eps = 2e-2
	}
	if o.Rtol == 0 {
		o.Rtol = 1e-3
	}
}

const (
	// noiseSamples is the number of jittered pairs that measure a case's
	// float32 noise.
	noiseSamples = 8
	// jitter is the relative size of those perturbations: 2^-16, some 128
	// float32 ulps of a typical entry, enough to change the rounding of every intermediate
	// value (one ulp can leave it unchanged) and small enough that the
	// second differences hold no curvature worth counting
	// (|d|^2 ~ 2e-10 |x|^2).
	jitter = 1.0 / 65536
	// noiseSafety multiplies the measured noise. The largest of eight
	// samples of a roughly normal error is below 0.6 standard deviations
	// with probability 0.45^8 < 2e-3, and the floor (a value's own
	// rounding) catches most of those; 8 times it is then at least 4.8
	// standard deviations, and the noise terms below already add the
	// errors' sizes rather than their squares. Passing 100 seeds of every
	// case on every build (see the *Seeds tests) is the check of this
	// choice; the negative controls are the check that it is not too wide.
	noiseSafety = 8
	// maxShrinks bounds the retries with a 4x smaller step when a finite
	// difference meets a NaN or an infinity (log near 0, say).
	maxShrinks = 4
)

// GradCheck compares f's analytic gradients with finite differences. f
// maps inputs to any-shaped output; the checked scalar is L = sum(f(x) * r)
// for a fixed random r, so every output element counts. With SecondOrder it
// also checks the Hessian-vector product of L along a random direction v,
// computed by differentiating the gradient (createGraph), against the
// finite difference of the gradient along v. The inputs are not modified.
// It returns an error naming the input and element that disagree.
//
// Each numeric derivative is a Richardson extrapolation of central
// differences D(s) = (L(x+s) - L(x-s)) / 2s at s = h, h/2, h/4 (h = Eps):
// R1 = (4D(h/2) - D(h))/3 and R2 = (4D(h/4) - D(h/2))/3 cancel the s^2
// term of the truncation error, and R2 is compared. The tolerance is
//
//	Rtol*|R2| + Atol + max(|R2 - R1|, |R2 - D(h/4)|) + noiseSafety*(3*nL/h + nA)
//
// where the max bounds R2's remaining truncation error: |R2 - R1| is about
// 15 times it while the error behaves as s^4, and |R2 - D(h/4)|, D(h/4)'s
// own error estimate, still bounds it when the steps are too coarse for
// that (near a singularity, such as batch norm over a small batch with a
// small variance) but the differences converge. nL bounds |e(a) - e(b)|
// for the float32 error e of two evaluations of L (or of a gradient
// element, for the second order), so 3*nL/h bounds R2's rounding error
// (4*nL/h/2, plus nL/2h, over 3), and nA is the analytic value's own
// float32 error. They are measured, not assumed: GradCheck evaluates L, the
// gradient and the Hessian-vector product at noiseSamples pairs of points
// x + a*d and x - b*d, d a random jitter of 2^-16 relative to the entries'
// scale and a, b random in [0.5, 1.5), and takes the largest weighted
// second difference (which cancels the linear part), rescaled to the error
// of one evaluation or of a difference of two; each value's own final
// rounding (half an ulp, and for L the outputs' half ulps weighted by r) is
// a floor under them. A machine whose BLAS rounds differently, or not
// deterministically, gets a wider tolerance where the finite difference can
// tell less, never a failure from noise; a wrong gradient, off by much more
// than the noise wherever the derivative is not tiny, still fails.
//
// The steps are exact: the first order uses the step float32 actually took,
// and the second order corrects for the rounding of x +- s*v (see below).
// A NaN or infinite numeric value is retried with 4x smaller steps and
// fails if it stays so; a NaN or infinite analytic value always fails.
func GradCheck(f func(xs []*Value) *Value, inputs []*tensor.Tensor, opts CheckOptions) error {
	opts.defaults()
	rng := tensor.NewRNG(opts.Seed + 1)
	var r *tensor.Tensor
	var lastRounding float64 // sqrt(sum (r_j ulp(f_j)/2)^2) of loss's last call
	// loss evaluates L at the given inputs in float64, with no recording.
	loss := func(xs []*tensor.Tensor) float64 {
		var out *Value
		NoGrad(func() { out = f(consts(xs)) })
		if r == nil {
			r = rng.Normal(0, 1, out.Shape()...)
		}
		if !tensor.SameShape(out.Shape(), r.Shape()) {
			panic(fmt.Sprintf("autograd.GradCheck: output shape %v changed from %v", out.Shape(), r.Shape()))
		}
		s, u := 0.0, 0.0
		for i, v := range out.data.Data() {
			s += float64(v) * float64(r.Data()[i])
			e := halfUlp(float64(v)) * float64(r.Data()[i])
			u += e * e
		}
		lastRounding = math.Sqrt(u)
		return s
	}
	l0 := loss(inputs) // fixes r's shape
	// The final rounding of f's outputs is noise the jitter can miss (the
	// errors of x+d and x-d may cancel), so it is a floor under nL.
	nL := math.Sqrt2 * lastRounding
	var vs []*tensor.Tensor
	if opts.SecondOrder {
		vs = make([]*tensor.Tensor, len(inputs))
		for k, x := range inputs {
			vs[k] = rng.Normal(0, 1, x.Shape()...)
		}
	}
	// grads returns dL/dx at xs and, with a direction dir, the
	// Hessian-vector product along dir, both as float64 per input (nil: no
	// dependence).
	grads := func(xs, dir []*tensor.Tensor) (g, hv [][]float64) {
		ps := make([]*Value, len(xs))
		for i, x := range xs {
			ps[i] = Param(x.Clone())
		}
		out := f(ps)
		if !tensor.SameShape(out.Shape(), r.Shape()) {
			panic(fmt.Sprintf("autograd.GradCheck: output shape %v changed from %v", out.Shape(), r.Shape()))
		}
		l := Sum(Mul(out, Const(r)), nil, false)
		gv := Grad([]*Value{l}, ps, nil, dir != nil)
		g = float64s(gv)
		if dir == nil {
			return g, nil
		}
		// Hessian-vector product: d/dx <dL/dx, dir>.
		var dot *Value
		for k, gk := range gv {
			if gk == nil || !gk.requiresGrad {
				continue
			}
			t := Sum(Mul(gk, Const(dir[k])), nil, false)
			if dot == nil {
				dot = t
			} else {
				dot = Add(dot, t)
			}
		}
		if dot == nil { // L is linear: the Hessian is 0
			return g, make([][]float64, len(xs))
		}
		return g, float64s(Grad([]*Value{dot}, ps, nil, false))
	}
	var dir []*tensor.Tensor // vs when SecondOrder, else nil
	if opts.SecondOrder {
		dir = vs
	}
	analytic, hv := grads(inputs, dir)

	// The noise floor, measured at jittered pairs x +- d.
	// A value's own rounding, half an ulp, is a floor under the
	// measured errors of the gradient and Hessian-vector elements.
	nG := halfUlps(inputs, analytic) // one gradient element's error, per element
	nH := halfUlps(inputs, hv)       // one Hessian-vector element's error
	// Each element is jittered relative to the larger of its own size and
	// its tensor's root mean square (1 for an all-zero tensor), so zeros,
	// such as the coefficients of a projected input, are jittered too.
	scales := make([]float64, len(inputs))
	for k, x := range inputs {
		var ss float64
		for _, v := range x.Data() {
			ss += float64(v) * float64(v)
		}
		scales[k] = math.Sqrt(ss / float64(max(x.Len(), 1)))
		if scales[k] == 0 {
			scales[k] = 1
		}
	}
	for range noiseSamples {
		// x + a*d and x - b*d with a, b in [0.5, 1.5): the weighted second
		// difference b f(x+ad) + a f(x-bd) - (a+b) f(x) cancels f's linear
		// part for any a and b, and unequal arms keep the rounding errors
		// at the two points from cancelling (a symmetric pair x +- d often
		// rounds symmetrically, and shows no noise where there is some).
		a, b := 0.5+rng.Float64(), 0.5+rng.Float64()
		xp, xm := clones(inputs), clones(inputs)
		for k, x := range inputs {
			for i, v := range x.Data() {
				d := math.Max(math.Abs(float64(v)), scales[k]) * jitter * (2*rng.Float64() - 1)
				xp[k].Data()[i] = float32(float64(v) + a*d)
				xm[k].Data()[i] = float32(float64(v) - b*d)
			}
		}
		// The combination's error has sqrt(a^2 + b^2 + (a+b)^2) times one
		// evaluation's standard deviation, and a difference of two
		// evaluations sqrt(2) times it.
		norm := math.Sqrt(a*a + b*b + (a+b)*(a+b))
		nL = math.Max(nL, math.Sqrt2*math.Abs(b*loss(xp)+a*loss(xm)-(a+b)*l0)/norm)
		gp, hp := grads(xp, dir)
		gm, hm := grads(xm, dir)
		maxSecondDiff(nG, gp, gm, analytic, b, a, norm)
		if opts.SecondOrder {
			maxSecondDiff(nH, hp, hm, hv, b, a, norm)
		}
	}

	for k, x := range inputs {
		for i := range x.Data() {
			// at evaluates L with element i of input k moved by s and
			// returns the step actually taken (float32 rounds x+s).
			at := func(s float64) (float64, float64) {
				xs := clones(inputs)
				v := x.Data()[i]
				xs[k].Data()[i] = float32(float64(v) + s)
				return loss(xs), float64(xs[k].Data()[i]) - float64(v)
			}
			num, trunc, h, err := extrapolate(opts.Eps, func(s float64) (float64, float64, float64, float64) {
				lp, sp := at(s)
				lm, sm := at(-s)
				return lp, lm, sp, sm
			})
			a := at2(analytic, k, i)
			if err == nil {
				err = compare(a, num, opts.Rtol*math.Abs(num)+opts.Atol+trunc+noiseSafety*(3*nL/h+at2(nG, k, i)))
			}
			if err != nil {
				return fmt.Errorf("gradient of input %d at element %d: %w", k, i, err)
			}
		}
	}
	if !opts.SecondOrder {
		return nil
	}
	// The finite difference of the gradient along v, for every element at
	// once. float32 rounds x +- s*v, and with a small v_i the rounding is a
	// large part of the step in element i; so each difference is corrected
	// by the analytic product with the rounding residual w = (x+ - x-)/2s - v:
	// (g(x+) - g(x-))/2s = H v + H w + O(s^2). A wrong H changes the
	// correction by its error times |w|/|v| (about 1e-5), so it still shows.
	type diff struct{ p, m, corr [][]float64 }
	diffs := map[float64]diff{}
	diffAt := func(s float64) diff {
		if d, ok := diffs[s]; ok {
			return d
		}
		xp, xm, w := clones(inputs), clones(inputs), clones(vs)
		for k, x := range inputs {
			for i, v := range x.Data() {
				xp[k].Data()[i] = float32(float64(v) + s*float64(vs[k].Data()[i]))
				xm[k].Data()[i] = float32(float64(v) - s*float64(vs[k].Data()[i]))
				w[k].Data()[i] = float32((float64(xp[k].Data()[i])-float64(xm[k].Data()[i]))/(2*s) - float64(vs[k].Data()[i]))
			}
		}
		var d diff
		d.p, _ = grads(xp, nil)
		d.m, _ = grads(xm, nil)
		_, d.corr = grads(inputs, w)
		diffs[s] = d
		return d
	}
	for k, x := range inputs {
		for i := range x.Data() {
			num, trunc, h, err := extrapolate(opts.Eps, func(s float64) (float64, float64, float64, float64) {
				d := diffAt(s)
				c := 2 * s * at2(d.corr, k, i)
				return at2(d.p, k, i) - c/2, at2(d.m, k, i) + c/2, s, -s
			})
			a := at2(hv, k, i)
			if err == nil {
				// The noise of a gradient element's difference is
				// sqrt(2) times one element's; nH is the analytic product's own.
				err = compare(a, num, opts.Rtol*math.Abs(num)+opts.Atol+trunc+noiseSafety*(3*math.Sqrt2*at2(nG, k, i)/h+at2(nH, k, i)))
			}
			if err != nil {
				return fmt.Errorf("Hessian-vector product of input %d at element %d: %w", k, i, err)
			}
		}
	}
	return nil
}

// extrapolate returns the Richardson extrapolation R2 of central
// differences at steps h, h/2, h/4 (see GradCheck), a bound on its
// truncation error and the largest step used. eval(s) returns the
// function at +s and -s and the steps actually taken. When a value is not
// finite the steps shrink by 4, up to maxShrinks times.
func extrapolate(h float64, eval func(s float64) (fp, fm, sp, sm float64)) (num, trunc, hUsed float64, err error) {
	for try := 0; ; try++ {
		var d [3]float64
		finite := true
		for j := range d {
			fp, fm, sp, sm := eval(h / float64(int(1)<<j))
			d[j] = (fp - fm) / (sp - sm)
			finite = finite && !math.IsNaN(d[j]) && !math.IsInf(d[j], 0)
		}
		if finite {
			r1 := (4*d[1] - d[0]) / 3
			r2 := (4*d[2] - d[1]) / 3
			return r2, math.Max(math.Abs(r2-r1), math.Abs(r2-d[2])), h, nil
		}
		if try == maxShrinks {
			return 0, 0, h, fmt.Errorf("numeric value not finite (%g, %g, %g) down to step %g", d[0], d[1], d[2], h/4)
		}
		h /= 4
	}
}

func compare(a, n, tol float64) error {
	if math.IsNaN(a) || math.IsInf(a, 0) || math.Abs(a-n) > tol {
		return fmt.Errorf("analytic %.6g, numeric %.6g, tolerance %.3g", a, n, tol)
	}
	return nil
}

// maxSecondDiff raises n[k][i] to |wp p + wm m - (wp+wm) c| / norm, the
// error of one evaluation estimated from a second difference of three.
func maxSecondDiff(n, p, m, c [][]float64, wp, wm, norm float64) {
	for k := range n {
		for i := range n[k] {
			e := math.Abs(wp*at2(p, k, i)+wm*at2(m, k, i)-(wp+wm)*at2(c, k, i)) / norm
			if math.IsNaN(e) || math.IsInf(e, 0) {
				continue // the comparison itself reports the NaN
			}
			n[k][i] = math.Max(n[k][i], e)
		}
	}
}

// halfUlp returns half the spacing of float32 values at v.
func halfUlp(v float64) float64 {
	a := float32(math.Abs(v))
	return float64(math.Nextafter32(a, float32(math.Inf(1)))-a) / 2
}

// halfUlps returns halfUlp of every element of g, shaped like xs (zeros
// where g is nil).
func halfUlps(xs []*tensor.Tensor, g [][]float64) [][]float64 {
	r := zerosLike(xs)
	for k := range r {
		for i := range r[k] {
			r[k][i] = halfUlp(at2(g, k, i))
		}
	}
	return r
}

func at2(g [][]float64, k, i int) float64 {
	if g == nil || g[k] == nil {
		return 0
	}
	return g[k][i]
}

func float64s(vs []*Value) [][]float64 {
	r := make([][]float64, len(vs))
	for k, v := range vs {
		if v == nil {
			continue
		}
		r[k] = make([]float64, v.data.Len())
		for i, x := range v.data.Data() {
			r[k][i] = float64(x)
		}
	}
	return r
}

func zerosLike(xs []*tensor.Tensor) [][]float64 {
	r := make([][]float64, len(xs))
	for k, x := range xs {
		r[k] = make([]float64, x.Len())
	}
	return r
}

func consts(xs []*tensor.Tensor) []*Value {
	r := make([]*Value, len(xs))
	for i, x := range xs {
		r[i] = Const(x)
	}
	return r
}

func clones(xs []*tensor.Tensor) []*tensor.Tensor {
	r := make([]*tensor.Tensor, len(xs))
	for i, x := range xs {
		r[i] = x.Clone()
	}
	return r
}
