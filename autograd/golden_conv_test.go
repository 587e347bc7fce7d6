package autograd

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// goldenRtol is the golden tests' tolerance: element i of a result passes
// if |got - want| <= goldenRtol * (|want_i| + rms(want)). The references
// are PyTorch's, computed in float64 from the same float32 inputs, so this
// bounds Kallima's float32 error relative to each element and, for elements
// near 0 (where a sum cancels), relative to the tensor's typical size.
const goldenRtol = 1e-4

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (g *goldenTensor) tensor() *tensor.Tensor {
	d := make([]float32, len(g.Data))
	for i, v := range g.Data {
		d[i] = float32(v)
	}
	return tensor.FromSlice(d, g.Shape...)
}

// goldenCase is one configuration of testdata/golden_conv.json, written by
// testdata/gen_golden_conv.py: out = op(x[, w]) and the gradients gx, gw
// of sum(out * r).
type goldenCase struct {
	Name          string        `json:"name"`
	Op            string        `json:"op"`
	Stride        [2]int        `json:"stride"`
	Padding       [2]int        `json:"padding"`
	Dilation      [2]int        `json:"dilation"`
	OutputPadding [2]int        `json:"output_padding"`
	Kernel        [2]int        `json:"kernel"`
	Scale         int           `json:"scale"`
	Size          [2]int        `json:"size"`
	X             *goldenTensor `json:"x"`
	W             *goldenTensor `json:"w"`
	R             *goldenTensor `json:"r"`
	Out           *goldenTensor `json:"out"`
	GX            *goldenTensor `json:"gx"`
	GW            *goldenTensor `json:"gw"`
}

// forward applies the case's op to its parameters (x, then w if any).
func (c *goldenCase) forward(ps []*Value) *Value {
	conv := tensor.ConvParams{Stride: c.Stride, Padding: c.Padding, Dilation: c.Dilation}
	pool := tensor.PoolParams{Kernel: c.Kernel, Stride: c.Stride, Padding: c.Padding}
	switch c.Op {
	case "conv2d":
		return Conv2d(ps[0], ps[1], conv)
	case "conv_transpose2d":
		return ConvTranspose2d(ps[0], ps[1], conv, c.OutputPadding)
	case "avg_pool2d":
		return AvgPool2d(ps[0], pool)
	case "max_pool2d":
		return MaxPool2d(ps[0], pool)
	case "upsample_nearest":
		return UpsampleNearest(ps[0], c.Scale)
	case "upsample_bilinear":
		return UpsampleBilinear(ps[0], c.Size[0], c.Size[1])
	}
	return nil
}

func loadGoldenConv(t *testing.T) []goldenCase {
	t.Helper()
	b, err := os.ReadFile("testdata/golden_conv.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with testdata/gen_golden_conv.py): %v", err)
	}
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("decoding testdata/golden_conv.json: %v", err)
	}
	return doc.Cases
}

// goldenError returns the largest |got - want| / (|want_i| + rms(want)),
// and an error if the shapes differ or an element exceeds goldenRtol.
func goldenError(what string, got *tensor.Tensor, want *goldenTensor) (float64, error) {
	if !tensor.SameShape(got.Shape(), want.Shape) {
		return 0, fmt.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
	}
	ss := 0.0
	for _, v := range want.Data {
		ss += v * v
	}
	rms := math.Sqrt(ss / float64(max(len(want.Data), 1)))
	worst := 0.0
	for i, w := range want.Data {
		g := float64(got.Data()[i])
		e := math.Abs(g-w) / (math.Abs(w) + rms)
		if !(e <= goldenRtol) { // also catches NaN
			return e, fmt.Errorf("%s: element %d is %.8g, want %.8g (relative error %.3g > %g)", what, i, g, w, e, goldenRtol)
		}
		worst = max(worst, e)
	}
	return worst, nil
}

// TestGoldenConv compares forward values and the gradients of sum(out * r)
// with respect to input and weight against PyTorch for conv2d,
// conv_transpose2d, avg/max pooling and nearest/bilinear upsampling.
func TestGoldenConv(t *testing.T) {
	cases := loadGoldenConv(t)
	worst := map[string]float64{}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Op] = true
		t.Run(c.Op+"/"+c.Name, func(t *testing.T) {
			if c.X == nil || c.R == nil || c.Out == nil || c.GX == nil {
				t.Fatalf("case lacks x, r, out or gx")
			}
			ps := []*Value{Param(c.X.tensor())}
			wants := []*goldenTensor{c.GX}
			if c.W != nil {
				if c.GW == nil {
					t.Fatalf("case has w but no gw")
				}
				ps = append(ps, Param(c.W.tensor()))
				wants = append(wants, c.GW)
			}
			out := c.forward(ps)
			if out == nil {
				t.Fatalf("unknown op %q", c.Op)
			}
			e, err := goldenError("out", out.Data(), c.Out)
			if err != nil {
				t.Fatal(err)
			}
			worst[c.Op] = max(worst[c.Op], e)
			loss := Sum(Mul(out, Const(c.R.tensor())), nil, false)
			grads := Grad([]*Value{loss}, ps, nil, false)
			for i, g := range grads {
				if g == nil {
					t.Fatalf("no gradient for input %d", i)
				}
				e, err := goldenError(fmt.Sprintf("gradient %d", i), g.Data(), wants[i])
				if err != nil {
					t.Fatal(err)
				}
				worst[c.Op] = max(worst[c.Op], e)
			}
		})
	}
	// Every op the file is meant to cover must still be in it.
	ops := []string{"avg_pool2d", "conv2d", "conv_transpose2d", "max_pool2d", "upsample_bilinear", "upsample_nearest"}
	for _, op := range ops {
		if !seen[op] {
			t.Errorf("golden file has no %s case", op)
		}
	}
	for _, op := range ops {
		t.Logf("%-18s worst relative error %.3g (tolerance %g)", op, worst[op], goldenRtol)
	}
}
