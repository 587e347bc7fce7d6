//go:build !((unix && !aix && !solaris) || illumos)

package run

// dirLock is nothing where the system has no flock: see LockFile.
type dirLock struct{}

// lockDir takes no lock: the system has no flock(2), and a lock file
// alone would outlive a crashed process and keep its run locked.
func lockDir(dir string) (*dirLock, error) { return &dirLock{}, nil }

func (l *dirLock) unlock() error { return nil }
