package bench

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/tensor"
)

// rssBytes reads the resident set size from /proc (Linux); 0 elsewhere.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestDCGANStepMemory is the engine's memory contract: after warm-up, a
// dcgan iteration allocates less than 5% of its working set from the Go
// heap (its tensors reuse the previous step's buffers), and the resident
// size stays flat over 1,000 iterations (120 with the slower pure-Go GEMM,
// where 300 took over 9 minutes on a busy 2-core machine and hit the test
// timeout).
func TestDCGANStepMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 1,000 training iterations")
	}
	w, err := New("dcgan", 7)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		w.Step()
	}
	// The working set of a step is what the pool holds between steps: every
	// buffer the step used, returned when its arena closed.
	_, floats := tensor.PoolStats()
	working := float64(floats) * 4
	if working < 10<<20 {
		t.Fatalf("working set %.1f MB looks too small for the dcgan step", working/(1<<20))
	}
	const n = 20
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		w.Step()
	}
	runtime.ReadMemStats(&m1)
	perStep := float64(m1.TotalAlloc-m0.TotalAlloc) / n
	t.Logf("working set %.1f MB; heap allocation per step %.1f KB (%.2f%%)", working/(1<<20), perStep/1024, 100*perStep/working)
	if perStep > 0.05*working {
		t.Errorf("a step allocates %.0f bytes, %.1f%% of its %.0f-byte working set (limit 5%%)", perStep, 100*perStep/working, working)
	}

	iters := 1000
	if blas.Impl == "go" {
		iters = 120
	}
	rss0 := rssBytes()
	var peak int64
	for i := range iters {
		w.Step()
		if i%50 == 0 {
			runtime.GC()
			peak = max(peak, rssBytes())
		}
	}
	runtime.GC()
	rss1 := rssBytes()
	t.Logf("resident size %.1f MB after warm-up, %.1f MB after %d more iterations (peak %.1f MB)", float64(rss0)/(1<<20), float64(rss1)/(1<<20), iters, float64(peak)/(1<<20))
	if rss0 > 0 && float64(rss1) > 1.05*float64(rss0)+(4<<20) {
		t.Errorf("resident size grew from %d to %d bytes over %d iterations", rss0, rss1, iters)
	}
}
