package tfevents

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultFlushInterval is how often a Writer flushes buffered records to its
// file in the background.
const DefaultFlushInterval = 2 * time.Second

// ErrClosed is returned by the methods of a Writer after Close.
var ErrClosed = errors.New("tfevents: writer closed")

// Writer appends summaries to one TensorBoard event file. Records are buffered
// in memory and reach the file on Flush, Sync and Close, and in the background
// every flush interval (DefaultFlushInterval unless SetFlushInterval changed
// it): a process killed in between loses the records written since.
// A Writer is safe for concurrent use. Once a write or flush fails, every
// later call returns that error.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	bw     *bufio.Writer
	path   string
	err    error // sticky: first write/flush error, or ErrClosed
	closed bool  // Close has begun
	now    func() time.Time
	ticker *time.Ticker
	tick   <-chan time.Time // the flush loop's clock: ticker.C, or a test's
	done   chan struct{}
	wg     sync.WaitGroup
	rec    []byte // scratch for one framed record
}

// NewWriter creates dir (if needed) and a new event file in it named
// events.out.tfevents.<unix seconds>.<hostname>, the name TensorBoard scans
// for; if that name is taken, a suffix .1, .2, ... is added. The first record
// is the file_version event "brain.Event:2".
func NewWriter(dir string) (*Writer, error) {
	return newWriter(dir, time.Now, nil)
}

// newWriter is NewWriter with the clock injected: now stamps the file name
// and events; tick, when not nil, drives the background flush instead of
// the ticker (a test sends on it).
func newWriter(dir string, now func() time.Time, tick <-chan time.Time) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tfevents: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	host = strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(host)
	t := now()
	base := filepath.Join(dir, "events.out.tfevents."+strconv.FormatInt(t.Unix(), 10)+"."+host)
	var f *os.File
	path := base
	for i := 1; ; i++ {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil || !errors.Is(err, fs.ErrExist) || i > 1000 {
			break
		}
		path = base + "." + strconv.Itoa(i)
	}
	if err != nil {
		return nil, fmt.Errorf("tfevents: %w", err)
	}
	w := &Writer{
		f:    f,
		bw:   bufio.NewWriterSize(f, 64<<10),
		path: path,
		now:  now,
		done: make(chan struct{}),
	}
	if err := w.WriteEvent(Event{WallTime: wallTime(t), FileVersion: FileVersion}); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	w.ticker = time.NewTicker(DefaultFlushInterval)
	w.tick = tick
	if tick == nil {
		w.tick = w.ticker.C
	}
	w.wg.Add(1)
	go w.flushLoop()
	return w, nil
}

func wallTime(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func (w *Writer) flushLoop() {
	defer w.wg.Done()
	for {
		select {
		case <-w.done:
			return
		case <-w.tick:
			w.mu.Lock()
			if w.err == nil {
				w.flushLocked()
			}
			w.mu.Unlock()
		}
	}
}

// Path returns the event file's path.
func (w *Writer) Path() string { return w.path }

// SetFlushInterval changes the background flush period. It panics if d is
// not positive.
func (w *Writer) SetFlushInterval(d time.Duration) {
	if d <= 0 {
		panic(fmt.Sprintf("tfevents.Writer.SetFlushInterval: interval %v is not positive", d))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.ticker.Reset(d)
	}
}

// WriteEvent appends e as one record (buffered). A zero WallTime is replaced
// by the current time. It panics if e is malformed (see Value and Event).
func (w *Writer) WriteEvent(e Event) error {
	if e.WallTime == 0 {
		e.WallTime = wallTime(w.now())
	}
	data := marshalEvent(e)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	w.rec = appendRecord(w.rec[:0], data)
	if _, err := w.bw.Write(w.rec); err != nil {
		w.err = fmt.Errorf("tfevents: write %s: %w", w.path, err)
	}
	return w.err
}

// Scalar appends a scalar summary (simple_value, stored as float32) for tag
// at step; TensorBoard's Scalars tab plots it.
func (w *Writer) Scalar(tag string, step int64, value float64) error {
	return w.WriteEvent(Event{Step: step, Values: []Value{{Tag: tag, Kind: KindScalar, Scalar: float32(value)}}})
}

// Image appends img, PNG-encoded, as an image summary for tag at step;
// TensorBoard's Images tab shows it. The colorspace is 1 for *image.Gray and
// *image.Gray16, 3 for other opaque images and 4 otherwise.
func (w *Writer) Image(tag string, step int64, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("tfevents: image %q at step %d: %w", tag, step, err)
	}
	b := img.Bounds()
	im := &Image{Height: int32(b.Dy()), Width: int32(b.Dx()), Colorspace: colorspace(img), Encoded: buf.Bytes()}
	return w.WriteEvent(Event{Step: step, Values: []Value{{Tag: tag, Kind: KindImage, Image: im}}})
}

func colorspace(img image.Image) int32 {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return 1
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return 3
	}
	return 4
}

// Flush writes buffered records to the file (without fsync).
func (w *Writer) Flush() error { return w.flush(false) }

// Sync writes buffered records to the file and commits the file to stable
// storage (fsync), so that the records survive a crash of the process or
// the machine: a run calls it before each checkpoint, since a resumed run
// never writes the steps before its checkpoint again.
func (w *Writer) Sync() error { return w.flush(true) }

// flush is Flush, and with sync Sync.
func (w *Writer) flush(sync bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.flushLocked(); err != nil || !sync {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("tfevents: sync %s: %w", w.path, err)
	}
	return nil
}

func (w *Writer) flushLocked() error {
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("tfevents: flush %s: %w", w.path, err)
	}
	return w.err
}

// Close stops the background flusher, flushes, syncs and closes the file.
// It returns the first error the Writer met; a second Close returns ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	w.ticker.Stop()
	w.wg.Wait()

	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if err == nil {
		err = w.flushLocked()
	}
	if err == nil {
		if serr := w.f.Sync(); serr != nil {
			err = fmt.Errorf("tfevents: sync %s: %w", w.path, serr)
		}
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("tfevents: close %s: %w", w.path, cerr)
	}
	w.err = ErrClosed
	return err
}

// ReadFile reads every Event in the event file at path, verifying checksums.
// On an error (a truncated or corrupt record) it also returns the events read
// before it, as TensorBoard would show them.
func ReadFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tfevents: %w", err)
	}
	defer f.Close()
	r := NewReader(f)
	var events []Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return events, nil
		}
		if err != nil {
			return events, fmt.Errorf("%s: %w", path, err)
		}
		events = append(events, e)
	}
}
