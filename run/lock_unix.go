//go:build (unix && !aix && !solaris) || illumos

package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// dirLock is a run folder's LockFile, open and flock-ed by this Run.
type dirLock struct {
	f    *os.File
	path string
}

// lockDir takes the exclusive lock of the run folder dir, which must
// exist, without waiting: if another open file holds it (another process,
// or another Run of this one), the error wraps ErrLocked and names the
// holder's process id. The lock file is created if needed and gets this
// process's id.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	for range maxLockTries {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("run: lock %s: %w", dir, err)
		}
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			pid := readPID(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, lockedError(dir, pid)
			}
			return nil, fmt.Errorf("run: lock %s: %w", dir, err)
		}
		// The previous holder deletes the file before it lets go (unlock):
		// if that happened between our open and our flock, we hold a file
		// no one else can see, and must lock the one at path instead.
		held, err := f.Stat()
		now, serr := os.Stat(path)
		if err == nil && serr == nil && os.SameFile(held, now) {
			if err := writePID(f); err != nil {
				f.Close()
				return nil, fmt.Errorf("run: lock %s: %w", dir, err)
			}
			return &dirLock{f: f, path: path}, nil
		}
		f.Close()
	}
	return nil, fmt.Errorf("run: lock %s: %s was replaced %d times while being locked", dir, LockFile, maxLockTries)
}

// unlock deletes the lock file, then lets go of the lock (in that order:
// see lockDir).
func (l *dirLock) unlock() error {
	err := os.Remove(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil // deleted by hand, or with the whole folder: nothing to do
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("run: unlock: %w", err)
	}
	return nil
}

// flock is syscall.Flock on f, retried when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// writePID replaces the lock file's content with this process's id.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}
