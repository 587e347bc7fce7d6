package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesOrKeeps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	if err := Write(p, func(w io.Writer) error { _, err := w.Write([]byte("one")); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := Write(p, func(w io.Writer) error { w.Write([]byte("partial")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the writer's", err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "one" {
		t.Fatalf("a failed write changed the file to %q", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, TempPattern)); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}
}

// TestWriteMakesParents: a missing parent folder is made, as every command
// that writes an output expects.
func TestWriteMakesParents(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new", "deeper", "x.txt")
	if err := Write(p, func(w io.Writer) error { _, err := w.Write([]byte("hi")); return err }); err != nil {
		t.Fatalf("missing folders: %v", err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "hi" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), TempPattern)); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// TestWriteErrorsNamePath: when the file cannot be written, the error names
// the file asked for, never the hidden temporary one, and keeps its cause.
func TestWriteErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	// A parent that is a file: the folder cannot be made.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(filepath.Join(blocker, "x.txt"), func(io.Writer) error { return nil })
	if err == nil || strings.Contains(err.Error(), ".tmp") || !strings.Contains(err.Error(), blocker) {
		t.Errorf("parent is a file: %v, want an error naming %s and no temporary file", err, blocker)
	}
	// A write error inside write names path too.
	p := filepath.Join(dir, "y.txt")
	err = Write(p, func(w io.Writer) error {
		wf, ok := w.(*file)
		if !ok {
			return fmt.Errorf("writer %T, want *file", w)
		}
		wf.f.Close() // the next write fails
		_, err := w.Write([]byte("x"))
		return err
	})
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != p || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("failed write: %v, want a *fs.PathError on %s wrapping fs.ErrClosed", err, p)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, TempPattern)); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

// TestWriteReadOnlyFolder: a folder that cannot take the temporary file
// gives an error naming path, wrapping fs.ErrPermission.
func TestWriteReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only folders")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "x.txt")
	err := Write(p, func(io.Writer) error { return nil })
	if !errors.Is(err, fs.ErrPermission) || strings.Contains(err.Error(), ".tmp") || !strings.Contains(err.Error(), p) {
		t.Errorf("read-only folder: %v, want a permission error naming %s", err, p)
	}
}
