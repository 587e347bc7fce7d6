package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// binaryOps lists every broadcasting binary op with a scalar reference.
var binaryOps = []struct {
	name string
	f    func(a, b *Tensor) *Tensor
	ref  func(x, y float32) float32
}{
	{"Add", Add, func(x, y float32) float32 { return x + y }},
	{"Sub", Sub, func(x, y float32) float32 { return x - y }},
	{"Mul", Mul, func(x, y float32) float32 { return x * y }},
	{"Div", Div, func(x, y float32) float32 { return x / y }},
	{"Maximum", Maximum, func(x, y float32) float32 {
		if x != x || y != y {
			return float32(math.NaN())
		}
		if x > y {
			return x
		}
		return y
	}},
	{"Minimum", Minimum, func(x, y float32) float32 {
		if x != x || y != y {
			return float32(math.NaN())
		}
		if x < y {
			return x
		}
		return y
	}},
	{"Greater", Greater, func(x, y float32) float32 { return b2f(x > y) }},
	{"GreaterEqual", GreaterEqual, func(x, y float32) float32 { return b2f(x >= y) }},
	{"Equal", Equal, func(x, y float32) float32 { return b2f(x == y) }},
}

// naiveBroadcast is the oracle for broadcasting: it derives the output
// shape by NumPy's rules (ok false if they fail) and computes every output
// element by unravelling its index and mapping it into a and b, with no
// strides shared with the implementation.
func naiveBroadcast(a, b *Tensor, f func(x, y float32) float32) (shape []int, out []float32, ok bool) {
	as, bs := a.Shape(), b.Shape()
	n := max(len(as), len(bs))
	shape = make([]int, n)
	dimOf := func(s []int, i int) int { // dimension i of s right-aligned to rank n
		if j := i - (n - len(s)); j >= 0 {
			return s[j]
		}
		return 1
	}
	for i := range shape {
		da, db := dimOf(as, i), dimOf(bs, i)
		switch {
		case da == db:
			shape[i] = da
		case da == 1:
			shape[i] = db
		case db == 1:
			shape[i] = da
		default:
			return nil, nil, false
		}
	}
	project := func(idx, s []int) int { // index into s of the output index idx
		p := make([]int, len(s))
		for j := range s {
			if s[j] != 1 {
				p[j] = idx[j+n-len(s)]
			}
		}
		return ravel(p, s)
	}
	out = make([]float32, numel(shape))
	for i := range out {
		idx := unravel(i, shape)
		out[i] = f(a.Data()[project(idx, as)], b.Data()[project(idx, bs)])
	}
	return shape, out, true
}

// randomBroadcastPair draws two shapes that broadcast: a random output shape
// of rank 0 to 4 (sometimes with a zero dimension), from which each operand
// drops some leading dimensions and turns some others to 1.
func randomBroadcastPair(r *rand.Rand) (a, b []int) {
	out := make([]int, r.IntN(5))
	for i := range out {
		if r.IntN(12) == 0 {
			out[i] = 0
		} else {
			out[i] = 1 + r.IntN(4)
		}
	}
	operand := func() []int {
		s := append([]int(nil), out[r.IntN(len(out)+1):]...)
		for i := range s {
			if r.IntN(3) == 0 {
				s[i] = 1
			}
		}
		return s
	}
	a = operand()
	if r.IntN(5) == 0 {
		return a, append([]int(nil), a...) // the same-shape fast paths
	}
	return a, operand()
}

