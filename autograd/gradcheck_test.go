package autograd

import (
	"fmt"
	"hash/fnv"
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// gradCase is one gradient check: op names the registered primitive it
// covers (composed ops use their own name), f builds the expression.
type gradCase struct {
	op     string
	shapes [][]int
	f      func(x []*Value) *Value
	// away keeps random inputs at least this far from 0, for ops with a
	// kink there (relu, abs, max); positive makes them positive.
	away     float32
	positive bool
	first    bool // first order only (a documented reason in the case)
	// spaced, when set, replaces normal inputs by seeded shuffles of
	// values this far apart (see distinct), for ops whose kink lies where
	// two inputs tie (max, max pool).
	spaced float32
	// fixed, when set, replaces random inputs (for ops with kinks where
	// random inputs could land within a step of one).
	fixed []*tensor.Tensor
}

// gradCases collects the cases of every op file's test; see addCases.
var gradCases []gradCase

func addCases(cs ...gradCase) { gradCases = append(gradCases, cs...) }

// inputsFor draws the case's inputs from a seeded generator.
func inputsFor(c gradCase, seed uint64) []*tensor.Tensor {
	if c.fixed != nil {
		return c.fixed
	}
	rng := tensor.NewRNG(seed)
	xs := make([]*tensor.Tensor, len(c.shapes))
	for i, s := range c.shapes {
		if c.spaced > 0 {
			xs[i] = distinct(seed+uint64(i), c.spaced, s...)
			continue
		}
		x := rng.Normal(0, 1, s...)
		d := x.Data()
		for j := range d {
			if c.positive {
				d[j] = float32(math.Abs(float64(d[j]))) + 0.5
			}
			if c.away > 0 && math.Abs(float64(d[j])) < float64(c.away) {
				if d[j] < 0 {
					d[j] -= c.away
				} else {
					d[j] += c.away
				}
			}
		}
		xs[i] = x
	}
	return xs
}

// caseIDs numbers each case within its op (max_pool2d/0, max_pool2d/1, ...)
// and derives from the op's name and that number a seed of its own, so that
// adding a case for one op changes no other case's inputs.
func caseIDs() (names []string, seeds []uint64) {
	count := map[string]int{}
	for _, c := range gradCases {
		k := count[c.op]
		count[c.op]++
		h := fnv.New32a()
		h.Write([]byte(c.op))
		names = append(names, fmt.Sprintf("%s/%d", c.op, k))
		seeds = append(seeds, uint64(h.Sum32())<<8+uint64(k))
	}
	return names, seeds
}

// TestGradCheck runs every case at first and second order.
func TestGradCheck(t *testing.T) {
	names, seeds := caseIDs()
	for i, c := range gradCases {
		t.Run(names[i], func(t *testing.T) {
			xs := inputsFor(c, seeds[i])
			if err := GradCheck(c.f, xs, CheckOptions{SecondOrder: !c.first, Seed: seeds[i]}); err != nil {
				t.Fatalf("%s inputs %v: %v", c.op, xs, err)
			}
		})
	}
}

// TestEveryOpHasGradCheck fails when a registered primitive has no case.
func TestEveryOpHasGradCheck(t *testing.T) {
	have := map[string]bool{}
	for _, c := range gradCases {
		have[c.op] = true
		if !c.first {
			have[c.op+"/2"] = true
		}
	}
	for _, op := range Ops() {
		if !have[op] {
			t.Errorf("op %q has no gradcheck case", op)
		}
		if !have[op+"/2"] {
			t.Errorf("op %q has no second-order gradcheck case", op)
		}
	}
}

func un(f func(*Value) *Value) func([]*Value) *Value {
	return func(x []*Value) *Value { return f(x[0]) }
}

func bin(f func(a, b *Value) *Value) func([]*Value) *Value {
	return func(x []*Value) *Value { return f(x[0], x[1]) }
}

// nl makes a linear op's second derivative non-trivial by squaring its
// input first, so the Hessian-vector check exercises the op's backward of
// its backward.
func nl(f func(*Value) *Value) func([]*Value) *Value {
	return func(x []*Value) *Value { return f(Mul(x[0], x[0])) }
}

func init() {
	addCases(
		gradCase{op: "add", shapes: [][]int{{3, 4}, {3, 4}}, f: bin(func(a, b *Value) *Value { return Mul(Add(a, b), Add(a, b)) })},
		gradCase{op: "add", shapes: [][]int{{2, 3, 4}, {3, 1}}, f: bin(func(a, b *Value) *Value { return Square(Add(a, b)) })},
		gradCase{op: "sub", shapes: [][]int{{5}, {2, 5}}, f: bin(func(a, b *Value) *Value { return Square(Sub(a, b)) })},
		gradCase{op: "mul", shapes: [][]int{{3, 4}, {3, 4}}, f: bin(Mul)},
		gradCase{op: "mul", shapes: [][]int{{2, 1, 3}, {4, 1}}, f: bin(Mul)},
		gradCase{op: "div", shapes: [][]int{{3, 4}, {1, 4}}, f: bin(Div), positive: true},
		gradCase{op: "neg", shapes: [][]int{{7}}, f: nl(Neg)},
		gradCase{op: "scale", shapes: [][]int{{2, 3}}, f: nl(func(a *Value) *Value { return Scale(a, -2.5) })},
		gradCase{op: "add_scalar", shapes: [][]int{{2, 3}}, f: nl(func(a *Value) *Value { return AddScalar(a, 3) })},
		gradCase{op: "exp", shapes: [][]int{{3, 5}}, f: un(Exp)},
		gradCase{op: "log", shapes: [][]int{{3, 5}}, f: un(Log), positive: true},
		gradCase{op: "log1p", shapes: [][]int{{4}}, f: un(Log1p), positive: true},
		gradCase{op: "sqrt", shapes: [][]int{{4, 2}}, f: un(Sqrt), positive: true},
		gradCase{op: "pow", shapes: [][]int{{5}}, f: un(func(a *Value) *Value { return Pow(a, 3) })},
		gradCase{op: "pow", shapes: [][]int{{5}}, f: un(func(a *Value) *Value { return Pow(a, 1.5) }), positive: true},
		// |x| x: the second derivative 2 sign(x) is not 0, the kink is at 0.
		gradCase{op: "abs", shapes: [][]int{{6}}, f: un(func(a *Value) *Value { return Mul(Abs(a), a) }), away: 0.2},
		gradCase{op: "tanh", shapes: [][]int{{3, 3}}, f: un(Tanh)},
		gradCase{op: "sigmoid", shapes: [][]int{{3, 3}}, f: un(Sigmoid)},
		gradCase{op: "softplus", shapes: [][]int{{9}}, f: un(Softplus)},
		gradCase{op: "erf", shapes: [][]int{{9}}, f: un(Erf)},
		gradCase{op: "relu", shapes: [][]int{{4, 3}}, f: func(x []*Value) *Value { return Mul(Relu(x[0]), x[0]) }, away: 0.1},
		gradCase{op: "leaky_relu", shapes: [][]int{{4, 3}}, f: func(x []*Value) *Value { return Mul(LeakyRelu(x[0], 0.2), x[0]) }, away: 0.1},
		// leaky_relu_grad at fixed points of both signs, as the gradient g
		// (squared so that second order has something to check), with the
		// slopes of LeakyRelu and of Relu.
		gradCase{op: "leaky_relu_grad", shapes: [][]int{{4, 3}}, f: func(x []*Value) *Value {
			at := tensor.NewRNG(17).Normal(0, 1, 4, 3)
			return Add(Square(leakyReluGrad(x[0], at, 0.2)), Mul(leakyReluGrad(x[0], at, 0), x[0]))
		}},
		gradCase{op: "maximum", f: func(x []*Value) *Value { return Square(Maximum(x[0], x[1])) }, fixed: []*tensor.Tensor{
			tensor.FromSlice([]float32{1, -1, 0.5, 2, -0.3, 0.7, -2, 1.5}, 2, 4), tensor.FromSlice([]float32{0.2, 0.1, -0.4, 1}, 4)}},
		gradCase{op: "minimum", f: func(x []*Value) *Value { return Square(Minimum(x[0], x[1])) }, fixed: []*tensor.Tensor{
			tensor.FromSlice([]float32{1, -1, 0.5, 2, -0.3, 0.7, -2, 1.5}, 2, 4), tensor.FromSlice([]float32{0.2, 0.1, -0.4, 1}, 4)}},
		gradCase{op: "sum", shapes: [][]int{{2, 3, 4}}, f: nl(func(a *Value) *Value { return Sum(a, []int{0, 2}, false) })},
		gradCase{op: "sum", shapes: [][]int{{2, 3}}, f: nl(func(a *Value) *Value { return Sum(a, nil, true) })},
		gradCase{op: "max", shapes: [][]int{{3, 5}}, f: un(func(a *Value) *Value { return Square(Max(a, []int{1}, false)) }), spaced: 0.25},
		gradCase{op: "broadcast_to", shapes: [][]int{{3, 1}}, f: nl(func(a *Value) *Value { return BroadcastTo(a, []int{2, 3, 4}) })},
		gradCase{op: "sum_to", shapes: [][]int{{2, 3, 4}}, f: nl(func(a *Value) *Value { return SumTo(a, []int{3, 1}) })},
		gradCase{op: "reshape", shapes: [][]int{{2, 6}}, f: nl(func(a *Value) *Value { return Reshape(a, 3, -1) })},
		gradCase{op: "permute", shapes: [][]int{{2, 3, 4}}, f: nl(func(a *Value) *Value { return Permute(a, 2, 0, 1) })},
		gradCase{op: "slice", shapes: [][]int{{4, 5}}, f: nl(func(a *Value) *Value { return Slice(a, 1, 1, 4) })},
		gradCase{op: "concat", shapes: [][]int{{2, 3}, {2, 1}}, f: func(x []*Value) *Value { return Square(Concat([]*Value{x[0], x[1], x[0]}, -1)) }},
		gradCase{op: "pad_zero", shapes: [][]int{{2, 3}}, f: nl(func(a *Value) *Value { return PadZero(a, [][2]int{{1, 0}, {2, -1}}) })},
		gradCase{op: "index_select", shapes: [][]int{{4, 3}}, f: nl(func(a *Value) *Value { return IndexSelect(a, 0, []int{3, 0, 3}) })},
		gradCase{op: "index_add", shapes: [][]int{{3, 2}}, f: nl(func(a *Value) *Value { return IndexAdd(a, 0, []int{1, 1, 0}, 4) })},
		gradCase{op: "gather", shapes: [][]int{{2, 3}}, f: nl(func(a *Value) *Value { return Gather(a, []int32{5, 0, 0, 2}, 2, 2) })},
		gradCase{op: "scatter_add", shapes: [][]int{{4}}, f: nl(func(a *Value) *Value { return ScatterAdd(a, []int32{1, 1, 0, 2}, 3) })},
		gradCase{op: "matmul", shapes: [][]int{{3, 4}, {4, 5}}, f: func(x []*Value) *Value { return Square(MatMul(x[0], x[1], false, false)) }},
		gradCase{op: "matmul", shapes: [][]int{{4, 3}, {4, 5}}, f: func(x []*Value) *Value { return Square(MatMul(x[0], x[1], true, false)) }},
		gradCase{op: "matmul", shapes: [][]int{{3, 4}, {5, 4}}, f: func(x []*Value) *Value { return Square(MatMul(x[0], x[1], false, true)) }},
		gradCase{op: "matmul", shapes: [][]int{{4, 3}, {5, 4}}, f: func(x []*Value) *Value { return Square(MatMul(x[0], x[1], true, true)) }},
		gradCase{op: "batch_matmul", shapes: [][]int{{2, 3, 4}, {2, 4, 2}}, f: func(x []*Value) *Value { return Square(BatchMatMul(x[0], x[1], false, false)) }},
		gradCase{op: "batch_matmul", shapes: [][]int{{2, 4, 3}, {2, 2, 4}}, f: func(x []*Value) *Value { return Square(BatchMatMul(x[0], x[1], true, true)) }},
		// Composed ops are checked too: their gradients come from the primitives.
		gradCase{op: "mean", shapes: [][]int{{3, 4}}, f: nl(func(a *Value) *Value { return Mean(a, []int{0}, false) })},
		gradCase{op: "var", shapes: [][]int{{5, 3}}, f: un(func(a *Value) *Value { return Var(a, []int{0}, true) })},
		gradCase{op: "logsumexp", shapes: [][]int{{3, 4}}, f: un(func(a *Value) *Value { return LogSumExp(a, []int{1}, false) })},
		gradCase{op: "softmax", shapes: [][]int{{2, 5}}, f: un(func(a *Value) *Value { return Softmax(a, 1) })},
		gradCase{op: "log_softmax", shapes: [][]int{{2, 5}}, f: un(func(a *Value) *Value { return LogSoftmax(a, -1) })},
		gradCase{op: "stack", shapes: [][]int{{2, 3}, {2, 3}}, f: func(x []*Value) *Value { return Square(Stack(x, 1)) }},
		gradCase{op: "reflect_pad2d", shapes: [][]int{{1, 2, 3, 4}}, f: nl(func(a *Value) *Value { return ReflectPad2d(a, 1, 2, 3, 1) })},
		gradCase{op: "elu", shapes: [][]int{{8}}, f: un(func(a *Value) *Value { return ELU(a, 1) }), away: 0.1},
		gradCase{op: "gelu", shapes: [][]int{{8}}, f: un(GELU)},
		gradCase{op: "norm", shapes: [][]int{{3, 2, 2}}, f: un(func(a *Value) *Value { return Norm(a, 1e-12) })},
	)
}
