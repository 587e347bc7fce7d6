package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runfolder "github.com/kallima-gan/kallima/run"
)

// TestTrainRefusesARunInTraining trains a run in one process and, while
// it trains, tries to write it from others: -resume and a second train
// into the folder fail at once with exit 1, naming the first process's
// pid, while inspect and sample, which only read the run, work. The first
// run, stopped with SIGINT, has every step's record in metrics.jsonl and
// unlocks the folder.
func TestTrainRefusesARunInTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains a run")
	}
	bin := buildKallima(t)
	root := t.TempDir()
	cfg := filepath.Join(root, "config.yaml")
	if err := os.WriteFile(cfg, []byte(resumeConfigs[0].yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "run")
	args := []string{"train", "-config", cfg, "-out", dir, "-set", "train.steps=1000000"}
	first := exec.Command(bin, args...)
	var log bytes.Buffer
	first.Stdout, first.Stderr = &log, &log
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	defer func() {
		first.Process.Kill()
		<-done
	}()
	// Past the first checkpoint (every 5 steps), so sample has one.
	waitForRecords(t, filepath.Join(dir, runfolder.MetricsFile), 8, done, &log)

	// Without the lock the second trainer would train too: bound it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid := fmt.Sprintf("being trained by another process (pid %d)", first.Process.Pid)
	for _, second := range [][]string{{"train", "-resume", dir}, args} {
		cmd := exec.CommandContext(ctx, bin, second...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitError || !strings.Contains(string(out), pid) {
			t.Errorf("kallima %s while the run trains: %v, want exit %d with %q:\n%s", strings.Join(second, " "), err, exitError, pid, out)
		}
	}
	for _, reader := range [][]string{{"inspect", dir}, {"sample", dir, "-n", "4", "-out", filepath.Join(root, "s.png")}} {
		if out, err := exec.CommandContext(ctx, bin, reader...).CombinedOutput(); err != nil {
			t.Errorf("kallima %s while the run trains: %v\n%s", strings.Join(reader, " "), err, out)
		}
	}

	if err := first.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		done <- nil // for the deferred kill's receive
	case <-ctx.Done():
		t.Fatalf("the first run did not stop on SIGINT:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "stopped at step") {
		t.Fatalf("the first run did not stop as asked:\n%s", log.String())
	}
	recs, err := runfolder.ReadMetrics(filepath.Join(dir, runfolder.MetricsFile))
	if err != nil || len(recs) < 8 {
		t.Fatalf("metrics: %d records, %v", len(recs), err)
	}
	for i, r := range recs {
		if r.Step != i+1 {
			t.Fatalf("metrics line %d is step %d", i+1, r.Step)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, runfolder.LockFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file after the run stopped: %v, want it gone", err)
	}
}
