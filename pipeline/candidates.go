package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/atomicfile"
	"github.com/kallima-gan/kallima/run"
)

// CandidatesDir is the folder inside a run with train.candidates that
// holds the candidates' own run folders (seed-N) and ChoiceFile.
const CandidatesDir = "candidates"

// ChoiceFile, inside CandidatesDir, records the candidates' scores and the
// one kept; the run trains on from the kept candidate's checkpoint once it
// exists.
const ChoiceFile = "choice.json"

// Choice is what ChoiceFile holds.
type Choice struct {
	Metric     string      `json:"metric"` // train.candidate_metric
	Pick       string      `json:"pick"`   // "min" or "max"
	From       int         `json:"from"`   // the steps scored, From to To
	To         int         `json:"to"`     // (train.candidate_steps)
	Candidates []Candidate `json:"candidates"`
	Kept       int         `json:"kept"` // index into Candidates
}

// Candidate is one candidate of a run with train.candidates.
type Candidate struct {
	Seed  uint64  `json:"seed"`
	Dir   string  `json:"dir"`   // its run folder, relative to the run's
	Score float64 `json:"score"` // the metric's mean over the scored steps (NaN: diverged)
}

// MarshalJSON writes a NaN score (a diverged candidate) as null.
func (c Candidate) MarshalJSON() ([]byte, error) {
	type plain Candidate
	if math.IsNaN(c.Score) || math.IsInf(c.Score, 0) {
		return json.Marshal(struct {
			plain
			Score *float64 `json:"score"`
		}{plain: plain(c)})
	}
	return json.Marshal(plain(c))
}

