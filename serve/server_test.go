package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// newTest starts a server for the named tiny runs behind httptest.
func newTest(t *testing.T, opts Options, runs ...string) (*Server, *httptest.Server) {
	t.Helper()
	var dirs []string
	for _, r := range runs {
		dirs = append(dirs, tinyRun(t, r))
	}
	s, err := New(dirs, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

// get fetches url with optional headers (key, value, ...) and returns the
// response and its body.
func get(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func post(t *testing.T, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return do(t, req)
}

// decodePNG decodes b, failing the test if it is not a PNG.
func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG (%v): %.200s", err, b)
	}
	return img
}

// wantError checks an error answer: its status, JSON body and parameter.
func wantError(t *testing.T, what string, res *http.Response, body []byte, status int, param string) {
	t.Helper()
	var e struct{ Error, Param string }
	if res.StatusCode != status || res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil || e.Error == "" || e.Param != param {
		t.Errorf("%s: status %d %q, body %s; want %d naming %q", what, res.StatusCode, res.Header.Get("Content-Type"), body, status, param)
	}
}

// TestSaysWhichModelsRunAlone checks that New's log names exactly the
// models whose requests are not batched (which ones depends on the BLAS
// kernel), and OPENBLAS_CORETYPE when it is set.
func TestSaysWhichModelsRunAlone(t *testing.T) {
	var log bytes.Buffer
	s, _ := newTest(t, Options{Log: &log}, "dcgan", "ring8")
	for _, m := range s.Models() {
		said := strings.Contains(log.String(), "serve: "+m.Name+": its samples depend on the size of the forward pass")
		if said == m.Merge {
			t.Errorf("%s: batched %v, but the log says it runs alone: %v\n%s", m.Name, m.Merge, said, log.String())
		}
	}
	t.Setenv("OPENBLAS_CORETYPE", "Haswell")
	// Named only where OpenBLAS reads it (the cgo build).
	if h := coretypeHint(); strings.Contains(h, "OPENBLAS_CORETYPE=Haswell is set") != (blas.Impl == "openblas") {
		t.Errorf("hint with the variable set, blas %s: %q", blas.Impl, h)
	}
	t.Setenv("OPENBLAS_CORETYPE", "")
	if h := coretypeHint(); h != "" {
		t.Errorf("hint without the variable: %q", h)
	}
}

// TestModelsAndHealth lists every tiny run and checks each entry's
// capabilities and shape, and /healthz, /readyz, /metrics.
func TestModelsAndHealth(t *testing.T) {
	s, ts := newTest(t, Options{}, "dcgan", "cgan", "infogan", "ring8", "vae", "shift")
	res, body := get(t, ts.URL+"/healthz")
	if res.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %q", res.StatusCode, body)
	}
	if res, _ := get(t, ts.URL+"/readyz"); res.StatusCode != 200 {
		t.Fatalf("readyz: %d", res.StatusCode)
	}
	res, body = get(t, ts.URL+"/v1/models")
	var list struct{ Models []ModelInfo }
	if err := json.Unmarshal(body, &list); err != nil || res.StatusCode != 200 {
		t.Fatalf("models: %d %v %s", res.StatusCode, err, body)
	}
	want := map[string]struct {
		family, kind string
		can          []string
		classes      int
		codes        int
		domains      []string
	}{
		"dcgan":   {"dcgan", "image", []string{"sample", "interpolate"}, 0, 0, nil},
		"cgan":    {"cgan", "image", []string{"sample", "interpolate"}, 3, 0, nil},
		"infogan": {"infogan", "image", []string{"sample", "interpolate"}, 0, 3, nil},
		"ring8":   {"mlp", "points", []string{"sample"}, 0, 0, nil},
		"vae":     {"vae", "image", []string{"sample", "interpolate", "encode"}, 0, 0, nil},
		"shift":   {"testshift", "image", []string{"translate"}, 0, 0, []string{"x", "y", "z"}},
	}
	if len(list.Models) != len(want) {
		t.Fatalf("%d models, want %d", len(list.Models), len(want))
	}
	for _, m := range list.Models {
		w, ok := want[m.Name]
		if !ok {
			t.Fatalf("unexpected model %q", m.Name)
		}
		if m.Family != w.family || m.Kind != w.kind || !slices.Equal(m.Can, w.can) || m.Classes != w.classes || len(m.Codes) != w.codes ||
			(w.domains != nil && !slices.Equal(m.Domains, w.domains)) || len(m.Checkpoint) != 64 || m.Step != 2 && m.Step != 5 || m.MaxN != 64 {
			t.Errorf("%s: %+v, want %+v", m.Name, m, w)
		}
		// Whether the DCGANs merge depends on the BLAS kernels (a row's
		// rounding may depend on the pass's size: TestBatchingIsDeterministic);
		// the listing must say what the server does.
		if i := slices.IndexFunc(s.Models(), func(sm *Model) bool { return sm.Name == m.Name }); i < 0 || m.Batched != s.Models()[i].Merge {
			t.Errorf("%s: listed batched %v, the server's model %d merges otherwise", m.Name, m.Batched, i)
		}
		if m.Kind == "image" && (m.Height == 0 || m.Width == 0 || m.Channels == 0) {
			t.Errorf("%s: image shape %dx%dx%d", m.Name, m.Channels, m.Height, m.Width)
		}
	}
	res, body = get(t, ts.URL+"/metrics")
	if res.StatusCode != 200 || !strings.Contains(string(body), `kallima_http_requests_total{code="200",route="GET /healthz"} 1`) {
		t.Fatalf("metrics: %d\n%s", res.StatusCode, body)
	}
	res, body = get(t, ts.URL+"/nowhere")
	wantError(t, "unknown route", res, body, 404, "")
	res, body = get(t, ts.URL+"/v1/models/nope/sample.png")
	wantError(t, "unknown model", res, body, 404, "name")
}