func TestBinaryBroadcast(t *testing.T) {
	r := newTestRand(3)
	cases := [][2][]int{
		{{}, {}}, {{}, {3}}, {{2, 3}, {}}, {{}, {0}}, {{0, 2}, {}},
		{{3, 1}, {1, 4}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{1, 3, 1}, {2, 1, 5}},
		{{64, 8, 3, 3}, {1, 8, 1, 1}}, {{5, 1, 2}, {5, 0, 2}}, {{0}, {1}}, {{2, 0}, {2, 1}},
		{{4, 5}, {4, 5}}, {{1}, {1, 1, 1}},
	}
	for range 300 {
		a, b := randomBroadcastPair(r)
		cases = append(cases, [2][]int{a, b})
	}
	for _, c := range cases {
		// Small integers (with zeros, ties and signs) keep every op
		// exact and give comparisons and division by zero real work.
		a, b := seededInts(r, 3, c[0]...), seededInts(r, 3, c[1]...)
		for _, op := range binaryOps {
			for _, swap := range []bool{false, true} {
				x, y := a, b
				if swap {
					x, y = b, a
				}
				shape, want, ok := naiveBroadcast(x, y, op.ref)
				if !ok {
					t.Fatalf("test bug: %v and %v do not broadcast", x.Shape(), y.Shape())
				}
				xd, yd := x.Clone(), y.Clone()
				got := op.f(x, y)
				checkExact(t, fmt.Sprintf("%s(%v, %v)", op.name, x.Shape(), y.Shape()), got, shape, want)
				checkExact(t, op.name+" left its first input", x, xd.Shape(), xd.Data())
				checkExact(t, op.name+" left its second input", y, yd.Shape(), yd.Data())
			}
		}
	}
}

// TestBinaryNaNInf checks IEEE special values through both the same-shape
// and the broadcast paths; Maximum and Minimum propagate NaN like torch.
func TestBinaryNaNInf(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	vals := []float32{nan, inf, -inf, 0, 1, -1, 2}
	n := len(vals)
	av, bv := make([]float32, n*n), make([]float32, n*n)
	for i := range n {
		for j := range n {
			av[i*n+j], bv[i*n+j] = vals[i], vals[j]
		}
	}
	for _, op := range binaryOps {
		for _, c := range []struct{ a, b *Tensor }{
			{FromSlice(av, n, n), FromSlice(bv, n, n)},
			{FromSlice(vals, n, 1), FromSlice(vals, 1, n)},
		} {
			shape, want, _ := naiveBroadcast(c.a, c.b, op.ref)
			checkExact(t, fmt.Sprintf("%s(%v, %v) on special values", op.name, c.a.Shape(), c.b.Shape()), op.f(c.a, c.b), shape, want)
		}
	}
}

func TestBinaryPanicsOnShape(t *testing.T) {
	for _, c := range [][2][]int{
		{{3}, {4}}, {{2, 3}, {3, 2}}, {{0}, {2}}, {{2, 2, 3}, {4, 3}}, {{5, 2}, {1, 3}},
	} {
		for _, op := range binaryOps {
			a, b := New(c[0]...), New(c[1]...)
			wantPanic(t, func() { op.f(a, b) }, "tensor."+op.name, fmt.Sprint(c[0]), fmt.Sprint(c[1]))
		}
		wantPanic(t, func() { BroadcastShapes("Op", c[0], c[1]) }, "tensor.Op", fmt.Sprint(c[0]), fmt.Sprint(c[1]))
	}
}

