package toy

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/metrics"
)

// Journal keeps every finished benchmark run in a text file, one line per
// run, so that a long benchmark can stop (Ctrl-C, the end of a session) and
// continue later without redoing what is done: a run whose loss, data set,
// seed, training length and config fingerprint are in the journal is read
// back instead of trained. Runs are deterministic, so the table is the same
// either way. The fingerprint covers the whole config, so a run made before
// a preset changed is trained again rather than reused; a change to the
// training code itself is not seen, and needs a new journal.
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

const journalHeader = "# kallima bench toy journal: loss data seed steps config modes total_modes high_quality reverse_kl w1 seconds error"

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
	line := key + "\t" + FormatScore(o.score, o.elapsed) + "\t" + o.err + "\n"
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

// FormatScore writes a run's scores and time as tab-separated fields:
// modes, total modes, high quality, reverse KL, W1 and seconds, the floats
// in the shortest form that ParseScore reads back exactly. The journal and
// the -jobs worker processes both speak it.
func FormatScore(s metrics.MixtureScore, elapsed time.Duration) string {
	ff := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return fmt.Sprintf("%d\t%d\t%s\t%s\t%s\t%s", s.Modes, s.TotalModes, ff(s.HighQuality), ff(s.ReverseKL), ff(s.W1), ff(elapsed.Seconds()))
}

// ParseScore reads the fields FormatScore wrote.
func ParseScore(fields []string) (metrics.MixtureScore, time.Duration, error) {
	if len(fields) != 6 {
		return metrics.MixtureScore{}, 0, fmt.Errorf("%d score fields, want 6", len(fields))
	}
	var ints [2]int
	var floats [4]float64
	var err error
	for i := range ints {
		if ints[i], err = strconv.Atoi(fields[i]); err != nil {
			return metrics.MixtureScore{}, 0, fmt.Errorf("score field %d: %w", i+1, err)
		}
	}
	for i := range floats {
		if floats[i], err = strconv.ParseFloat(fields[2+i], 64); err != nil {
			return metrics.MixtureScore{}, 0, fmt.Errorf("score field %d: %w", i+3, err)
		}
	}
	s := metrics.MixtureScore{Modes: ints[0], TotalModes: ints[1], HighQuality: floats[0], ReverseKL: floats[1], W1: floats[2]}
	return s, time.Duration(floats[3] * float64(time.Second)), nil
}

// journalKey names a run by loss, data set, seed, training length and the
// fingerprint of its whole config, so a journal made with other presets is
// not mistaken for this one.
func journalKey(c Cell) (string, error) {
	cfg, err := c.Config()
	if err != nil {
		return "", err
	}
	fp, err := fingerprint(cfg)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\t%s\t%d\t%d\t%s", c.Loss, c.Data, c.Seed, cfg.Train.Steps, fp), nil
}

// Fingerprint is 8 hex digits of the SHA-256 of the cell's config as YAML,
// seed left out: it is the same for every seed of a preset and changes when
// anything else in the preset does.
func (c Cell) Fingerprint() (string, error) {
	cfg, err := c.Config()
	if err != nil {
		return "", err
	}
	return fingerprint(cfg)
}

func fingerprint(cfg config.Config) (string, error) {
	cfg.Seed = 0
	y, err := cfg.YAML()
	if err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", cfg.Name, err)
	}
	sum := sha256.Sum256(y)
	return hex.EncodeToString(sum[:4]), nil
}

func parseJournalLine(line string) (string, outcome, error) {
	f := strings.Split(line, "\t")
	if len(f) != 12 {
		return "", outcome{}, fmt.Errorf("%d fields, want 12 (%s)", len(f), strings.TrimPrefix(journalHeader, "# kallima bench toy journal: "))
	}
	if _, err := strconv.ParseUint(f[2], 10, 64); err != nil {
		return "", outcome{}, fmt.Errorf("seed: %w", err)
	}
	if _, err := strconv.Atoi(f[3]); err != nil {
		return "", outcome{}, fmt.Errorf("steps: %w", err)
	}
	s, el, err := ParseScore(f[5:11])
	if err != nil {
		return "", outcome{}, err
	}
	return strings.Join(f[:5], "\t"), outcome{score: s, elapsed: el, err: f[11]}, nil
}
