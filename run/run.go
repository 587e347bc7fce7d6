// Package run keeps a training run on disk, as one folder (the habit of
// stylegan2-ada's training_loop.py):
//
//	config.yaml                           the config the run was made with
//	metrics.jsonl                         one JSON object per logged step (see Record)
//	events.out.tfevents.*                 the same scalars, and sample grids, for TensorBoard
//	samples/step-000100.png               sample grids (SaveSamples)
//	checkpoints/step-000100.safetensors   weights, optimizer moments, RNG and loader state
//	checkpoints/latest                    the name of the newest checkpoint
//	lock                                  while a Run has the folder open: see LockFile
//
// A checkpoint is one safetensors file holding named groups of tensors
// ("g/…", "d/…", "ema_g/…", "opt_g/…") and string metadata (counters, RNG
// states, the data loader's position), with a SHA-256 checksum of its content
// in the metadata so that a corrupt or truncated file is detected instead of
// silently resuming from garbage. Checkpoints are written atomically, the
// `latest` pointer only after the checkpoint is durable, and old ones are
// pruned to the newest Options.Keep plus the best by a caller-given score.
//
// Resuming is Open then Resume: the newest checkpoint that verifies is
// loaded (a damaged newer one is reported and skipped), and metrics logged
// after its step, which the resumed run will log again, are dropped.
//
// One Run at a time writes a folder: Create and Open lock it (LockFile)
// before they change anything, and Close unlocks it, so a second trainer
// is refused (ErrLocked) instead of rewriting metrics.jsonl or deleting
// the first one's temporary files under it. Reading a run needs no lock.
package run

import (
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/kallima-gan/kallima/internal/atomicfile"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/tfevents"
)

// Names of the files and folders of a run.
const (
	ConfigFile     = "config.yaml"
	MetricsFile    = "metrics.jsonl"
	SamplesDir     = "samples"
	CheckpointsDir = "checkpoints"
	LatestFile     = "latest" // inside CheckpointsDir
)

// DefaultKeep is the number of newest checkpoints kept when Options.Keep is 0.
const DefaultKeep = 3

// Errors returned (wrapped) by Create, Open and the checkpoint methods; test
// with errors.Is.
var (
	// ErrExists: Create was given a folder that already holds a run.
	ErrExists = errors.New("run: folder already holds a run (open it to resume)")
	// ErrNotEmpty: Create was given a non-empty folder that is not a run.
	ErrNotEmpty = errors.New("run: folder is not empty and not a run")
	// ErrNotRun: Open was given a folder that is not a run.
	ErrNotRun = errors.New("run: not a run folder")
	// ErrClosed: the Run was closed.
	ErrClosed = errors.New("run: closed")
)

// Options are the settings of a Run that are not part of the training
// config. The zero value is ready to use.
type Options struct {
	// Keep is how many of the newest checkpoints SaveCheckpoint keeps (the
	// best-scoring one is kept as well); 0 means DefaultKeep and a negative
	// value keeps every checkpoint.
	Keep int
	// AllowNonEmpty lets Create make a run in a folder that already holds
	// other files (never in one that holds a run).
	AllowNonEmpty bool
	// Warn receives one line for each problem the Run works around: a
	// checkpoint skipped because it does not verify, a torn last line of
	// metrics.jsonl, a failed pruning. nil means os.Stderr; use io.Discard
	// to silence it.
	Warn io.Writer
}

func (o Options) keep() int {
	if o.Keep == 0 {
		return DefaultKeep
	}
	return o.Keep
}

// Run is an open run folder, locked against other writers until Close
// (see LockFile). Its methods are safe for concurrent use.
type Run struct {
	dir    string
	opts   Options
	config []byte

	mu      sync.Mutex
	metrics *os.File
	events  *tfevents.Writer // nil until the first record (eventWriter)
	lock    *dirLock
	closed  bool
}

// Create makes a new run in dir: it creates dir if needed, locks it (see
// LockFile), writes config (the run's YAML config, stored verbatim) to
// config.yaml and starts metrics.jsonl; the TensorBoard event file is
// made at the first record. It returns an error wrapping ErrExists if dir
// already holds a run (ErrLocked instead while another Run has it open)
// and one wrapping ErrNotEmpty if dir holds anything else, unless
// opts.AllowNonEmpty is set.
func Create(dir string, config []byte, opts Options) (*Run, error) {
	if err := checkNew(dir, opts, true); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run: create %s: %w", dir, err)
	}
	l, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	m, err := create(dir, config, opts)
	if err != nil {
		l.unlock()
		return nil, err
	}
	return &Run{dir: dir, opts: opts, config: config, metrics: m, lock: l}, nil
}

// create is Create once dir is locked: it checks dir again (another
// process may have made a run in it since) and makes the run's files.
func create(dir string, config []byte, opts Options) (*os.File, error) {
	if err := checkNew(dir, opts, false); err != nil {
		return nil, err
	}
	for _, d := range []string{filepath.Join(dir, SamplesDir), filepath.Join(dir, CheckpointsDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("run: create %s: %w", dir, err)
		}
	}
	// metrics.jsonl first and config.yaml last: a folder is a run once
	// both exist (isRun), so a Create cut short leaves no half-made run.
	m, err := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run: create %s: %w", dir, err)
	}
	if err := writeAtomic(filepath.Join(dir, ConfigFile), config); err != nil {
		m.Close()
		return nil, fmt.Errorf("run: create %s: %w", dir, err)
	}
	return m, nil
}

