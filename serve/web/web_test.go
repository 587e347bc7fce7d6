package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler: the page at "/", its assets under /static/, every asset the
// page names is served, and nothing is fetched from another host.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	get := func(path string) (int, string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ct, page := get("/")
	if code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(page, `id="sample"`) {
		t.Fatalf("GET /: %d %s", code, ct)
	}
	for _, id := range []string{`id="seed"`, `id="class"`, `id="truncation"`, `id="curves"`, `id="field"`, `id="pause"`, `id="step"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the page lacks %s", id)
		}
	}
	for _, a := range []struct{ path, ct string }{{"/static/app.js", "text/javascript"}, {"/static/style.css", "text/css"}} {
		code, ct, body := get(a.path)
		if code != 200 || !strings.HasPrefix(ct, a.ct) || len(body) < 100 {
			t.Errorf("GET %s: %d %s, %d bytes", a.path, code, ct, len(body))
		}
		if !strings.Contains(page, a.path) {
			t.Errorf("the page does not load %s", a.path)
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s refers to another host", a.path)
		}
	}
	if code, _, _ := get("/static/nope.js"); code != 404 {
		t.Errorf("missing asset: %d, want 404", code)
	}
	if code, _, _ := get("/other"); code != 404 {
		t.Errorf("GET /other: %d, want 404", code)
	}
}