// UnmarshalJSON reads a null score back as NaN.
func (c *Candidate) UnmarshalJSON(b []byte) error {
	type plain Candidate
	var v struct {
		plain
		Score *float64 `json:"score"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Candidate(v.plain)
	c.Score = math.NaN()
	if v.Score != nil {
		c.Score = *v.Score
	}
	return nil
}

// errCandidateDone stops a candidate at train.candidate_steps.
var errCandidateDone = errors.New("candidate steps done")

// candidateConfig is candidate k's config: c with its seed and without
// candidates.
func candidateConfig(c config.Config, k int) config.Config {
	c.Seed += uint64(k) * config.CandidateStride
	c.Train.Candidates, c.Train.CandidateSteps, c.Train.CandidateMetric, c.Train.CandidatePick = 0, 0, "", ""
	return c
}

// ReadChoice reads the choice of the run in dir; ok is false while its
// candidates are still training (or it has none).
func ReadChoice(dir string) (ch Choice, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, CandidatesDir, ChoiceFile))
	if errors.Is(err, os.ErrNotExist) {
		return ch, false, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &ch)
	}
	if err == nil && (ch.Kept < 0 || ch.Kept >= len(ch.Candidates)) {
		err = fmt.Errorf("kept %d of %d candidates", ch.Kept, len(ch.Candidates))
	}
	if err != nil {
		return ch, false, fmt.Errorf("%s: %w", filepath.Join(dir, CandidatesDir, ChoiceFile), err)
	}
	return ch, true, nil
}

// trainCandidates trains (or continues) the candidates of the run in dir,
// whose config is c, each to train.candidate_steps, scores them, writes
// ChoiceFile and continues the run from the kept one with Resume.
func trainCandidates(ctx context.Context, c config.Config, dir string, opts Options) (Result, error) {
	t := c.Train
	ch := Choice{Metric: t.CandidateMetric, Pick: t.CandidatePick, From: t.CandidateSteps/2 + 1, To: t.CandidateSteps}
	if ch.Pick == "" {
		ch.Pick = "min"
	}
	for k := range t.Candidates {
		cc := candidateConfig(c, k)
		cand := Candidate{Seed: cc.Seed, Dir: filepath.Join(CandidatesDir, fmt.Sprintf("seed-%d", cc.Seed))}
		sub := filepath.Join(dir, cand.Dir)
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "candidate %d of %d (seed %d): steps 1-%d in %s\n", k+1, t.Candidates, cc.Seed, t.CandidateSteps, sub)
		}
		if res, err := trainCandidate(ctx, cc, sub, t.CandidateSteps, ch.Metric, opts); err != nil {
			res.Dir, res.Steps = dir, t.CandidateSteps
			res.Candidate = fmt.Sprintf("%d of %d, seed %d", k+1, t.Candidates, cc.Seed)
			return res, fmt.Errorf("candidate %s: %w", res.Candidate, err)
		}
		score, err := candidateScore(sub, ch.Metric, ch.From, ch.To)
		if err != nil {
			return Result{Dir: dir, Steps: t.Steps}, fmt.Errorf("candidate %d (seed %d): %w", k+1, cc.Seed, err)
		}
		cand.Score = score
		ch.Candidates = append(ch.Candidates, cand)
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "candidate %d of %d (seed %d): %s %.4g (mean over steps %d-%d)\n", k+1, t.Candidates, cc.Seed, ch.Metric, score, ch.From, ch.To)
		}
	}
	ch.Kept = pickCandidate(ch.Candidates, ch.Pick == "max")
	if ch.Kept < 0 {
		return Result{Dir: dir, Steps: t.Steps}, fmt.Errorf("every candidate's %s is NaN or infinite: all diverged", ch.Metric)
	}
	b, err := json.MarshalIndent(ch, "", "  ")
	if err != nil {
		return Result{Dir: dir, Steps: t.Steps}, err
	}
	if err := atomicfile.Write(filepath.Join(dir, CandidatesDir, ChoiceFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return Result{Dir: dir, Steps: t.Steps}, err
	}
	if opts.Progress != nil {
		kept := ch.Candidates[ch.Kept]
		fmt.Fprintf(opts.Progress, "keeping candidate %d (seed %d, %s %.4g): training on from step %d to %d\n", ch.Kept+1, kept.Seed, ch.Metric, kept.Score, ch.To, t.Steps)
	}
	return Resume(ctx, dir, opts)
}

// pickCandidate returns the index of the lowest finite score (highest with
// max), the first of equals; -1 when none is finite.
func pickCandidate(cands []Candidate, max bool) int {
	best := -1
	for i, c := range cands {
		if math.IsNaN(c.Score) || math.IsInf(c.Score, 0) {
			continue
		}
		if best < 0 || (max && c.Score > cands[best].Score) || (!max && c.Score < cands[best].Score) {
			best = i
		}
	}
	return best
}

// trainCandidate trains the candidate run in sub (config cc) to step
// steps, or continues it there, unless it has its checkpoint at steps. Its
// first step checks that metric is logged, so a misspelt name fails at
// once, not after a candidate's training.
func trainCandidate(ctx context.Context, cc config.Config, sub string, steps int, metric string, opts Options) (Result, error) {
	if at, ok := LatestPointer(sub); ok && at >= steps {
		return Result{}, nil
	}
	inner := opts
	inner.stopAt = steps
	checked := false
	inner.OnStep = func(v StepView) error {
		if opts.OnStep != nil {
			if err := opts.OnStep(v); err != nil {
				return err
			}
		}
		if _, ok := v.Logs[metric]; !ok && !checked && !(strings.HasPrefix(metric, "eval/") && cc.Train.EvalEvery > 0) {
			return fmt.Errorf("train.candidate_metric %q: the model does not log it (it logs %s); nothing is trained yet: remove %s and train again with one of those", metric, strings.Join(slices.Sorted(maps.Keys(v.Logs)), ", "), filepath.Dir(filepath.Dir(sub)))
		}
		checked = true
		if v.Step >= steps {
			return fmt.Errorf("%w at step %d: %w", errCandidateDone, v.Step, gan.ErrStopped)
		}
		return nil
	}
	var res Result
	var err error
	if _, serr := os.Stat(filepath.Join(sub, run.ConfigFile)); serr == nil {
		res, err = Resume(ctx, sub, inner)
	} else {
		res, err = Train(ctx, cc, sub, inner)
	}
	if errors.Is(err, errCandidateDone) {
		return res, nil
	}
	if err == nil {
		// Cannot happen while candidate_steps < train.steps (Validate).
		return res, fmt.Errorf("finished all %d steps before the candidate step %d", cc.Train.Steps, steps)
	}
	return res, err
}

// candidateScore is the mean of the scalar metric over steps from to to in
// the run in dir's metrics.jsonl; NaN when a value is not finite (a
// diverging candidate), an error naming the logged scalars when it was
// never logged.
func candidateScore(dir, metric string, from, to int) (float64, error) {
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		return 0, err
	}
	var sum float64
	n := 0
	names := map[string]bool{}
	for _, r := range recs {
		if r.Step < from || r.Step > to {
			continue
		}
		v, ok := r.Scalars[metric]
		if !ok {
			for k := range r.Scalars {
				names[k] = true
			}
			continue
		}
		sum += v
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("train.candidate_metric %q was not logged at steps %d-%d (logged: %s)", metric, from, to, strings.Join(slices.Sorted(maps.Keys(names)), ", "))
	}
	return sum / float64(n), nil
}

// adoptCandidate starts the run in r (whose session s is built from the
// kept candidate's config) from the kept candidate's checkpoint at
// ch.To: its metrics up to that step are copied into the run's, then the
// checkpoint is restored and written as the run's first.
func (s *session) adoptCandidate(dir string, ch Choice, opts Options) error {
	sub := filepath.Join(dir, ch.Candidates[ch.Kept].Dir)
	infos, err := ListCheckpoints(sub)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(infos, func(in run.Info) bool { return in.Step == ch.To })
	if i < 0 {
		return fmt.Errorf("kept candidate %s has no checkpoint at step %d", sub, ch.To)
	}
	ck, err := run.LoadCheckpoint(infos[i].Path)
	if err != nil {
		return err
	}
	recs, err := run.ReadMetrics(filepath.Join(sub, run.MetricsFile))
	if err != nil {
		return err
	}
	if err := s.run.Rewind(-1); err != nil {
		return err
	}
	for _, r := range recs {
		if r.Step > ch.To {
			break
		}
		if err := s.run.Log(r.Step, r.Scalars); err != nil {
			return err
		}
	}
	if err := s.restore(ck, opts.Warn); err != nil {
		return fmt.Errorf("kept candidate %s at step %d: %w", sub, ch.To, err)
	}
	return s.checkpoint(opts.Progress, nil)
}