// checkNew returns the error of Create for a dir that holds a run
// (ErrExists; with probe, ErrLocked when another Run has it open) or
// other files (ErrNotEmpty, unless allowed); a lock file alone, left by a
// killed process, does not count.
func checkNew(dir string, opts Options, probe bool) error {
	if isRun(dir) {
		if probe {
			// Trying the lock changes nothing: unlock deletes the file.
			l, err := lockDir(dir)
			if errors.Is(err, ErrLocked) {
				return err // names dir
			}
			if err == nil {
				l.unlock()
			}
		}
		return fmt.Errorf("create %s: %w", dir, ErrExists)
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("run: create %s: %w", dir, err)
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() == LockFile })
	if len(entries) > 0 && !opts.AllowNonEmpty {
		return fmt.Errorf("create %s (holds %q, ...): %w", dir, entries[0].Name(), ErrNotEmpty)
	}
	return nil
}

// Open reopens the run in dir to continue it. It locks dir first (see
// LockFile): while another Run has it open, the error wraps ErrLocked and
// nothing is changed. Then later records are appended to metrics.jsonl (a
// torn last line left by a crash is cut off first, with a warning),
// temporary files left by interrupted writes are deleted, and TensorBoard
// gets a new event file in the same folder at the first record, so a Run
// closed before logging anything adds no file. It returns an error
// wrapping ErrNotRun if dir does not hold a run. Open restores nothing by
// itself; see Resume.
func Open(dir string, opts Options) (*Run, error) {
	if !isRun(dir) {
		return nil, fmt.Errorf("open %s: %w (no %s and %s)", dir, ErrNotRun, ConfigFile, MetricsFile)
	}
	l, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	r, err := open(dir, opts)
	if err != nil {
		l.unlock()
		return nil, err
	}
	r.lock = l
	return r, nil
}

// open is Open once dir is locked.
func open(dir string, opts Options) (*Run, error) {
	config, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, fmt.Errorf("run: open %s: %w", dir, err)
	}
	for _, d := range []string{filepath.Join(dir, SamplesDir), filepath.Join(dir, CheckpointsDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("run: open %s: %w", dir, err)
		}
	}
	path := filepath.Join(dir, MetricsFile)
	cut, err := repairTail(path)
	if err != nil {
		return nil, fmt.Errorf("run: open %s: %w", dir, err)
	}
	m, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run: open %s: %w", dir, err)
	}
	r := &Run{dir: dir, opts: opts, config: config, metrics: m}
	if cut > 0 {
		r.warnf("%s: cut off a torn last line (%d bytes) left by an interrupted write", path, cut)
	}
	for _, d := range []string{dir, filepath.Join(dir, SamplesDir), filepath.Join(dir, CheckpointsDir)} {
		removeTemps(d)
	}
	return r, nil
}

// eventWriter returns the run's TensorBoard writer, making its event file
// at the first call. The caller holds r.mu.
func (r *Run) eventWriter() (*tfevents.Writer, error) {
	if r.events == nil {
		ev, err := tfevents.NewWriter(r.dir)
		if err != nil {
			return nil, fmt.Errorf("run: %s: %w", r.dir, err)
		}
		r.events = ev
	}
	return r.events, nil
}

// isRun reports whether dir holds a run: config.yaml and metrics.jsonl are
// regular files in it.
func isRun(dir string) bool {
	for _, name := range []string{ConfigFile, MetricsFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// Dir returns the run's folder.
func (r *Run) Dir() string { return r.dir }

// Config returns the content of config.yaml (shared; do not modify).
func (r *Run) Config() []byte { return r.config }

// Events returns the run's TensorBoard writer, for summaries other than the
// scalars Log writes and the grids SaveSamples adds; its event file is made
// at the first call if Log or SaveSamples has not made it yet.
func (r *Run) Events() (*tfevents.Writer, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	return r.eventWriter()
}

// SaveSamples writes img (a grid, see picture.Grid) to
// samples/step-NNNNNN.png atomically and adds it to TensorBoard under the
// tag "samples".
func (r *Run) SaveSamples(step int, img image.Image) error {
	if err := r.check(); err != nil {
		return err
	}
	path := filepath.Join(r.dir, SamplesDir, fmt.Sprintf("step-%06d.png", step))
	if err := picture.SavePNG(path, img); err != nil {
		return fmt.Errorf("run: samples at step %d: %w", step, err)
	}
	ev, err := r.Events()
	if err == nil {
		err = ev.Image("samples", int64(step), img)
	}
	if err != nil {
		return fmt.Errorf("run: samples at step %d: %w", step, err)
	}
	return nil
}

// Close flushes and syncs metrics.jsonl and the event file, closes them
// and unlocks the folder. A second Close returns ErrClosed.
func (r *Run) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	r.closed = true
	err := r.metrics.Sync()
	if cerr := r.metrics.Close(); err == nil {
		err = cerr
	}
	if r.events != nil {
		if cerr := r.events.Close(); err == nil {
			err = cerr
		}
	}
	// Last: the next writer must find every file closed and synced.
	if cerr := r.lock.unlock(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("run: close %s: %w", r.dir, err)
	}
	return nil
}

// check returns ErrClosed after Close.
func (r *Run) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// warnf writes one warning line to Options.Warn.
func (r *Run) warnf(format string, args ...any) {
	w := r.opts.Warn
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "run: "+format+"\n", args...)
}

// writeAtomic writes data to path atomically: path holds either its old
// content or all of data.
func writeAtomic(path string, data []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// syncDir makes a folder's entries (a rename, a removal) durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// removeTemps deletes the temporary files (".name.tmp*") that an
// interrupted atomic write (writeAtomic, safetensors.File.Save,
// picture.SavePNG) left in dir.
func removeTemps(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, atomicfile.TempPattern))
	for _, m := range matches {
		os.Remove(m)
	}
}
