package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	runfolder "github.com/kallima-gan/kallima/run"
)

// TestInspectTrainedRun inspects a tiny trained run: the text names the
// config, every checkpoint step with the latest marked, and each scalar;
// the JSON has a record per step with last within [min, max]; and the run
// folder is left as it was (no new event file, as run.Open would add).
func TestInspectTrainedRun(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	before, _ := os.ReadDir(dir)
	stdout := inspectMentions(t, dir, "synthetic, 1x28x28", "dcgan: prior normal, z_dim 8, width 4", "ns, ema 0.9", "step      6 of 6", "checkpoints (3):", "metrics: 6 records, steps 1 to 6", "d/loss", "g/loss")
	for _, step := range []string{"2", "4", "6"} {
		if !strings.Contains(stdout, "\n  "+strings.Repeat(" ", 7)+step+"  ") {
			t.Errorf("no row for checkpoint step %s:\n%s", step, stdout)
		}
	}
	if !strings.Contains(stdout, "latest") || strings.Count(stdout, "latest") != 1 {
		t.Errorf("want one checkpoint marked latest:\n%s", stdout)
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Errorf("inspect changed the run folder: %d entries, then %d", len(before), len(after))
	}

	code, stdout, stderr := call(runInspect, dir, "-json")
	if code != exitOK {
		t.Fatalf("-json: exit %d: %s", code, stderr)
	}
	var in struct {
		Step        int
		Checkpoints []struct {
			Step   int
			Bytes  int64
			Latest bool
			Best   bool
		}
		Metrics struct {
			Records int
			Scalars map[string]struct {
				Count          int
				Last, Min, Max float64
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if in.Step != 6 || len(in.Checkpoints) != 3 || in.Metrics.Records != 6 {
		t.Fatalf("step %d, %d checkpoints, %d records", in.Step, len(in.Checkpoints), in.Metrics.Records)
	}
	for i, c := range in.Checkpoints {
		fi, err := os.Stat(filepath.Join(dir, runfolder.CheckpointsDir, "step-00000"+string(rune('0'+c.Step))+".safetensors"))
		if err != nil || c.Step != 2*(i+1) || c.Bytes != fi.Size() || c.Latest != (i == 2) || c.Best {
			t.Errorf("checkpoint %d: %+v (file: %v)", i, c, err)
		}
	}
	if len(in.Metrics.Scalars) < 2 {
		t.Fatalf("scalars %v", in.Metrics.Scalars)
	}
	for k, s := range in.Metrics.Scalars {
		if s.Count != 6 || s.Min > s.Last || s.Last > s.Max {
			t.Errorf("%s: %+v", k, s)
		}
	}
}

// TestInspectScores builds a run by hand with scored checkpoints and a
// stale latest pointer: the best is the lowest score, the latest the
// newest file (the one loading uses), with a note on the pointer; min and
// max skip a NaN.
func TestInspectScores(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := runfolder.Create(dir, []byte(tinyRuns["dcgan"]), runfolder.Options{Keep: -1})
	if err != nil {
		t.Fatal(err)
	}
	losses := []float64{3, 1, 2}
	for i, v := range losses {
		step := i + 1
		if err := r.Log(step, map[string]float64{"fid": v, "g/loss": []float64{0.5, math.NaN(), 0.25}[i]}); err != nil {
			t.Fatal(err)
		}
		score := v
		if err := r.SaveCheckpoint(runfolder.NewCheckpoint(step), &score); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash between writing step 3 and its pointer leaves latest at 2.
	if err := os.WriteFile(filepath.Join(dir, runfolder.CheckpointsDir, runfolder.LatestFile), []byte("step-000002.safetensors\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := call(runInspect, dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	row := func(step string) string {
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == step && strings.Contains(l, " B") {
				return l
			}
		}
		t.Fatalf("no checkpoint row for step %s:\n%s", step, stdout)
		return ""
	}
	if r := row("2"); strings.Contains(r, "latest") || !strings.Contains(r, "best") {
		t.Errorf("step 2 (score 1, named by the stale pointer): %q", r)
	}
	if r := row("3"); !strings.Contains(r, "latest") || strings.Contains(r, "best") || strings.Fields(r)[3] != "2" {
		t.Errorf("step 3 (score 2, the newest): %q", r)
	}
	if want := "note: checkpoints/latest names step 2; the loading commands use step 3"; !strings.Contains(stdout, want) {
		t.Errorf("no %q:\n%s", want, stdout)
	}
	code, stdout, _ = call(runInspect, dir, "-json")
	var in struct {
		Metrics struct {
			Scalars map[string]struct{ Last, Min, Max float64 }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &in); code != exitOK || err != nil {
		t.Fatalf("-json: exit %d, %v", code, err)
	}
	if s := in.Metrics.Scalars["g/loss"]; s.Last != 0.25 || s.Min != 0.25 || s.Max != 0.5 {
		t.Errorf("g/loss with a NaN: %+v, want last 0.25, min 0.25, max 0.5", s)
	}
	if s := in.Metrics.Scalars["fid"]; s.Last != 2 || s.Min != 1 || s.Max != 3 {
		t.Errorf("fid: %+v", s)
	}
}

// TestInspectDamaged: a checkpoint whose data no longer matches its
// checksum (the header still parses) is marked damaged, as loading would
// skip it, and the latest is the newest that verifies, the one sample
// loads; a truncated one is marked too.
func TestInspectDamaged(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	ckDir := filepath.Join(dir, runfolder.CheckpointsDir)
	newest := filepath.Join(ckDir, "step-000006.safetensors")
	b := readFile(t, newest)
	copy(b[len(b)/2:], "XXXX")
	if err := os.WriteFile(newest, b, 0o644); err != nil {
		t.Fatal(err)
	}
	oldest := filepath.Join(ckDir, "step-000002.safetensors")
	if err := os.Truncate(oldest, 100); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := call(runInspect, dir, "-json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var in struct {
		Checkpoints []struct {
			Step   int
			Latest bool
			Error  string
		}
		LatestNote string `json:"latest_note"`
	}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if len(in.Checkpoints) != 3 {
		t.Fatalf("%d checkpoints, want 3:\n%s", len(in.Checkpoints), stdout)
	}
	for i, want := range []struct {
		latest bool
		err    string
	}{{false, "malformed"}, {true, ""}, {false, "content hashes to sha256"}} {
		c := in.Checkpoints[i]
		if c.Latest != want.latest || (want.err == "") != (c.Error == "") || !strings.Contains(c.Error, want.err) {
			t.Errorf("step %d: latest %v, error %q; want latest %v and an error with %q", c.Step, c.Latest, c.Error, want.latest, want.err)
		}
	}
	if want := "names step 6, which is damaged; the loading commands use step 4"; !strings.Contains(in.LatestNote, want) {
		t.Errorf("latest_note %q, want %q", in.LatestNote, want)
	}
	// The latest inspect marks is the step a loading command uses.
	code, stdout, stderr = call(runSample, dir, "-n", "1", "-out", filepath.Join(t.TempDir(), "g.png"))
	if code != exitOK || !strings.Contains(stdout, "step 4") || !strings.Contains(stderr, "content hashes to sha256") {
		t.Errorf("sample: exit %d, %q, %q; want step 4 loaded and step 6 skipped", code, stdout, stderr)
	}
	stdout = inspectMentions(t, dir, "damaged: run: corrupt checkpoint")
	if strings.Count(stdout, "  damaged: ") != 2 {
		t.Errorf("want two checkpoints marked damaged:\n%s", stdout)
	}
}

// TestInspectAverages: the files kallima average wrote are listed with
// the steps they average, a damaged one is named as such, and a run
// without any shows no such section (and an empty list in JSON).
func TestInspectAverages(t *testing.T) {
	dir := trainTiny(t, "dcgan")
	code, stdout, _ := call(runInspect, dir)
	if code != exitOK || strings.Contains(stdout, "averaged weights") {
		t.Fatalf("before averaging: exit %d, stdout:\n%s", code, stdout)
	}
	if code, _, errOut := call(runAverage, dir, "-from", "2", "-to", "6", "-bn", "2"); code != exitOK {
		t.Fatalf("average: exit %d, %s", code, errOut)
	}
	bad := filepath.Join(dir, runfolder.CheckpointsDir, "average-000002-000004.safetensors")
	if err := os.WriteFile(bad, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A checkpoint renamed to look like an average has no steps to show.
	plain, err := os.ReadFile(filepath.Join(dir, runfolder.CheckpointsDir, "step-000006.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, runfolder.CheckpointsDir, "average-000004-000006.safetensors"), plain, 0o644); err != nil {
		t.Fatal(err)
	}
	inspectMentions(t, dir, "averaged weights (3; kallima average):", "average-000002-000006.safetensors", "steps 2, 4, 6; batch norm recomputed over 2 batches\n", "average-000002-000004.safetensors", "damaged: ", "not written by kallima average")
	code, stdout, _ = call(runInspect, dir, "-json")
	var in struct {
		Checkpoints []struct{ Step int }
		Averages    []struct {
			File        string
			Bytes       int64
			Steps       []int
			NormBatches int `json:"norm_batches"`
			Error       string
		}
	}
	if err := json.Unmarshal([]byte(stdout), &in); code != exitOK || err != nil {
		t.Fatalf("-json: exit %d, %v", code, err)
	}
	if len(in.Checkpoints) != 3 || len(in.Averages) != 3 {
		t.Fatalf("%d checkpoints and %d averages, want 3 and 3:\n%s", len(in.Checkpoints), len(in.Averages), stdout)
	}
	if a := in.Averages[0]; a.Error == "" || len(a.Steps) != 0 {
		t.Errorf("damaged average reported as %+v", a)
	}
	if a := in.Averages[1]; a.Error != "" || fmt.Sprint(a.Steps) != "[2 4 6]" || a.Bytes == 0 || a.NormBatches != 2 {
		t.Errorf("average reported as %+v, want steps [2 4 6], statistics over 2 batches", a)
	}
	if a := in.Averages[2]; !strings.Contains(a.Error, "no average.steps metadata") || len(a.Steps) != 0 {
		t.Errorf("renamed checkpoint reported as %+v", a)
	}
}

// inspectMentions runs kallima inspect on dir and fails the test unless
// it succeeds and its report contains every want; it returns the report.
func inspectMentions(t *testing.T, dir string, want ...string) string {
	t.Helper()
	code, stdout, stderr := call(runInspect, dir)
	if code != exitOK {
		t.Fatalf("inspect %s: exit %d: %s", dir, code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("inspect does not mention %q:\n%s", w, stdout)
		}
	}
	return stdout
}

// TestInspectErrors: missing and non-run folders, a checkpoint or other
// file given for its run folder, bad flags, help.
func TestInspectErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{filepath.Join(t.TempDir(), "nope")}, exitUsage, "not a run folder"},
		{[]string{t.TempDir()}, exitUsage, "not a run folder"},
		{[]string{}, exitUsage, "want one run folder"},
		{[]string{"a", "b"}, exitUsage, "got 2 arguments"},
		{[]string{"-x"}, exitUsage, "-x"},
	}
	for _, c := range cases {
		code, _, stderr := call(runInspect, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
	// A file, or a folder, inside a run names the run folder to inspect.
	dir := trainTiny(t, "dcgan")
	ck := filepath.Join(dir, runfolder.CheckpointsDir, "step-000002.safetensors")
	for _, p := range []string{ck, filepath.Join(dir, runfolder.CheckpointsDir), filepath.Join(dir, runfolder.CheckpointsDir, runfolder.LatestFile)} {
		code, _, stderr := call(runInspect, p)
		if want := p + ": run: not a run folder ("; code != exitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, " in run "+dir+": inspect takes the run folder, kallima inspect "+dir+")") {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q and the run folder %s", p, code, stderr, exitUsage, want, dir)
		}
	}
	loose := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(loose, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := call(runInspect, loose); code != exitUsage || !strings.Contains(stderr, "(a file: inspect takes a run folder)") {
		t.Errorf("%s: exit %d, stderr %q", loose, code, stderr)
	}

	code, stdout, _ := call(runInspect, "-h")
	if code != exitOK || strings.Count(stdout, "Usage: kallima inspect") != 1 || !strings.Contains(stdout, "Examples:") {
		t.Errorf("-h: exit %d, stdout %q", code, stdout)
	}
}

// TestDescribeObjective: a family with its own objective (a VAE) is not
// described by the loss: section's default.
func TestDescribeObjective(t *testing.T) {
	for kind, want := range map[string]string{
		"vae":   "negative ELBO (bernoulli decoder)",
		"ae":    "reconstruction (bernoulli)",
		"dcgan": "ns",
	} {
		c, err := config.Parse(strings.NewReader("data: {kind: mnist}\nmodel: {kind: " + kind + "}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, loss := describeConfig(c); loss != want {
			t.Errorf("%s: loss line %q, want %q", kind, loss, want)
		}
	}
}

// TestTrainCandidates trains a tiny InfoGAN as two candidates through the
// command: the progress names the kept one, and inspect shows both scores
// with the kept one marked, and the run's steps continuing it.
func TestTrainCandidates(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyRuns["infogan"]), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr := call(runTrain, "-config", cfg, "-out", dir, "-set", "train.candidates=2", "-set", "train.candidate_steps=2",
		"-set", "train.candidate_metric=g/loss", "-set", "train.candidate_pick=max")
	if code != exitOK || !strings.Contains(stderr, "keeping candidate") || !strings.Contains(stderr, "candidate 2 of 2 (seed 1000007)") {
		t.Fatalf("train: exit %d:\n%s", code, stderr)
	}
	stdout := inspectMentions(t, dir, "candidates (g/loss, mean over steps 2-2; kept the highest):", "seed 7 ", "seed 1000007 ", "  kept", "step      4 of 4", "metrics: 4 records, steps 1 to 4")
	if strings.Count(stdout, "  kept") != 1 {
		t.Errorf("want one candidate kept:\n%s", stdout)
	}

	// Two rounds: three candidates to step 2, two finalists to step 4.
	dir = filepath.Join(t.TempDir(), "run2")
	code, _, stderr = call(runTrain, "-config", cfg, "-out", dir, "-set", "train.steps=6", "-set", "train.candidates=3", "-set", "train.candidate_steps=2",
		"-set", "train.candidate_metric=g/loss", "-set", "train.finalists=2", "-set", "train.finalist_steps=4")
	if code != exitOK || !strings.Contains(stderr, "finalist 2 of 2, candidate ") || !strings.Contains(stderr, "training on from step 4 to 6") {
		t.Fatalf("train with finalists: exit %d:\n%s", code, stderr)
	}
	code, stdout, stderr = call(runInspect, dir)
	if code != exitOK || !strings.Contains(stdout, "2 finalists, mean over steps 4-4; kept the lowest") ||
		strings.Count(stdout, "  finalist ") != 2 || strings.Count(stdout, "  kept") != 1 || !strings.Contains(stdout, "step      6 of 6") {
		t.Errorf("inspect with finalists: exit %d %s:\n%s", code, stderr, stdout)
	}
}
