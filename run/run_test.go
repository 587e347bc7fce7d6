package run

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/tfevents"
)

var testConfig = []byte("name: test\nseed: 1\n")

// quiet are Options whose warnings go to a buffer the test can inspect.
func quiet(keep int) (Options, *bytes.Buffer) {
	var w bytes.Buffer
	return Options{Keep: keep, Warn: &w}, &w
}

// newRun creates a run in a fresh temporary folder and closes it at the
// end of the test.
func newRun(t *testing.T, opts Options) *Run {
	t.Helper()
	r, err := Create(filepath.Join(t.TempDir(), "run"), testConfig, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestCreate checks which folders Create accepts: absent, empty, and
// non-empty only when asked; never one that holds a run.
func TestCreate(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		opts    Options
		want    error // nil: Create succeeds
	}{
		{"absent", func(t *testing.T, dir string) {}, Options{}, nil},
		{"empty", func(t *testing.T, dir string) { mkdir(t, dir) }, Options{}, nil},
		{"non-empty", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "notes.txt"), "x") }, Options{}, ErrNotEmpty},
		{"non-empty, only a subfolder", func(t *testing.T, dir string) { mkdir(t, filepath.Join(dir, "checkpoints")) }, Options{}, ErrNotEmpty},
		{"non-empty, allowed", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "notes.txt"), "x") }, Options{AllowNonEmpty: true}, nil},
		{"only config.yaml is not a run", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ConfigFile), "a: 1") }, Options{}, ErrNotEmpty},
		// A process killed while it held the folder leaves its lock file.
		{"only a stale lock file", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, LockFile), "99999\n") }, Options{}, nil},
		{"a run", makeRun, Options{}, ErrExists},
		{"a run, even when allowed", makeRun, Options{AllowNonEmpty: true}, ErrExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			tt.prepare(t, dir)
			tt.opts.Warn = io.Discard
			r, err := Create(dir, testConfig, tt.opts)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Create: %v, want an error wrapping %v", err, tt.want)
				}
				if got := readFile(t, filepath.Join(dir, ConfigFile)); tt.want == ErrNotEmpty && got == string(testConfig) {
					t.Fatalf("Create failed but wrote config.yaml")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := readFile(t, filepath.Join(dir, ConfigFile)); got != string(testConfig) {
				t.Errorf("config.yaml = %q, want %q", got, testConfig)
			}
			for _, d := range []string{SamplesDir, CheckpointsDir} {
				if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
					t.Errorf("%s: %v", d, err)
				}
			}
			if !isRun(dir) {
				t.Errorf("the new folder is not recognised as a run")
			}
		})
	}
}

// TestOpen checks that Open refuses folders that are not runs and reads
// the config snapshot of one that is.
func TestOpen(t *testing.T) {
	for _, prepare := range []func(t *testing.T, dir string){
		func(t *testing.T, dir string) {},
		func(t *testing.T, dir string) { mkdir(t, dir) },
		func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ConfigFile), "a: 1") },
	} {
		dir := filepath.Join(t.TempDir(), "run")
		prepare(t, dir)
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrNotRun) {
			t.Errorf("Open of a non-run: %v, want ErrNotRun", err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir)
	r, err := Open(dir, Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !bytes.Equal(r.Config(), testConfig) || r.Dir() != dir {
		t.Errorf("Config %q, Dir %q; want %q, %q", r.Config(), r.Dir(), testConfig, dir)
	}
}

// TestOpenCloseLeavesFolder opens a run and closes it without logging,
// as a resume that is refused or has nothing to train does: the folder
// holds the same files as before (no event file, no lock file).
func TestOpenCloseLeavesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir)
	before := listFiles(t, dir)
	r, err := Open(dir, Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after := listFiles(t, dir); !slices.Equal(after, before) {
		t.Errorf("Open and Close changed the folder: %q, then %q", before, after)
	}
}

// listFiles returns the paths of the files and folders under dir, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		names = append(names, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestEventsAndSamples checks that Log reaches TensorBoard and that
// SaveSamples writes samples/step-NNNNNN.png and an image summary.
func TestEventsAndSamples(t *testing.T) {
	r := newRun(t, Options{Warn: io.Discard})
	if err := r.Log(7, map[string]float64{"g/loss": 0.5, "d/loss": 1.25}); err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 6, 4))
	img.SetGray(1, 2, color.Gray{Y: 200})
	if err := r.SaveSamples(100, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(r.Dir(), SamplesDir, "step-000100.png"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() || color.GrayModel.Convert(back.At(1, 2)).(color.Gray).Y != 200 {
		t.Errorf("PNG bounds %v, pixel %v", back.Bounds(), back.At(1, 2))
	}
	ev, err := r.Events()
	if err != nil {
		t.Fatal(err)
	}
	path := ev.Path()
	if filepath.Dir(path) != r.Dir() || !strings.HasPrefix(filepath.Base(path), "events.out.tfevents.") {
		t.Errorf("event file %s is not in the run folder", path)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if err := r.Log(8, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Log after Close: %v, want ErrClosed", err)
	}
	events, err := tfevents.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tfevents.Value{}
	for _, e := range events {
		for _, v := range e.Values {
			got[v.Tag] = v
			if (v.Tag == "samples") != (e.Step == 100) {
				t.Errorf("tag %q at step %d", v.Tag, e.Step)
			}
		}
	}
	if v := got["g/loss"]; v.Kind != tfevents.KindScalar || v.Scalar != 0.5 {
		t.Errorf("g/loss event %+v", v)
	}
	if v := got["d/loss"]; v.Kind != tfevents.KindScalar || v.Scalar != 1.25 {
		t.Errorf("d/loss event %+v", v)
	}
	if v := got["samples"]; v.Kind != tfevents.KindImage || v.Image.Width != 6 || v.Image.Height != 4 {
		t.Errorf("samples event %+v", v)
	}
}

// makeRun creates a run in dir and closes it.
func makeRun(t *testing.T, dir string) {
	t.Helper()
	r, err := Create(dir, testConfig, Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	mkdir(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the content of path, or "" if it does not exist.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}
