// Package progress shows how long work is going on: a bar redrawn in place
// on a terminal, plain periodic lines anywhere else (logs, CI, pipes).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar is an io.Writer for a terminal that keeps one status line at the
// bottom: text written to it scrolls above the line, and Update redraws
// the line in place at most every MinInterval.
type Bar struct {
	w    io.Writer
	mu   sync.Mutex
	line string // the status line drawn now, "" for none
	last time.Time
	// MinInterval is the least time between redraws; default 100ms.
	MinInterval time.Duration
	// Width is the number of cells of the bar; default 24.
	Width int
}

// For returns a Bar on w when w is a terminal (a character device, TERM is
// not "dumb" and CI is unset), and w itself otherwise.
func For(w io.Writer) io.Writer {
	if IsTerminal(w) {
		return &Bar{w: w}
	}
	return w
}

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" || os.Getenv("CI") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// NewBar returns a Bar drawing on w, terminal or not (for tests).
func NewBar(w io.Writer) *Bar { return &Bar{w: w} }

// Write prints p above the status line.
func (b *Bar) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
	n, err := b.w.Write(p)
	if b.line != "" && len(p) > 0 && p[len(p)-1] == '\n' {
		fmt.Fprint(b.w, b.line)
	}
	return n, err
}

// Update sets the status line to a bar for step of steps followed by text,
// redrawing it unless the last redraw was too recent (the last step is
// always drawn).
func (b *Bar) Update(step, steps int, text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	every := b.MinInterval
	if every == 0 {
		every = 100 * time.Millisecond
	}
	if step < steps && time.Since(b.last) < every {
		return
	}
	b.last = time.Now()
	width := b.Width
	if width <= 0 {
		width = 24
	}
	frac := 0.0
	if steps > 0 {
		frac = min(max(float64(step)/float64(steps), 0), 1)
	}
	full := int(frac * float64(width))
	bar := strings.Repeat("=", full)
	if full < width {
		bar += ">" + strings.Repeat(" ", width-full-1)
	}
	b.line = fmt.Sprintf("[%s] %3.0f%%  %s", bar, 100*frac, text)
	fmt.Fprint(b.w, "\r\x1b[K"+b.line)
}

// Done ends the status line, leaving it on screen.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.line != "" {
		fmt.Fprintln(b.w)
		b.line = ""
	}
}

// Finish ends w's status line if w is a Bar, so that what follows starts
// on a line of its own.
func Finish(w io.Writer) {
	if b, ok := w.(*Bar); ok {
		b.Done()
	}
}

// Report shows training progress on w: every step on a Bar, otherwise a
// plain line every `every` steps and at the last one (none when every is
// 0 or w is nil).
func Report(w io.Writer, step, steps, every int, text string) {
	if b, ok := w.(*Bar); ok {
		b.Update(step, steps, text)
		if step == steps {
			b.Done()
		}
		return
	}
	if w != nil && every > 0 && (step%every == 0 || step == steps) {
		fmt.Fprintln(w, text)
	}
}

// Loss is one player's loss on a progress line.
type Loss struct {
	Name  string // the player's name: "d", "g", "vae"
	Value float64
}

// Line formats a training progress line: the step, the players' losses
// ("<name>/loss"), the rate since step from (where this session started)
// and the time left.
func Line(step, steps, from int, losses []Loss, elapsed time.Duration) string {
	rate := float64(step-from) / elapsed.Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(steps-step)/rate*1e9) / time.Second * time.Second).String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "step %d/%d", step, steps)
	for _, l := range losses {
		fmt.Fprintf(&b, "  %s/loss %.4f", l.Name, l.Value)
	}
	fmt.Fprintf(&b, "  %.2f it/s  ETA %s", rate, eta)
	return b.String()
}
