package run

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// Reserved metadata keys of a checkpoint file.
const (
	metaFormat = "run.format" // formatVersion
	metaStep   = "run.step"   // Checkpoint.Step, decimal
	metaScore  = "run.score"  // the score given to SaveCheckpoint, if any
	metaSum    = "run.sha256" // see SaveCheckpoint

	formatVersion = "kallima-checkpoint-1"
	reserved      = "run."
)

var (
	// ErrCorrupt is wrapped by the errors of a checkpoint file that cannot
	// be trusted: truncated, malformed (these also wrap
	// safetensors.ErrFormat), without a checksum, or whose content does not
	// match its checksum.
	ErrCorrupt = errors.New("run: corrupt checkpoint")
	// ErrNoCheckpoint: the run has no checkpoint (or, for LoadBest, none
	// with a score).
	ErrNoCheckpoint = errors.New("run: no checkpoint")
	// ErrStepOrder: SaveCheckpoint was asked to save a step older than the
	// run's newest checkpoint; Rewind first to continue from an earlier step.
	ErrStepOrder = errors.New("run: checkpoint older than the newest one")
)

// Info describes a checkpoint file of a run, from its name and header.
type Info struct {
	Step int
	Path string
	// Score is the score it was saved with, nil if none.
	Score *float64
	// Err is set when the header cannot be read: the file is damaged (its
	// content is only verified by LoadCheckpoint).
	Err error
}

// checkpointName returns the file name of the checkpoint at step.
func checkpointName(step int) string { return fmt.Sprintf("step-%06d.safetensors", step) }

// parseCheckpointName returns the step of a checkpoint file name
// "step-<digits>.safetensors".
func parseCheckpointName(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "step-")
	if !ok {
		return 0, false
	}
	digits, ok = strings.CutSuffix(digits, ".safetensors")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	step, err := strconv.Atoi(digits)
	return step, err == nil
}

// encode returns the file for ck with its bookkeeping metadata and checksum.
func encode(ck *Checkpoint, score *float64) (*safetensors.File, error) {
	if ck.Step < 0 {
		return nil, fmt.Errorf("run: checkpoint step %d is negative", ck.Step)
	}
	meta := make(map[string]string, len(ck.Meta)+4)
	for k, v := range ck.Meta {
		if strings.HasPrefix(k, reserved) {
			return nil, fmt.Errorf("run: checkpoint metadata key %q is reserved (prefix %q)", k, reserved)
		}
		meta[k] = v
	}
	meta[metaFormat] = formatVersion
	meta[metaStep] = strconv.Itoa(ck.Step)
	if score != nil {
		meta[metaScore] = strconv.FormatFloat(*score, 'g', -1, 64)
	}
	f := &safetensors.File{Tensors: ck.Tensors, Metadata: meta}
	sum, err := digest(f)
	if err != nil {
		return nil, fmt.Errorf("run: checkpoint at step %d: %w", ck.Step, err)
	}
	meta[metaSum] = sum
	return f, nil
}

// digest returns the hex SHA-256 of f's safetensors serialization, which is
// deterministic (see package safetensors).
func digest(f *safetensors.File) (string, error) {
	h := sha256.New()
	if _, err := f.WriteTo(h); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// corrupt returns an error wrapping ErrCorrupt.
func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("%w %s: %s", ErrCorrupt, path, fmt.Sprintf(format, args...))
}

// LoadCheckpoint reads and verifies the checkpoint file at path. The file's
// "run.sha256" metadata is the SHA-256 of the file as it would be written
// without that key (Kallima's safetensors writer is deterministic), so it
// covers the tensor data, names, shapes and every other metadata entry; a
// file that fails to parse, lacks the checksum or does not match it gives
// an error wrapping ErrCorrupt. So does a file named step-N.safetensors
// whose recorded step is not N. The returned Meta holds no "run." keys.
//
// path may also be a run's checkpoints/latest pointer, which is followed
// to the file it names (see FollowLatest); that file is loaded as it is,
// with no fallback to an older one (give the run folder for that).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	target, err := FollowLatest(path)
	if err != nil {
		return nil, err
	}
	if target == path {
		return loadCheckpoint(path)
	}
	ck, err := loadCheckpoint(target)
	if err != nil {
		return nil, fmt.Errorf("run: %s points to %s, which does not load (the run folder gives its newest checkpoint that verifies): %w",
			path, filepath.Base(target), err)
	}
	return ck, nil
}

