package run

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
	"github.com/kallima-gan/kallima/tfevents"
)

// testCheckpoint is a small checkpoint whose content depends on step.
func testCheckpoint(step int) *Checkpoint {
	ck := NewCheckpoint(step)
	rng := tensor.NewRNG(uint64(step))
	ck.Tensors["g/fc.weight"] = rng.Normal(0, 1, 4, 3)
	ck.Tensors["g/fc.bias"] = rng.Normal(0, 1, 4)
	ck.Tensors["opt_g/adam.step"] = tensor.Scalar(float32(step))
	ck.PutRNG("noise", rng)
	ck.Meta["note"] = "hello"
	return ck
}

func score(v float64) *float64 { return &v }

// steps returns the steps of the run's checkpoint files.
func steps(t *testing.T, r *Run) []int {
	t.Helper()
	infos, err := r.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	var s []int
	for _, in := range infos {
		if in.Err != nil {
			t.Errorf("%s: %v", in.Path, in.Err)
		}
		s = append(s, in.Step)
	}
	return s
}

func latestName(t *testing.T, r *Run) string {
	t.Helper()
	return strings.TrimSpace(readFile(t, filepath.Join(r.Dir(), CheckpointsDir, LatestFile)))
}

// TestCheckpointSyncsEvents logs steps and saves a checkpoint, then reads
// the event file without closing the run, as a resume after kill -9 would
// find it: every logged step is in it (a resume never logs them again).
func TestCheckpointSyncsEvents(t *testing.T) {
	r := newRun(t, Options{Warn: io.Discard})
	for step := 1; step <= 5; step++ {
		if err := r.Log(step, map[string]float64{"g/loss": float64(step) / 4}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.SaveCheckpoint(testCheckpoint(5), nil); err != nil {
		t.Fatal(err)
	}
	ev, err := r.Events()
	if err != nil {
		t.Fatal(err)
	}
	events, err := tfevents.ReadFile(ev.Path())
	if err != nil {
		t.Fatal(err)
	}
	last := int64(0)
	for _, e := range events {
		for _, v := range e.Values {
			if v.Tag == "g/loss" && v.Scalar == float32(e.Step)/4 {
				last = max(last, e.Step)
			}
		}
	}
	if last != 5 {
		t.Fatalf("event file holds g/loss up to step %d (%d events) at the checkpoint of step 5", last, len(events))
	}
}

// TestRetention checks which checkpoints survive: the newest Keep, the
// best by score (lower is better; NaN never best; ties to the later one),
// and always the latest.
func TestRetention(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		keep   int
		scores []float64 // score of the save at step 100*(i+1); Inf means none
		want   []int
		best   int // step LoadBest returns; 0: ErrNoCheckpoint
	}{
		{"keep 2, no scores", 2, []float64{inf, inf, inf, inf, inf}, []int{400, 500}, 0},
		{"keep 2, best is old", 2, []float64{5, 1, 4, 3, 6}, []int{200, 400, 500}, 200},
		{"keep 1, best is the latest", 1, []float64{3, 2, 1}, []int{300}, 300},
		{"keep 1, best then worse", 1, []float64{3, 1, 2, 4}, []int{200, 400}, 200},
		{"keep 1, NaN is never best", 1, []float64{2, nan, nan}, []int{100, 300}, 100},
		{"keep 1, ties go to the later", 1, []float64{1, 1, 5, 5}, []int{200, 400}, 200},
		{"keep 1, scores after unscored", 1, []float64{inf, inf, 7, inf}, []int{300, 400}, 300},
		{"keep 0 means DefaultKeep", 0, []float64{inf, inf, inf, inf, inf}, []int{300, 400, 500}, 0},
		{"keep -1 keeps all", -1, []float64{9, 8, 7, 6}, []int{100, 200, 300, 400}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, warn := quiet(tt.keep)
			r := newRun(t, opts)
			for i, s := range tt.scores {
				var sc *float64
				if !math.IsInf(s, 1) {
					sc = score(s)
				}
				if err := r.SaveCheckpoint(testCheckpoint(100*(i+1)), sc); err != nil {
					t.Fatal(err)
				}
			}
			if got := steps(t, r); !slices.Equal(got, tt.want) {
				t.Errorf("checkpoints at steps %v, want %v", got, tt.want)
			}
			if got, want := latestName(t, r), checkpointName(100*len(tt.scores)); got != want {
				t.Errorf("latest = %q, want %q", got, want)
			}
			b, err := r.LoadBest()
			switch {
			case tt.best == 0 && !errors.Is(err, ErrNoCheckpoint):
				t.Errorf("LoadBest: %v, want ErrNoCheckpoint", err)
			case tt.best != 0 && (err != nil || b.Step != tt.best):
				t.Errorf("LoadBest: %v, %v; want step %d", b, err, tt.best)
			}
			infos, _ := r.Checkpoints()
			for _, in := range infos {
				s := tt.scores[in.Step/100-1]
				if (in.Score == nil) != math.IsInf(s, 1) || in.Score != nil && !(*in.Score == s || math.IsNaN(s) && math.IsNaN(*in.Score)) {
					t.Errorf("step %d: score %v, saved %v", in.Step, in.Score, s)
				}
			}
			if warn.Len() != 0 {
				t.Errorf("unexpected warnings: %s", warn)
			}
		})
	}
}

