package pipeline

import (
	"context"
	"image"
	_ "image/png"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/internal/famtest/shift" // model.kind testshift
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// shiftConfig is a testshift run on the 8x8 gray images of data kind
// kind under dir: 4 steps, previews at 2 and 4, an EMA of 0.9.
func shiftConfig(t *testing.T, kind, dir string, sets ...string) config.Config {
	t.Helper()
	c := config.Default()
	for _, kv := range append([]string{"data.kind=" + kind, "data.dir=" + dir, "data.size=8", "data.channels=1", "model.kind=testshift",
		"train.batch=2", "train.steps=4", "train.sample_every=2", "train.checkpoint_every=0", "train.ema=0.9", "train.lr_g=0.1"}, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// gridCells reads a translation grid of 8x8 tiles: cell [r][j] is the
// byte at pixel (3, 3) of the tile in row r, column j.
func gridCells(t *testing.T, path string) [][]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	rows, cols := (g.Rect.Dy()-2)/10, (g.Rect.Dx()-2)/10
	cells := make([][]int, rows)
	for r := range cells {
		for j := range cols {
			cells[r] = append(cells[r], int(g.GrayAt(2+10*j+3, 2+10*r+3).Y))
		}
	}
	return cells
}

func unbyte(b int) float32 { return float32(b)/127.5 - 1 }

// emaB reads testshift's b (its EMA) from the run's final checkpoint.
func emaB(t *testing.T, dir string) (live, ema float32) {
	t.Helper()
	ck := latest(t, dir)
	return ck.Group("g")["b"].Data()[0], emaParam0(t, ck.Group("ema_g")).Data()[0]
}

func TestTranslationPreview(t *testing.T) {
	paired, unpaired, domains := t.TempDir(), t.TempDir(), t.TempDir()
	for i := range 10 {
		name := string(rune('a'+i)) + ".png"
		v := uint8(64 + 12*i)
		writeGray(t, filepath.Join(paired, "A", name), 8, v)
		writeGray(t, filepath.Join(paired, "B", name), 8, 255-v)
		writeGray(t, filepath.Join(unpaired, "trainA", name), 8, v)
		writeGray(t, filepath.Join(unpaired, "trainB", name), 8, 255-v)
		writeGray(t, filepath.Join(domains, []string{"x", "y", "z"}[i%3], name), 8, v)
	}
	near := func(got int, want float32) bool { return math.Abs(float64(got)-float64(picture.ToByte(want))) <= 1 }
	for _, tc := range []struct {
		name, kind, dir string
		sets            []string
		rows            int
	}{
		{"paired", "paired", paired, nil, 4},                                 // inputs, A to B, back, targets
		{"unpaired", "unpaired", unpaired, nil, 6},                           // A, A to B, back; B, B to A, back
		{"one-way", "unpaired", unpaired, []string{"model.one_way=true"}, 2}, // A, A to B
		{"domains", "folder", domains, nil, 4},                               // inputs, to x, y and z
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := Train(context.Background(), shiftConfig(t, tc.kind, tc.dir, tc.sets...), dir, Options{Warn: io.Discard}); err != nil {
				t.Fatal(err)
			}
			live, ema := emaB(t, dir)
			if math.Abs(float64(live-ema))*127.5 < 3 { // more than the tolerance of a byte
				t.Fatalf("b %g and its EMA %g: too close to tell apart", live, ema)
			}
			for _, step := range []string{"step-000002.png", "step-000004.png"} {
				if _, err := os.Stat(filepath.Join(dir, run.SamplesDir, step)); err != nil {
					t.Fatal(err)
				}
			}
			cells := gridCells(t, filepath.Join(dir, run.SamplesDir, "step-000004.png"))
			if len(cells) != tc.rows || len(cells[0]) != 8 {
				t.Fatalf("grid of %d rows of %d, want %d of 8", len(cells), len(cells[0]), tc.rows)
			}
			seen := map[int]bool{}
			for j := range 8 {
				x := unbyte(cells[0][j])
				seen[cells[0][j]] = true
				switch tc.name {
				case "domains":
					for k := range 3 {
						if !near(cells[1+k][j], x+ema+0.25*float32(k)) {
							t.Errorf("column %d: to domain %d %d, want %d", j, k, cells[1+k][j], picture.ToByte(x+ema+0.25*float32(k)))
						}
					}
				default:
					if !near(cells[1][j], -x+ema) {
						t.Errorf("column %d: input %d translated to %d, want %d (EMA b %g; live b %g)", j, cells[0][j], cells[1][j], picture.ToByte(-x+ema), ema, live)
					}
					if tc.rows > 2 && !near(cells[2][j], x) {
						t.Errorf("column %d: back %d, want the input %d", j, cells[2][j], cells[0][j])
					}
				}
				if tc.name == "paired" && cells[3][j] != 255-cells[0][j] {
					t.Errorf("column %d: target %d, want %d", j, cells[3][j], 255-cells[0][j])
				}
				if tc.name == "unpaired" && ((191-cells[3][j])%12 != 0 || !near(cells[4][j], -unbyte(cells[3][j])+ema)) {
					t.Errorf("column %d: B input %d (want one of B's, 191 - 12k), to A %d", j, cells[3][j], cells[4][j])
				}
			}
			if len(seen) != 8 {
				t.Errorf("inputs %v: want 8 different images", cells[0])
			}
		})
	}
}

