package tfevents

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// TestWriterRoundTrip writes seeded scalars and images of each colorspace and
// reads them back: tags, steps, float32 values, image sizes, colorspaces and
// every decoded PNG pixel must match.
func TestWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type scalar struct {
		tag  string
		step int64
		v    float64
	}
	var scalars []scalar
	for i := range 50 {
		s := scalar{tag: []string{"loss/d", "loss/g"}[i%2], step: int64(i), v: rng.NormFloat64() * 10}
		scalars = append(scalars, s)
		if err := w.Scalar(s.tag, s.step, s.v); err != nil {
			t.Fatal(err)
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 5, 3))
	rgb := image.NewRGBA(image.Rect(0, 0, 4, 6))
	rgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			rgb.Pix[i] = 255
		}
	}
	for i := range rgba.Pix {
		rgba.Pix[i] = uint8(rng.IntN(256))
	}
	images := []struct {
		tag string
		img image.Image
		cs  int32
	}{{"gray", gray, 1}, {"rgb", rgb, 3}, {"rgba", rgba, 4}}
	for i, im := range images {
		if err := w.Image(im.tag, int64(100+i), im.img); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	end := time.Now()

	name := filepath.Base(w.Path())
	host, _ := os.Hostname()
	if !regexp.MustCompile(`^events\.out\.tfevents\.\d+\.` + regexp.QuoteMeta(host) + `$`).MatchString(name) {
		t.Errorf("file name %q does not match events.out.tfevents.<secs>.%s", name, host)
	}
	events, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1+len(scalars)+len(images) {
		t.Fatalf("%d events, want %d", len(events), 1+len(scalars)+len(images))
	}
	if events[0].FileVersion != "brain.Event:2" || events[0].HasSummary {
		t.Errorf("first event %+v, want file_version brain.Event:2", events[0])
	}
	for i, e := range events {
		if e.WallTime < float64(start.Unix()) || e.WallTime > float64(end.Unix()+1) {
			t.Errorf("event %d: wall time %f outside [%d, %d]", i, e.WallTime, start.Unix(), end.Unix()+1)
		}
	}
	for i, s := range scalars {
		e := events[1+i]
		if e.Step != s.step || len(e.Values) != 1 || e.Values[0].Tag != s.tag ||
			e.Values[0].Kind != KindScalar || e.Values[0].Scalar != float32(s.v) {
			t.Errorf("scalar %d: got %+v, want %+v", i, e, s)
		}
	}
	for i, im := range images {
		e := events[1+len(scalars)+i]
		if e.Step != int64(100+i) || len(e.Values) != 1 || e.Values[0].Tag != im.tag || e.Values[0].Kind != KindImage {
			t.Fatalf("image %d: got %+v", i, e)
		}
		pi := e.Values[0].Image
		b := im.img.Bounds()
		if pi.Width != int32(b.Dx()) || pi.Height != int32(b.Dy()) || pi.Colorspace != im.cs {
			t.Errorf("image %s: %dx%d colorspace %d, want %dx%d colorspace %d", im.tag, pi.Width, pi.Height, pi.Colorspace, b.Dx(), b.Dy(), im.cs)
		}
		dec, err := png.Decode(bytes.NewReader(pi.Encoded))
		if err != nil {
			t.Fatalf("image %s: %v", im.tag, err)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if g, w := color.NRGBAModel.Convert(dec.At(x, y)), color.NRGBAModel.Convert(im.img.At(x, y)); g != w {
					t.Fatalf("image %s pixel (%d,%d) = %v, want %v", im.tag, x, y, g, w)
				}
			}
		}
	}
}

// TestWriterTruncatedFile cuts a written file inside its last record: the
// records before the cut still read, and the cut is reported.
func TestWriterTruncatedFile(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Scalar("x", int64(i), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{1, 4, 13} {
		if err := os.WriteFile(w.Path(), full[:len(full)-cut], 0o644); err != nil {
			t.Fatal(err)
		}
		events, err := ReadFile(w.Path())
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut %d bytes: error %v, want io.ErrUnexpectedEOF", cut, err)
		}
		if len(events) != 3 { // file_version + two whole scalars
			t.Errorf("cut %d bytes: %d events before the cut, want 3", cut, len(events))
		}
	}
}

