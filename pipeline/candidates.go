package pipeline

import (
	"cmp"
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
	"time"

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
	// With train.finalists: the candidates that trained on to FinalTo
	// (indices into Candidates, best-scored first), scored again over
	// steps FinalFrom to FinalTo (Candidate.Final).
	Finalists []int `json:"finalists,omitempty"`
	FinalFrom int   `json:"final_from,omitempty"`
	FinalTo   int   `json:"final_to,omitempty"`
	Kept      int   `json:"kept"` // index into Candidates
}

// At is the step the run continues the kept candidate from.
func (ch Choice) At() int {
	if len(ch.Finalists) > 0 {
		return ch.FinalTo
	}
	return ch.To
}

// Candidate is one candidate of a run with train.candidates.
type Candidate struct {
	Seed  uint64  `json:"seed"`
	Dir   string  `json:"dir"`   // its run folder, relative to the run's
	Score float64 `json:"score"` // the metric's mean over the scored steps (NaN: diverged)
	// Final is a finalist's mean over the finalists' scored steps; NaN
	// for the others (and a diverged finalist).
	Final float64 `json:"final_score"`
}

// candidateJSON is a Candidate as ChoiceFile holds it: a NaN score is
// null, a NaN final score left out.
type candidateJSON struct {
	Seed  uint64   `json:"seed"`
	Dir   string   `json:"dir"`
	Score *float64 `json:"score"`
	Final *float64 `json:"final_score,omitempty"`
}

// finite returns &v, or nil when v is NaN or infinite.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON writes a NaN score (a diverged candidate) as null and
// leaves out a NaN final score.
func (c Candidate) MarshalJSON() ([]byte, error) {
	return json.Marshal(candidateJSON{Seed: c.Seed, Dir: c.Dir, Score: finite(c.Score), Final: finite(c.Final)})
}

