//go:build (unix && !aix && !solaris) || illumos

package run

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLockRefusesSecondWriter opens one run folder twice in this process
// (flock locks belong to an open file, so the second conflicts as another
// process's would): a second Open or Create is refused with ErrLocked,
// naming this process, and changes nothing, so the first Run's records
// after the refusal all reach metrics.jsonl. Close releases the lock and
// deletes the lock file.
func TestLockRefusesSecondWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Create(dir, testConfig, Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, want := readFile(t, filepath.Join(dir, LockFile)), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("lock file holds %q, want the pid %q", got, want)
	}
	for step := 1; step <= 3; step++ {
		if err := r.Log(step, map[string]float64{"g/loss": float64(step)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.SaveCheckpoint(testCheckpoint(2), nil); err != nil {
		t.Fatal(err)
	}
	second := map[string]func() (*Run, error){
		"Open":   func() (*Run, error) { return Open(dir, Options{Warn: io.Discard}) },
		"Create": func() (*Run, error) { return Create(dir, testConfig, Options{Warn: io.Discard}) },
	}
	for name, open := range second {
		r2, err := open()
		if err == nil {
			r2.Close()
		}
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "this process") {
			t.Errorf("second %s while the run is open: %v, want ErrLocked naming the folder and this process", name, err)
		}
	}
	for step := 4; step <= 6; step++ {
		if err := r.Log(step, map[string]float64{"g/loss": float64(step)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil || len(recs) != 6 || recs[5].Step != 6 {
		t.Fatalf("metrics after the refused writers: %d records, %v; want steps 1 to 6", len(recs), err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file after Close: %v, want it deleted", err)
	}
	r2, err := Open(dir, Options{Warn: io.Discard})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
}

// lockHelperEnv makes the test binary a process that holds a run folder
// open (TestLockDiesWithProcess).
const lockHelperEnv = "KALLIMA_RUN_LOCK_HELPER"

// TestLockDiesWithProcess holds a run folder open in another process: Open
// here is refused with that process's pid; once it is killed with SIGKILL,
// which runs no cleanup and leaves the lock file behind, Open succeeds.
func TestLockDiesWithProcess(t *testing.T) {
	if dir := os.Getenv(lockHelperEnv); dir != "" {
		r, err := Open(dir, Options{Warn: io.Discard})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute) // until killed
		r.Close()
		os.Exit(0)
	}
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockDiesWithProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper process: %q, want it to hold the run", line)
	}
	r, err := Open(dir, Options{Warn: io.Discard})
	if err == nil {
		r.Close()
	}
	if want := fmt.Sprintf("another process (pid %d)", cmd.Process.Pid); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open while another process holds the run: %v, want ErrLocked with %q", err, want)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	entries, _ := os.ReadDir(dir)
	if !slices.ContainsFunc(entries, func(e fs.DirEntry) bool { return e.Name() == LockFile }) {
		t.Fatalf("the killed process left no lock file (%v): the test shows nothing about a stale one", entries)
	}
	r, err = Open(dir, Options{Warn: io.Discard})
	if err != nil {
		t.Fatalf("Open after the holder was killed: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