// TestWriterFlush checks that records stay buffered until Flush, and that the
// background flusher writes them without an explicit Flush. The flusher's
// clock is a channel the test sends on, so nothing depends on timing.
func TestWriterFlush(t *testing.T) {
	dir := t.TempDir()
	tick := make(chan time.Time)
	w, err := newWriter(dir, time.Now, tick)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	count := func() int {
		ev, err := ReadFile(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	if n := count(); n != 1 {
		t.Fatalf("after NewWriter: %d events on disk, want 1 (file_version)", n)
	}
	if err := w.Scalar("a", 1, 1); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("before Flush: %d events on disk, want 1", n)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after Flush: %d events on disk, want 2", n)
	}
	if err := w.Scalar("a", 2, 2); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("before the tick: %d events on disk, want 2", n)
	}
	// The channel is unbuffered: the second send completes only once the
	// loop is back in its select, after the first tick's flush.
	tick <- time.Now()
	tick <- time.Now()
	if n := count(); n != 3 {
		t.Fatalf("after a background flush: %d events on disk, want 3", n)
	}
}

// TestWriterSync checks that Sync puts buffered records in the file, as a
// run's checkpoint needs before a kill -9, without closing the writer; the
// background flusher never runs (its clock never ticks).
func TestWriterSync(t *testing.T) {
	w, err := newWriter(t.TempDir(), time.Now, make(chan time.Time))
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 3; step++ {
		if err := w.Scalar("g/loss", step, float64(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadFile(w.Path())
	if err != nil || len(events) != 4 || events[3].Step != 3 || events[3].Values[0].Scalar != 3 {
		t.Fatalf("after Sync: %+v, %v; want file_version and steps 1 to 3", events, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: %v, want ErrClosed", err)
	}
}

// TestWriterClose checks calls after Close fail with ErrClosed and that two
// writers created in the same second get distinct files.
func TestWriterClose(t *testing.T) {
	dir := t.TempDir()
	fixed := func() time.Time { return time.Unix(1700000000, 0) }
	w1, err := newWriter(dir, fixed, nil)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := newWriter(dir, fixed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w1.Path() == w2.Path() || w2.Path() != w1.Path()+".1" {
		t.Errorf("paths %q and %q, want the second to be the first plus .1", w1.Path(), w2.Path())
	}
	for _, w := range []*Writer{w1, w2} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Scalar("a", 1, 1); !errors.Is(err, ErrClosed) {
			t.Errorf("Scalar after Close: %v, want ErrClosed", err)
		}
		if err := w.Flush(); !errors.Is(err, ErrClosed) {
			t.Errorf("Flush after Close: %v, want ErrClosed", err)
		}
		if err := w.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close: %v, want ErrClosed", err)
		}
	}
	events, err := ReadFile(w1.Path())
	if err != nil || len(events) != 1 || events[0].WallTime != 1700000000 {
		t.Errorf("w1 file: %+v, %v; want one file_version event at 1700000000", events, err)
	}
}

// TestWriterConcurrent writes from several goroutines (run with -race): all
// records arrive intact.
func TestWriterConcurrent(t *testing.T) {
	w, err := NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.SetFlushInterval(time.Millisecond)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if err := w.Scalar("g", int64(g*1000+i), float64(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	events, err := ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, e := range events[1:] {
		if e.Values[0].Scalar != float32(e.Step%1000) {
			t.Fatalf("step %d has value %v", e.Step, e.Values[0].Scalar)
		}
		seen[e.Step] = true
	}
	if len(seen) != 800 {
		t.Fatalf("%d distinct steps, want 800", len(seen))
	}
}

// TestWriterMkdirError checks that an unusable directory is an error value.
func TestWriterMkdirError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(filepath.Join(file, "sub")); err == nil {
		t.Fatal("NewWriter under a regular file succeeded")
	}
}

// TestMarshalPanics checks malformed events panic naming the type.
func TestMarshalPanics(t *testing.T) {
	cases := map[string]Event{
		"both oneof members": {FileVersion: "x", HasSummary: true},
		"nil image":          {Values: []Value{{Tag: "i", Kind: KindImage}}},
		"other kind":         {Values: []Value{{Tag: "o", Kind: KindOther}}},
	}
	for name, e := range cases {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !regexp.MustCompile(`^tfevents\.(Event|Value)`).MatchString(s) {
					t.Errorf("%s: panic %v, want a tfevents.Event/Value message", name, r)
				}
			}()
			marshalEvent(e)
		}()
	}
}