// maxPointerSize bounds a checkpoints/latest pointer, which holds one file
// name; a bigger file named "latest" is not taken for one.
const maxPointerSize = 256

// FollowLatest returns the checkpoint file named by a run's
// checkpoints/latest pointer when path is one (a small file named
// "latest"), and path itself otherwise, so that every command taking a
// checkpoint file takes the pointer too. A pointer that does not hold a
// checkpoint name is an error saying what the file is.
func FollowLatest(path string) (string, error) {
	if filepath.Base(path) != LatestFile {
		return path, nil
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxPointerSize {
		return path, nil // not a pointer; loading it gives the error
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("run: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if _, ok := parseCheckpointName(name); !ok {
		return "", fmt.Errorf("run: %s is a run's pointer to its newest checkpoint, not a checkpoint, and it holds %q instead of a checkpoint name: give the run folder or a step-N.safetensors file",
			path, name)
	}
	return filepath.Join(filepath.Dir(path), name), nil
}

// loadCheckpoint is LoadCheckpoint of a checkpoint file.
func loadCheckpoint(path string) (*Checkpoint, error) {
	f, err := safetensors.Load(path)
	if errors.Is(err, safetensors.ErrFormat) {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	want, ok := f.Metadata[metaSum]
	if !ok {
		return nil, corrupt(path, "no %s checksum in its metadata", metaSum)
	}
	delete(f.Metadata, metaSum)
	got, err := digest(f)
	if err != nil {
		return nil, corrupt(path, "%v", err)
	}
	if got != want {
		return nil, corrupt(path, "content hashes to sha256 %.12s…, the file records %.12s…", got, want)
	}
	if v := f.Metadata[metaFormat]; v != formatVersion {
		return nil, fmt.Errorf("run: %s: checkpoint format %q, want %q", path, v, formatVersion)
	}
	step, err := strconv.Atoi(f.Metadata[metaStep])
	if err != nil || step < 0 {
		return nil, corrupt(path, "invalid %s %q", metaStep, f.Metadata[metaStep])
	}
	if n, ok := parseCheckpointName(filepath.Base(path)); ok && n != step {
		return nil, corrupt(path, "file name says step %d, content says %d", n, step)
	}
	ck := &Checkpoint{Step: step, Tensors: f.Tensors, Meta: map[string]string{}}
	if ck.Tensors == nil {
		ck.Tensors = map[string]*tensor.Tensor{}
	}
	for k, v := range f.Metadata {
		if !strings.HasPrefix(k, reserved) {
			ck.Meta[k] = v
		}
	}
	return ck, nil
}

// WriteCheckpoint writes ck to path outside a run's sequence of steps (an
// average of checkpoints, for example), in the format and with the
// checksum SaveCheckpoint gives, so LoadCheckpoint verifies it. Nothing
// else changes: a run's latest pointer, pruning and resuming see only
// files named step-N.safetensors, and WriteCheckpoint refuses such a name
// so that a run's own steps are never overwritten.
func WriteCheckpoint(path string, ck *Checkpoint) error {
	if _, ok := parseCheckpointName(filepath.Base(path)); ok {
		return fmt.Errorf("run: write checkpoint %s: step-N names are the run's own checkpoints; give another name", path)
	}
	f, err := encode(ck, nil)
	if err != nil {
		return err
	}
	if err := f.Save(path); err != nil {
		return fmt.Errorf("run: write checkpoint: %w", err)
	}
	return nil
}

// listCheckpoints returns the checkpoint files in dir by ascending step,
// without reading them.
func listCheckpoints(dir string) ([]Info, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var infos []Info
	for _, e := range entries {
		if step, ok := parseCheckpointName(e.Name()); ok && e.Type().IsRegular() {
			infos = append(infos, Info{Step: step, Path: filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(infos, func(a, b Info) int { return cmp.Compare(a.Step, b.Step) })
	return infos, nil
}

// readScores fills in the scores of infos from the files' headers.
func readScores(infos []Info) {
	for i := range infos {
		h, err := safetensors.LoadHeader(infos[i].Path)
		if err != nil {
			infos[i].Err = err
			continue
		}
		if s, ok := h.Metadata[metaScore]; ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				infos[i].Err = corrupt(infos[i].Path, "invalid %s %q", metaScore, s)
				continue
			}
			infos[i].Score = &v
		}
	}
}

// best returns the index of the checkpoint with the lowest score (NaN
// scores never win; ties go to the later step), or -1.
func best(infos []Info) int {
	b := -1
	for i, in := range infos {
		if in.Score == nil || math.IsNaN(*in.Score) {
			continue
		}
		if b < 0 || *in.Score <= *infos[b].Score {
			b = i
		}
	}
	return b
}

func (r *Run) checkpointsDir() string { return filepath.Join(r.dir, CheckpointsDir) }

// Checkpoints lists the run's checkpoint files by ascending step, with the
// scores recorded in their headers.
func (r *Run) Checkpoints() ([]Info, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	infos, err := listCheckpoints(r.checkpointsDir())
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	readScores(infos)
	return infos, nil
}

// SaveCheckpoint writes ck to checkpoints/step-NNNNNN.safetensors, with
// score (lower is better, such as FID; nil for none) recorded for choosing
// the best checkpoint. In order, it syncs metrics.jsonl and the TensorBoard
// event file (every step up to the checkpoint is in both), writes the file
// atomically (safetensors.File.Save: temporary file, fsync, rename, fsync
// of the folder), points checkpoints/latest at it (atomically as well, and
// only once the checkpoint is durable), then deletes all but the newest
// Options.Keep checkpoints and the best-scoring one; a pruning failure is
// reported to Options.Warn, not returned.
//
// Besides ck.Meta, the file's metadata holds "run.format", "run.step",
// "run.score" and "run.sha256" (see LoadCheckpoint); ck.Meta keys starting
// with "run." are an error. Saving the step of an existing checkpoint
// replaces it; saving a step older than the newest checkpoint is an error
// wrapping ErrStepOrder (Rewind first). It panics if ck is nil.
func (r *Run) SaveCheckpoint(ck *Checkpoint, score *float64) error {
	if ck == nil {
		panic("run.Run.SaveCheckpoint: nil checkpoint")
	}
	f, err := encode(ck, score)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	dir := r.checkpointsDir()
	infos, err := listCheckpoints(dir)
	if err != nil {
		return fmt.Errorf("run: save checkpoint: %w", err)
	}
	if n := len(infos); n > 0 && infos[n-1].Step > ck.Step {
		return fmt.Errorf("%w: step %d, but %s exists (Rewind to continue from an earlier step)",
			ErrStepOrder, ck.Step, filepath.Base(infos[n-1].Path))
	}
	if err := r.metrics.Sync(); err != nil {
		return fmt.Errorf("run: save checkpoint: %w", err)
	}
	// A run resumed from this checkpoint never logs its steps again, so
	// TensorBoard's records of them must be on disk before it is.
	if r.events != nil {
		if err := r.events.Sync(); err != nil {
			return fmt.Errorf("run: save checkpoint: %w", err)
		}
	}
	name := checkpointName(ck.Step)
	if err := f.Save(filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("run: save checkpoint: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, LatestFile), []byte(name+"\n")); err != nil {
		return fmt.Errorf("run: checkpoint %s saved, but updating %s: %w", name, LatestFile, err)
	}
	r.prune(ck.Step)
	return nil
}

// prune deletes the checkpoints that are neither among the newest
// Options.Keep, nor the best, nor the one at step latest. The caller holds
// r.mu.
func (r *Run) prune(latest int) {
	keep := r.opts.keep()
	if keep < 0 {
		return
	}
	dir := r.checkpointsDir()
	infos, err := listCheckpoints(dir)
	if err != nil {
		r.warnf("pruning checkpoints: %v", err)
		return
	}
	readScores(infos)
	b := best(infos)
	removed := false
	for i, in := range infos {
		if i >= len(infos)-keep || i == b || in.Step == latest {
			continue
		}
		if err := os.Remove(in.Path); err != nil {
			r.warnf("pruning checkpoints: %v", err)
			continue
		}
		removed = true
	}
	if removed {
		syncDir(dir)
	}
}

// readLatest returns the step named by checkpoints/latest.
func readLatest(dir string) (step int, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, LatestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	step, ok = parseCheckpointName(strings.TrimSpace(string(b)))
	if !ok {
		return 0, false, fmt.Errorf("%s holds %q, not a checkpoint name", LatestFile, b)
	}
	return step, true, nil
}

// LoadLatest returns the newest checkpoint that verifies (see
// LoadCheckpoint). Newer checkpoints that do not verify are skipped, each
// reported in skipped and to Options.Warn; so is a `latest` pointer that
// names a missing file. A `latest` pointer that lags behind a newer good
// file (a crash between the two writes) is not a problem: files are
// scanned, and the pointer serves people and other tools. With no
// checkpoint at all, err wraps ErrNoCheckpoint; when none verifies, it
// wraps ErrCorrupt.
func (r *Run) LoadLatest() (ck *Checkpoint, skipped []error, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loadLatest()
}

func (r *Run) loadLatest() (*Checkpoint, []error, error) {
	dir := r.checkpointsDir()
	infos, err := listCheckpoints(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("run: %w", err)
	}
	var skipped []error
	skip := func(err error) {
		skipped = append(skipped, err)
		r.warnf("skipping a checkpoint: %v", err)
	}
	latest, ok, err := readLatest(dir)
	switch {
	case err != nil:
		skip(fmt.Errorf("run: %w", err))
	case ok && !slices.ContainsFunc(infos, func(in Info) bool { return in.Step == latest }):
		skip(fmt.Errorf("run: %s names %s, which does not exist", LatestFile, checkpointName(latest)))
	}
	if len(infos) == 0 {
		return nil, skipped, fmt.Errorf("%w in %s", ErrNoCheckpoint, dir)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		ck, err := LoadCheckpoint(infos[i].Path)
		if err == nil {
			if len(skipped) > 0 {
				r.warnf("resuming from %s instead", filepath.Base(infos[i].Path))
			}
			return ck, skipped, nil
		}
		skip(err)
	}
	return nil, skipped, fmt.Errorf("%w: none of the %d checkpoints in %s verifies", ErrCorrupt, len(infos), dir)
}

// Load returns the run's checkpoint at step, verified.
func (r *Run) Load(step int) (*Checkpoint, error) {
	return LoadCheckpoint(filepath.Join(r.checkpointsDir(), checkpointName(step)))
}

// LoadBest returns the checkpoint with the lowest score, verified; err wraps
// ErrNoCheckpoint if no checkpoint has a score.
func (r *Run) LoadBest() (*Checkpoint, error) {
	infos, err := r.Checkpoints()
	if err != nil {
		return nil, err
	}
	b := best(infos)
	if b < 0 {
		return nil, fmt.Errorf("%w with a score in %s", ErrNoCheckpoint, r.checkpointsDir())
	}
	return LoadCheckpoint(infos[b].Path)
}

// Rewind makes the run continue from step: records logged after step are
// removed from metrics.jsonl, checkpoints after step are renamed to
// "<name>.discarded" (kept for inspection, ignored by the run), and
// checkpoints/latest names the newest checkpoint left. Rewind(-1) empties
// the metrics and sets every checkpoint aside. TensorBoard event files are
// left as they are.
func (r *Run) Rewind(step int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return r.rewind(step)
}

func (r *Run) rewind(step int) error {
	if err := r.rewindMetrics(step); err != nil {
		return fmt.Errorf("run: rewind to step %d: %w", step, err)
	}
	dir := r.checkpointsDir()
	infos, err := listCheckpoints(dir)
	if err != nil {
		return fmt.Errorf("run: rewind to step %d: %w", step, err)
	}
	newest := -1
	for _, in := range infos {
		if in.Step <= step {
			newest = in.Step
			continue
		}
		if err := os.Rename(in.Path, in.Path+".discarded"); err != nil {
			return fmt.Errorf("run: rewind to step %d: %w", step, err)
		}
		r.warnf("rewinding to step %d: set %s aside as %s.discarded", step, filepath.Base(in.Path), filepath.Base(in.Path))
	}
	latest := filepath.Join(dir, LatestFile)
	if newest >= 0 {
		err = writeAtomic(latest, []byte(checkpointName(newest)+"\n"))
	} else if err = os.Remove(latest); errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("run: rewind to step %d: %w", step, err)
	}
	return syncDir(dir)
}

// Resume loads the newest checkpoint that verifies (LoadLatest) and rewinds
// the run to its step (Rewind), so that the steps the resumed training
// repeats are not logged twice and damaged newer checkpoints are set aside.
// On an error from LoadLatest nothing is changed.
func (r *Run) Resume() (ck *Checkpoint, skipped []error, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, nil, ErrClosed
	}
	ck, skipped, err = r.loadLatest()
	if err != nil {
		return nil, skipped, err
	}
	if err := r.rewind(ck.Step); err != nil {
		return nil, skipped, err
	}
	return ck, skipped, nil
}