// TestSamplePNG draws grids from image and 2-D models and checks the
// grid's size, determinism, the ETag and 304, and that the seed, class
// and truncation change the picture.
func TestSamplePNG(t *testing.T) {
	_, ts := newTest(t, Options{}, "dcgan", "cgan", "ring8", "infogan")
	res, a := get(t, ts.URL+"/v1/models/dcgan/sample.png?seed=3&n=4")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("status %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), a)
	}
	// 2x2 tiles of 28 pixels with 2 pixels of padding around each.
	if b := decodePNG(t, a).Bounds(); b.Dx() != 2*30+2 || b.Dy() != 2*30+2 {
		t.Fatalf("grid %v, want 62x62", b)
	}
	tag := res.Header.Get("ETag")
	res2, b := get(t, ts.URL+"/v1/models/dcgan/sample.png?n=4&seed=3")
	if !bytes.Equal(a, b) || res2.Header.Get("ETag") != tag || tag == "" {
		t.Fatalf("same query: bytes equal %v, ETags %q and %q", bytes.Equal(a, b), tag, res2.Header.Get("ETag"))
	}
	if res, body := get(t, ts.URL+"/v1/models/dcgan/sample.png?seed=3&n=4", "If-None-Match", tag); res.StatusCode != 304 || len(body) != 0 {
		t.Fatalf("If-None-Match: %d, %d bytes", res.StatusCode, len(body))
	}
	// The tiny untrained generators draw nearly flat images, so compare
	// the samples themselves.
	base := samples(t, ts.URL+"/v1/models/dcgan/sample", `{"seed":3,"n":4}`)
	for _, q := range []string{`{"seed":4,"n":4}`, `{"seed":3,"n":4,"truncation":0.5}`} {
		if got := samples(t, ts.URL+"/v1/models/dcgan/sample", q); slices.Equal(got, base) {
			t.Errorf("%s: the same samples as seed 3", q)
		}
	}
	if c0, c1 := samples(t, ts.URL+"/v1/models/cgan/sample", `{"n":4,"class":0}`), samples(t, ts.URL+"/v1/models/cgan/sample", `{"n":4,"class":1}`); slices.Equal(c0, c1) {
		t.Errorf("cgan: class 0 and 1 give the same samples")
	}
	res, p := get(t, ts.URL+"/v1/models/ring8/sample.png?n=50")
	if res.StatusCode != 200 || decodePNG(t, p).Bounds().Dx() != 560 {
		t.Errorf("ring8: status %d", res.StatusCode)
	}
	// A categorical traversal: one row per category 0..2, 4 columns.
	res, g := get(t, ts.URL+"/v1/models/infogan/sample.png?code=c1=0:2&n=4")
	if res.StatusCode != 200 {
		t.Fatalf("infogan traversal: %d %s", res.StatusCode, g)
	}
	if b := decodePNG(t, g).Bounds(); b.Dx() != 4*30+2 || b.Dy() != 3*30+2 {
		t.Errorf("infogan traversal grid %v, want 4 columns and 3 rows", b)
	}
}