// UnmarshalJSON reads a null or missing score back as NaN.
func (c *Candidate) UnmarshalJSON(b []byte) error {
	var v candidateJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Candidate{Seed: v.Seed, Dir: v.Dir, Score: math.NaN(), Final: math.NaN()}
	if v.Score != nil {
		c.Score = *v.Score
	}
	if v.Final != nil {
		c.Final = *v.Final
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
	c.Train.Finalists, c.Train.FinalistSteps = 0, 0
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
	for _, k := range ch.Finalists {
		if err == nil && (k < 0 || k >= len(ch.Candidates)) {
			err = fmt.Errorf("finalist %d of %d candidates", k, len(ch.Candidates))
		}
	}
	if err == nil && len(ch.Finalists) > 0 && !slices.Contains(ch.Finalists, ch.Kept) {
		err = fmt.Errorf("kept %d is not a finalist (%v)", ch.Kept, ch.Finalists)
	}
	if err != nil {
		return ch, false, fmt.Errorf("%s: %w", filepath.Join(dir, CandidatesDir, ChoiceFile), err)
	}
	return ch, true, nil
}

// WritingDir returns the folder the run in dir is writing its steps to:
// while the candidates of a run with train.candidates train (no choice
// yet), the candidate folder whose metrics changed last (a finalist may be
// an earlier candidate); otherwise dir.
func WritingDir(dir string) string {
	if _, ok, err := ReadChoice(dir); ok || err != nil {
		return dir
	}
	es, err := os.ReadDir(filepath.Join(dir, CandidatesDir))
	if err != nil {
		return dir
	}
	cur, newest := dir, time.Time{}
	for _, e := range es {
		sub := filepath.Join(dir, CandidatesDir, e.Name())
		if st, err := os.Stat(filepath.Join(sub, run.MetricsFile)); err == nil && e.IsDir() && st.ModTime().After(newest) {
			cur, newest = sub, st.ModTime()
		}
	}
	return cur
}

// Stage says which part of a run with train.candidates the folder cur
// holds at step, for a page that shows one folder at a time: "candidate 2
// of 3 (seed 1000002)" while the candidates train, with ", a finalist"
// once it trains past train.candidate_steps, and "candidate 1 of 3 (seed
// 2), kept at step 2000" for the run's own folder after the choice. c is
// the run's config and dir its folder. It is "" for a run without
// candidates, and for dir before any candidate is kept.
func Stage(c config.Config, dir, cur string, step int) string {
	t := c.Train
	if t.Candidates < 2 {
		return ""
	}
	if filepath.Clean(cur) == filepath.Clean(dir) {
		ch, ok, err := ReadChoice(dir)
		if !ok || err != nil {
			return ""
		}
		k := ch.Kept
		return fmt.Sprintf("candidate %d of %d (seed %d), kept at step %d", k+1, len(ch.Candidates), ch.Candidates[k].Seed, ch.At())
	}
	for k := range t.Candidates {
		seed := candidateConfig(c, k).Seed
		if filepath.Clean(cur) != filepath.Join(dir, candidateDir(seed)) {
			continue
		}
		s := fmt.Sprintf("candidate %d of %d (seed %d)", k+1, t.Candidates, seed)
		if t.Finalists > 0 && step > t.CandidateSteps {
			s += ", a finalist"
		}
		return s
	}
	return ""
}

// candidateDir is the folder, relative to the run's, of the candidate
// trained with seed.
func candidateDir(seed uint64) string {
	return filepath.Join(CandidatesDir, fmt.Sprintf("seed-%d", seed))
}

// trainCandidates trains (or continues) the candidates of the open run r,
// whose config is c, each to train.candidate_steps, scores them, with
// train.finalists trains the best on to train.finalist_steps and scores
// those again, writes ChoiceFile and continues the run from the kept one
// as Resume does. r stays open, so its folder stays locked, throughout;
// trainCandidates closes it.
func trainCandidates(ctx context.Context, c config.Config, r *run.Run, opts Options) (Result, error) {
	dir := r.Dir()
	handedOver := false
	defer func() {
		if !handedOver {
			r.Close()
		}
	}()
	t := c.Train
	ch := Choice{Metric: t.CandidateMetric, Pick: t.CandidatePick, From: t.CandidateSteps/2 + 1, To: t.CandidateSteps}
	if ch.Pick == "" {
		ch.Pick = "min"
	}
	say := func(format string, a ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format, a...)
		}
	}
	// round trains candidate k (label names it) from step start to step
	// steps, or on from where it stopped, and scores it over steps from
	// to steps.
	round := func(label string, k, start, steps, from int) (float64, error) {
		cc := candidateConfig(c, k)
		sub := filepath.Join(dir, ch.Candidates[k].Dir)
		say("%s (seed %d): steps %d-%d in %s\n", label, cc.Seed, start, steps, sub)
		if res, err := trainCandidate(ctx, cc, sub, steps, ch.Metric, opts); err != nil {
			res.Dir, res.Steps = dir, steps
			res.Candidate = fmt.Sprintf("%s, seed %d", label, cc.Seed)
			return 0, candidateStop{res, err}
		}
		score, err := candidateScore(sub, ch.Metric, from, steps)
		if err != nil {
			return 0, fmt.Errorf("%s (seed %d): %w", label, cc.Seed, err)
		}
		say("%s (seed %d): %s %.4g (mean over steps %d-%d)\n", label, cc.Seed, ch.Metric, score, from, steps)
		return score, nil
	}
	fail := func(err error) (Result, error) {
		if cs, ok := err.(candidateStop); ok {
			return cs.res, fmt.Errorf("%s: %w", cs.res.Candidate, cs.err)
		}
		return Result{Dir: dir, Steps: t.Steps}, err
	}
	for k := range t.Candidates {
		seed := candidateConfig(c, k).Seed
		ch.Candidates = append(ch.Candidates, Candidate{Seed: seed, Dir: candidateDir(seed), Final: math.NaN()})
		score, err := round(fmt.Sprintf("candidate %d of %d", k+1, t.Candidates), k, 1, t.CandidateSteps, ch.From)
		if err != nil {
			return fail(err)
		}
		ch.Candidates[k].Score = score
	}
	scores := make([]float64, len(ch.Candidates))
	for i, cand := range ch.Candidates {
		scores[i] = cand.Score
	}
	ranked := rankScores(scores, ch.Pick == "max")
	if len(ranked) == 0 {
		return fail(fmt.Errorf("every candidate's %s is NaN or infinite: all diverged", ch.Metric))
	}
	ch.Kept = ranked[0]
	if t.Finalists > 0 {
		ch.Finalists = ranked[:min(t.Finalists, len(ranked))]
		ch.FinalFrom, ch.FinalTo = (t.CandidateSteps+t.FinalistSteps)/2+1, t.FinalistSteps
		finals := make([]float64, len(ch.Finalists))
		for i, k := range ch.Finalists {
			score, err := round(fmt.Sprintf("finalist %d of %d, candidate %d", i+1, len(ch.Finalists), k+1), k, t.CandidateSteps+1, t.FinalistSteps, ch.FinalFrom)
			if err != nil {
				return fail(err)
			}
			ch.Candidates[k].Final, finals[i] = score, score
		}
		best := rankScores(finals, ch.Pick == "max")
		if len(best) == 0 {
			return fail(fmt.Errorf("every finalist's %s is NaN or infinite: all diverged", ch.Metric))
		}
		ch.Kept = ch.Finalists[best[0]]
	}
	b, err := json.MarshalIndent(ch, "", "  ")
	if err != nil {
		return fail(err)
	}
	if err := atomicfile.Write(filepath.Join(dir, CandidatesDir, ChoiceFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return fail(err)
	}
	kept := ch.Candidates[ch.Kept]
	score := kept.Score
	if len(ch.Finalists) > 0 {
		score = kept.Final
	}
	say("keeping candidate %d (seed %d, %s %.4g): training on from step %d to %d\n", ch.Kept+1, kept.Seed, ch.Metric, score, ch.At(), t.Steps)
	// The config as Resume reads it, from the run's snapshot.
	rc, _, err := resumeConfig(dir, nil)
	if err != nil {
		return fail(err)
	}
	handedOver = true
	return resumeRun(ctx, r, rc, nil, opts)
}

