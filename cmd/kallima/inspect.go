package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/safetensors"
)

const inspectUsage = `Usage: kallima inspect RUN [flags]

Summarises a run folder without changing it: its config (data, model,
loss, steps), the current step (the last one logged), its checkpoints
(step, size, score; which is the latest and which the best), the averaged
weights kallima average wrote there (file, size, the steps averaged) and its
metrics (for each scalar in metrics.jsonl: the last value, the minimum and
the maximum, and the number of records). -json prints one JSON object.

Every checkpoint is verified against its checksum as the loading commands
do (sample, encode, eval, ...), and one that fails is marked damaged. The
latest is the newest that verifies, the one those commands load from the
run folder; a note says so when checkpoints/latest names another step.

Flags:
`

const inspectExamples = `
Examples:
  kallima inspect runs/dcgan
  kallima inspect runs/dcgan -json | jq .metrics.scalars
`

// inspection is what inspect reports; its JSON form is the -json output.
type inspection struct {
	Dir         string             `json:"dir"`
	Name        string             `json:"name"`
	Data        string             `json:"data"`
	Model       string             `json:"model"`
	Loss        string             `json:"loss"`
	Steps       int                `json:"steps"`
	Step        int                `json:"step"`
	Checkpoints []checkpointReport `json:"checkpoints"`
	// LatestNote says how checkpoints/latest differs from the checkpoint
	// marked latest, the newest that verifies (empty when they agree).
	LatestNote string `json:"latest_note,omitempty"`
	// Averages are the average-*.safetensors files kallima average wrote
	// into the checkpoints folder.
	Averages []averageReport `json:"averages"`
	Metrics  metricsReport   `json:"metrics"`
	// Candidates is the choice among train.candidates (nil without them
	// or while they train; Pending is then their count).
	Candidates *pipeline.Choice `json:"candidates,omitempty"`
	Pending    int              `json:"candidates_pending,omitempty"`
}

type checkpointReport struct {
	Step   int      `json:"step"`
	File   string   `json:"file"`
	Bytes  int64    `json:"bytes"`
	Score  *float64 `json:"score"`
	Latest bool     `json:"latest"`
	Best   bool     `json:"best"`
	Error  string   `json:"error,omitempty"`
}

// averageReport describes one file of averaged weights; Steps come from
// its pipeline.MetaAverage metadata, read from the header alone.
type averageReport struct {
	File  string `json:"file"`
	Bytes int64  `json:"bytes"`
	Steps []int  `json:"steps"`
	// NormBatches is the number of batches its batch norm statistics
	// were recomputed over (kallima average -bn), 0 when averaged.
	NormBatches int    `json:"norm_batches,omitempty"`
	Error       string `json:"error,omitempty"`
}

type metricsReport struct {
	Records   int                     `json:"records"`
	FirstStep int                     `json:"first_step"`
	LastStep  int                     `json:"last_step"`
	Scalars   map[string]scalarReport `json:"scalars"`
}

// scalarReport summarises one scalar; NaN and infinities are JSON strings
// as in metrics.jsonl.
type scalarReport struct {
	Count int        `json:"count"`
	Last  jsonNumber `json:"last"`
	Min   jsonNumber `json:"min"`
	Max   jsonNumber `json:"max"`
}

// jsonNumber is a float64 written as a JSON number, or "NaN", "Infinity",
// "-Infinity".
type jsonNumber float64

