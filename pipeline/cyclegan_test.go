package pipeline

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/tensor"
)

// cycleganSets returns tinyConfig's settings for a CycleGAN run: a tiny
// unpaired folder (trainA/ and trainB/, 12 random 8x8 gray images each,
// written under a test temporary folder) and tiny networks.
func cycleganSets(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	rng := tensor.NewRNG(5)
	for _, side := range []string{"trainA", "trainB"} {
		if err := os.MkdirAll(filepath.Join(dir, side), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			img := image.NewGray(image.Rect(0, 0, 8, 8))
			for j := range img.Pix {
				img.Pix[j] = uint8(rng.Intn(256))
			}
			if err := picture.SavePNG(filepath.Join(dir, side, fmt.Sprintf("%02d.png", i)), img); err != nil {
				t.Fatal(err)
			}
		}
	}
	return []string{"data.kind=unpaired", "data.dir=" + dir, "data.size=8", "data.channels=1", "model.kind=cyclegan", "model.width=2",
		"model.blocks=1", "model.d_width=2", "model.pool=6", "loss.name=lsgan", "train.batch=4", "train.steps=24", "train.checkpoint_every=0",
		"train.sample_every=10", "train.ema=0.9"}
}