func TestBroadcastShapes(t *testing.T) {
	for _, c := range []struct{ a, b, want []int }{
		{[]int{}, []int{}, []int{}},
		{[]int{3}, []int{}, []int{3}},
		{[]int{2, 1, 4}, []int{3, 1}, []int{2, 3, 4}},
		{[]int{1, 0}, []int{5, 1}, []int{5, 0}},
		{[]int{1}, []int{0}, []int{0}},
	} {
		if got := BroadcastShapes("Test", c.a, c.b); !SameShape(got, c.want) {
			t.Fatalf("BroadcastShapes(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// unaryInputs covers both signs, zero of both signs, tiny and large values,
// the infinities and NaN.
func unaryInputs() []float32 {
	v := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 3, -3,
		20, -20, 88, -88, 100, -100, 1e30, -1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0xffc00000), // -NaN
		math.Float32frombits(1), math.Float32frombits(0x80000001), 0.25} // the smallest subnormals, and one to make the count even
	for i := -40; i <= 40; i++ {
		v = append(v, float32(i)/4+0.013)
	}
	return v
}

func TestUnaryMatchesMath(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, c := range []struct {
		name string
		f    func(*Tensor) *Tensor
		ref  func(float64) float64
	}{
		{"Neg", Neg, func(x float64) float64 { return -x }},
		{"Exp", Exp, math.Exp},
		{"Log", Log, math.Log},
		{"Log1p", Log1p, math.Log1p},
		{"Sqrt", Sqrt, math.Sqrt},
		{"Abs", Abs, math.Abs},
		{"Tanh", Tanh, math.Tanh},
		{"Erf", Erf, math.Erf},
		{"Sigmoid", Sigmoid, sig},
		{"Softplus", Softplus, func(x float64) float64 {
			if x > 30 { // log(1+e^x) = x + log1p(e^-x), exactly x in float32
				return x
			}
			return math.Log1p(math.Exp(x))
		}},
		{"Relu", Relu, func(x float64) float64 {
			if x > 0 || x != x {
				return x
			}
			return 0
		}},
		{"Step", Step, func(x float64) float64 { return float64(b2f(x > 0)) }},
		{"SlopeMask", func(a *Tensor) *Tensor { return SlopeMask(a, 0.2) }, func(x float64) float64 {
			if x > 0 {
				return 1
			}
			return 0.2
		}},
		{"LeakyRelu", func(a *Tensor) *Tensor { return LeakyRelu(a, 0.2) }, func(x float64) float64 {
			if x > 0 || x != x {
				return x
			}
			return float64(float32(x) * 0.2)
		}},
		{"Sign", Sign, func(x float64) float64 {
			if x != x {
				return 0 // documented: NaN gives 0
			}
			return float64(b2f(x > 0) - b2f(x < 0))
		}},
		{"Pow2", func(a *Tensor) *Tensor { return Pow(a, 2) }, func(x float64) float64 { return x * x }},
		{"Pow1", func(a *Tensor) *Tensor { return Pow(a, 1) }, func(x float64) float64 { return x }},
		{"Pow0.5", func(a *Tensor) *Tensor { return Pow(a, 0.5) }, func(x float64) float64 { return math.Pow(x, 0.5) }},
		{"Pow3", func(a *Tensor) *Tensor { return Pow(a, 3) }, func(x float64) float64 { return x * x * x }},
		{"Pow-1", func(a *Tensor) *Tensor { return Pow(a, -1) }, func(x float64) float64 { return 1 / x }},
		{"Pow0", func(a *Tensor) *Tensor { return Pow(a, 0) }, func(float64) float64 { return 1 }},
		{"Scale", func(a *Tensor) *Tensor { return Scale(a, -0.5) }, func(x float64) float64 { return -0.5 * x }},
		{"AddScalar", func(a *Tensor) *Tensor { return AddScalar(a, 2) }, func(x float64) float64 { return x + 2 }},
		{"Map", func(a *Tensor) *Tensor { return Map(a, func(x float32) float32 { return 3*x - 1 }) }, func(x float64) float64 { return 3*x - 1 }},
	} {
		in := unaryInputs()
		x := FromSlice(append([]float32(nil), in...), len(in)/2, 2) // any shape works
		got := c.f(x)
		if !SameShape(got.Shape(), x.Shape()) {
			t.Fatalf("%s: shape %v, want %v", c.name, got.Shape(), x.Shape())
		}
		for i, v := range in {
			if x.Data()[i] != v && v == v {
				t.Fatalf("%s modified its input", c.name)
			}
			w := float64(float32(c.ref(float64(v)))) // the float32 nearest the true value
			g := float64(got.Data()[i])
			if math.IsNaN(w) != math.IsNaN(g) || g != w && math.Abs(g-w) > 3e-7*math.Abs(w)+1e-44 {
				t.Fatalf("%s(%g) = %g, want %g", c.name, v, g, w)
			}
		}
	}
}

// TestSigmoidSoftplusStable checks the two logistic functions far into the
// tails, where the textbook formulas overflow to Inf or produce NaN, and a
// pair of identities that must hold everywhere.
func TestSigmoidSoftplusStable(t *testing.T) {
	for _, c := range []struct {
		x, sigmoid, softplus float64
		rtol                 float64
	}{
		{0, 0.5, math.Ln2, 1e-7},
		{80, 1, 80, 1e-7},
		{-80, math.Exp(-80), math.Exp(-80), 1e-6},
		{100, 1, 100, 1e-7},
		{-100, math.Exp(-100), math.Exp(-100), 0.05}, // float32 subnormal: ~2% spacing
		{1000, 1, 1000, 1e-7},
		{-1000, 0, 0, 0},
		{math.Inf(1), 1, math.Inf(1), 0},
		{math.Inf(-1), 0, 0, 0},
	} {
		x := Full(float32(c.x), 3)
		for _, f := range []struct {
			name string
			got  float32
			want float64
		}{{"Sigmoid", Sigmoid(x).Data()[2], c.sigmoid}, {"Softplus", Softplus(x).Data()[2], c.softplus}} {
			g := float64(f.got)
			if math.IsNaN(g) || g != f.want && math.Abs(g-f.want) > c.rtol*math.Abs(f.want) {
				t.Fatalf("%s(%g) = %g, want %g", f.name, c.x, g, f.want)
			}
		}
	}
	// sigmoid(x) + sigmoid(-x) = 1 and softplus(x) - softplus(-x) = x.
	r := newTestRand(4)
	x := Scale(seededTensor(r, 1000), 60)
	s, sn := Sigmoid(x), Sigmoid(Neg(x))
	p, pn := Softplus(x), Softplus(Neg(x))
	for i, v := range x.Data() {
		if d := s.Data()[i] + sn.Data()[i] - 1; math.Abs(float64(d)) > 1e-6 {
			t.Fatalf("sigmoid(%g) + sigmoid(%g) = 1%+g", v, -v, d)
		}
		if d := p.Data()[i] - pn.Data()[i] - v; math.Abs(float64(d)) > 1e-5*(1+math.Abs(float64(v))) {
			t.Fatalf("softplus(%g) - softplus(%g) = %g + %g", v, -v, v, d)
		}
	}
}

func TestWhere(t *testing.T) {
	nan := float32(math.NaN())
	cond := FromSlice([]float32{1, 0, -2, nan, 0, 0.5}, 2, 3)
	a := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := FromSlice([]float32{-1, -2, -3, -4, -5, -6}, 2, 3)
	checkExact(t, "Where", Where(cond, a, b), []int{2, 3}, []float32{1, -2, 3, 4, -5, 6})
	wantPanic(t, func() { Where(New(2, 3), a, New(3, 2)) }, "tensor.Where", "[2 3]", "[3 2]")
	wantPanic(t, func() { Where(New(3), a, b) }, "tensor.Where", "[3]")
}

func TestInPlace(t *testing.T) {
	r := newTestRand(5)
	a, b := seededTensor(r, 4, 5), seededTensor(r, 4, 5)
	want := make([]float32, a.Len())
	for i := range want {
		want[i] = a.Data()[i] + b.Data()[i]
	}
	c := a.Clone()
	AddInPlace(c, b)
	checkExact(t, "AddInPlace", c, a.Shape(), want)
	for i := range want {
		want[i] = a.Data()[i] + -1.5*b.Data()[i]
	}
	c = a.Clone()
	Axpy(-1.5, b, c)
	checkExact(t, "Axpy", c, a.Shape(), want)
	for i := range want {
		want[i] = a.Data()[i] * 0.25
	}
	c = a.Clone()
	ScaleInPlace(c, 0.25)
	checkExact(t, "ScaleInPlace", c, a.Shape(), want)
	wantPanic(t, func() { AddInPlace(a, New(3)) }, "tensor.AddInPlace", "[4 5]", "[3]")
	wantPanic(t, func() { Axpy(1, New(3), a) }, "tensor.Axpy", "[4 5]", "[3]")
}

// BenchmarkAdd measures the same-shape path and the bias-broadcast path of
// a batch of DCGAN 7x7 feature maps. Each iteration releases its result,
// as a training step's arena would, so the numbers are for steady state.
func BenchmarkAdd(b *testing.B) {
	for _, c := range []struct{ a, b []int }{
		{[]int{64, 128, 7, 7}, []int{64, 128, 7, 7}},
		{[]int{64, 128, 7, 7}, []int{1, 128, 1, 1}},
	} {
		b.Run(shapeName(c.a)+"+"+shapeName(c.b), func(b *testing.B) {
			r := newTestRand(1)
			x, y := seededTensor(r, c.a...), seededTensor(r, c.b...)
			Release(Add(x, y))
			b.SetBytes(int64(4 * (2*x.Len() + y.Len()))) // read x and y, write the sum
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				Release(Add(x, y))
			}
		})
	}
}

// shapeName formats a shape as 64x128x7x7 for benchmark names.
func shapeName(s []int) string {
	name := ""
	for i, d := range s {
		if i > 0 {
			name += "x"
		}
		name += fmt.Sprint(d)
	}
	return name
}