// TestSampleErrors checks that bad queries get a 4xx JSON error naming
// the parameter.
func TestSampleErrors(t *testing.T) {
	_, ts := newTest(t, Options{MaxN: 8}, "dcgan", "cgan", "infogan", "shift", "ring8")
	for _, c := range []struct {
		path   string
		status int
		param  string
	}{
		{"dcgan/sample.png?n=9", 400, "n"},
		{"dcgan/sample.png?n=0", 400, "n"},
		{"dcgan/sample.png?n=x", 400, "n"},
		{"dcgan/sample.png?seed=-1", 400, "seed"},
		{"dcgan/sample.png?seed=1&seed=2", 400, "seed"},
		{"dcgan/sample.png?class=1", 400, "class"},
		{"cgan/sample.png?class=3", 400, "class"},
		{"dcgan/sample.png?truncation=-1", 400, "truncation"},
		{"dcgan/sample.png?truncation=NaN", 400, "truncation"},
		{"dcgan/sample.png?code=c1=1", 400, "code"},
		{"infogan/sample.png?code=c9=1", 400, "code"},
		{"infogan/sample.png?code=c1=0:9", 400, "code"},
		{"infogan/sample.png?code=c1=0:2&n=4", 400, "code"}, // 12 images > MaxN 8
		{"dcgan/sample.png?%zz", 400, "query"},
		{"shift/sample.png", 400, "name"},
		{"dcgan/interpolate.png?steps=1", 400, "steps"},
		{"dcgan/interpolate.png?slerp=maybe", 400, "slerp"},
		{"ring8/interpolate.png", 400, "name"},
		{"cgan/interpolate.png?class=7", 400, "class"},
	} {
		res, body := get(t, ts.URL+"/v1/models/"+c.path)
		wantError(t, c.path, res, body, c.status, c.param)
	}
}

// samples POSTs a JSON sample request asking for JSON and returns the
// samples' values.
func samples(t *testing.T, url, body string) []float32 {
	t.Helper()
	body = strings.TrimSuffix(body, "}") + `,"format":"json"}`
	res, b := post(t, url, "application/json", []byte(body))
	var out struct {
		Shape []int
		Data  []float32
	}
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != 200 || len(out.Data) == 0 {
		t.Fatalf("POST %s %s: %d %v %.200s", url, body, res.StatusCode, err, b)
	}
	return out.Data
}

// TestBatchingIsDeterministic sends concurrent requests to the worker and
// checks that each answer is byte for byte the answer to the same request
// sent alone: merged into shared forward passes where the model's rows do
// not depend on the pass (the server's probe), each alone where they do.
// Whether they do depends on the BLAS kernel: on an AMD EPYC family 26,
// OpenBLAS's Haswell and Zen kernels (OPENBLAS_CORETYPE) round a row by its
// place in the product, the kernel it picks itself does not (but rounds the
// MLP's rows by the product's height, as on the other machines). With merging forced on, every request still gets its own
// rows, equal to its answer alone to float32 rounding.
func TestBatchingIsDeterministic(t *testing.T) {
	for _, maxBatch := range []int{0, 4} {
		t.Run(fmt.Sprintf("max-batch-%d", maxBatch), func(t *testing.T) { testBatching(t, maxBatch, false) })
	}
	t.Run("merge-forced", func(t *testing.T) { testBatching(t, 0, true) })
}

