package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kallima-gan/kallima/bench"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/serve"
	"github.com/kallima-gan/kallima/tensor"
)

const benchServeUsage = `Usage: kallima bench serve RUN [flags]

A load test of kallima serve on loopback: it loads RUN in-process, listens
on 127.0.0.1 (a free port), and runs -clients concurrent clients for
-duration, each asking GET /v1/models/NAME/sample.png?seed=K&n=N in a loop
with a new seed each time. It reports requests/s and samples/s, the p50 and
p99 latency of the answered requests, the status codes, the forward-pass
sizes the server's batching reached, and the resident memory (VmRSS) before
and after. Then the baseline: one loop calling the generator directly with
batch -n for the same duration (no HTTP, no PNG). Everything stops by
itself; -clients and -duration are bounded.

With -rounds R it does all of that R times, each round a fresh server
followed at once by its own loop, and reports each round's server/loop
ratio and their median: on a machine whose speed drifts from minute to
minute, a ratio of two windows seconds apart says more than one long run.

Flags:
`

const benchServeExamples = `
Examples:
  kallima bench serve runs/dcgan-mnist -clients 16 -duration 20s
  kallima bench serve runs/dcgan-mnist -clients 8 -n 1 -max-inflight 8 -json
  kallima bench serve runs/dcgan-mnist -clients 2 -duration 5s -rounds 5
`

// Bounds of kallima bench serve.
const (
	maxBenchClients  = 256
	maxBenchDuration = 10 * time.Minute
	maxBenchRounds   = 50
)

