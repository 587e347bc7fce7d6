package serve

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// routes builds the mux: the API, /metrics and opts.Extra. Nothing is
// registered at "/", neither the page nor a JSON catch-all: a pattern
// without a method there matches every request no other pattern matches,
// so the mux would never answer 405, and the page's plain-text 404 would
// answer unknown API paths. serveHTTP answers what the mux does not route.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.instrument(pattern, h))
	}
	handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := io.WriteString(w, "ok\n")
		return err
	})
	handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) error {
		if !s.ready.Load() {
			return &Error{Status: http.StatusServiceUnavailable, Msg: "not ready"}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := io.WriteString(w, "ready\n")
		return err
	})
	mux.Handle("GET /metrics", s.metrics.handler())
	handle("GET /v1/models", s.listModels)
	handle("GET /v1/models/{name}", s.getModel)
	handle("GET /v1/models/{name}/sample.png", s.samplePNG)
	handle("POST /v1/models/{name}/sample", s.samplePost)
	handle("GET /v1/models/{name}/interpolate.png", s.interpolatePNG)
	handle("POST /v1/models/{name}/translate", s.translate)
	handle("POST /v1/models/{name}/encode", s.encode)
	if s.opts.Extra != nil {
		s.opts.Extra(mux)
	}
	return mux
}

// isAPI reports whether path is in the API's part of the path space,
// /v1 and under: one the mux does not route is the API's 404, never
// handed to the page.
func isAPI(path string) bool { return path == "/v1" || strings.HasPrefix(path, "/v1/") }

// serveHTTP is the server's handler. A request the mux routes (or
// redirects to a canonical path) goes to it; one it does not route gets
// the API's JSON error: 405 with the mux's Allow header for a path an API
// route takes with other methods, 404 for an unknown path under /v1/, and
// otherwise, when there is a page, the page's answer, its own 404 and 405
// turned into the same JSON errors.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r) // (it, not h, fills in r.PathValue)
		return
	}
	// The mux's h is then its plain-text 404 or 405, or a redirect to the
	// cleaned path: run it on a probe to learn which.
	p := &probe{header: http.Header{}}
	h.ServeHTTP(p, r)
	switch {
	case p.code == http.StatusMethodNotAllowed:
		s.noRoute(w, r, p.code, p.header.Get("Allow"))
	case p.code != http.StatusNotFound:
		s.mux.ServeHTTP(w, r)
	case s.opts.Web == nil || isAPI(r.URL.Path):
		s.noRoute(w, r, http.StatusNotFound, "")
	default:
		s.opts.Web.ServeHTTP(&pageWriter{ResponseWriter: w, r: r}, r)
	}
}

// noRoute answers r, which no route takes, with the JSON error code (404
// or 405, with allow in the Allow header), counted under the route "/".
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, code int, allow string) {
	s.instrument("/", func(w http.ResponseWriter, r *http.Request) error {
		return routeError(w, r, code, allow)
	}).ServeHTTP(w, r)
}

// routeError sets the Allow header, when allow is not "", and returns the
// error a request no route takes gets.
func routeError(w http.ResponseWriter, r *http.Request, code int, allow string) error {
	if code == http.StatusMethodNotAllowed {
		if allow != "" {
			w.Header().Set("Allow", allow)
		}
		return &Error{Status: code, Msg: fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, cmp.Or(allow, "others"))}
	}
	return &Error{Status: code, Msg: fmt.Sprintf("no route %s %s (see GET /v1/models)", r.Method, r.URL.Path)}
}

// probe is a ResponseWriter that keeps only the status and the headers.
type probe struct {
	header http.Header
	code   int
}

func (p *probe) Header() http.Header { return p.header }

func (p *probe) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}

func (p *probe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}

// pageWriter passes the page's answer through but for a 404 or 405 (a
// path or method the page does not have, a missing asset), which it
// replaces with the API's JSON error, so that every error is JSON.
type pageWriter struct {
	http.ResponseWriter
	r     *http.Request
	wrote bool // the header is written
	taken bool // the answer is the JSON error: drop the page's body
}

