package toy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kallima-gan/kallima/metrics"
)

// Journal keeps every finished benchmark run in a text file, one line per
// run, so that a long benchmark can stop (Ctrl-C, the end of a session) and
// continue later without redoing what is done: a run whose loss, data set,
// seed and training length are in the journal is read back instead of
// trained. Runs are deterministic, so the table is the same either way.
type Journal struct {
	path string
	mu   sync.Mutex
	done map[string]outcome
}

type outcome struct {
	score   metrics.MixtureScore
	elapsed time.Duration
	err     string // "" when the run finished
}

const journalHeader = "# kallima bench toy journal: loss data seed steps modes total_modes high_quality reverse_kl w1 seconds error"

// OpenJournal reads the journal at path, creating it if it does not exist.
func OpenJournal(path string) (*Journal, error) {
	j := &Journal{path: path, done: map[string]outcome{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(path, []byte(journalHeader+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, o, err := parseJournalLine(line)
		if err != nil {
			return nil, fmt.Errorf("journal %s line %d: %w", path, n, err)
		}
		j.done[key] = o
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return j, nil
}

// Len is the number of runs the journal holds.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.done)
}

// Wrap returns a Runner that answers from the journal when it can and
// otherwise calls run and records what it returns. A run stopped by ctx is
// not recorded.
func (j *Journal) Wrap(run Runner) Runner {
	return func(ctx context.Context, c Cell) (metrics.MixtureScore, time.Duration, error) {
		key, err := journalKey(c)
		if err != nil {
			return metrics.MixtureScore{}, 0, err
		}
		j.mu.Lock()
		o, ok := j.done[key]
		j.mu.Unlock()
		if ok {
			if o.err != "" {
				return metrics.MixtureScore{}, 0, errors.New(o.err)
			}
			return o.score, o.elapsed, nil
		}
		s, el, err := run(ctx, c)
		if ctx.Err() != nil {
			return s, el, err
		}
		o = outcome{score: s, elapsed: el}
		if err != nil {
			o.err = strings.Join(strings.Fields(err.Error()), " ")
		}
		if rerr := j.record(key, o); rerr != nil {
			return s, el, errors.Join(err, rerr)
		}
		return s, el, err
	}
}

// record appends one run to the file, synced, and remembers it.
func (j *Journal) record(key string, o outcome) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.OpenFile(j.path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	s := o.score
	line := fmt.Sprintf("%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", key, s.Modes, s.TotalModes, ff(s.HighQuality), ff(s.ReverseKL), ff(s.W1), ff(o.elapsed.Seconds()), o.err)
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.done[key] = o
	return nil
}

func ff(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// journalKey names a run by loss, data set, seed and its actual training
// length, so a journal made with other presets is not mistaken for this one.
func journalKey(c Cell) (string, error) {
	cfg, err := c.Config()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\t%s\t%d\t%d", c.Loss, c.Data, c.Seed, cfg.Train.Steps), nil
}

func parseJournalLine(line string) (string, outcome, error) {
	f := strings.Split(line, "\t")
	if len(f) != 11 {
		return "", outcome{}, fmt.Errorf("%d fields, want 11 (%s)", len(f), strings.TrimPrefix(journalHeader, "# kallima bench toy journal: "))
	}
	var o outcome
	var err error
	ints := make([]int, 4)
	for i, k := range []int{2, 3, 4, 5} {
		if ints[i], err = strconv.Atoi(f[k]); err != nil {
			return "", outcome{}, fmt.Errorf("field %d: %w", k+1, err)
		}
	}
	floats := make([]float64, 4)
	for i, k := range []int{6, 7, 8, 9} {
		if floats[i], err = strconv.ParseFloat(f[k], 64); err != nil {
			return "", outcome{}, fmt.Errorf("field %d: %w", k+1, err)
		}
	}
	o.score = metrics.MixtureScore{Modes: ints[2], TotalModes: ints[3], HighQuality: floats[0], ReverseKL: floats[1], W1: floats[2]}
	o.elapsed = time.Duration(floats[3] * float64(time.Second))
	o.err = f[10]
	return strings.Join(f[:4], "\t"), o, nil
}
