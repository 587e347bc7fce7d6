package toy

import (
	"context"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
)

// TestPackTrainsRing8 trains the ring8 preset with PacGAN packing (D scores
// pairs of points, model.pack 2) for 800 steps at a constant learning rate
// and checks that it still trains: the exact W1 to the data falls to under
// a third of the untrained generator's (about 0.4 against 2.0 here; the
// full-length run is in docs/RESULTS-toy.md).
func TestPackTrainsRing8(t *testing.T) {
	score := func(steps int) Result {
		c := config.Default()
		for _, kv := range []string{"model.pack=2", "train.sample_n=500", "train.lr_decay=false"} {
			if err := c.Set(kv); err != nil {
				t.Fatal(err)
			}
		}
		c.Train.Steps = steps
		r, err := Run(context.Background(), c, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	before, after := score(1), score(800)
	if !(after.Score.W1 < before.Score.W1/3) {
		t.Fatalf("pack 2 after 800 steps: W1 %.3f (%d modes, %.1f%% high quality); untrained: W1 %.3f",
			after.Score.W1, after.Score.Modes, 100*after.Score.HighQuality, before.Score.W1)
	}
}

// TestPackOffLeavesConfigYAML checks that model.pack is left out of a
// config's YAML when off, so the fingerprints of configs made before it
// (the journal's keys) do not change; when on, it is written.
func TestPackOffLeavesConfigYAML(t *testing.T) {
	for _, pack := range []string{"", "2"} {
		c := config.Default()
		if pack != "" {
			if err := c.Set("model.pack=" + pack); err != nil {
				t.Fatal(err)
			}
		}
		y, err := c.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(y), "pack:"); has != (pack != "") {
			t.Fatalf("model.pack %q: YAML has pack: %v\n%s", pack, has, y)
		}
	}
}