func testBatching(t *testing.T, maxBatch int, force bool) {
	s, ts := newTest(t, Options{MaxInflight: 24, MaxBatch: maxBatch, BatchWindow: 20 * time.Millisecond}, "dcgan", "cgan", "ring8")
	merging := false
	for _, m := range s.Models() {
		if force && m.Name != "ring8" {
			m.Merge = true // before any request: the worker reads it
		}
		if !m.Merge {
			t.Logf("%s: rows depend on the pass with this machine's BLAS: each request runs alone", m.Name)
		}
		merging = merging || m.Merge
	}
	// JSON answers: the samples' exact values, not 8-bit pixels.
	type call struct{ url, body string }
	var urls []call
	for i := range 6 {
		urls = append(urls, call{ts.URL + "/v1/models/dcgan/sample", fmt.Sprintf(`{"seed":%d,"n":%d,"format":"json"}`, i+1, 1+i%4)},
			call{ts.URL + "/v1/models/cgan/sample", fmt.Sprintf(`{"seed":%d,"n":%d,"format":"json"}`, i+1, 2+i%3)},
			call{ts.URL + "/v1/models/ring8/sample", fmt.Sprintf(`{"seed":%d,"n":%d,"format":"json"}`, i+1, 1+i%4)})
	}
	alone := make([][]byte, len(urls))
	for i, u := range urls {
		_, alone[i] = post(t, u.url, "application/json", []byte(u.body))
	}
	before := batches(t, s)
	together := make([][]byte, len(urls))
	var wg sync.WaitGroup
	// Keep the worker busy until every request is admitted, so that they
	// all wait for it together.
	wg.Add(1)
	busy := make(chan struct{})
	go func() {
		defer wg.Done()
		s.work.do(&job{fn: func() {
			close(busy)
			for deadline := time.Now().Add(10 * time.Second); s.queued.Load() < int64(len(urls)) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}})
	}()
	<-busy
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(u.url, "application/json", strings.NewReader(u.body))
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			together[i], _ = io.ReadAll(res.Body)
		}()
	}
	wg.Wait()
	passes := batches(t, s) - before
	if merging && passes >= len(urls) {
		t.Fatalf("%d requests took %d forward passes: nothing was merged", len(urls), passes)
	}
	if !merging && passes != len(urls) {
		t.Fatalf("%d requests took %d forward passes, no model merging: want one each", len(urls), passes)
	}
	for i := range urls {
		if bytes.Equal(alone[i], together[i]) {
			continue
		}
		var a, b struct{ Data []float32 }
		json.Unmarshal(alone[i], &a)
		json.Unmarshal(together[i], &b)
		worst, at := math.Inf(1), -1
		if len(a.Data) == len(b.Data) {
			worst = 0
			for k := range a.Data {
				if d := math.Abs(float64(a.Data[k] - b.Data[k])); d > worst {
					worst, at = d, k
				}
			}
		}
		// Forced merging may round differently, never by more than
		// float32 rounding through the network: another request's rows
		// (another seed) would differ by tenths.
		if !force || worst > 1e-4 {
			t.Errorf("%s %s: batched answer differs from the answer alone (%d and %d values, most by %g at %d)", urls[i].url, urls[i].body, len(a.Data), len(b.Data), worst, at)
		}
	}
	sizes := s.BatchSizes()
	for size := range sizes {
		if maxBatch > 0 && size > maxBatch {
			t.Errorf("a forward pass of %d samples, more than MaxBatch %d (%v)", size, maxBatch, sizes)
		}
	}
	t.Logf("%d requests in %d forward passes (sizes %v)", len(urls), passes, sizes)
}

// batches returns the number of forward passes the worker has made.
func batches(t *testing.T, s *Server) int {
	t.Helper()
	var m dto.Metric
	if err := s.metrics.batch.Write(&m); err != nil {
		t.Fatal(err)
	}
	return int(m.GetHistogram().GetSampleCount())
}

// TestBusy fills the one place for a generation and checks that the next
// request gets 429 with Retry-After, and that the place frees again.
func TestBusy(t *testing.T) {
	s, ts := newTest(t, Options{MaxInflight: 1}, "dcgan")
	s.slots <- struct{}{}
	res, body := get(t, ts.URL+"/v1/models/dcgan/sample.png?n=1")
	wantError(t, "busy", res, body, 429, "")
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	<-s.slots
	if res, _ := get(t, ts.URL+"/v1/models/dcgan/sample.png?n=1"); res.StatusCode != 200 {
		t.Fatalf("after release: %d", res.StatusCode)
	}
	_, m := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`kallima_http_requests_total{code="429",route="GET /v1/models/{name}/sample.png"} 1`,
		`kallima_http_requests_total{code="200",route="GET /v1/models/{name}/sample.png"} 1`,
		"kallima_batch_size_count 1", "kallima_inflight 0", `kallima_http_request_seconds_count{route="GET /v1/models/{name}/sample.png"} 2`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
	// With a queue wait, a request waits for the place instead.
	s2, ts2 := newTest(t, Options{MaxInflight: 1, QueueWait: 5 * time.Second}, "dcgan")
	s2.slots <- struct{}{}
	go func() { time.Sleep(50 * time.Millisecond); <-s2.slots }()
	if res, _ := get(t, ts2.URL+"/v1/models/dcgan/sample.png?n=1"); res.StatusCode != 200 {
		t.Fatalf("queued: %d", res.StatusCode)
	}
}

