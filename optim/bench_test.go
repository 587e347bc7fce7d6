package optim

import (
	"fmt"
	"testing"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// BenchmarkStep times one optimizer step over 1M parameters (4 tensors of
// 256×1024) and reports the throughput in parameters per nanosecond.
func BenchmarkStep(b *testing.B) {
	const rows, cols, n = 256, 1024, 4
	for _, tc := range optimizerCases {
		b.Run(fmt.Sprintf("%s/%dx%dx%d", tc.name, n, rows, cols), func(b *testing.B) {
			rng := tensor.NewRNG(1)
			ps := make([]*autograd.Value, n)
			for i := range ps {
				ps[i] = autograd.Param(rng.Normal(0, 1, rows, cols))
				setGrad(ps[i], rng.Normal(0, 1, rows, cols))
			}
			opt, err := tc.make(ps)
			if err != nil {
				b.Fatal(err)
			}
			opt.Step()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				opt.Step()
			}
			b.ReportMetric(float64(n*rows*cols)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "params/ns")
		})
	}
}

// BenchmarkEMAUpdate times one EMA update over 1M parameters.
func BenchmarkEMAUpdate(b *testing.B) {
	rng := tensor.NewRNG(1)
	ps := []*autograd.Value{autograd.Param(rng.Normal(0, 1, 1024, 1024))}
	e, err := NewEMA(ps, nil, EMAConfig{Decay: 0.999, Warmup: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("1024x1024", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			e.Update()
		}
		b.ReportMetric(float64(1024*1024)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "params/ns")
	})
}
