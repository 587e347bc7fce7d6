package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReportPlainLines(t *testing.T) {
	var b bytes.Buffer
	for s := 1; s <= 25; s++ {
		Report(&b, s, 25, 10, "step")
	}
	if got := strings.Count(b.String(), "step\n"); got != 3 {
		t.Fatalf("%d lines for steps 10, 20 and 25, want 3: %q", got, b.String())
	}
	if For(&b) != &b {
		t.Fatal("a buffer is not a terminal: For should return it unchanged")
	}
}

func TestBarRedrawsInPlace(t *testing.T) {
	var out bytes.Buffer
	bar := NewBar(&out)
	bar.MinInterval = -1 // draw every update
	bar.Width = 10
	Report(bar, 5, 10, 0, "half")
	if !strings.Contains(out.String(), "\r\x1b[K[=====>    ]  50%  half") || strings.Contains(out.String(), "\n") {
		t.Fatalf("bar at 5/10: %q", out.String())
	}
	out.Reset()
	// A message scrolls above the bar, which is drawn again below it.
	bar.Write([]byte("checkpoint\n"))
	if out.String() != "\r\x1b[Kcheckpoint\n[=====>    ]  50%  half" {
		t.Fatalf("message with a bar: %q", out.String())
	}
	out.Reset()
	Report(bar, 10, 10, 0, "done")
	if !strings.HasSuffix(out.String(), "[==========] 100%  done\n") {
		t.Fatalf("last step: %q", out.String())
	}
}

func TestBarThrottles(t *testing.T) {
	var out bytes.Buffer
	bar := NewBar(&out)
	for s := 1; s < 1000; s++ {
		bar.Update(s, 1000, "x")
	}
	if n := strings.Count(out.String(), "\r"); n > 5 {
		t.Fatalf("%d redraws for 999 fast updates; the bar should throttle", n)
	}
}

func TestLine(t *testing.T) {
	got := Line(150, 250, 50, []Loss{{"d", 1.25}, {"g", 0.5}}, 4*time.Second)
	if want := "step 150/250  d/loss 1.2500  g/loss 0.5000  25.00 it/s  ETA 4s"; got != want {
		t.Fatalf("Line = %q, want %q", got, want)
	}
	// A one-player model (a VAE) shows its one loss.
	got = Line(10, 20, 0, []Loss{{"vae", 92.5}}, time.Second)
	if want := "step 10/20  vae/loss 92.5000  10.00 it/s  ETA 1s"; got != want {
		t.Fatalf("Line = %q, want %q", got, want)
	}
}
