package pipeline

import (
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
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

func TestLoadDataMNISTTasks(t *testing.T) {
	dir := mnistDirOrSkip(t)
	digits, err := loadImages(config.Config{Data: config.Data{Kind: "mnist", Dir: dir}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// data.n trains on the first n digits.
	head, err := loadImages(config.Config{Data: config.Data{Kind: "mnist", Dir: dir, N: 50000}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if head.Len() != 50000 || !slices.Equal(head.Labels, digits.Labels[:50000]) || !slices.Equal(head.Images.Data(), digits.Images.Data()[:50000*28*28]) {
		t.Fatalf("data.n 50000: %d digits, not the first 50000 of %d", head.Len(), digits.Len())
	}
	// data.order bigan shuffles them first, as the BiGAN authors' code does.
	order := data.NumpyShuffle(data.MNISTTrainN, 42)
	shuf, err := loadImages(config.Config{Data: config.Data{Kind: "mnist", Dir: dir, N: 50000, Order: data.OrderBiGAN}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if shuf.Len() != 50000 {
		t.Fatalf("data.order bigan, data.n 50000: %d digits", shuf.Len())
	}
	for i := range shuf.Len() {
		if shuf.Labels[i] != digits.Labels[order[i]] {
			t.Fatalf("data.order bigan: digit %d has label %d, want digit %d's %d", i, shuf.Labels[i], order[i], digits.Labels[order[i]])
		}
	}
	for _, i := range []int{0, 1, 49999} {
		got, _ := shuf.Get(i)
		want, _ := digits.Get(order[i])
		if !slices.Equal(got, want) {
			t.Errorf("data.order bigan: digit %d is not digit %d of the files", i, order[i])
		}
	}
	kinds := config.MNISTTasks
	if testing.Short() {
		kinds = []string{"mnist-inverted", "mnist-width"} // the cheapest of each layout; edges and thick in the long run
	}
	for _, kind := range kinds {
		c := config.Config{Seed: 3, Data: config.Data{Kind: kind, Dir: dir}}
		d, err := LoadData(c, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if d.Channels != 1 || d.Size != 28 || d.Images == nil {
			t.Fatalf("%s: %+v", kind, d)
		}
		name, _ := c.MNISTTask()
		task, err := data.MakeTask(name, digits, 3)
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case "mnist-width":
			if d.B != nil || d.Paired || d.Classes != 3 || !slices.Equal(d.ClassNames, data.WidthDomains) || !slices.Equal(d.Images.Images.Data(), task.Domains.Images.Data()) {
				t.Errorf("%s: B %v, paired %v, classes %d %v", kind, d.B != nil, d.Paired, d.Classes, d.ClassNames)
			}
		default:
			if d.B == nil || d.Paired != (kind == "mnist-edges") || d.Classes != 10 || !slices.Equal(d.Images.Images.Data(), task.A.Images.Data()) || !slices.Equal(d.B.Images.Data(), task.B.Images.Data()) {
				t.Errorf("%s: B %v, paired %v, classes %d", kind, d.B != nil, d.Paired, d.Classes)
			}
		}
	}
}

// mnistDirOrSkip returns the default MNIST folder, or skips the test when
// MNIST is not there.
func mnistDirOrSkip(t *testing.T) string {
	t.Helper()
	dir := config.Config{Data: config.Data{Kind: "mnist"}}.DataDir()
	if _, err := data.MNISTFiles(dir); err != nil {
		t.Skipf("MNIST not found in %s (kallima data fetch mnist): %v", dir, err)
	}
	return dir
}
