package web_test

import (
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/internal/famtest/shift"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/serve"
	"github.com/kallima-gan/kallima/serve/live"
	"github.com/kallima-gan/kallima/serve/web"
)

// browser finds Chromium (or Chrome), or skips the test saying how to
// get one.
func browser(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode (it runs in .ci/long)")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium found: apt-get install -y chromium to run the browser test")
	return ""
}

// open starts a headless browser of the given window size.
func open(t *testing.T, w, h int) context.Context {
	t.Helper()
	path := browser(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("headless", "new"), chromedp.WindowSize(w, h), chromedp.Flag("hide-scrollbars", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// trainImages trains a tiny image run (or loads dir when given) for the
// explorer.
func trainImages(t *testing.T) string {
	t.Helper()
	c, err := config.Parse(strings.NewReader(`
seed: 3
data: {kind: synthetic, size: 28, n: 16}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 2, batch: 8, ema: 0.9, log_every: 0, sample_every: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tiny")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// server serves runs, the page and hub's routes.
func server(t *testing.T, hub *live.Hub, runs ...string) *httptest.Server {
	t.Helper()
	s, err := serve.New(runs, serve.Options{Web: web.Handler(), Extra: hub.Register})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.RegisterOnShutdown(hub.Close)
	ts.Start()
	t.Cleanup(func() { hub.Close(); ts.Close(); s.Close() })
	return ts
}

// waitFor polls the JavaScript expression js until it is true.
func waitFor(ctx context.Context, t *testing.T, js, what string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
	}
	t.Fatalf("timed out waiting for %s (%s)", what, js)
}

// evalString evaluates a JavaScript expression to a string.
func evalString(ctx context.Context, t *testing.T, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

// setSlider moves the range input with the given id to v as a user would.
func setSlider(ctx context.Context, t *testing.T, id string, v int) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %d; e.dispatchEvent(new Event("input")); return true; })()`, id, v)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
		t.Fatal(err)
	}
}

// imgPixels is a JavaScript expression: the decoded pixels of img#sample
// drawn to a canvas, as a data URL.
const imgPixels = `(() => { const i = document.getElementById("sample"); const c = document.createElement("canvas");
  c.width = i.naturalWidth; c.height = i.naturalHeight; c.getContext("2d").drawImage(i, 0, 0); return c.toDataURL(); })()`

// TestBrowserExplorer loads the explorer for a tiny DCGAN run, moves the
// seed slider and checks that the grid's URL and decoded pixels changed.
func TestBrowserExplorer(t *testing.T) {
	ctx := open(t, 1280, 900)
	ts := server(t, live.NewHub(live.Options{}), trainImages(t))
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#explorer")); err != nil {
		t.Fatal(err)
	}
	loaded := `(() => { const i = document.getElementById("sample"); return !!i.src && i.complete && i.naturalWidth > 0; })()`
	waitFor(ctx, t, loaded, "the first grid")
	src1, px1 := evalString(ctx, t, `document.getElementById("sample").src`), evalString(ctx, t, imgPixels)
	setSlider(ctx, t, "seed", 7)
	waitFor(ctx, t, `document.getElementById("sample").src.includes("seed=7") && `+loaded, "the grid of seed 7")
	src2, px2 := evalString(ctx, t, `document.getElementById("sample").src`), evalString(ctx, t, imgPixels)
	if src1 == src2 || !strings.Contains(src1, "seed=1") {
		t.Fatalf("src %q then %q: want seed=1 then seed=7", src1, src2)
	}
	if len(px1) < 100 || px1 == px2 {
		t.Fatalf("the grid's pixels did not change with the seed (%d and %d bytes of data URL)", len(px1), len(px2))
	}
}

// trainShift trains the test-only translator testshift on three folders
// of 8x8 gray images (domains x, y, z): translating to domain k adds
// k/4 in [-1, 1], plus a learnt bias, to every pixel.
func trainShift(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for i := range 6 {
		path := filepath.Join(root, "domains", []string{"x", "y", "z"}[i%3], fmt.Sprintf("%c.png", 'a'+i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := picture.SavePNG(path, gray(8, 8, uint8(40*i))); err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Parse(strings.NewReader(`
seed: 8
data: {kind: folder, dir: ` + filepath.Join(root, "domains") + `, size: 8, channels: 1}
model: {kind: testshift}
train: {steps: 2, batch: 2, sample_every: 0, ema: 0.9, lr_g: 0.1}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "shift")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func gray(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

// TestBrowserTranslate opens the explorer on a three-domain translator,
// checks the default domains (the first to the second), picks x to z,
// uploads an image through the file input and checks the translation row:
// its size, no note, and the translated tile brighter than the input by
// about z's shift. Then an image of another size, which comes back with a
// note that it was resized.
func TestBrowserTranslate(t *testing.T) {
	ctx := open(t, 1280, 900)
	ts := server(t, live.NewHub(live.Options{}), trainShift(t))
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#explorer")); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, `!document.getElementById("translate-panel").hidden && document.getElementById("to").options.length === 3`, "the translate panel")
	if got := evalString(ctx, t, `document.getElementById("from").value + ">" + document.getElementById("to").value`); got != "x>y" {
		t.Errorf("default domains %q, want x>y", got)
	}
	evalString(ctx, t, `(() => { document.getElementById("from").value = "x"; document.getElementById("to").value = "z"; return ""; })()`)
	dir := t.TempDir()
	upload := func(name string, img *image.Gray) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := picture.SavePNG(path, img); err != nil {
			t.Fatal(err)
		}
		// A new object URL for each answer: wait for the one after this upload.
		evalString(ctx, t, `(() => { document.getElementById("translated").dataset.before = document.getElementById("translated").src; return ""; })()`)
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("upload"), []string{path})); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, `(() => { const i = document.getElementById("translated"); return !!i.src && i.src !== i.dataset.before && i.complete && i.naturalWidth > 0; })()`, "the translation of "+name)
	}
	upload("grey.png", gray(8, 8, 128))
	// Input, translation, back: three 8x8 tiles with padding 2.
	if size := evalString(ctx, t, `(() => { const i = document.getElementById("translated"); return i.naturalWidth + "x" + i.naturalHeight; })()`); size != "32x12" {
		t.Fatalf("translation row %s, want 32x12", size)
	}
	if note := evalString(ctx, t, `document.getElementById("translate-note").textContent`); note != "" {
		t.Errorf("note %q for an image of the model's shape", note)
	}
	px := evalString(ctx, t, `(() => { const i = document.getElementById("translated"); const c = document.createElement("canvas");
  c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext("2d"); g.drawImage(i, 0, 0);
  return [5, 15].map(x => g.getImageData(x, 5, 1, 1).data[0]).join(","); })()`)
	var in, out int
	if _, err := fmt.Sscanf(px, "%d,%d", &in, &out); err != nil || out < in+60 {
		t.Errorf("input and translated tiles %q: want the translation brighter by about 64 (z's shift) plus the bias", px)
	}
	upload("big.png", gray(16, 12, 128))
	if note := evalString(ctx, t, `document.getElementById("translate-note").textContent`); !strings.Contains(note, "resized") {
		t.Errorf("note %q for a 16x12 image, want it to say it was resized", note)
	}
}

// trainLive trains c as run name in this process with hub following it
// (paused before its first step when paused), and returns its folder and
// the function that stops it and waits for it; the test's cleanup calls it
// too.
func trainLive(t *testing.T, hub *live.Hub, name string, c config.Config, paused bool) (dir string, finish func()) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	dir = filepath.Join(t.TempDir(), name)
	hook := hub.Attach(ctx, name, dir, !c.IsImage(), c.Train.Steps)
	if paused {
		if _, err := hub.Control(name, "pause"); err != nil {
			stop()
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := pipeline.Train(ctx, c, dir, pipeline.Options{Warn: io.Discard, OnStep: hook})
		done <- err
	}()
	var once sync.Once
	finish = func() { once.Do(func() { stop(); <-done }) }
	t.Cleanup(finish)
	return dir, finish
}

// TestBrowserLive opens the 2-D view of a ring8 run trained in this
// process (paused before it starts), steps it from the page, checks the
// field canvas draws and follows the steps, then resumes it and checks
// that the live curve's point count grows.
func TestBrowserLive(t *testing.T) {
	ctx := open(t, 1280, 900)
	hub := live.NewHub(live.Options{})
	ts := server(t, hub)
	c := config.Default()
	for _, kv := range []string{"train.steps=400", "train.batch=64", "train.sample_every=50", "train.checkpoint_every=0", "train.sample_n=300"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	_, finish := trainLive(t, hub, "ring8", c, true)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// With no models the page opens on the 2-D view of the in-process run.
	waitFor(ctx, t, `location.hash === "#2d" && Number(document.getElementById("field").dataset.draws || 0) > 0`, "the first field")
	step1 := evalString(ctx, t, `document.getElementById("field").dataset.step`)
	for range 3 {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("step"))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(ctx, t, fmt.Sprintf(`Number(document.getElementById("field").dataset.step) === %s + 3`, step1), "the field 3 steps on")
	// The heat map covers the canvas: its pixels are not all one colour.
	distinct, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(() => { const c = document.getElementById("field"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		const s = new Set(); for (let i = 0; i < d.length; i += 4 * 97) s.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]); return s.size; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if distinct < 20 {
		t.Fatalf("the field canvas has %d colours: want a heat map, points and arrows", distinct)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#live")); err != nil {
		t.Fatal(err)
	}
	points := `Number(document.getElementById("curves").dataset.points || 0)`
	waitFor(ctx, t, points+" > 0", "the first curve points")
	p1, err := chromedp.Run(ctx, chromedp.Evaluate[int](points))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Control("ring8", "resume"); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, fmt.Sprintf("%s > %d + 20", points, p1), "the curve to grow")
	finish()
}

// TestBrowserCandidates trains a tiny image run as three candidates in
// this process, paused before its first step, and checks that the live
// page says which candidate its curve is of, and which one was kept once
// the run goes on.
func TestBrowserCandidates(t *testing.T) {
	ctx := open(t, 1280, 900)
	hub := live.NewHub(live.Options{})
	ts := server(t, hub)
	c, err := config.Parse(strings.NewReader(`
seed: 5
data: {kind: synthetic, size: 28, n: 16}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 8, batch: 8, log_every: 1, sample_every: 0, checkpoint_every: 0,
        candidates: 3, candidate_steps: 4, candidate_metric: g/loss}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := trainLive(t, hub, "picked", c, true)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#live")); err != nil {
		t.Fatal(err)
	}
	status := `document.getElementById("live-status").textContent`
	waitFor(ctx, t, status+`.includes("candidate 1 of 3 (seed 5)")`, "the first candidate named")
	if _, err := hub.Control("picked", "resume"); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, status+`.includes("kept at step 4")`, "the kept candidate")
	ch, ok, err := pipeline.ReadChoice(dir)
	if err != nil || !ok {
		t.Fatalf("choice: %v, %v", ok, err)
	}
	want := fmt.Sprintf("candidate %d of 3 (seed %d), kept at step 4", ch.Kept+1, ch.Candidates[ch.Kept].Seed)
	waitFor(ctx, t, fmt.Sprintf("%s.includes(%q)", status, want), "the kept candidate named")
}

var shots = flag.String("screenshots", "", "write the page's screenshots (serve-explorer.png, serve-live.png, serve-2d.png) into this folder")
var shotRun = flag.String("screenshot-run", "", "the image run the explorer screenshot shows (default: a tiny synthetic run)")

// TestScreenshots writes the README's screenshots when -screenshots DIR is
// given: the explorer on -screenshot-run, and the live and 2-D views of a
// ring8 run trained here.
func TestScreenshots(t *testing.T) {
	if *shots == "" {
		t.Skip("give -screenshots DIR (and -screenshot-run RUN) to write the screenshots")
	}
	ctx := open(t, 1360, 860)
	run := *shotRun
	if run == "" {
		run = trainImages(t)
	}
	hub := live.NewHub(live.Options{})
	ts := server(t, hub, run)
	shot := func(name string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond)
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*shots, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	loaded := `(() => { const i = document.getElementById("sample"); return !!i.src && i.complete && i.naturalWidth > 0; })()`
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#explorer")); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, loaded, "the grid")
	setSlider(ctx, t, "seed", 42)
	waitFor(ctx, t, `document.getElementById("sample").src.includes("seed=42") && `+loaded, "the grid of seed 42")
	// The interpolation between two other seeds, asked for after the grid.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { document.getElementById("seed1").value = 3; const e = document.getElementById("seed2");
		e.value = 9; e.dispatchEvent(new Event("change")); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, `(() => { const i = document.getElementById("interp"); return i.hidden || (i.src.includes("seed2=9") && i.complete && i.naturalWidth > 0); })()`, "the interpolation")
	shot("serve-explorer.png")

	c, err := config.Preset("ring8")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"train.steps=2000", "train.checkpoint_every=0", "train.sample_every=100", "train.sample_n=1000"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	_, finish := trainLive(t, hub, "ring8", c, false)
	// A new page: the run was added after the explorer's was loaded.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(ts.URL+"/#live")); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, `Number(document.getElementById("curves").dataset.points || 0) > 600`, "300 steps of curves")
	shot("serve-live.png")
	if _, err := hub.Control("ring8", "pause"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#2d")); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, `Number(document.getElementById("field").dataset.draws || 0) > 0`, "the field")
	shot("serve-2d.png")
	finish()
}
