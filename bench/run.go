package bench

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/kallima-gan/kallima/internal/blas"
)

// Options configure a timed run.
type Options struct {
	Iters  int    // timed iterations, >= 1; the workload spec asks for >= 30
	Warmup int    // untimed iterations first, >= 0; the spec asks for 5
	Seed   uint64 // weights, data and latents

	// Progress, when set, is called after every iteration (warm-up ones
	// too) with its 1-based index among all Warmup+Iters and its duration.
	Progress func(i, total int, d time.Duration)
}

// DefaultOptions returns the workload spec's protocol: 30 timed
// iterations after 5 warm-up ones, seed 1.
func DefaultOptions() Options { return Options{Iters: 30, Warmup: 5, Seed: 1} }

// Result is a timed run of one workload.
type Result struct {
	Workload          string    `json:"workload"`
	Impl              string    `json:"impl"`  // "kallima"
	BLAS              string    `json:"blas"`  // "openblas" or "go"
	Procs             int       `json:"procs"` // GOMAXPROCS
	CPU               string    `json:"cpu"`   // CPU(): model name, family, model
	CoreType          string    `json:"openblas_coretype,omitempty"`
	Iters             int       `json:"iters"`  // timed iterations
	Warmup            int       `json:"warmup"` // untimed iterations before
	MedianSeconds     float64   `json:"median_seconds"`
	ItersPerSecond    float64   `json:"iters_per_second"` // 1 / median
	GFLOPPerIteration float64   `json:"gflop_per_iteration"`
	GFLOPS            float64   `json:"gflops"` // effective: nominal FLOPs / median time
	Seconds           []float64 `json:"seconds"`
	FinalLosses       Losses    `json:"final_losses"`
}

// Run builds the named workload and times it: the median of opt.Iters
// iterations after opt.Warmup untimed ones. It returns an error for an
// unknown workload, invalid options, or losses that stop being finite.
func Run(name string, opt Options) (Result, error) {
	if opt.Iters < 1 || opt.Warmup < 0 {
		return Result{}, fmt.Errorf("bench: need iters >= 1 and warmup >= 0, got %d and %d", opt.Iters, opt.Warmup)
	}
	w, err := New(name, opt.Seed)
	if err != nil {
		return Result{}, err
	}
	flops, _ := IterationFLOPs(name)
	total := opt.Warmup + opt.Iters
	secs := make([]float64, 0, opt.Iters)
	var losses Losses
	for i := 1; i <= total; i++ {
		t0 := time.Now()
		losses = w.Step()
		d := time.Since(t0)
		if !finite(losses.D) || !finite(losses.G) {
			return Result{}, fmt.Errorf("bench: %s iteration %d: losses D %v, G %v are not finite", name, i, losses.D, losses.G)
		}
		if i > opt.Warmup {
			secs = append(secs, d.Seconds())
		}
		if opt.Progress != nil {
			opt.Progress(i, total, d)
		}
	}
	med := Median(secs)
	return Result{
		Workload:          name,
		Impl:              "kallima",
		BLAS:              blas.Impl,
		Procs:             runtime.GOMAXPROCS(0),
		CPU:               CPU(),
		CoreType:          blas.CoreType(),
		Iters:             opt.Iters,
		Warmup:            opt.Warmup,
		MedianSeconds:     med,
		ItersPerSecond:    1 / med,
		GFLOPPerIteration: float64(flops) / 1e9,
		GFLOPS:            float64(flops) / med / 1e9,
		Seconds:           secs,
		FinalLosses:       losses,
	}, nil
}

func finite(x float32) bool { return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) }

// Median returns the median of xs (the mean of the middle two for an even
// count), 0 for none; xs is left as it was.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
