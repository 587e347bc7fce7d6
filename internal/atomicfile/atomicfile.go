// Package atomicfile writes files so that a crash never leaves a half-written
// one: the content goes to a temporary file in the same folder, which is
// synced and renamed over the target, and then the folder is synced.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// TempPattern is the glob of the temporary files Write leaves behind if the
// process dies midway (".<name>.tmp*"), for cleaning up on the next start.
const TempPattern = ".*.tmp*"

// Write creates or replaces path with what write produces. The file gets
// mode 0644. On any error (from write too) the temporary file is removed and
// path keeps its old content; the error is returned unwrapped, for the
// caller to give context.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
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
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	closed = true
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return SyncDir(dir)
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
