package onnx_test

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/tensor"
)

// interpret runs the graph of an encoded ModelProto on the inputs, with
// Kallima's tensor kernels standing in for an ONNX runtime, for the ops the
// exporter writes. It reads only what the file says (attributes, initializer
// shapes, node order), so a wrong attribute, shape or wiring shows up as a
// different result; onnxruntime itself runs in bench/onnx_check.sh.
func interpret(t *testing.T, model []byte, inputs map[string]*tensor.Tensor, ints map[string][]int) *tensor.Tensor {
	t.Helper()
	graph := decode(t, decode(t, model)[7][0].b)
	vals := map[string]*tensor.Tensor{}
	for k, v := range inputs {
		vals[k] = v
	}
	idx := map[string][]int{}
	for k, v := range ints {
		idx[k] = v
	}
	for _, ib := range graph[5] {
		init := decode(t, ib.b)
		dims, raw := init.ints(1), init[9][0].b
		switch init.ints(2)[0] {
		case 1:
			x := tensor.New(dims...)
			for i := range x.Data() {
				x.Data()[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			vals[init.str(8)] = x
		case 7:
			v := make([]int, prod(dims))
			for i := range v {
				v[i] = int(int64(binary.LittleEndian.Uint64(raw[8*i:])))
			}
			idx[init.str(8)] = v
		}
	}
	for _, nb := range graph[1] {
		node := decode(t, nb.b)
		var in []string
		for _, v := range node[1] {
			in = append(in, string(v.b))
		}
		attrInts, attrF, attrS := map[string][]int{}, map[string]float32{}, map[string]string{}
		for _, ab := range node[5] {
			a := decode(t, ab.b)
			switch a.ints(20)[0] {
			case 1:
				attrF[a.str(1)] = math.Float32frombits(uint32(a[2][0].n))
			case 2:
				attrInts[a.str(1)] = a.ints(3)
			case 3:
				attrS[a.str(1)] = a.str(4)
			case 7:
				attrInts[a.str(1)] = a.ints(8)
			}
		}
		x := func(i int) *tensor.Tensor {
			v, ok := vals[in[i]]
			if !ok {
				t.Fatalf("%s: input %s not computed", node.str(4), in[i])
			}
			return v
		}
		var y *tensor.Tensor
		switch op := node.str(4); op {
		case "Gemm":
			if attrInts["transB"][0] != 1 {
				t.Fatalf("Gemm transB %v", attrInts["transB"])
			}
			y = tensor.MatMul(x(0), x(1), false, true)
			if len(in) == 3 {
				y = tensor.Add(y, x(2))
			}
		case "Sub":
			y = tensor.Sub(x(0), x(1))
		case "Mul":
			y = tensor.Mul(x(0), x(1))
		case "Add":
			y = tensor.Add(x(0), x(1))
		case "Relu":
			y = tensor.Relu(x(0))
		case "LeakyRelu":
			y = tensor.LeakyRelu(x(0), attrF["alpha"])
		case "Tanh", "Identity":
			y = x(0)
			if op == "Tanh" {
				y = tensor.Tanh(y)
			}
		case "Elu":
			autograd.NoGrad(func() { y = autograd.ELU(autograd.Const(x(0)), attrF["alpha"]).Data() })
		case "Softplus":
			y = tensor.Softplus(x(0))
		case "Sigmoid":
			y = tensor.Sigmoid(x(0))
		case "Reshape":
			// A 0 copies the input's dimension (allowzero unset).
			shape := slices.Clone(idx[in[1]])
			for i, d := range shape {
				if d == 0 {
					shape[i] = x(0).Size(i)
				}
			}
			y = tensor.Reshape(x(0), shape...)
		case "Flatten":
			a := attrInts["axis"][0]
			s := x(0).Shape()
			y = tensor.Reshape(x(0), prod(s[:a]), prod(s[a:]))
		case "ConvTranspose":
			w, s, p, d, op := x(1), attrInts["strides"], attrInts["pads"], attrInts["dilations"], attrInts["output_padding"]
			if p[0] != p[2] || p[1] != p[3] {
				t.Fatalf("asymmetric pads %v", p)
			}
			cp := tensor.ConvParams{Stride: [2]int{s[0], s[1]}, Padding: [2]int{p[0], p[1]}, Dilation: [2]int{d[0], d[1]}}
			k := attrInts["kernel_shape"]
			xs := x(0).Shape()
			h := (xs[2]-1)*s[0] - 2*p[0] + d[0]*(k[0]-1) + op[0] + 1
			wd := (xs[3]-1)*s[1] - 2*p[1] + d[1]*(k[1]-1) + op[1] + 1
			y = tensor.ConvTranspose2d(x(0), w, cp, h, wd)
			if len(in) == 3 {
				y = tensor.Add(y, tensor.Reshape(x(2), 1, -1, 1, 1))
			}
		case "Conv":
			s, p, d := attrInts["strides"], attrInts["pads"], attrInts["dilations"]
			if p[0] != p[2] || p[1] != p[3] {
				t.Fatalf("asymmetric pads %v", p)
			}
			if k := attrInts["kernel_shape"]; k[0] != x(1).Size(2) || k[1] != x(1).Size(3) {
				t.Fatalf("Conv kernel_shape %v for weight %v", k, x(1).Shape())
			}
			y = tensor.Conv2d(x(0), x(1), tensor.ConvParams{Stride: [2]int{s[0], s[1]}, Padding: [2]int{p[0], p[1]}, Dilation: [2]int{d[0], d[1]}})
			if len(in) == 3 {
				y = tensor.Add(y, tensor.Reshape(x(2), 1, -1, 1, 1))
			}
		case "Resize":
			// Only nearest with the asymmetric transformation and rounding
			// down: output (i, j) reads input (floor(i / s), floor(j / s)).
			if attrS["mode"] != "nearest" || attrS["coordinate_transformation_mode"] != "asymmetric" || attrS["nearest_mode"] != "floor" || in[1] != "" {
				t.Fatalf("Resize attributes %v, roi %q", attrS, in[1])
			}
			sc, src := x(2).Data(), x(0)
			if sc[0] != 1 || sc[1] != 1 {
				t.Fatalf("Resize scales %v", sc)
			}
			n, c, h, w := src.Size(0), src.Size(1), src.Size(2), src.Size(3)
			oh, ow := int(float32(h)*sc[2]), int(float32(w)*sc[3])
			y = tensor.New(n, c, oh, ow)
			for p := range n * c {
				for i := range oh {
					for j := range ow {
						si := int(math.Floor(float64(i) / float64(sc[2])))
						sj := int(math.Floor(float64(j) / float64(sc[3])))
						y.Data()[(p*oh+i)*ow+j] = src.Data()[(p*h+si)*w+sj]
					}
				}
			}
		case "Transpose":
			if p := attrInts["perm"]; len(p) != 3 || p[0] != 0 || p[1] != 2 || p[2] != 1 {
				t.Fatalf("Transpose perm %v", p)
			}
			src := x(0)
			b, r, c := src.Size(0), src.Size(1), src.Size(2)
			y = tensor.New(b, c, r)
			for k := range b {
				for i := range r {
					for j := range c {
						y.Data()[(k*c+j)*r+i] = src.Data()[(k*r+i)*c+j]
					}
				}
			}
		case "MatMul":
			// Batched [B, M, K] x [B, K, L], summed in float64.
			a, bm := x(0), x(1)
			nb, m, k, l := a.Size(0), a.Size(1), a.Size(2), bm.Size(2)
			if bm.Size(0) != nb || bm.Size(1) != k {
				t.Fatalf("MatMul shapes %v %v", a.Shape(), bm.Shape())
			}
			y = tensor.New(nb, m, l)
			for q := range nb {
				for i := range m {
					for j := range l {
						s := 0.0
						for p := range k {
							s += float64(a.Data()[(q*m+i)*k+p]) * float64(bm.Data()[(q*k+p)*l+j])
						}
						y.Data()[(q*m+i)*l+j] = float32(s)
					}
				}
			}
		case "Softmax":
			src := x(0)
			if a := attrInts["axis"][0]; a != src.Dim()-1 {
				t.Fatalf("Softmax axis %d of %v", a, src.Shape())
			}
			w := src.Size(src.Dim() - 1)
			y = tensor.New(src.Shape()...)
			for r := range src.Len() / w {
				row := src.Data()[r*w : (r+1)*w]
				mx, sum := math.Inf(-1), 0.0
				for _, v := range row {
					mx = math.Max(mx, float64(v))
				}
				for _, v := range row {
					sum += math.Exp(float64(v) - mx)
				}
				for i, v := range row {
					y.Data()[r*w+i] = float32(math.Exp(float64(v)-mx) / sum)
				}
			}
		case "Shape":
			idx[string(node[2][0].b)] = x(0).Shape()
			continue
		case "Slice":
			// One axis, steps 1: columns [start, end) of a matrix.
			st, en, ax := idx[in[1]], idx[in[2]], idx[in[3]]
			if len(in) != 4 || len(st) != 1 || len(en) != 1 || !slices.Equal(ax, []int{1}) || x(0).Dim() != 2 {
				t.Fatalf("Slice %v %v axes %v of %v", st, en, ax, x(0).Shape())
			}
			src := x(0)
			r, w := src.Size(0), en[0]-st[0]
			y = tensor.New(r, w)
			for i := range r {
				copy(y.Data()[i*w:(i+1)*w], src.Data()[i*src.Size(1)+st[0]:i*src.Size(1)+en[0]])
			}
		case "Less", "GreaterOrEqual":
			// Against a one-value bound; true is 1, false 0.
			a, bound := x(0), x(1)
			if bound.Len() != 1 {
				t.Fatalf("%s bound of shape %v", op, bound.Shape())
			}
			y = tensor.New(a.Shape()...)
			for i, v := range a.Data() {
				if (op == "Less" && v < bound.Data()[0]) || (op == "GreaterOrEqual" && v >= bound.Data()[0]) {
					y.Data()[i] = 1
				}
			}
		case "And":
			y = tensor.Mul(x(0), x(1))
		case "Where":
			// A condition per row, [N, 1, ...], picks the row of x(1) or x(2).
			cond, a, b := x(0), x(1), x(2)
			if cond.Len() != a.Size(0) || !equalShape(a.Shape(), b.Shape()) {
				t.Fatalf("Where shapes %v %v %v", cond.Shape(), a.Shape(), b.Shape())
			}
			per := a.Len() / a.Size(0)
			y = b.Clone()
			for i := range a.Len() {
				if cond.Data()[i/per] == 1 {
					y.Data()[i] = a.Data()[i]
				}
			}
		case "Gather":
			if attrInts["axis"][0] != 0 {
				t.Fatalf("Gather axis %v", attrInts["axis"])
			}
			y = tensor.IndexSelect(x(0), 0, idx[in[1]])
		case "Div":
			y = tensor.Div(x(0), x(1))
		case "Clip":
			lo, hi := x(1), x(2)
			if lo.Dim() != 0 || hi.Dim() != 0 {
				t.Fatalf("Clip bounds of shapes %v and %v, want scalars", lo.Shape(), hi.Shape())
			}
			y = tensor.New(x(0).Shape()...)
			for i, v := range x(0).Data() {
				y.Data()[i] = min(max(v, lo.Data()[0]), hi.Data()[0])
			}
		case "Sqrt":
			y = tensor.Sqrt(x(0))
		case "ReduceMean":
			// Over the last two axes of [N, C, H, W], kept.
			if a := attrInts["axes"]; !slices.Equal(a, []int{2, 3}) || x(0).Dim() != 4 {
				t.Fatalf("ReduceMean axes %v of %v", a, x(0).Shape())
			}
			if k, ok := attrInts["keepdims"]; ok && k[0] != 1 {
				t.Fatalf("ReduceMean keepdims %v", k)
			}
			src := x(0)
			n, c, hw := src.Size(0), src.Size(1), src.Size(2)*src.Size(3)
			y = tensor.New(n, c, 1, 1)
			for p := range n * c {
				s := 0.0
				for _, v := range src.Data()[p*hw : (p+1)*hw] {
					s += float64(v)
				}
				y.Data()[p] = float32(s / float64(hw))
			}
		case "Pad":
			// Reflection of the last two axes, the same on each side.
			p, src := idx[in[1]], x(0)
			if attrS["mode"] != "reflect" || len(p) != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0 || p[2] != p[6] || p[3] != p[7] {
				t.Fatalf("Pad mode %q pads %v", attrS["mode"], p)
			}
			autograd.NoGrad(func() { y = autograd.ReflectPad2d(autograd.Const(src), p[2], p[6], p[3], p[7]).Data() })
		case "Expand":
			// [N, C, 1, 1] to [N, C, H, W].
			sh, src := idx[in[1]], x(0)
			if len(sh) != 4 || sh[0] != 1 || sh[1] != 1 || src.Size(2) != 1 || src.Size(3) != 1 {
				t.Fatalf("Expand %v to %v", src.Shape(), sh)
			}
			y = tensor.New(src.Size(0), src.Size(1), sh[2], sh[3])
			for p, v := range src.Data() {
				for j := range sh[2] * sh[3] {
					y.Data()[p*sh[2]*sh[3]+j] = v
				}
			}
		case "Concat":
			var parts []*tensor.Tensor
			for i := range in {
				parts = append(parts, x(i))
			}
			y = tensor.Concat(parts, attrInts["axis"][0])
		default:
			t.Fatalf("interpret: op %s", op)
		}
		vals[string(node[2][0].b)] = y
	}
	return vals[decode(t, graph[12][0].b).str(1)] // the first output's value
}

// TestGeneratorComputes runs each exported generator's graph (interpret)
// on seeded noise and labels and compares it with the generator's own
// samples.
func TestGeneratorComputes(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := build(t, tc.sets, tc.d)
			b, err := onnx.Generator(g, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			const n = 5
			z := g.Prior().Sample(tensor.NewRNG(3), n)
			req, floats, ints := request(g, n)
			floats[onnx.InputZ] = z
			want, err := g.Generate(z, req)
			if err != nil {
				t.Fatal(err)
			}
			checkGraph(t, "generator", interpret(t, b, floats, ints), want)
		})
	}
}