func (w *pageWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 { // informational: the answer follows
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.wrote {
		return
	}
	w.wrote = true
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		w.taken = true
		writeError(w.ResponseWriter, routeError(w.ResponseWriter, w.r, code, w.Header().Get("Allow")))
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *pageWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.taken {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *pageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusWriter remembers the status written, for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument counts and times h under its route pattern and writes the
// error it returns as JSON.
func (s *Server) instrument(route string, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		if err := h(w, r); err != nil && w.code == 0 {
			// (When the answer has begun, the client has gone: nothing
			// more can be said.)
			writeError(w, err)
		}
		code := w.code
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// writeError writes err as {"error": ..., "param": ...}: an *Error with its
// status, any other error as 500.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Msg: err.Error()}
	}
	if e.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	body := map[string]string{"error": e.Msg}
	if e.Param != "" {
		body["param"] = e.Param
	}
	_ = json.NewEncoder(w).Encode(body)
}

// writeJSON writes v as a 200 JSON answer.
func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) error {
	list := make([]ModelInfo, len(s.order))
	for i, m := range s.order {
		list[i] = m.info
	}
	return writeJSON(w, map[string]any{"models": list})
}

func (s *Server) getModel(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r, "")
	if err != nil {
		return err
	}
	return writeJSON(w, m.info)
}

// model finds the {name} of r's path; can, when not "", is what the model
// must be able to do.
func (s *Server) model(r *http.Request, can string) (*Model, error) {
	name := r.PathValue("name")
	m := s.models[name]
	if m == nil {
		names := make([]string, len(s.order))
		for i, m := range s.order {
			names[i] = m.Name
		}
		return nil, &Error{Status: http.StatusNotFound, Param: "name", Msg: fmt.Sprintf("no model %q (have %s)", clip(name), strings.Join(names, ", "))}
	}
	if can != "" && !slices.Contains(m.info.Can, can) {
		return nil, &Error{Status: http.StatusBadRequest, Param: "name", Msg: fmt.Sprintf("model %s (model.kind %s) cannot %s (it can %s)", m.Name, m.info.Family, can, strings.Join(m.info.Can, ", "))}
	}
	return m, nil
}

// admit takes a place among the MaxInflight admitted generation requests,
// waiting up to QueueWait; it returns the function that gives the place
// back, or a 429 Error.
func (s *Server) admit(r *http.Request) (func(), error) {
	release := func() {
		<-s.slots
		s.metrics.inflight.Set(float64(s.queued.Add(-1)))
	}
	take := func() {
		s.metrics.inflight.Set(float64(s.queued.Add(1)))
	}
	select {
	case s.slots <- struct{}{}:
		take()
		return release, nil
	default:
	}
	busy := &Error{Status: http.StatusTooManyRequests, Msg: fmt.Sprintf("busy: %d generation requests in flight; retry later", s.opts.MaxInflight)}
	if s.opts.QueueWait <= 0 {
		return nil, busy
	}
	t := time.NewTimer(s.opts.QueueWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		take()
		return release, nil
	case <-t.C:
		return nil, busy
	case <-r.Context().Done():
		return nil, busy
	}
}

