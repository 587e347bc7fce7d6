package serve

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/serve/live"
	"github.com/kallima-gan/kallima/serve/web"
)

// TestServeNoRoute checks the answers to paths and methods no route
// takes, with and without the page mounted (as kallima serve and kallima
// train -serve mount it): an unknown path is a JSON 404, a known API path
// asked with another method a JSON 405 naming the methods in Allow, and
// the page and its assets are still served. The page's catch-all once
// took every path, so all of these were its plain-text 404.
func TestServeNoRoute(t *testing.T) {
	hub := live.NewHub(live.Options{})
	t.Cleanup(hub.Close)
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"api", Options{}},
		{"page", Options{Web: web.Handler(), Extra: hub.Register}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ts := newTest(t, c.opts, "vae", "dcgan")
			do := func(method, path string) (*http.Response, []byte) {
				t.Helper()
				req, err := http.NewRequest(method, ts.URL+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				return do(t, req)
			}
			for _, path := range []string{"/v1/nothing", "/v1", "/v1/models/vae/nothing", "/nonexistent", "/static/nope.js"} {
				if path == "/static/nope.js" && c.opts.Web == nil {
					continue
				}
				res, body := do("GET", path)
				wantError(t, "GET "+path, res, body, 404, "")
			}
			for _, m := range []struct{ method, path, allow string }{
				{"GET", "/v1/models/vae/encode", "POST"},
				{"GET", "/v1/models/dcgan/sample", "POST"},
				{"GET", "/v1/models/dcgan/translate", "POST"},
				{"DELETE", "/v1/models/dcgan", "GET, HEAD"},
				{"POST", "/v1/models", "GET, HEAD"},
				{"POST", "/healthz", "GET, HEAD"},
				{"PUT", "/metrics", "GET, HEAD"},
				{"GET", "/v1/live/dcgan/pause", "POST"}, // an Extra route
				{"POST", "/", "GET, HEAD"},              // the page's
			} {
				if (strings.HasPrefix(m.path, "/v1/live") || m.path == "/") && c.opts.Web == nil {
					continue
				}
				res, body := do(m.method, m.path)
				wantError(t, m.method+" "+m.path, res, body, 405, "")
				if got := res.Header.Get("Allow"); got != m.allow {
					t.Errorf("%s %s: Allow %q, want %q", m.method, m.path, got, m.allow)
				}
			}
			// What is routed still works, the page's routes included.
			if res, body := do("GET", "/v1/models/dcgan"); res.StatusCode != 200 || !strings.Contains(string(body), `"dcgan"`) {
				t.Errorf("GET /v1/models/dcgan: %d %s", res.StatusCode, body)
			}
			if res, body := do("GET", "/v1/models/dcgan/"); res.StatusCode != 404 {
				t.Errorf("GET /v1/models/dcgan/: %d %s", res.StatusCode, body)
			}
			if c.opts.Web == nil {
				res, body := do("GET", "/")
				wantError(t, "GET / without the page", res, body, 404, "")
				return
			}
			for _, a := range []struct{ path, ctype, has string }{
				{"/", "text/html", `id="sample"`},
				{"/static/app.js", "text/javascript", "/v1/models"},
				{"/static/style.css", "text/css", "{"},
				{"/v1/live", "application/json", `"runs"`},
			} {
				res, body := do("GET", a.path)
				if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), a.ctype) || !strings.Contains(string(body), a.has) {
					t.Errorf("GET %s: %d %s, %d bytes", a.path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
				}
			}
			if res, body := do("HEAD", "/"); res.StatusCode != 200 || len(body) != 0 {
				t.Errorf("HEAD /: %d, %d bytes", res.StatusCode, len(body))
			}
			// Unrouted API answers are counted under the route "/".
			if res, body := do("GET", "/metrics"); !strings.Contains(string(body), `kallima_http_requests_total{code="405",route="/"}`) {
				t.Errorf("metrics: %d, no 405 counted under the route /", res.StatusCode)
			}
		})
	}
}
