package live

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
)

// Tail adds the run in folder dir, written by another process (or
// finished), and follows it until ctx is done: the metrics already in
// metrics.jsonl, then each line appended, and the newest grid in samples/.
// While the candidates of a run with train.candidates train, it follows
// the newest candidate's folder instead, and the run's own once one is
// kept; at each switch the history starts again from the new folder and
// the pages are told to reset. name is its name on the page
// (deduplicated). It returns an error when dir holds no run.
func (h *Hub) Tail(ctx context.Context, name, dir string) error {
	c, err := pipeline.RunConfig(dir)
	if err != nil {
		return err
	}
	kind := "image"
	if !c.IsImage() {
		kind = "points"
	}
	lr := h.add(RunInfo{Name: name, Dir: dir, Kind: kind, Steps: c.Train.Steps})
	t := &tailer{h: h, lr: lr, cfg: c, dir: dir, cur: dir, step: -1}
	t.poll() // what is there now is there before Tail returns
	go func() {
		tick := time.NewTicker(h.opt.Poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.done:
				return
			case <-tick.C:
				t.poll()
			}
		}
	}()
	return nil
}

// tailer follows one run folder.
type tailer struct {
	h      *Hub
	lr     *liveRun
	cfg    config.Config
	dir    string
	cur    string // the folder followed: dir, or a candidate's
	offset int64  // bytes of cur's metrics.jsonl read
	sample string // newest grid seen
	step   int    // cur's newest step read, -1 before the first poll
	stage  string // pipeline.Stage of cur at step
}

// gridName matches the sample grids the run package writes (not a coded
// run's traversal-*.png).
var gridName = regexp.MustCompile(`^step-(\d+)\.png$`)

// poll reads the metrics lines appended since the last poll (complete
// lines only: a line being written is read next time) and looks for a
// newer grid.
func (t *tailer) poll() {
	switched := t.step < 0
	if cur := pipeline.WritingDir(t.dir); cur != t.cur {
		t.cur, t.offset, t.sample, switched = cur, 0, "", true
		t.h.mu.Lock()
		t.h.reset(t.lr, nil, 0)
		t.h.mu.Unlock()
	}
	var recs []run.Record
	f, err := os.Open(filepath.Join(t.cur, run.MetricsFile))
	if err == nil {
		if st, err := f.Stat(); err == nil && st.Size() < t.offset {
			t.offset = 0 // rewritten (a resumed run rewinds its metrics)
		}
		if _, err := f.Seek(t.offset, io.SeekStart); err == nil {
			b, _ := io.ReadAll(io.LimitReader(f, 64<<20))
			if end := bytes.LastIndexByte(b, '\n'); end >= 0 {
				for _, line := range bytes.Split(b[:end], []byte{'\n'}) {
					var r run.Record
					if len(bytes.TrimSpace(line)) > 0 && r.UnmarshalJSON(line) == nil {
						recs = append(recs, r)
					}
				}
				t.offset += int64(end + 1)
			}
		}
		f.Close()
	}
	best, bestStep := "", -1
	if es, err := os.ReadDir(filepath.Join(t.cur, run.SamplesDir)); err == nil {
		for _, e := range es {
			if m := gridName.FindStringSubmatch(e.Name()); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil && n > bestStep {
					best, bestStep = filepath.Join(t.cur, run.SamplesDir, e.Name()), n
				}
			}
		}
	}
	if len(recs) > 0 {
		t.step = recs[len(recs)-1].Step
	}
	t.step = max(t.step, 0)
	// The run's own folder is named by its choice, read once; a
	// candidate's stage changes with its step (a finalist).
	if switched || t.cur != t.dir {
		t.stage = pipeline.Stage(t.cfg, t.dir, t.cur, t.step)
	}
	t.h.mu.Lock()
	defer t.h.mu.Unlock()
	t.h.setStage(t.lr, t.stage)
	for _, r := range recs {
		// A resumed run rewrites steps past its checkpoint: record drops
		// what they replace.
		t.h.record(t.lr, r)
	}
	if best != "" && best != t.sample {
		t.sample = best
		t.h.setSample(t.lr, bestStep, best)
	}
}