func (v jsonNumber) MarshalJSON() ([]byte, error) {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(f)
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fset := flagSet("kallima inspect", inspectUsage, inspectExamples)
	asJSON := fset.Bool("json", false, "print one JSON object")
	pos, code, done := parseCommand(fset, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima inspect: want one run folder, got %d arguments (see kallima inspect -h)\n", len(pos))
		return exitUsage
	}
	in, err := inspectRun(pos[0])
	if errors.Is(err, runfolder.ErrNotRun) {
		fmt.Fprintf(stderr, "kallima inspect: %v\n", err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima inspect: %v\n", err)
		return exitError
	}
	if *asJSON {
		b, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "kallima inspect: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	printInspection(stdout, in)
	return exitOK
}

// inspectRun reads the run in dir without changing it.
func inspectRun(dir string) (*inspection, error) {
	if err := checkRunDir(dir); err != nil {
		return nil, err
	}
	snap, err := os.ReadFile(filepath.Join(dir, runfolder.ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (no %s)", dir, runfolder.ErrNotRun, runfolder.ConfigFile)
	}
	if err != nil {
		return nil, err
	}
	c, err := config.Parse(bytes.NewReader(snap))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, runfolder.ConfigFile), err)
	}
	in := &inspection{Dir: dir, Name: c.Name, Steps: c.Train.Steps, Checkpoints: []checkpointReport{}, Averages: []averageReport{},
		Metrics: metricsReport{Scalars: map[string]scalarReport{}}}
	in.Data, in.Model, in.Loss = describeConfig(c)
	if c.Train.Candidates > 1 {
		ch, ok, err := pipeline.ReadChoice(dir)
		switch {
		case err != nil:
			return nil, err
		case ok:
			in.Candidates = &ch
		default:
			in.Pending = c.Train.Candidates
		}
	}

	infos, err := pipeline.ListCheckpoints(dir)
	if err != nil {
		return nil, err
	}
	best, latest := -1, -1
	for i, info := range infos {
		r := checkpointReport{Step: info.Step, File: filepath.Base(info.Path), Score: info.Score}
		if fi, err := os.Stat(info.Path); err == nil {
			r.Bytes = fi.Size()
		}
		if info.Err == nil {
			// The header alone misses damaged data: verify the checksum
			// as the loading commands do, which skip what fails here.
			if _, err := runfolder.LoadCheckpoint(info.Path); err != nil {
				info.Err = err
			}
		}
		if info.Err != nil {
			r.Error = info.Err.Error()
		} else {
			latest = i
			if s := info.Score; s != nil && !math.IsNaN(*s) && (best < 0 || *s <= *infos[best].Score) {
				best = i
			}
		}
		in.Checkpoints = append(in.Checkpoints, r)
	}
	if best >= 0 {
		in.Checkpoints[best].Best = true
	}
	// The latest is the newest that verifies, the one the loading commands
	// use; checkpoints/latest only records the newest saved.
	if latest >= 0 {
		in.Checkpoints[latest].Latest = true
	}
	in.LatestNote = latestNote(dir, in.Checkpoints, latest)
	if n := len(in.Checkpoints); n > 0 {
		in.Step = in.Checkpoints[n-1].Step
	}

	if in.Averages, err = inspectAverages(dir); err != nil {
		return nil, err
	}

	recs, err := runfolder.ReadMetrics(filepath.Join(dir, runfolder.MetricsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m := &in.Metrics
	m.Records = len(recs)
	for i, rec := range recs {
		if i == 0 {
			m.FirstStep = rec.Step
		}
		m.LastStep = rec.Step
		for k, v := range rec.Scalars {
			s, ok := m.Scalars[k]
			if !ok {
				s = scalarReport{Min: jsonNumber(v), Max: jsonNumber(v)}
			}
			s.Count++
			s.Last = jsonNumber(v)
			// NaN never becomes the min or max (math.Min would spread it).
			if !math.IsNaN(v) && (math.IsNaN(float64(s.Min)) || v < float64(s.Min)) {
				s.Min = jsonNumber(v)
			}
			if !math.IsNaN(v) && (math.IsNaN(float64(s.Max)) || v > float64(s.Max)) {
				s.Max = jsonNumber(v)
			}
			m.Scalars[k] = s
		}
	}
	in.Step = max(in.Step, m.LastStep)
	return in, nil
}

// checkRunDir returns an error wrapping runfolder.ErrNotRun when path is
// a file, or a folder inside a run, naming the run it sits in (RUN for
// RUN/checkpoints/step-N.safetensors): reading config.yaml below a file
// would only say "not a directory". A path that does not exist, or any
// other folder, is left to the reading of its config.yaml.
func checkRunDir(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return nil
	}
	isRun := func(dir string) bool {
		fi, err := os.Stat(filepath.Join(dir, runfolder.ConfigFile))
		return err == nil && !fi.IsDir()
	}
	if fi.IsDir() && isRun(path) {
		return nil
	}
	what := "a folder"
	if !fi.IsDir() {
		what = "a file"
	}
	// Its folder, or the one above (a checkpoint's, a sample's).
	dir := filepath.Join(path, "..")
	for range 2 {
		if isRun(dir) {
			return fmt.Errorf("%s: %w (%s in run %s: inspect takes the run folder, kallima inspect %s)", path, runfolder.ErrNotRun, what, dir, dir)
		}
		dir = filepath.Join(dir, "..")
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w (a file: inspect takes a run folder)", path, runfolder.ErrNotRun)
	}
	return nil
}

// latestNote says how the run's checkpoints/latest pointer differs from
// the latest checkpoint that verifies (index latest of cks, -1 for none),
// and is empty when they agree or there is no pointer.
func latestNote(dir string, cks []checkpointReport, latest int) string {
	step, ok := pipeline.LatestPointer(dir)
	if !ok || (latest >= 0 && cks[latest].Step == step) {
		return ""
	}
	uses := "the loading commands find no checkpoint that verifies"
	if latest >= 0 {
		uses = fmt.Sprintf("the loading commands use step %d", cks[latest].Step)
	}
	switch i := slices.IndexFunc(cks, func(r checkpointReport) bool { return r.Step == step }); {
	case i < 0:
		return fmt.Sprintf("%s/%s names step %d, which does not exist; %s", runfolder.CheckpointsDir, runfolder.LatestFile, step, uses)
	case cks[i].Error != "":
		return fmt.Sprintf("%s/%s names step %d, which is damaged; %s", runfolder.CheckpointsDir, runfolder.LatestFile, step, uses)
	}
	return fmt.Sprintf("%s/%s names step %d; %s", runfolder.CheckpointsDir, runfolder.LatestFile, step, uses)
}

// inspectAverages lists the averaged weights in dir's checkpoints folder,
// by file name (which starts with the first step averaged).
func inspectAverages(dir string) ([]averageReport, error) {
	paths, err := pipeline.AverageFiles(dir)
	if err != nil {
		return nil, err
	}
	out := []averageReport{}
	for _, p := range paths {
		r := averageReport{File: filepath.Base(p), Steps: []int{}}
		if fi, err := os.Stat(p); err == nil {
			r.Bytes = fi.Size()
		}
		h, err := safetensors.LoadHeader(p)
		var steps []int
		if err == nil {
			steps, err = pipeline.AverageSteps(h.Metadata)
		}
		switch {
		case err != nil:
			r.Error = err.Error()
		case steps == nil:
			r.Error = fmt.Sprintf("no %s metadata: not written by kallima average", pipeline.MetaAverage)
		default:
			r.Steps = steps
			r.NormBatches, _ = strconv.Atoi(h.Metadata[pipeline.MetaAverageNorms])
		}
		out = append(out, r)
	}
	return out, nil
}

// describeConfig summarises a config's data, model and loss in one line
// each.
func describeConfig(c config.Config) (data, model, loss string) {
	data = c.Data.Kind
	if c.IsImage() {
		ch, side := c.ImageShape()
		data = fmt.Sprintf("%s, %dx%dx%d", c.Data.Kind, ch, side, side)
		if c.Data.Kind == "synthetic" {
			n, classes := c.SyntheticSet()
			data += fmt.Sprintf(", %d images in %d classes", n, classes)
		}
		if c.Data.Kind == "stacked-mnist" {
			data += fmt.Sprintf(", %d images in 1000 modes (seed %d)", c.StackedN(), c.Seed)
		}
	}
	model = c.Model.String()
	var extra []string
	if c.Loss.Penalty != "" {
		extra = append(extra, fmt.Sprintf("penalty %s %g", c.Loss.Penalty, c.Loss.PenaltyWeight))
	}
	if c.Train.NCritic > 1 {
		extra = append(extra, fmt.Sprintf("n_critic %d", c.Train.NCritic))
	}
	if c.Train.GSteps > 1 {
		extra = append(extra, fmt.Sprintf("g_steps %d", c.Train.GSteps))
	}
	if c.Train.EMA > 0 {
		extra = append(extra, fmt.Sprintf("ema %g", c.Train.EMA))
	}
	loss = c.Loss.Name
	if o, ok := c.Model.Section.(config.Objectiver); ok {
		loss = o.Objective()
	}
	if len(extra) > 0 {
		loss += ", " + strings.Join(extra, ", ")
	}
	return data, model, loss
}

// printInspection writes the human-readable report.
func printInspection(w io.Writer, in *inspection) {
	fmt.Fprintf(w, "run       %s (%s)\n", in.Dir, in.Name)
	fmt.Fprintf(w, "data      %s\n", in.Data)
	fmt.Fprintf(w, "model     %s\n", in.Model)
	fmt.Fprintf(w, "loss      %s\n", in.Loss)
	fmt.Fprintf(w, "step      %d of %d\n", in.Step, in.Steps)
	if in.Pending > 0 {
		fmt.Fprintf(w, "\ncandidates: %d, still training (in %s)\n", in.Pending, filepath.Join(in.Dir, pipeline.CandidatesDir))
	}
	if ch := in.Candidates; ch != nil {
		final := ""
		if len(ch.Finalists) > 0 {
			final = fmt.Sprintf("; %d finalists, mean over steps %d-%d", len(ch.Finalists), ch.FinalFrom, ch.FinalTo)
		}
		fmt.Fprintf(w, "\ncandidates (%s, mean over steps %d-%d%s; kept the %s):\n", ch.Metric, ch.From, ch.To, final, map[string]string{"min": "lowest", "max": "highest"}[ch.Pick])
		for i, cand := range ch.Candidates {
			line := fmt.Sprintf("  seed %-12d %12.5g", cand.Seed, cand.Score)
			if slices.Contains(ch.Finalists, i) {
				line += fmt.Sprintf("  finalist %12.5g", cand.Final)
			}
			if i == ch.Kept {
				line += "  kept"
			}
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "\ncheckpoints (%d):\n", len(in.Checkpoints))
	if len(in.Checkpoints) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		fmt.Fprintf(w, "  %8s  %10s  %10s\n", "step", "size", "score")
	}
	for _, c := range in.Checkpoints {
		score := "-"
		if c.Score != nil {
			score = fmt.Sprintf("%.4g", *c.Score)
		}
		var tags []string
		if c.Latest {
			tags = append(tags, "latest")
		}
		if c.Best {
			tags = append(tags, "best")
		}
		if c.Error != "" {
			tags = append(tags, "damaged: "+c.Error)
		}
		line := fmt.Sprintf("  %8d  %10s  %10s  %s", c.Step, byteSize(c.Bytes), score, strings.Join(tags, ", "))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if in.LatestNote != "" {
		fmt.Fprintf(w, "  note: %s\n", in.LatestNote)
	}
	if len(in.Averages) > 0 {
		fmt.Fprintf(w, "\naveraged weights (%d; kallima average):\n", len(in.Averages))
	}
	for _, a := range in.Averages {
		what := a.Error
		if what == "" {
			what = "steps " + joinInts(a.Steps)
			if a.NormBatches > 0 {
				what += fmt.Sprintf("; batch norm recomputed over %d batches", a.NormBatches)
			}
		} else {
			what = "damaged: " + what
		}
		fmt.Fprintf(w, "  %s  %10s  %s\n", a.File, byteSize(a.Bytes), what)
	}
	m := in.Metrics
	fmt.Fprintf(w, "\nmetrics: %d records", m.Records)
	if m.Records > 0 {
		fmt.Fprintf(w, ", steps %d to %d", m.FirstStep, m.LastStep)
	}
	fmt.Fprintln(w)
	if len(m.Scalars) == 0 {
		return
	}
	names := slices.Sorted(maps.Keys(m.Scalars))
	width := len("scalar")
	for _, k := range names {
		width = max(width, len(k))
	}
	fmt.Fprintf(w, "  %-*s  %12s  %12s  %12s\n", width, "scalar", "last", "min", "max")
	for _, k := range names {
		s := m.Scalars[k]
		fmt.Fprintf(w, "  %-*s  %12.5g  %12.5g  %12.5g\n", width, k, float64(s.Last), float64(s.Min), float64(s.Max))
	}
}

// byteSize formats n bytes as B, KiB or MiB.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
