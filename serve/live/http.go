package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Register adds the live routes to mux (serve.Options.Extra):
//
//	GET  /v1/live                     the runs (RunInfo)
//	GET  /v1/live/{name}/events       server-sent events: metrics, sample, field, state, reset
//	                                  (the history was replaced: reload it)
//	GET  /v1/live/{name}/history      every metrics record so far
//	GET  /v1/live/{name}/sample.png   the newest sample grid
//	POST /v1/live/{name}/pause        pause (in-process runs; 409 otherwise)
//	POST /v1/live/{name}/resume
//	POST /v1/live/{name}/step         one more step, then paused
func (h *Hub) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"runs": h.Runs()})
	})
	mux.HandleFunc("GET /v1/live/{name}/events", h.events)
	mux.HandleFunc("GET /v1/live/{name}/history", h.history)
	mux.HandleFunc("GET /v1/live/{name}/sample.png", h.samplePNG)
	for _, a := range []string{"pause", "resume", "step"} {
		mux.HandleFunc("POST /v1/live/{name}/"+a, func(w http.ResponseWriter, r *http.Request) {
			info, err := h.Control(r.PathValue("name"), a)
			switch {
			case errors.Is(err, ErrNoRun):
				writeError(w, http.StatusNotFound, err, "name")
			case errors.Is(err, ErrNotInProcess):
				writeError(w, http.StatusConflict, err, "name")
			case err != nil:
				writeError(w, http.StatusBadRequest, err, "")
			default:
				writeJSON(w, http.StatusOK, info)
			}
		})
	}
}

// events streams a run's events until the page goes, the hub closes or
// the server shuts down, with a heartbeat comment between them.
func (h *Hub) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, errors.New("the connection cannot stream events"), "")
		return
	}
	lr, c, first, err := h.subscribe(r.PathValue("name"))
	if err != nil {
		writeError(w, http.StatusNotFound, err, "name")
		return
	}
	defer h.unsubscribe(lr, c)
	// Streams outlive the server's read and write timeouts (a read
	// deadline reached would end the request's context).
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	for _, e := range first {
		writeEvent(w, e)
	}
	fl.Flush()
	beat := time.NewTicker(h.opt.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		case e := <-c.ch:
			if err := writeEvent(w, e); err != nil {
				return
			}
			// Send what else is queued in the same write.
			for n := len(c.ch); n > 0; n-- {
				if err := writeEvent(w, <-c.ch); err != nil {
					return
				}
			}
			fl.Flush()
		}
	}
}

func writeEvent(w http.ResponseWriter, e event) error {
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data)
	return err
}

// history writes {"name":..., "records":[{"step","wall_time","scalars"}...]}.
func (h *Hub) history(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	lr := h.find(r.PathValue("name"))
	var b []byte
	var err error
	if lr != nil {
		b, err = json.Marshal(map[string]any{"name": lr.info.Name, "records": lr.history})
	}
	h.mu.Unlock()
	switch {
	case lr == nil:
		writeError(w, http.StatusNotFound, fmt.Errorf("%w: %q", ErrNoRun, r.PathValue("name")), "name")
	case err != nil:
		writeError(w, http.StatusInternalServerError, err, "")
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
}

// samplePNG writes the run's newest grid.
func (h *Hub) samplePNG(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	lr := h.find(r.PathValue("name"))
	path := ""
	if lr != nil {
		path = lr.sample
	}
	h.mu.Unlock()
	if lr == nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("%w: %q", ErrNoRun, r.PathValue("name")), "name")
		return
	}
	if path == "" {
		writeError(w, http.StatusNotFound, errors.New("no sample grid written yet"), "")
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Errorf("sample grid: %w", err), "")
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// writeError writes the API's JSON error, naming the parameter at fault
// (omitted when none is).
func writeError(w http.ResponseWriter, code int, err error, param string) {
	body := map[string]string{"error": err.Error()}
	if param != "" {
		body["param"] = param
	}
	writeJSON(w, code, body)
}
