package main

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTrainServe trains a few steps of ring8 with -serve on a free port:
// the URL is printed, training finishes as usual, and the server is gone
// after it (no -serve-keep).
func TestTrainServe(t *testing.T) {
	code, stdout, stderr := runCmd("train", "-out", t.TempDir(), "-serve", "127.0.0.1:0", "-set", "train.steps=6", "-set", "train.sample_n=100")
	if code != exitOK || !strings.Contains(stdout, "modes captured") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	m := regexp.MustCompile(`serving the live page at http://(127\.0\.0\.1:\d+)/`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no URL in %q", stderr)
	}
	if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after training", m[1])
	}
	code, _, stderr = runCmd("train", "-out", t.TempDir(), "-serve", "256.0.0.1:80", "-set", "train.steps=2")
	if code != exitError || !strings.Contains(stderr, "-serve 256.0.0.1:80") {
		t.Fatalf("bad address: exit %d, %q", code, stderr)
	}
}
