package toy

import (
	"context"
	"testing"

	"github.com/kallima-gan/kallima/config"
)

// TestDefaultRing8Seed1 trains the default run, the one `kallima train`
// makes with no flags (the embedded ring8 preset, seed 1), and checks it
// shows a GAN working: all 8 modes and at least 90% high-quality samples.
// It trains the full preset, so -short skips it.
func TestDefaultRing8Seed1(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the full default preset; run without -short")
	}
	c, err := config.Preset("ring8")
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 1 {
		t.Fatalf("the default's seed is %d, want 1", c.Seed)
	}
	r, err := Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Score
	t.Logf("%s loss, %d steps: %d/%d modes, %.1f%% high quality, W1 %.3f, %.1f s",
		c.Loss.Name, r.Steps, s.Modes, s.TotalModes, 100*s.HighQuality, s.W1, r.Elapsed.Seconds())
	if s.Modes != 8 || s.TotalModes != 8 {
		t.Errorf("captured %d of %d modes, want 8 of 8", s.Modes, s.TotalModes)
	}
	if s.HighQuality < 0.90 {
		t.Errorf("%.1f%% high-quality samples, want at least 90%%", 100*s.HighQuality)
	}
}