// etag returns the entity tag of an answer of model m to a query: a hash
// of the checkpoint's content hash, the model, the route and the query's
// canonical form. It reports whether r's If-None-Match already names it,
// and then writes 304.
func etag(w http.ResponseWriter, r *http.Request, m *Model, route, canonical string) bool {
	h := sha256.Sum256([]byte(m.Sum + "\x00" + m.Name + "\x00" + route + "\x00" + canonical))
	tag := `"` + hex.EncodeToString(h[:16]) + `"`
	w.Header().Set("ETag", tag)
	w.Header().Set("Cache-Control", "no-cache")
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/")); t == tag || t == "*" {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}

// plan turns a query into the generation job of model m, checked against
// the model (classes, code names and values, the grid's size), and the
// grid's images per row. The job's noise is made on the worker.
func (s *Server) plan(m *Model, q SampleQuery) (*genJob, int, error) {
	g := m.Sampler
	switch {
	case q.Class >= 0 && g.Classes == 0, q.Classes != nil && g.Classes == 0:
		return nil, 0, badParam("class", "model %s (model.kind %s) is unconditional", m.Name, m.info.Family)
	case q.Class >= g.Classes && g.Classes > 0:
		return nil, 0, badParam("class", "%d out of range: the model has classes 0 to %d", q.Class, g.Classes-1)
	}
	for _, k := range q.Classes {
		if k >= g.Classes {
			return nil, 0, badParam("classes", "class %d out of range: the model has classes 0 to %d", k, g.Classes-1)
		}
	}
	prior := g.Prior
	prior.Truncation.Threshold = q.Truncation
	job := &genJob{m: m, n: q.N}
	perRow := int(math.Ceil(math.Sqrt(float64(q.N))))
	if q.Codes.Given() {
		coded, ok := g.Generator.(family.Coded)
		if !ok {
			return nil, 0, badParam("code", "model %s (model.kind %s) has no latent codes (model.kind infogan has)", m.Name, m.info.Family)
		}
		// Check every value here: a bad one must fail its own request,
		// not the forward pass it would share with others.
		for _, name := range q.Codes.Names {
			c, err := family.FindCode(coded, name)
			if err != nil {
				return nil, 0, badParam("code", "%v", err)
			}
			if v, fixed := q.Codes.Fixed[name]; fixed {
				if c.Categories > 0 && (v != math.Trunc(v) || v < 0 || v >= float64(c.Categories)) {
					return nil, 0, badParam("code", "%s=%g: a categorical code takes a category 0 to %d", name, v, c.Categories-1)
				}
				if c.Categories == 0 && (v < c.Lo || v > c.Hi) {
					return nil, 0, badParam("code", "%s=%g out of the code's range [%g, %g]", name, v, c.Lo, c.Hi)
				}
			}
		}
		cols := q.N
		if t := q.Codes.Trav; t != nil {
			tr, err := family.NewTraversal(coded, t.Name, t.Lo, t.Hi, q.Rows)
			if err != nil {
				return nil, 0, badParam("code", "%v", err)
			}
			rows := len(tr.Values)
			if !q.NSet {
				cols = max(1, min(8, s.opts.MaxN/rows))
			}
			if rows*cols > s.opts.MaxN {
				return nil, 0, badParam("code", "the traversal makes %d rows of %d images, more than %d", rows, cols, s.opts.MaxN)
			}
			job.n, perRow = rows*cols, cols
		}
		job.codes = slices.Sorted(slices.Values(q.Codes.Names))
		spec, rows := q.Codes, q.Rows
		job.build = func() (*tensor.Tensor, family.Request) {
			z, req, _, err := spec.Batch(coded, tensor.NewRNG(q.Seed), q.N, cols, rows)
			if err != nil {
				// Checked above; a failure here is a bug.
				panic(fmt.Sprintf("serve: codes checked but Batch refused them: %v", err))
			}
			return z, req
		}
		return job, perRow, nil
	}
	var labels []int
	if g.Classes > 0 {
		job.labels = true
		labels = make([]int, q.N)
		for i := range labels {
			switch {
			case q.Classes != nil:
				labels[i] = q.Classes[i]
			case q.Class >= 0:
				labels[i] = q.Class
			default:
				labels[i] = i % g.Classes
			}
		}
	}
	job.build = func() (*tensor.Tensor, family.Request) {
		// One stream, so the first k samples do not depend on n.
		return prior.Sample(tensor.NewRNG(q.Seed), q.N), family.Request{Labels: labels}
	}
	return job, perRow, nil
}

// generate runs a generation job through the worker, holding a place
// among the admitted requests, and returns its samples.
func (s *Server) generate(r *http.Request, g *genJob) (*tensor.Tensor, error) {
	release, err := s.admit(r)
	if err != nil {
		return nil, err
	}
	defer release()
	j := &job{gen: g}
	if err := s.work.do(j); err != nil {
		return nil, modelError(err)
	}
	return g.out, nil
}

// modelError makes an error a model returned for a request (a code value
// out of range, say) a 400; the worker's own Errors keep their status.
func modelError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Status: http.StatusBadRequest, Msg: err.Error()}
}

// picture renders samples: an image grid, or for 2-D points a scatter plot.
func (s *Server) picture(m *Model, out *tensor.Tensor, perRow int, title string) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if m.Sampler.IsImage {
		err = picture.EncodePNG(&buf, picture.Grid(out, perRow, 2))
	} else {
		err = picture.EncodePNG(&buf, picture.Scatter(nil, out, title))
	}
	return buf.Bytes(), err
}

func writePNG(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, err := w.Write(b)
	return err
}

