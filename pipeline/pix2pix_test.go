package pipeline

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/kallima-gan/kallima/picture"
)

// pix2pixSets returns tinyConfig's settings for a pix2pix run on 24 paired
// 16x16 gray images written under a temporary folder (A/ a bar at a
// position of its own, B/ the same picture inverted).
func pix2pixSets(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	for i := range 24 {
		name := string(rune('a'+i)) + ".png"
		a, b := image.NewGray(image.Rect(0, 0, 16, 16)), image.NewGray(image.Rect(0, 0, 16, 16))
		for p := range a.Pix {
			y, x := p/16, p%16
			if x >= i%12 && x < i%12+3 && y > i/12 && y < 14 {
				a.Pix[p] = 255
			}
			b.Pix[p] = 255 - a.Pix[p]
		}
		for side, img := range map[string]*image.Gray{"A": a, "B": b} {
			path := filepath.Join(dir, side, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := picture.SavePNG(path, img); err != nil {
				t.Fatal(err)
			}
		}
	}
	return []string{"data.kind=paired", "data.dir=" + dir, "data.size=16", "data.channels=1", "model.kind=pix2pix", "model.width=4", "model.d_width=4",
		"train.batch=8", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.ema=0.9", "train.lr_decay=true"}
}
