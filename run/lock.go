package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the file in a run folder that the process writing the run
// (a Run from Create or Open) holds locked, and that records its process
// id. The lock is an flock(2) lock, which the kernel drops when the
// process ends, even by kill -9, so a crash never leaves the folder
// locked; Close deletes the file. Readers of a run (ReadMetrics,
// LoadCheckpoint and the commands that serve, sample or inspect a run)
// take no lock. On systems without flock (Windows, Solaris, AIX, Plan 9,
// WebAssembly) no lock is taken.
const LockFile = "lock"

// ErrLocked is wrapped by the error of Create or Open when another Run has
// the folder open: another process is training it, or this process has
// opened it already (flock locks belong to an open file, not a process).
var ErrLocked = errors.New("run: folder in use")

// maxLockTries bounds the retries of lockDir when the lock file it locked
// was deleted meanwhile by the previous holder's unlock.
const maxLockTries = 100

// lockedError is the error for dir held by the process pid (0: unknown,
// the holder has not written it yet).
func lockedError(dir string, pid int) error {
	switch {
	case pid == os.Getpid():
		return fmt.Errorf("%w: %s is open for writing in this process already (it holds %s); close that Run first", ErrLocked, dir, filepath.Join(dir, LockFile))
	case pid > 0:
		return fmt.Errorf("%w: %s is being trained by another process (pid %d); wait for it to end, or stop it, first (reading the run needs no lock)", ErrLocked, dir, pid)
	}
	return fmt.Errorf("%w: %s is being trained by another process (it holds %s); wait for it to end, or stop it, first (reading the run needs no lock)", ErrLocked, dir, filepath.Join(dir, LockFile))
}

// readPID returns the process id recorded in an open lock file, 0 if none.
func readPID(f *os.File) int {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
