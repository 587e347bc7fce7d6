package optim

import (
	"math"
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// TestAdamKernelMatchesGo checks that update (with cgo the C loop, its
// AVX2 and SSE2 bodies and scalar tail) gives updateGo's bits over three steps, for
// each form of Adam and sizes around the vector widths and minAdamC,
// gradients with zeros (v = 0, so the denominator is eps) among them.
func TestAdamKernelMatchesGo(t *testing.T) {
	t.Logf("Adam kernel: %s", adamKernel)
	defer func() { adamSSE2 = false }()
	for _, sse2 := range []bool{false, true} {
		adamSSE2 = sse2
		checkAdamKernel(t)
	}
}

func checkAdamKernel(t *testing.T) {
	t.Helper()
	forms := map[string]adamStep{
		"adam":    {b1: 0.9, b2: 0.999, c1: 0.1, c2: 0.001, eps: 1e-8},
		"adam_l2": {b1: 0.5, b2: 0.99, c1: 0.5, c2: 0.01, eps: 1e-8, wd: 0.1, l2: true},
		"adamw":   {b1: 0, b2: 0.99, c1: 1, c2: 0.01, eps: 1e-6, wd: 0.1, decay: 0.9998, decoupled: true},
	}
	rng := tensor.NewRNG(3)
	for name, k := range forms {
		for _, n := range []int{1, 7, 63, 64, 65, 71, 72, 1000, 4099} {
			theta := rng.Normal(0, 1, n).Data()
			th1, th2 := append([]float32(nil), theta...), append([]float32(nil), theta...)
			m1, v1 := make([]float32, n), make([]float32, n)
			m2, v2 := make([]float32, n), make([]float32, n)
			for step := 1; step <= 3; step++ {
				g := rng.Normal(0, 1e-3, n).Data()
				for i := 0; i < n; i += 5 {
					g[i] = 0
				}
				s := k
				s.stepSize = -float32(2e-3 / bias(s.b1, step))
				s.bc2 = float32(math.Sqrt(bias(s.b2, step)))
				s.updateGo(th1, g, m1, v1)
				s.update(th2, g, m2, v2)
			}
			for _, pair := range [][2][]float32{{th1, th2}, {m1, m2}, {v1, v2}} {
				for i := range pair[0] {
					if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
						t.Fatalf("%s, n=%d, sse2 %v: element %d = %v, updateGo gives %v", name, n, adamSSE2, i, pair[1][i], pair[0][i])
					}
				}
			}
		}
	}
}
