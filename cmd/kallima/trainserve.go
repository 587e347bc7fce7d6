package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/serve"
	"github.com/kallima-gan/kallima/serve/live"
	"github.com/kallima-gan/kallima/serve/web"
)

// liveServer is the page and live routes `train -serve` runs beside
// training.
type liveServer struct {
	srv  *serve.Server
	http *http.Server
	url  string
	done chan error
}

// startLive listens on addr and serves the web page and the live routes
// of the run c trains into dir (no models to sample: the explorer is
// empty); the returned hook goes to pipeline.Options.OnStep.
func startLive(ctx context.Context, addr, dir string, c config.Config, stderr io.Writer) (*liveServer, func(pipeline.StepView) error, error) {
	hub := live.NewHub(live.Options{})
	hook := hub.Attach(ctx, filepath.Base(filepath.Clean(dir)), dir, !c.IsImage(), c.Train.Steps)
	srv, err := serve.New(nil, serve.Options{Web: web.Handler(), Extra: hub.Register})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("-serve %s: %w", addr, err)
	}
	hs := srv.HTTPServer(addr)
	hs.RegisterOnShutdown(hub.Close)
	ls := &liveServer{srv: srv, http: hs, url: "http://" + ln.Addr().String() + "/", done: make(chan error, 1)}
	go func() { ls.done <- hs.Serve(ln) }()
	fmt.Fprintf(stderr, "serving the live page at %s\n", ls.url)
	return ls, hook, nil
}

// stop shuts the server down; with keep it first serves on until ctx is
// done (Ctrl-C), so the finished run can still be looked at.
func (ls *liveServer) stop(ctx context.Context, keep bool, stderr io.Writer) {
	if keep && ctx.Err() == nil {
		fmt.Fprintf(stderr, "training finished; still serving at %s (Ctrl-C to stop)\n", ls.url)
		select {
		case <-ctx.Done():
		case <-ls.done:
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ls.http.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "kallima train: -serve: %v\n", err)
	}
	ls.srv.Close()
}
