package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	runfolder "github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/serve"
	"github.com/kallima-gan/kallima/serve/live"
	"github.com/kallima-gan/kallima/serve/web"
)

const serveUsage = `Usage: kallima serve RUN... [flags]

Serves trained runs of any family over HTTP (docs/SERVING.md): each run
folder's newest checkpoint that verifies (the EMA weights unless -raw), under
the folder's base name. GET /v1/models lists them with what each can do;
GET /v1/models/NAME/sample.png?seed=1&n=16&class=3&truncation=0.5&code=c1=3
draws a grid (deterministic, with an ETag), POST /v1/models/NAME/sample
answers PNG, JSON or safetensors, interpolate.png walks between two seeds,
POST translate and encode take an image. /healthz, /readyz and /metrics
(Prometheus) are there too.

Concurrent requests for the same model are merged into one forward pass.
At most -max-inflight generation requests are admitted at once; others wait
up to -queue-wait, then get 429 with Retry-After. SIGINT or SIGTERM stops
accepting connections and lets the requests in flight finish (at most
-shutdown-timeout).

Flags:
`

const serveExamples = `
Examples:
  kallima serve runs/dcgan-mnist                 on http://127.0.0.1:8080
  kallima serve runs/dcgan-mnist runs/cgan-mnist -addr :9000 -max-n 256
  curl -o grid.png 'http://127.0.0.1:8080/v1/models/dcgan-mnist/sample.png?seed=3&n=64'
`

// serveContext returns the context that stops kallima serve: SIGINT or
// SIGTERM. Tests replace it.
var serveContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// runServe is `kallima serve`.
func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima serve", serveUsage, serveExamples)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; :8080 for every interface)")
	maxN := fs.Int("max-n", 64, "most samples one request may ask for")
	inflight := fs.Int("max-inflight", 4, "most generation requests admitted at once (429 beyond)")
	queueWait := fs.Duration("queue-wait", 0, "how long a request waits for a place before 429")
	maxBatch := fs.Int("max-batch", 0, "most samples merged into one forward pass (default: max(-max-n, 64))")
	window := fs.Duration("batch-window", 2*time.Millisecond, "how long to wait for more requests to merge into a forward pass")
	bodyLimit := fs.Int64("body-limit", 4<<20, "largest request body in bytes (413 beyond)")
	raw := fs.Bool("raw", false, "serve G's live weights instead of their EMA")
	grace := fs.Duration("shutdown-timeout", 10*time.Second, "how long SIGINT/SIGTERM waits for requests in flight")
	runs, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(runs) == 0:
		fmt.Fprintln(stderr, "kallima serve: give one or more run folders (kallima serve RUN...)")
		return exitUsage
	case *maxN < 1 || *maxBatch < 0 || *inflight < 1 || *bodyLimit < 1 || *window < 0 || *queueWait < 0 || *grace <= 0:
		fmt.Fprintln(stderr, "kallima serve: -max-n, -max-inflight, -body-limit and -shutdown-timeout must be positive, -batch-window and -queue-wait not negative")
		return exitUsage
	}
	seen := make([]os.FileInfo, 0, len(runs))
	for i, r := range runs {
		fi, err := os.Stat(r)
		if err != nil || !fi.IsDir() {
			fmt.Fprintf(stderr, "kallima serve: %s is not a run folder\n", r)
			return exitUsage
		}
		// One folder twice would be served twice under two names.
		for j, o := range seen {
			if os.SameFile(o, fi) {
				fmt.Fprintf(stderr, "kallima serve: %s and %s are the same run folder: give it once\n", runs[j], runs[i])
				return exitUsage
			}
		}
		seen = append(seen, fi)
	}
	ctx, stop := serveContext()
	defer stop()
	// The page and the live view: each run's folder is followed, so a run
	// another process is still writing shows its curves and newest grid.
	hub := live.NewHub(live.Options{})
	defer hub.Close()
	s, err := serve.New(runs, serve.Options{MaxN: *maxN, MaxBatch: *maxBatch, MaxInflight: *inflight, QueueWait: *queueWait, BatchWindow: *window,
		BodyLimit: *bodyLimit, Raw: *raw, Log: stderr, Web: web.Handler(), Extra: hub.Register})
	if err != nil {
		hint := ""
		if errors.Is(err, runfolder.ErrNoCheckpoint) {
			hint = " (a run is served from its checkpoints: one being trained can be served once it writes its first, every train.checkpoint_every steps)"
		}
		fmt.Fprintf(stderr, "kallima serve: %v%s\n", err, hint)
		return exitError
	}
	defer s.Close()
	for _, m := range s.Models() {
		if err := hub.Tail(ctx, m.Name, m.Dir); err != nil {
			fmt.Fprintf(stderr, "kallima serve: live view of %s: %v\n", m.Dir, err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima serve: %v\n", err)
		return exitError
	}
	hs := s.HTTPServer(*addr)
	hs.RegisterOnShutdown(hub.Close) // open event streams must not hold up shutdown
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	what := fmt.Sprintf("%d models", len(s.Models()))
	if len(s.Models()) == 1 {
		what = "1 model"
	}
	fmt.Fprintf(stdout, "serving %s on http://%s (Ctrl-C to stop)\n", what, ln.Addr())
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "kallima serve: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "kallima serve: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "kallima serve: shutdown: %v\n", err)
		return exitError
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "kallima serve: %v\n", err)
		return exitError
	}
	return exitOK
}