// TestTranslationPreviewDraw: the fixed inputs are drawn from the model's
// SampleRNG, the same for the same seed, and a multi-domain input keeps
// its own domain.
func TestTranslationPreviewDraw(t *testing.T) {
	d, err := LoadData(config.Config{Data: config.Data{Kind: "synthetic", N: 30, Classes: 3, Channels: 1, Size: 4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := fakeDomains{3}
	p1 := newTranslationPreview(d, tr, tensorRNG(5))
	p2 := newTranslationPreview(d, tr, tensorRNG(5))
	p3 := newTranslationPreview(d, tr, tensorRNG(6))
	b1 := p1.blocks[0]
	if !equalData(b1.x.Data(), p2.blocks[0].x.Data()) || equalData(b1.x.Data(), p3.blocks[0].x.Data()) {
		t.Fatal("the draw does not follow the seed")
	}
	if len(b1.to) != 3 || b1.x.Size(0) != 8 {
		t.Fatalf("targets %v, %d inputs", b1.to, b1.x.Size(0))
	}
	// Every input's domain is its label: synthetic image i has label i mod 3
	// and a blob whose place depends on it, so match by content.
	for i := range 8 {
		found := false
		for j := range d.Images.Len() {
			img, l := d.Images.Get(j)
			if equalData(img, b1.x.Data()[i*16:(i+1)*16]) {
				found = l == b1.from[i]
			}
		}
		if !found {
			t.Errorf("input %d: domain %d is not its image's label", i, b1.from[i])
		}
	}
	// translateEach translates each input from its own domain, in order.
	out, err := translateEach(tr, b1.x, b1.from, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		if got, want := out.Data()[i*16], b1.x.Data()[i*16]+float32(10*b1.from[i]+2); got != want {
			t.Errorf("image %d from %d: %g, want %g", i, b1.from[i], got, want)
		}
	}
}

// fakeDomains translates x from domain from to domain to as x + 10 from + to.
type fakeDomains struct{ k int }

func (f fakeDomains) Domains() []string {
	r := make([]string, f.k)
	for i := range r {
		r[i] = string(rune('p' + i))
	}
	return r
}

func (f fakeDomains) Shape() []int { return []int{1, 4, 4} }

func (f fakeDomains) Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error) {
	out := tensor.New(x.Shape()...)
	for i, v := range x.Data() {
		out.Data()[i] = v + float32(10*from+to)
	}
	return out, nil
}

func tensorRNG(seed uint64) *tensor.RNG { return tensor.NewRNG(seed) }

func equalData(a, b []float32) bool { return slices.Equal(a, b) }

// emaParam0 finds the first parameter's shadow in an EMA's state.
func emaParam0(t *testing.T, st map[string]*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	for k, v := range st {
		if strings.Contains(k, "param") && strings.HasSuffix(k, "0") {
			return v
		}
	}
	t.Fatalf("no parameter shadow in %v", slices.Collect(maps.Keys(st)))
	return nil
}
