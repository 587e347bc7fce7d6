package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/run"
)

// metaClassNames is the checkpoint meta key of the data's class names (a
// JSON list), so a multi-domain translator knows its domains' names
// without the data.
const metaClassNames = "data.class_names"

// putClassNames records the data's class names in ck's meta.
func putClassNames(ck *run.Checkpoint, names []string) {
	if len(names) == 0 {
		return
	}
	b, err := json.Marshal(names)
	if err != nil {
		return // a []string always marshals
	}
	ck.Meta[metaClassNames] = string(b)
}

// Translator is a trained image-to-image model of any family loaded from
// a run's checkpoint, in evaluation mode (batch norm uses its running
// statistics, dropout is off).
type Translator struct {
	Config config.Config
	// Translator is the family's translator, with the loaded weights.
	Translator family.Translator
	// Step is the checkpoint's step and Path its file.
	Step int
	Path string
	// Weights is WeightsEMA or WeightsG.
	Weights string
}

// LoadTranslator loads the translator of a run: path is the run's folder
// (its newest checkpoint that verifies; newer ones that do not are
// skipped and returned in skipped) or a checkpoint file inside the run's
// checkpoints folder. The run is read, never changed. With raw false it
// uses the EMA of the generator player's weights when the run keeps one
// (train.ema > 0), else the live weights; with raw true always the live
// ones. A run whose model does not translate is an error naming its kind.
func LoadTranslator(path string, raw bool) (t *Translator, skipped []error, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline: %w", err)
	}
	if !fi.IsDir() {
		dir, ok := RunOf(path)
		if !ok {
			return nil, nil, fmt.Errorf("pipeline: %s is neither a run folder nor a checkpoint in a run's %s folder", path, run.CheckpointsDir)
		}
		c, err := RunConfig(dir)
		if err != nil {
			return nil, nil, err
		}
		ck, err := run.LoadCheckpoint(path)
		if err != nil {
			return nil, nil, fmt.Errorf("pipeline: %w", err)
		}
		t, err := TranslatorFromCheckpoint(c, ck, raw)
		if t != nil {
			t.Path = path
		}
		return t, nil, err
	}
	c, err := RunConfig(path)
	if err != nil {
		return nil, nil, err
	}
	infos, err := ListCheckpoints(path)
	if err != nil {
		return nil, nil, err
	}
	if len(infos) == 0 {
		return nil, nil, fmt.Errorf("pipeline: %s: %w", path, run.ErrNoCheckpoint)
	}
	for i := len(infos) - 1; i >= 0; i-- {
		ck, err := run.LoadCheckpoint(infos[i].Path)
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		t, err := TranslatorFromCheckpoint(c, ck, raw)
		if t != nil {
			t.Path = infos[i].Path
		}
		return t, skipped, err
	}
	return nil, skipped, fmt.Errorf("pipeline: %s: %w: none of the %d checkpoints verifies", path, run.ErrCorrupt, len(infos))
}

// TranslatorFromCheckpoint builds the model of config c for data of the
// config's shape, with the class count and names ck records, and loads
// its generator player's weights from ck as LoadTranslator describes.
func TranslatorFromCheckpoint(c config.Config, ck *run.Checkpoint, raw bool) (*Translator, error) {
	if !c.IsImage() {
		return nil, fmt.Errorf("pipeline: data.kind %s is 2-D points; translation needs images", c.Data.Kind)
	}
	d := family.Data{}
	d.Channels, d.Size = c.ImageShape()
	d.Classes, _ = strconv.Atoi(ck.Meta[metaClasses])
	if v := ck.Meta[metaClassNames]; v != "" {
		if err := json.Unmarshal([]byte(v), &d.ClassNames); err != nil {
			return nil, fmt.Errorf("pipeline: checkpoint at step %d: %s: %w", ck.Step, metaClassNames, err)
		}
	}
	m, err := family.Build(c, d)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if m.Close != nil {
		m.Close()
	}
	if m.Translator == nil || m.GeneratorPlayer == nil {
		return nil, fmt.Errorf("pipeline: model.kind %s does not translate images (kallima translate takes image-to-image runs: pix2pix, cyclegan, stargan)", c.Model.Kind)
	}
	w, err := loadPlayerWeights(m.GeneratorPlayer, ck, raw)
	if err != nil {
		return nil, err
	}
	m.GeneratorPlayer.Module.SetTraining(false)
	return &Translator{Config: c, Translator: m.Translator, Step: ck.Step, Weights: w}, nil
}

// DefaultSource is the source domain of a translation asked for by its
// target alone (to, a domain name or number; "" for none): for a
// two-domain model the other domain than to (to A is B to A), else the
// first. A to that names no domain gives the first (the caller's parsing
// of to reports it).
func DefaultSource(names []string, to string) int {
	if len(names) == 2 && to != "" {
		if k, ok := DomainIndex(names, to, 0); ok {
			return 1 - k
		}
	}
	return 0
}

// DomainIndex finds a domain by name, or by its number as text, among a
// translator's domain names; name "" gives def. ok is false for a name
// that is neither (the caller's error lists names).
func DomainIndex(names []string, name string, def int) (k int, ok bool) {
	if name == "" {
		return def, true
	}
	if k := slices.Index(names, name); k >= 0 {
		return k, true
	}
	if k, err := strconv.Atoi(name); err == nil && k >= 0 && k < len(names) {
		return k, true
	}
	return 0, false
}
