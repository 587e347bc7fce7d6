// Package atomicfile writes files so that a crash never leaves a half-written
// one: the content goes to a temporary file in the same folder, which is
// synced and renamed over the target, and then the folder is synced.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// TempPattern is the glob of the temporary files Write leaves behind if the
// process dies midway (".<name>.tmp*"), for cleaning up on the next start.
const TempPattern = ".*.tmp*"

// Write creates or replaces path with what write produces, creating
// path's missing parent folders first (mode 0755), as every command that
// writes an output does. The file gets mode 0644. On any error (from write
// too) the temporary file is removed and path keeps its old content; the
// error is returned unwrapped, for the caller to give context. Errors of
// the file system name path, never the hidden temporary file, which the
// user did not ask for and will not find.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return asPath("create", path, err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(f.Name())
		}
	}()
	if err = write(&file{f: f, path: path}); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return asPath("chmod", path, err)
	}
	if err = f.Sync(); err != nil {
		return asPath("sync", path, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return asPath("close", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return asPath("rename", path, err)
	}
	return SyncDir(dir)
}

// file is the temporary file as write sees it: its write errors name path.
type file struct {
	f    *os.File
	path string
}

func (w *file) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = asPath("write", w.path, err)
	}
	return n, err
}

// asPath turns an error about the temporary file into one about path,
// keeping its cause for errors.Is (fs.ErrNotExist, fs.ErrPermission, ...).
func asPath(op, path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

// SyncDir makes a folder's entries (a rename, a removal) durable. A file
// system that cannot sync a folder is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	d.Sync()
	return d.Close()
}