func (s *Server) samplePNG(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r, "sample")
	if err != nil {
		return err
	}
	if len(r.URL.RawQuery) > maxQueryBytes {
		return badParam("query", "%d bytes, at most %d", len(r.URL.RawQuery), maxQueryBytes)
	}
	v, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	q, err := ParseSampleQuery(v, s.opts.MaxN)
	if err != nil {
		return err
	}
	if etag(w, r, m, "sample.png", q.canonical()) {
		return nil
	}
	job, perRow, err := s.plan(m, q)
	if err != nil {
		return err
	}
	out, err := s.generate(r, job)
	if err != nil {
		return err
	}
	b, err := s.picture(m, out, perRow, fmt.Sprintf("%s step %d seed %d", m.Name, m.info.Step, q.Seed))
	if err != nil {
		return err
	}
	return writePNG(w, b)
}

// parseQuery parses a raw query, naming a malformed one.
func parseQuery(raw string) (map[string][]string, error) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badParam("query", "%v", err)
	}
	return v, nil
}

// readBody reads r's body, at most the body limit (413 beyond).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.BodyLimit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Param: "body", Msg: fmt.Sprintf("more than %d bytes", s.opts.BodyLimit)}
	}
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Param: "body", Msg: err.Error()}
	}
	return b, nil
}

