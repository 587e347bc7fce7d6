package family

import (
	"fmt"

	"github.com/kallima-gan/kallima/config"
)

// CheckPack validates a model.pack of m for model.kind kind: 0 or 1 (no
// packing), or above 1 only where the family supports packing (supported), with
// train.batch a multiple of m and no feature matching (its statistics are
// of single samples' features).
func CheckPack(c config.Config, m int, supported bool, kind string) error {
	switch {
	case m < 0:
		return fmt.Errorf("model.pack: %d (want 1 for no packing, or m >= 2 samples per packed group)", m)
	case m <= 1:
		return nil
	case !supported:
		return fmt.Errorf("model.pack: %d, but model.kind %s has no packing (its D reads a label or code per sample; packing is for mlp and dcgan): set model.pack: 1", m, kind)
	case c.Train.Batch%m != 0:
		return fmt.Errorf("train.batch: %d is not a multiple of model.pack %d (D scores groups of %d samples)", c.Train.Batch, m, m)
	case c.Loss.FeatureMatching > 0:
		return fmt.Errorf("loss.feature_matching: matches single samples' features, which a packed D (model.pack %d) does not compute: set model.pack: 1 or drop feature matching", m)
	}
	return nil
}
