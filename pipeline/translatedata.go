package pipeline

import (
	"fmt"
	"io"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
)

// isTranslation reports whether c's data kind is a two-domain or
// multi-domain translation set: paired, unpaired or an mnist-* task.
func isTranslation(c config.Config) bool {
	_, task := c.MNISTTask()
	return task || c.Data.Kind == "paired" || c.Data.Kind == "unpaired"
}

// loadTranslation loads a translation data kind: domain A and domain B
// (nil for a multi-domain set, whose labels are the domains), and whether
// B's image i is the target of A's image i.
func loadTranslation(c config.Config, progress io.Writer) (a, b *data.Set, paired bool, err error) {
	ch, side := c.ImageShape()
	cfg := data.FolderConfig{Height: side, Width: side, Gray: ch == 1, CenterCrop: true, Skip: true, Warnings: progress}
	var skipped int
	switch c.Data.Kind {
	case "paired":
		a, b, _, skipped, err = data.LoadPaired(c.Data.Dir, cfg)
		paired = true
	case "unpaired":
		a, b, _, skipped, err = data.LoadUnpaired(c.Data.Dir, cfg)
	default:
		name, ok := c.MNISTTask()
		if !ok {
			return nil, nil, false, fmt.Errorf("data.kind: %s is not a translation set", c.Data.Kind)
		}
		task, err := loadTask(c, name, progress)
		if err != nil {
			return nil, nil, false, err
		}
		if task.Domains != nil {
			return task.Domains, nil, false, nil
		}
		return task.A, task.B, task.Kind == "paired", nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("data: %w", err)
	}
	if skipped > 0 && progress != nil {
		fmt.Fprintf(progress, "data: skipped %d unreadable files in %s\n", skipped, c.Data.Dir)
	}
	return a, b, paired, nil
}

// loadTranslationData is LoadData for a translation data kind: Images is
// domain A (or the multi-domain set, labels the domains), B domain B, and
// ClassNames A's class names (the domains' names for a multi-domain set).
func loadTranslationData(c config.Config, progress io.Writer) (family.Data, error) {
	a, b, paired, err := loadTranslation(c, progress)
	if err != nil {
		return family.Data{}, err
	}
	ch, side := c.ImageShape()
	for i, s := range []*data.Set{a, b} {
		if s == nil {
			continue
		}
		if sh := s.Shape(); sh[0] != ch || sh[1] != side || sh[2] != side {
			return family.Data{}, fmt.Errorf("data: domain %c images are %v, want [%d, %d, %d]", 'A'+i, sh, ch, side, side)
		}
	}
	if paired && b.Len() != a.Len() {
		return family.Data{}, fmt.Errorf("data: %d images in domain A and %d in B, but paired data has one target per image", a.Len(), b.Len())
	}
	return family.Data{Channels: ch, Size: side, Classes: classCount(a), Images: a, B: b, Paired: paired, ClassNames: a.Classes}, nil
}

// loadTask makes the MNIST task name (data.MakeTask) from MNIST's training
// digits (fetched into c's data folder when missing) with c's seed.
func loadTask(c config.Config, name string, progress io.Writer) (*data.Task, error) {
	digits, err := loadImages(config.Config{Seed: c.Seed, Data: config.Data{Kind: "mnist", Dir: c.Data.Dir}}, progress)
	if err != nil {
		return nil, err
	}
	task, err := data.MakeTask(name, digits, c.Seed)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return task, nil
}