var inf = math.Inf(1)

// TestLoadLatestCorrupt damages the newest of three checkpoints in several
// ways and checks that LoadLatest detects it, reports it (a skipped error
// wrapping ErrCorrupt and a warning naming the file) and returns the
// previous checkpoint, intact.
func TestLoadLatestCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		format bool // the error also wraps safetensors.ErrFormat
	}{
		{"flip a data bit", func(t *testing.T, path string) { flip(t, path, -1, 0x80) }, false},
		{"flip a low data bit", func(t *testing.T, path string) { flip(t, path, -7, 0x01) }, false},
		{"flip a metadata byte", func(t *testing.T, path string) { flip(t, path, index(t, path, `"hello"`)+1, 0x01) }, false},
		{"flip an RNG state byte", func(t *testing.T, path string) { flip(t, path, index(t, path, `"rng/noise":"`)+14, 0x02) }, false},
		{"change a shape", func(t *testing.T, path string) { replace(t, path, `"shape":[4,3]`, `"shape":[3,4]`) }, false},
		{"flip the header length", func(t *testing.T, path string) { flip(t, path, 0, 0x08) }, true},
		{"truncate to half", func(t *testing.T, path string) { truncate(t, path, 0.5) }, true},
		{"truncate the last byte", func(t *testing.T, path string) { truncateBy(t, path, 1) }, true},
		{"empty file", func(t *testing.T, path string) { truncate(t, path, 0) }, true},
		{"no checksum", func(t *testing.T, path string) {
			f, err := safetensors.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			delete(f.Metadata, metaSum)
			if err := f.Save(path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"checksum of other content", func(t *testing.T, path string) {
			f, err := safetensors.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			f.Tensors["g/fc.bias"].Data()[0] += 1
			if err := f.Save(path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"wrong step for its name", func(t *testing.T, path string) {
			if err := os.Rename(filepath.Join(filepath.Dir(path), checkpointName(200)), path); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, warn := quiet(-1)
			r := newRun(t, opts)
			for _, step := range []int{100, 200, 300} {
				if err := r.SaveCheckpoint(testCheckpoint(step), nil); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(r.Dir(), CheckpointsDir, checkpointName(300))
			tt.damage(t, path)
			_, err := LoadCheckpoint(path)
			if !errors.Is(err, ErrCorrupt) || errors.Is(err, safetensors.ErrFormat) != tt.format {
				t.Fatalf("LoadCheckpoint of the damaged file: %v (want ErrCorrupt, ErrFormat %v)", err, tt.format)
			}
			ck, skipped, err := r.LoadLatest()
			if err != nil {
				t.Fatal(err)
			}
			if ck.Step != 200 && tt.name != "wrong step for its name" || ck.Step != 100 && tt.name == "wrong step for its name" {
				t.Errorf("LoadLatest returned step %d", ck.Step)
			}
			want := testCheckpoint(ck.Step)
			if diff := sameBits(ck.Tensors, want.Tensors); diff != "" || ck.Meta["rng/noise"] != want.Meta["rng/noise"] {
				t.Errorf("fallback checkpoint differs from the saved one: %s", diff)
			}
			if len(skipped) != 1 || !errors.Is(skipped[0], ErrCorrupt) || !strings.Contains(skipped[0].Error(), checkpointName(300)) {
				t.Errorf("skipped = %v, want one ErrCorrupt naming %s", skipped, checkpointName(300))
			}
			if w := warn.String(); !strings.Contains(w, checkpointName(300)) || !strings.Contains(w, "instead") {
				t.Errorf("warning %q does not name the skipped file and the fallback", w)
			}
		})
	}
}

// TestLoadCheckpointFollowsLatest: LoadCheckpoint of checkpoints/latest
// loads the file the pointer names (even when a newer one exists); a
// damaged target or a pointer naming no checkpoint is an error that says
// what the pointer is, never a safetensors parse of the pointer itself.
func TestLoadCheckpointFollowsLatest(t *testing.T) {
	opts, _ := quiet(-1)
	r := newRun(t, opts)
	for _, step := range []int{100, 200} {
		if err := r.SaveCheckpoint(testCheckpoint(step), nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(r.Dir(), CheckpointsDir)
	latest := filepath.Join(dir, LatestFile)
	ck, err := LoadCheckpoint(latest)
	if err != nil || ck.Step != 200 {
		t.Fatalf("LoadCheckpoint(latest): %v, %v; want step 200", ck, err)
	}
	if p, err := FollowLatest(latest); err != nil || p != filepath.Join(dir, checkpointName(200)) {
		t.Errorf("FollowLatest = %q, %v", p, err)
	}
	if p, err := FollowLatest(filepath.Join(dir, checkpointName(100))); err != nil || p != filepath.Join(dir, checkpointName(100)) {
		t.Errorf("FollowLatest of a checkpoint file = %q, %v; want it unchanged", p, err)
	}
	// A stale pointer: the file it names, not the newest.
	if err := os.WriteFile(latest, []byte(checkpointName(100)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ck, err := LoadCheckpoint(latest); err != nil || ck.Step != 100 {
		t.Errorf("stale pointer: %v, %v; want step 100", ck, err)
	}
	flip(t, filepath.Join(dir, checkpointName(100)), -1, 0x80)
	_, err = LoadCheckpoint(latest)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "points to "+checkpointName(100)) || !strings.Contains(err.Error(), "run folder") {
		t.Errorf("damaged target: %v, want ErrCorrupt naming the target and the run folder", err)
	}
	if err := os.WriteFile(latest, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCheckpoint(latest)
	if err == nil || !strings.Contains(err.Error(), "pointer to its newest checkpoint") || strings.Contains(err.Error(), "header length") {
		t.Errorf("garbage pointer: %v, want an error saying it is the run's pointer", err)
	}
}

// TestLoadLatestFallsBackTwice damages the two newest checkpoints, then all
// of them.
func TestLoadLatestFallsBackTwice(t *testing.T) {
	opts, _ := quiet(-1)
	r := newRun(t, opts)
	if _, _, err := r.LoadLatest(); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("LoadLatest of a run without checkpoints: %v, want ErrNoCheckpoint", err)
	}
	for _, step := range []int{100, 200, 300} {
		if err := r.SaveCheckpoint(testCheckpoint(step), nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(r.Dir(), CheckpointsDir)
	flip(t, filepath.Join(dir, checkpointName(300)), -1, 0x80)
	truncate(t, filepath.Join(dir, checkpointName(200)), 0.9)
	ck, skipped, err := r.LoadLatest()
	if err != nil || ck.Step != 100 || len(skipped) != 2 {
		t.Fatalf("LoadLatest: step %v, skipped %v, err %v; want step 100 and 2 skipped", ck, skipped, err)
	}
	flip(t, filepath.Join(dir, checkpointName(100)), -2, 0x10)
	ck, skipped, err = r.LoadLatest()
	if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNoCheckpoint) || ck != nil || len(skipped) != 3 {
		t.Errorf("LoadLatest with every checkpoint damaged: %v, %d skipped, %v; want ErrCorrupt", ck, len(skipped), err)
	}
}

// TestCrashBeforeLatest simulates a crash after a checkpoint file became
// durable but before `latest` was updated, and one during the write of a
// checkpoint (a temporary file left behind): the reopened run resumes from
// the newest complete checkpoint, cleans up the temporary file and goes on
// saving.
func TestCrashBeforeLatest(t *testing.T) {
	opts, warn := quiet(2)
	r := newRun(t, opts)
	if err := r.SaveCheckpoint(testCheckpoint(100), score(3)); err != nil {
		t.Fatal(err)
	}
	// The first half of SaveCheckpoint(200): the file, not the pointer.
	dir := filepath.Join(r.Dir(), CheckpointsDir)
	f, err := encode(testCheckpoint(200), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(filepath.Join(dir, checkpointName(200))); err != nil {
		t.Fatal(err)
	}
	// An interrupted write of step 300.
	tmp := filepath.Join(dir, "."+checkpointName(300)+".tmp123456")
	writeFile(t, tmp, "partial")
	r.Close()

	r, err = Open(r.Dir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if latestName(t, r) != checkpointName(100) {
		t.Fatalf("the simulated crash did not leave latest lagging: %q", latestName(t, r))
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("Open left the temporary file %s: %v", tmp, err)
	}
	ck, skipped, err := r.Resume()
	if err != nil || ck.Step != 200 || len(skipped) != 0 {
		t.Fatalf("Resume: %v, %v, %v; want step 200, nothing skipped", ck, skipped, err)
	}
	if diff := sameBits(ck.Tensors, testCheckpoint(200).Tensors); diff != "" {
		t.Error(diff)
	}
	if got := latestName(t, r); got != checkpointName(200) {
		t.Errorf("after Resume latest = %q, want %q", got, checkpointName(200))
	}
	for _, step := range []int{300, 400} {
		if err := r.SaveCheckpoint(testCheckpoint(step), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Keep 2 plus the best (step 100, score 3).
	if got := steps(t, r); !slices.Equal(got, []int{100, 300, 400}) {
		t.Errorf("checkpoints %v, want [100 300 400]", got)
	}
	if warn.Len() != 0 {
		t.Errorf("unexpected warnings: %s", warn)
	}

	// A pointer to a file that is gone is reported, and scanning still works.
	if err := os.WriteFile(filepath.Join(dir, LatestFile), []byte(checkpointName(900)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ck, skipped, err = r.LoadLatest()
	if err != nil || ck.Step != 400 || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), checkpointName(900)) {
		t.Errorf("LoadLatest with a dangling pointer: %v, %v, %v", ck, skipped, err)
	}
}

// TestRewind checks that saving an older step is refused until the run is
// rewound, and that Rewind and Resume drop the metrics logged after the
// step and set later checkpoints aside.
func TestRewind(t *testing.T) {
	opts, warn := quiet(-1)
	r := newRun(t, opts)
	for step := 50; step <= 300; step += 50 {
		if err := r.Log(step, map[string]float64{"x": float64(step)}); err != nil {
			t.Fatal(err)
		}
		if step%100 == 0 {
			if err := r.SaveCheckpoint(testCheckpoint(step), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.SaveCheckpoint(testCheckpoint(250), nil); !errors.Is(err, ErrStepOrder) {
		t.Errorf("saving step 250 after 300: %v, want ErrStepOrder", err)
	}
	if err := r.SaveCheckpoint(testCheckpoint(300), score(1)); err != nil {
		t.Errorf("saving step 300 again: %v", err)
	}
	dir := filepath.Join(r.Dir(), CheckpointsDir)
	flip(t, filepath.Join(dir, checkpointName(300)), -1, 0x80)
	if err := r.Log(350, map[string]float64{"x": 350}); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(r.Dir(), MetricsFile), `{"step":4`) // and a torn line

	ck, skipped, err := r.Resume()
	if err != nil || ck.Step != 200 || len(skipped) != 1 {
		t.Fatalf("Resume: %v, %v, %v; want step 200, one skipped", ck, skipped, err)
	}
	if got := metricSteps(t, r); !slices.Equal(got, []int{50, 100, 150, 200}) {
		t.Errorf("metrics after Resume at steps %v", got)
	}
	if got := steps(t, r); !slices.Equal(got, []int{100, 200}) {
		t.Errorf("checkpoints after Resume %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, checkpointName(300)+".discarded")); err != nil {
		t.Errorf("the damaged checkpoint was not set aside: %v", err)
	}
	if latestName(t, r) != checkpointName(200) {
		t.Errorf("latest = %q", latestName(t, r))
	}
	if !strings.Contains(warn.String(), "discarded") {
		t.Errorf("no warning about the discarded checkpoint: %q", warn)
	}
	// Training goes on from 200 and logs after it again.
	if err := r.Log(250, map[string]float64{"x": 250}); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveCheckpoint(testCheckpoint(250), nil); err != nil {
		t.Fatal(err)
	}
	if got := metricSteps(t, r); !slices.Equal(got, []int{50, 100, 150, 200, 250}) {
		t.Errorf("metrics after logging again at steps %v", got)
	}
	if err := r.Rewind(-1); err != nil {
		t.Fatal(err)
	}
	if got := metricSteps(t, r); len(got) != 0 {
		t.Errorf("metrics after Rewind(-1): %v", got)
	}
	if got := steps(t, r); len(got) != 0 {
		t.Errorf("checkpoints after Rewind(-1): %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, LatestFile)); !os.IsNotExist(err) {
		t.Errorf("latest after Rewind(-1): %v", err)
	}
	if _, _, err := r.Resume(); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("Resume with no checkpoint: %v", err)
	}
}

func metricSteps(t *testing.T, r *Run) []int {
	t.Helper()
	recs, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	var s []int
	for _, rec := range recs {
		s = append(s, rec.Step)
	}
	return s
}

// flip XORs the byte at offset (negative: from the end) of the file with mask.
func flip(t *testing.T, path string, offset int, mask byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if offset < 0 {
		offset += len(b)
	}
	b[offset] ^= mask
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// index returns the offset of s in the file, failing if it is absent.
func index(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		t.Fatalf("%s does not contain %q", path, s)
	}
	return i
}

func replace(t *testing.T, path, old, new string) {
	t.Helper()
	index(t, path, old)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// truncate cuts the file to frac of its length.
func truncate(t *testing.T, path string, frac float64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(frac*float64(fi.Size()))); err != nil {
		t.Fatal(err)
	}
}

func truncateBy(t *testing.T, path string, n int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-n); err != nil {
		t.Fatal(err)
	}
}