// request asks g for n rows with every condition it takes named: labels
// (2i+1) mod classes; for a Coded generator each code, categorical ones
// a different category per row, continuous ones spread over [Lo, Hi]
// (past the prior's [-1, 1], as requests may go). It also returns the
// graph inputs holding them: the continuous codes as float [n], the labels
// and categories as int64 [n].
func request(g family.Generator, n int) (family.Request, map[string]*tensor.Tensor, map[string][]int) {
	var req family.Request
	floats, ints := map[string]*tensor.Tensor{}, map[string][]int{}
	if c, ok := g.(family.Conditional); ok {
		for i := range n {
			req.Labels = append(req.Labels, (2*i+1)%c.Classes())
		}
		ints[onnx.InputLabel] = req.Labels
	}
	c, ok := g.(family.Coded)
	if !ok {
		return req, floats, ints
	}
	req.Codes = map[string][]float64{}
	for j, code := range c.Codes() {
		if code.Categories > 0 {
			for i := range n {
				ints[code.Name] = append(ints[code.Name], (i+2*j+1)%code.Categories)
				req.Codes[code.Name] = append(req.Codes[code.Name], float64(ints[code.Name][i]))
			}
			continue
		}
		v := tensor.New(n)
		for i := range n {
			v.Data()[i] = float32(code.Lo + (code.Hi-code.Lo)*float64(i+j)/float64(n+j))
			req.Codes[code.Name] = append(req.Codes[code.Name], float64(v.Data()[i]))
		}
		floats[code.Name] = v
	}
	return req, floats, ints
}

// checkGraph fails t unless the graph's output got has want's shape and
// lies within 1e-5 of it, and want spans enough (0.01) that a wrong graph
// would show. what names the model's side in the messages.
func checkGraph(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got == nil || !equalShape(got.Shape(), want.Shape()) {
		t.Fatalf("graph output %v, want shape %v", got, want.Shape())
	}
	worst := 0.0
	for i, v := range want.Data() {
		worst = math.Max(worst, math.Abs(float64(got.Data()[i]-v)))
	}
	if worst > 1e-5 {
		t.Errorf("max |graph - %s| = %g, want <= 1e-5", what, worst)
	}
	if spread(want) < 0.01 {
		t.Errorf("the %s's outputs span %g: too flat to tell a wrong graph from a right one", what, spread(want))
	}
}

// spread is max(x) - min(x).
func spread(x *tensor.Tensor) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x.Data() {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	return hi - lo
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
