package pipeline

import (
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/picture"
)

// writeGray writes a size x size gray PNG of value v at path.
func writeGray(t *testing.T, path string, size int, v uint8) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := picture.SavePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDataTranslationKinds(t *testing.T) {
	paired, unpaired, folder := t.TempDir(), t.TempDir(), t.TempDir()
	for i := range 3 {
		name := string(rune('a'+i)) + ".png"
		writeGray(t, filepath.Join(paired, "A", name), 8, uint8(i))
		writeGray(t, filepath.Join(paired, "B", name), 8, uint8(255-i))
		writeGray(t, filepath.Join(unpaired, "trainA", name), 8, 0)
		writeGray(t, filepath.Join(folder, []string{"thin", "thick", "normal"}[i], name), 8, 0)
	}
	writeGray(t, filepath.Join(unpaired, "trainB", "x.png"), 8, 255)
	load := func(kind, dir string) (d struct {
		b, paired      bool
		na, nb, labels int
		names          []string
		first          float32
	}) {
		t.Helper()
		c := config.Config{Data: config.Data{Kind: kind, Dir: dir, Size: 4, Channels: 1}}
		fd, err := LoadData(c, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if fd.Channels != 1 || fd.Size != 4 || fd.Images.Shape()[2] != 4 {
			t.Fatalf("%s: shape %d %d %v", kind, fd.Channels, fd.Size, fd.Images.Shape())
		}
		d.b, d.paired, d.na, d.labels, d.names = fd.B != nil, fd.Paired, fd.Images.Len(), fd.Classes, fd.ClassNames
		if fd.B != nil {
			d.nb = fd.B.Len()
			d.first = fd.B.Images.Data()[0]
		}
		return d
	}
	p := load("paired", paired)
	if !p.b || !p.paired || p.na != 3 || p.nb != 3 || p.first != 1 {
		t.Errorf("paired: %+v", p)
	}
	u := load("unpaired", unpaired)
	if !u.b || u.paired || u.na != 3 || u.nb != 1 || u.first != 1 {
		t.Errorf("unpaired: %+v", u)
	}
	f := load("folder", folder)
	if f.b || f.paired || f.labels != 3 || !slices.Equal(f.names, []string{"normal", "thick", "thin"}) {
		t.Errorf("folder: %+v", f)
	}
	if _, err := LoadData(config.Config{Data: config.Data{Kind: "paired", Dir: unpaired, Size: 4, Channels: 1}}, io.Discard); err == nil {
		t.Error("an unpaired layout loaded as paired data")
	}
}