// ServeBench is the result of kallima bench serve.
type ServeBench struct {
	Run     string  `json:"run"`
	Clients int     `json:"clients"`
	N       int     `json:"n"`
	Seconds float64 `json:"seconds"`
	// CPU and CoreType say where it ran (bench.CPU, blas.CoreType).
	CPU      string `json:"cpu"`
	CoreType string `json:"openblas_coretype,omitempty"`
	// MaxBatchOpt is the server's MaxBatch.
	MaxBatchOpt int `json:"max_batch_option"`
	// Batched reports whether the server merged concurrent requests: its
	// probe found the generator's rows the same whatever the pass
	// (serve.Model.Merge; the BLAS kernel decides, docs/SERVING.md).
	Batched  bool           `json:"batched"`
	Requests int            `json:"requests"`
	Codes    map[string]int `json:"codes"`
	// OKPerSec is 200 answers per second; SamplesPerSec the samples in them.
	OKPerSec      float64 `json:"ok_per_sec"`
	SamplesPerSec float64 `json:"samples_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	// Batches maps a forward pass's size (samples) to the passes of that
	// size.
	Batches   map[int]int `json:"batches"`
	MaxBatch  int         `json:"max_batch"`
	MeanBatch float64     `json:"mean_batch"`
	// Busy is the share of the wall time the server's worker spent in
	// generation passes, and PassSamplesPerSec the passes' samples (padding
	// included) per second of that time: what the server would deliver if
	// the worker never waited.
	Busy              float64 `json:"worker_busy"`
	PassSamplesPerSec float64 `json:"pass_samples_per_sec"`
	RSSBeforeKiB      int     `json:"rss_before_kib"`
	RSSAfterKiB       int     `json:"rss_after_kib"`
	LoopPerSec        float64 `json:"loop_calls_per_sec"`
	LoopSamplesPS     float64 `json:"loop_samples_per_sec"`
	// LoopMaxBatchSamplesPS is the loop's samples/s with batch MaxBatch.
	LoopMaxBatchSamplesPS float64 `json:"loop_max_batch_samples_per_sec,omitempty"`
	// Ratio is SamplesPerSec over LoopSamplesPS: the server against the
	// loop with the request's batch.
	Ratio  float64  `json:"server_over_loop"`
	Errors []string `json:"errors,omitempty"`
}

// ServeRounds is the result of kallima bench serve -rounds R: every
// round's result and the medians over rounds.
type ServeRounds struct {
	Rounds []ServeBench `json:"rounds"`
	// MedianRatio is the median of the rounds' server/loop ratios, and
	// MedianSamplesPerSec of their server throughputs.
	MedianRatio         float64 `json:"median_server_over_loop"`
	MedianSamplesPerSec float64 `json:"median_samples_per_sec"`
}

// serveRounds summarises rounds.
func serveRounds(rounds []ServeBench) ServeRounds {
	r := ServeRounds{Rounds: rounds}
	var ratios, sps []float64
	for _, b := range rounds {
		ratios = append(ratios, b.Ratio)
		sps = append(sps, b.SamplesPerSec)
	}
	r.MedianRatio, r.MedianSamplesPerSec = bench.Median(ratios), bench.Median(sps)
	return r
}

func runBenchServe(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima bench serve", benchServeUsage, benchServeExamples)
	clients := fs.Int("clients", 8, fmt.Sprintf("concurrent clients (1 to %d)", maxBenchClients))
	duration := fs.Duration("duration", 10*time.Second, fmt.Sprintf("how long the clients run (at most %v); the baseline runs as long", maxBenchDuration))
	n := fs.Int("n", 16, "samples per request, and the baseline's batch")
	inflight := fs.Int("max-inflight", 0, "the server's -max-inflight (default: -clients, so requests queue for the worker instead of getting 429)")
	queueWait := fs.Duration("queue-wait", time.Second, "the server's -queue-wait")
	maxBatch := fs.Int("max-batch", 0, "the server's -max-batch (default: max(-n, 64))")
	window := fs.Duration("batch-window", 2*time.Millisecond, "the server's -batch-window")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load phase here (of the first round)")
	rounds := fs.Int("rounds", 1, fmt.Sprintf("repeat the load test and its loop this many times (1 to %d) and report the median ratio", maxBenchRounds))
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintln(stderr, "kallima bench serve: give one run folder")
		return exitUsage
	case *clients < 1 || *clients > maxBenchClients:
		fmt.Fprintf(stderr, "kallima bench serve: -clients %d: want 1 to %d\n", *clients, maxBenchClients)
		return exitUsage
	case *duration <= 0 || *duration > maxBenchDuration:
		fmt.Fprintf(stderr, "kallima bench serve: -duration %v: want more than 0 and at most %v\n", *duration, maxBenchDuration)
		return exitUsage
	case *n < 1 || *n > 1024 || *inflight < 0 || *maxBatch < 0:
		fmt.Fprintf(stderr, "kallima bench serve: -n %d: want 1 to 1024 (and -max-inflight not negative)\n", *n)
		return exitUsage
	case *rounds < 1 || *rounds > maxBenchRounds:
		fmt.Fprintf(stderr, "kallima bench serve: -rounds %d: want 1 to %d\n", *rounds, maxBenchRounds)
		return exitUsage
	}
	if *inflight == 0 {
		*inflight = *clients
	}
	var profile io.Writer // the load phase's CPU profile, when asked for
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "kallima bench serve: %v\n", err)
			return exitError
		}
		defer f.Close()
		profile = f
	}
	var all []ServeBench
	failed := false
	for r := range *rounds {
		if *rounds > 1 { // progress on stderr, so -json's stdout stays one line
			fmt.Fprintf(stderr, "round %d of %d\n", r+1, *rounds)
		}
		res, err := benchServe(pos[0], *clients, *n, *inflight, *maxBatch, *duration, *queueWait, *window, profile)
		profile = nil
		if err != nil {
			fmt.Fprintf(stderr, "kallima bench serve: %v\n", err)
			return exitError
		}
		failed = failed || len(res.Errors) > 0
		all = append(all, res)
		if !*asJSON {
			printServeBench(stdout, res)
		}
	}
	switch {
	case *asJSON && *rounds == 1:
		b, _ := json.Marshal(all[0])
		fmt.Fprintln(stdout, string(b))
	case *asJSON:
		b, _ := json.Marshal(serveRounds(all))
		fmt.Fprintln(stdout, string(b))
	case *rounds > 1:
		sum := serveRounds(all)
		var ratios []string
		for _, b := range all {
			ratios = append(ratios, fmt.Sprintf("%.2f", b.Ratio))
		}
		fmt.Fprintf(stdout, "rounds         %d: server/loop %s; median %.2f, median %.0f samples/s\n", len(all), strings.Join(ratios, " "), sum.MedianRatio, sum.MedianSamplesPerSec)
	}
	if failed {
		return exitError
	}
	return exitOK
}

// benchServe runs the load test and the baseline. A non-nil profile gets
// the CPU profile of the timed load phase (not the warm-up, not the
// baseline).
func benchServe(dir string, clients, n, inflight, maxBatch int, duration, queueWait, window time.Duration, profile io.Writer) (ServeBench, error) {
	res := ServeBench{Run: dir, Clients: clients, N: n, Codes: map[string]int{}, MaxBatchOpt: cmp.Or(maxBatch, max(n, 64)), CPU: bench.CPU(), CoreType: blas.CoreType()}
	s, err := serve.New([]string{dir}, serve.Options{MaxN: max(n, 64), MaxBatch: maxBatch, MaxInflight: inflight, QueueWait: queueWait, BatchWindow: window})
	if err != nil {
		return res, err
	}
	defer s.Close()
	m := s.Models()[0]
	if m.Sampler == nil {
		return res, fmt.Errorf("%s: the run's model does not draw from noise (kallima bench serve times sampling)", dir)
	}
	res.Batched = m.Merge
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	hs := s.HTTPServer(ln.Addr().String())
	go hs.Serve(ln)
	defer hs.Close()
	base := fmt.Sprintf("http://%s/v1/models/%s/sample.png?n=%d&seed=", ln.Addr(), m.Name, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: time.Minute}
	// Warm up under the same load (the first passes of each size allocate
	// the buffers every later one reuses), then measure.
	warm := &loadStats{codes: map[string]int{}}
	runLoad(client, base, clients, min(duration/4, 5*time.Second), warm)
	res.RSSBeforeKiB = rssKiB()
	st := &loadStats{codes: map[string]int{}}
	before, busyBefore := s.BatchSizes(), s.PassTime()
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return res, err
		}
	}
	start := time.Now()
	runLoad(client, base, clients, duration, st)
	if profile != nil {
		pprof.StopCPUProfile()
	}
	res.Codes, res.Errors = st.codes, append(warm.errors, st.errors...)
	lat := st.lat
	elapsed := time.Since(start).Seconds()
	res.RSSAfterKiB = rssKiB()
	res.Seconds = elapsed
	busy := (s.PassTime() - busyBefore).Seconds()
	res.Busy = busy / elapsed
	for _, v := range res.Codes {
		res.Requests += v
	}
	res.OKPerSec = float64(len(lat)) / elapsed
	res.SamplesPerSec = res.OKPerSec * float64(n)
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50ms = float64(lat[len(lat)/2].Microseconds()) / 1e3
		res.P99ms = float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()) / 1e3
	}
	res.Batches = s.BatchSizes()
	for size, k := range before {
		if res.Batches[size] -= k; res.Batches[size] == 0 {
			delete(res.Batches, size)
		}
	}
	passes, rows := 0, 0
	for size, k := range res.Batches {
		passes += k
		rows += size * k
		res.MaxBatch = max(res.MaxBatch, size)
	}
	if passes > 0 {
		res.MeanBatch = float64(rows) / float64(passes)
	}
	if busy > 0 {
		res.PassSamplesPerSec = float64(rows) / busy
	}
	// Stop the server first: arenas are process-wide, so the loop must not
	// overlap a pass of the worker's.
	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		return res, err
	}
	s.Close()
	// The baseline: the generator called in a loop with batch n, on this
	// goroutine, in an arena per call as the server's worker does.
	g := m.Sampler
	if res.LoopPerSec, err = generatorLoop(g, n, duration); err != nil {
		return res, err
	}
	res.LoopSamplesPS = res.LoopPerSec * float64(n)
	res.Ratio = res.SamplesPerSec / max(res.LoopSamplesPS, 1e-9)
	if res.MaxBatch > n {
		perSec, err := generatorLoop(g, res.MaxBatch, duration)
		if err != nil {
			return res, err
		}
		res.LoopMaxBatchSamplesPS = perSec * float64(res.MaxBatch)
	}
	return res, nil
}

// generatorLoop calls g with batch n in a loop for d, on this goroutine,
// in an arena per call as the server's worker does, and returns the calls
// per second.
func generatorLoop(g *pipeline.Sampler, n int, d time.Duration) (float64, error) {
	calls := 0
	start := time.Now()
	for seed := uint64(1); time.Since(start) < d; seed++ {
		z := g.Prior.Sample(tensor.NewRNG(seed), n)
		arena := tensor.OpenArena()
		_, err := g.SampleRequest(z, family.Request{Labels: cycleLabels(n, g.Classes)})
		arena.Close()
		if err != nil {
			return 0, err
		}
		calls++
	}
	return float64(calls) / time.Since(start).Seconds(), nil
}

// loadStats gathers the answers of a load phase.
type loadStats struct {
	mu     sync.Mutex
	codes  map[string]int
	lat    []time.Duration // of the 200 answers
	errors []string
}

// runLoad runs clients concurrent loops of GET base+seed for d, each with
// its own seeds.
func runLoad(client *http.Client, base string, clients int, d time.Duration, st *loadStats) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ctx.Err() == nil; k++ {
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "GET", base+strconv.Itoa(c*1_000_000+k), nil)
				r, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, r.Body)
					r.Body.Close()
				}
				d := time.Since(t0)
				if ctx.Err() != nil {
					return // cut off at the deadline: not counted
				}
				st.mu.Lock()
				switch {
				case err != nil:
					st.codes["error"]++
					if len(st.errors) < 5 {
						st.errors = append(st.errors, err.Error())
					}
				case r.StatusCode == 200:
					st.codes["200"]++
					st.lat = append(st.lat, d)
				default:
					code := strconv.Itoa(r.StatusCode)
					st.codes[code]++
					if r.StatusCode != 429 && len(st.errors) < 5 {
						st.errors = append(st.errors, "status "+code)
					}
				}
				st.mu.Unlock()
				if err == nil && r.StatusCode == 429 {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

// cycleLabels returns classes 0..k-1 in turn for n samples, nil when k is 0.
func cycleLabels(n, k int) []int {
	if k == 0 {
		return nil
	}
	l := make([]int, n)
	for i := range l {
		l[i] = i % k
	}
	return l
}

// rssKiB returns this process's resident memory (VmRSS) in KiB, 0 where
// /proc is not there.
func rssKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			k, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return k
		}
	}
	return 0
}

func printServeBench(w io.Writer, r ServeBench) {
	codes := make([]string, 0, len(r.Codes))
	for _, c := range slices.Sorted(maps.Keys(r.Codes)) {
		codes = append(codes, fmt.Sprintf("%s: %d", c, r.Codes[c]))
	}
	var sizes []string
	for _, size := range slices.Sorted(maps.Keys(r.Batches)) {
		sizes = append(sizes, fmt.Sprintf("%d×%d", size, r.Batches[size]))
	}
	fmt.Fprintf(w, "run            %s (%s)\n", r.Run, filepath.Base(r.Run))
	machine := r.CPU
	if r.CoreType != "" {
		machine += ", OPENBLAS_CORETYPE=" + r.CoreType
	}
	fmt.Fprintf(w, "machine        %s\n", machine)
	fmt.Fprintf(w, "load           %d clients, n=%d per request, passes of at most %d, %.1f s on 127.0.0.1\n", r.Clients, r.N, r.MaxBatchOpt, r.Seconds)
	if !r.Batched {
		fmt.Fprintf(w, "batching       off: the generator's samples depend on the pass's size with this BLAS, each request runs alone (docs/SERVING.md)\n")
	}
	fmt.Fprintf(w, "requests       %d (%s)\n", r.Requests, strings.Join(codes, ", "))
	fmt.Fprintf(w, "throughput     %.1f requests/s, %.0f samples/s\n", r.OKPerSec, r.SamplesPerSec)
	fmt.Fprintf(w, "latency        p50 %.1f ms, p99 %.1f ms\n", r.P50ms, r.P99ms)
	fmt.Fprintf(w, "forward passes max %d samples, mean %.1f (size×passes: %s)\n", r.MaxBatch, r.MeanBatch, strings.Join(sizes, " "))
	fmt.Fprintf(w, "worker         busy %.0f%% of the time, its passes %.0f samples/s\n", 100*r.Busy, r.PassSamplesPerSec)
	fmt.Fprintf(w, "memory (RSS)   %.1f MiB before, %.1f MiB after\n", float64(r.RSSBeforeKiB)/1024, float64(r.RSSAfterKiB)/1024)
	fmt.Fprintf(w, "baseline loop  %.1f calls/s of batch %d, %.0f samples/s (server/loop %.2f)\n", r.LoopPerSec, r.N, r.LoopSamplesPS, r.Ratio)
	if r.LoopMaxBatchSamplesPS > 0 {
		fmt.Fprintf(w, "loop, batch %d  %.0f samples/s\n", r.MaxBatch, r.LoopMaxBatchSamplesPS)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error          %s\n", e)
	}
}