// grayPNG returns a size x size gray PNG of value v.
func grayPNG(t *testing.T, w, h int, v uint8) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTranslate translates with the testshift model (x + b + 0.25 to for
// its three domains): a raw body and a multipart form, a converted size
// with its note, and the errors.
func TestTranslate(t *testing.T) {
	_, ts := newTest(t, Options{BodyLimit: 4096}, "shift")
	u := ts.URL + "/v1/models/shift/translate"
	res, b := post(t, u+"?from=x&to=z", "image/png", grayPNG(t, 8, 8, 128))
	if res.StatusCode != 200 {
		t.Fatalf("translate: %d %s", res.StatusCode, b)
	}
	img := decodePNG(t, b).(*image.Gray)
	// Input, translation and back: three 8x8 tiles with padding 2.
	if img.Bounds().Dx() != 3*10+2 || img.Bounds().Dy() != 12 {
		t.Fatalf("grid %v", img.Bounds())
	}
	in, out, back := img.GrayAt(2+3, 2+3).Y, img.GrayAt(12+3, 2+3).Y, img.GrayAt(22+3, 2+3).Y
	// z is domain 2: +0.5 in [-1, 1] is +64 in bytes, plus b.
	if out <= in+60 || back <= out {
		t.Errorf("tiles %d, %d, %d: want the translation above the input by about 64 + b", in, out, back)
	}
	if res.Header.Get("X-Kallima-Note") != "" {
		t.Errorf("note for an image of the model's shape: %q", res.Header.Get("X-Kallima-Note"))
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("image", "big.png")
	fw.Write(grayPNG(t, 16, 12, 128))
	mw.Close()
	res, b2 := post(t, u+"?from=0&to=2", mw.FormDataContentType(), form.Bytes())
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("X-Kallima-Note"), "resized") {
		t.Fatalf("multipart 16x12: %d, note %q, %s", res.StatusCode, res.Header.Get("X-Kallima-Note"), b2)
	}
	for _, c := range []struct {
		q, ctype string
		body     []byte
		status   int
		param    string
	}{
		{"?to=z", "image/png", grayPNG(t, 8, 8, 1), 400, "from"},
		{"?from=x", "image/png", grayPNG(t, 8, 8, 1), 400, "to"},
		{"?from=x&to=w", "image/png", grayPNG(t, 8, 8, 1), 400, "to"},
		{"?from=x&to=y", "image/png", []byte("not an image"), 400, "image"},
		{"?from=x&to=y", "image/png", nil, 400, "image"},
		{"?from=x&to=y", "image/png", grayPNG(t, 400, 400, 1)[:0:0], 400, "image"},
		{"?from=x&to=y", "image/png", bytes.Repeat([]byte{1}, 5000), 413, "body"},
	} {
		res, body := post(t, u+c.q, c.ctype, c.body)
		wantError(t, c.q, res, body, c.status, c.param)
	}
}

// TestEncode encodes an image with the tiny VAE and checks the code's
// length and the reconstruction.
func TestEncode(t *testing.T) {
	_, ts := newTest(t, Options{}, "vae", "dcgan")
	res, b := post(t, ts.URL+"/v1/models/vae/encode", "image/png", grayPNG(t, 28, 28, 200))
	var out struct {
		Code []float64
		Rec  string `json:"reconstruction_png"`
	}
	if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != 200 || len(out.Code) != 4 {
		t.Fatalf("encode: %d %v %s", res.StatusCode, err, b)
	}
	png, err := base64.StdEncoding.DecodeString(out.Rec)
	if err != nil {
		t.Fatal(err)
	}
	if b := decodePNG(t, png).Bounds(); b.Dx() != 28 || b.Dy() != 28 {
		t.Errorf("reconstruction %v, want 28x28", b)
	}
	res, b = post(t, ts.URL+"/v1/models/dcgan/encode", "image/png", grayPNG(t, 28, 28, 200))
	wantError(t, "dcgan encode", res, b, 400, "name")
}

// TestInterpolateAndPostFormats checks interpolate.png's row and the
// safetensors answer of POST sample.
func TestInterpolateAndPostFormats(t *testing.T) {
	_, ts := newTest(t, Options{}, "dcgan", "cgan")
	res, b := get(t, ts.URL+"/v1/models/cgan/interpolate.png?seed=1&seed2=5&steps=5&class=2&slerp=true")
	if res.StatusCode != 200 {
		t.Fatalf("interpolate: %d %s", res.StatusCode, b)
	}
	if bb := decodePNG(t, b).Bounds(); bb.Dx() != 5*30+2 || bb.Dy() != 32 {
		t.Errorf("interpolation row %v", bb)
	}
	res, b = post(t, ts.URL+"/v1/models/dcgan/sample", "application/json", []byte(`{"seed":2,"n":3,"format":"safetensors"}`))
	f, err := safetensors.Parse(b)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("safetensors: %d %v", res.StatusCode, err)
	}
	if got := f.Tensors["samples"].Shape(); !slices.Equal(got, []int{3, 1, 28, 28}) {
		t.Errorf("samples shape %v", got)
	}
	if want := samples(t, ts.URL+"/v1/models/dcgan/sample", `{"seed":2,"n":3}`); !slices.Equal(f.Tensors["samples"].Data(), want) {
		t.Errorf("safetensors and JSON answers differ")
	}
	res, b = post(t, ts.URL+"/v1/models/cgan/sample", "application/json", []byte(`{"classes":[0,1,2],"n":2}`))
	wantError(t, "classes and n disagree", res, b, 400, "classes")
	res, b = post(t, ts.URL+"/v1/models/cgan/sample", "application/json", []byte(`{"seed":"x"}`))
	wantError(t, "bad JSON", res, b, 400, "body")
	res, b = post(t, ts.URL+"/v1/models/cgan/sample", "application/json", []byte(`{"format":"gif"}`))
	wantError(t, "bad format", res, b, 400, "format")
}