func (s *Server) samplePost(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r, "sample")
	if err != nil {
		return err
	}
	raw, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var body SampleBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return badParam("body", "not a sample request: %v", err)
	}
	q, err := body.Query(s.opts.MaxN)
	if err != nil {
		return err
	}
	if etag(w, r, m, "sample."+body.Format, q.canonical()) {
		return nil
	}
	job, perRow, err := s.plan(m, q)
	if err != nil {
		return err
	}
	out, err := s.generate(r, job)
	if err != nil {
		return err
	}
	switch body.Format {
	case "json":
		return writeJSON(w, map[string]any{"shape": out.Shape(), "data": out.Data()})
	case "safetensors":
		f := &safetensors.File{Tensors: map[string]*tensor.Tensor{"samples": out},
			Metadata: map[string]string{"model": m.Name, "model.kind": m.info.Family, "step": strconv.Itoa(m.info.Step), "checkpoint_sha256": m.Sum}}
		var buf bytes.Buffer
		if _, err := f.WriteTo(&buf); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="samples.safetensors"`)
		_, err := w.Write(buf.Bytes())
		return err
	}
	b, err := s.picture(m, out, perRow, fmt.Sprintf("%s step %d seed %d", m.Name, m.info.Step, q.Seed))
	if err != nil {
		return err
	}
	return writePNG(w, b)
}

func (s *Server) interpolatePNG(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r, "interpolate")
	if err != nil {
		return err
	}
	v, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	q, err := ParseInterpolateQuery(v, s.opts.MaxN)
	if err != nil {
		return err
	}
	g := m.Sampler
	switch {
	case q.Class >= 0 && g.Classes == 0:
		return badParam("class", "model %s (model.kind %s) is unconditional", m.Name, m.info.Family)
	case q.Class >= g.Classes && g.Classes > 0:
		return badParam("class", "%d out of range: the model has classes 0 to %d", q.Class, g.Classes-1)
	}
	if etag(w, r, m, "interpolate.png", fmt.Sprintf("%+v", q)) {
		return nil
	}
	job := &genJob{m: m, n: q.Steps, labels: g.Classes > 0}
	job.build = func() (*tensor.Tensor, family.Request) {
		var req family.Request
		if g.Classes > 0 {
			req.Labels = slices.Repeat([]int{max(q.Class, 0)}, q.Steps)
		}
		return pipeline.LatentPath(g.Prior, q.Seed, q.Seed2, q.Steps, q.Slerp), req
	}
	out, err := s.generate(r, job)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := picture.EncodePNG(&buf, picture.Grid(out, q.Steps, 2)); err != nil {
		return err
	}
	return writePNG(w, buf.Bytes())
}

// readImage reads the one image of a translate or encode request (the
// body itself, or a multipart form's field "image") and converts it to
// [1, c, h, w]; notes says what was converted.
func (s *Server) readImage(w http.ResponseWriter, r *http.Request, c, h, wd int) (*tensor.Tensor, string, error) {
	body, err := s.readBody(w, r)
	if err != nil {
		return nil, "", err
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		found := false
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, "", badParam("image", "multipart body: %v", err)
			}
			if p.FormName() == "image" {
				if body, err = io.ReadAll(p); err != nil {
					return nil, "", badParam("image", "multipart body: %v", err)
				}
				found = true
				break
			}
		}
		if !found {
			return nil, "", badParam("image", "the multipart body has no field \"image\"")
		}
	}
	if len(body) == 0 {
		return nil, "", badParam("image", "the body is empty: send one PNG or JPEG image")
	}
	x, info, err := data.DecodeImage("image", body, data.FolderConfig{Height: h, Width: wd, Gray: c == 1})
	if err != nil {
		return nil, "", badParam("image", "%v", err)
	}
	var notes strings.Builder
	data.NoteConversions([]data.ImageFile{info}, c, h, wd, &notes)
	note := strings.ReplaceAll(strings.TrimSpace(notes.String()), "\n", "; ")
	if note != "" {
		w.Header().Set("X-Kallima-Note", note)
	}
	return x, note, nil
}

// forward runs fn on the worker (any forward pass that is not merged),
// holding a place among the admitted requests.
func (s *Server) forward(r *http.Request, fn func() error) error {
	release, err := s.admit(r)
	if err != nil {
		return err
	}
	defer release()
	var ferr error
	j := &job{fn: func() { ferr = fn() }}
	if err := s.work.do(j); err != nil {
		return err
	}
	if ferr != nil {
		return modelError(ferr)
	}
	return nil
}

func (s *Server) translate(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r, "translate")
	if err != nil {
		return err
	}
	t := m.Translator.Translator
	names := t.Domains()
	q := r.URL.Query()
	if q.Get("from") == "" && len(names) > 2 {
		return badParam("from", "the model has %d domains (%s); say which one the image is in", len(names), strings.Join(names, ", "))
	}
	from, err := domain(names, q.Get("from"), pipeline.DefaultSource(names, q.Get("to")), "from")
	if err != nil {
		return err
	}
	def := 0
	if len(names) == 2 {
		def = 1 - from
	} else if q.Get("to") == "" {
		return badParam("to", "the model has %d domains (%s); say which one to translate to", len(names), strings.Join(names, ", "))
	}
	to, err := domain(names, q.Get("to"), def, "to")
	if err != nil {
		return err
	}
	sh := t.Shape()
	if len(sh) != 3 {
		return fmt.Errorf("the model takes images of shape %v", sh)
	}
	x, _, err := s.readImage(w, r, sh[0], sh[1], sh[2])
	if err != nil {
		return err
	}
	var grid *tensor.Tensor
	err = s.forward(r, func() error {
		y, err := t.Translate(x, from, to)
		if err != nil {
			return err
		}
		parts := []*tensor.Tensor{x, y}
		if back, err := t.Translate(y, to, from); err == nil {
			parts = append(parts, back)
		}
		cat := tensor.Concat(parts, 0)
		grid = tensor.FromSlice(slices.Clone(cat.Data()), cat.Shape()...)
		return nil
	})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := picture.EncodePNG(&buf, picture.Grid(grid, grid.Size(0), 2)); err != nil {
		return err
	}
	return writePNG(w, buf.Bytes())
}

// domain finds domain name (or number) among names; "" gives def.
func domain(names []string, name string, def int, param string) (int, error) {
	if k, ok := pipeline.DomainIndex(names, name, def); ok {
		return k, nil
	}
	return 0, badParam(param, "%q: the model's domains are %s (or their numbers 0 to %d)", clip(name), strings.Join(names, ", "), len(names)-1)
}

func (s *Server) encode(w http.ResponseWriter, r *http.Request) error {
	m, err := s.model(r, "encode")
	if err != nil {
		return err
	}
	enc := m.Sampler.Generator.(family.Encoder)
	x, _, err := s.readImage(w, r, m.info.Channels, m.info.Height, m.info.Width)
	if err != nil {
		return err
	}
	var code []float32
	var rec *tensor.Tensor
	err = s.forward(r, func() error {
		z, err := enc.Encode(x)
		if err != nil {
			return err
		}
		code = slices.Clone(z.Data())
		if rc, ok := enc.(family.Reconstructor); ok {
			y, err := rc.Reconstruct(x)
			if err != nil {
				return err
			}
			rec = tensor.FromSlice(slices.Clone(y.Data()), y.Shape()...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	out := map[string]any{"code": code}
	if rec != nil {
		var buf bytes.Buffer
		if err := picture.EncodePNG(&buf, picture.Grid(rec, 1, 0)); err != nil {
			return err
		}
		out["reconstruction_png"] = base64.StdEncoding.EncodeToString(buf.Bytes())
	}
	return writeJSON(w, out)
}