// candidateStop is a candidate's training stopped or failed: its result
// and error.
type candidateStop struct {
	res Result
	err error
}

func (e candidateStop) Error() string { return e.err.Error() }

// rankScores returns the indices of the finite scores, best first (lowest,
// or highest with max; equals in index order).
func rankScores(scores []float64, max bool) []int {
	var idx []int
	for i, v := range scores {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if max {
			return cmp.Compare(scores[b], scores[a])
		}
		return cmp.Compare(scores[a], scores[b])
	})
	return idx
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
// ch.At(): its metrics up to that step are copied into the run's, then the
// checkpoint is restored and written as the run's first.
func (s *session) adoptCandidate(dir string, ch Choice, opts Options) error {
	sub := filepath.Join(dir, ch.Candidates[ch.Kept].Dir)
	infos, err := ListCheckpoints(sub)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(infos, func(in run.Info) bool { return in.Step == ch.At() })
	if i < 0 {
		return fmt.Errorf("kept candidate %s has no checkpoint at step %d", sub, ch.At())
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
		if r.Step > ch.At() {
			break
		}
		if err := s.run.Log(r.Step, r.Scalars); err != nil {
			return err
		}
	}
	if err := s.restore(ck, opts.Warn); err != nil {
		return fmt.Errorf("kept candidate %s at step %d: %w", sub, ch.At(), err)
	}
	return s.checkpoint(opts.Progress, nil)
}