// TestWorkerExpectsLastPass checks the batching worker's wait: after a
// pass that merged three requests, a lone request waits (up to the window)
// for two more that arrive later and shares their pass, though only it was
// admitted when the pass began; and a lone request after a lone pass runs
// at once, without waiting out the window.
func TestWorkerExpectsLastPass(t *testing.T) {
	const window = 3 * time.Second
	s, _ := newTest(t, Options{MaxInflight: 8, BatchWindow: window}, "dcgan")
	m := s.Models()[0]
	// The wait is tested, not the rows: merge even where this machine's
	// BLAS rounds a row differently in passes of other sizes.
	m.Merge = true
	gen := func(seed uint64) *job {
		return &job{gen: &genJob{m: m, n: 2, build: func() (*tensor.Tensor, family.Request) {
			return m.Sampler.Prior.Sample(tensor.NewRNG(seed), 2), family.Request{}
		}}}
	}
	// run submits the jobs, the first at once and the rest after delay,
	// with queued requests admitted (the worker reads the count, as it
	// reads the server's), and waits for all.
	run := func(queued int64, delay time.Duration, jobs ...*job) {
		s.queued.Store(queued)
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i > 0 {
					time.Sleep(delay)
				}
				if err := s.work.do(j); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		s.queued.Store(0)
	}
	start := time.Now()
	run(1, 0, gen(1))
	run(1, 0, gen(2))
	if d := time.Since(start); d > window/2 {
		t.Fatalf("two lone requests took %v: the worker waited for requests that could not come", d)
	}
	before := batches(t, s)
	run(3, 0, gen(3), gen(4), gen(5)) // three admitted: one pass
	run(1, 100*time.Millisecond, gen(6), gen(7), gen(8))
	if passes := batches(t, s) - before; passes != 2 {
		t.Fatalf("two rounds of three requests took %d passes, want 2 (the second round's first request did not wait for the others)", passes)
	}
}
