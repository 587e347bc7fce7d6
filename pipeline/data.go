package pipeline

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/tensor"
)

// loadImages loads (fetching MNIST if needed) or makes the image set.
func loadImages(c config.Config, progress io.Writer) (*data.Set, error) {
	switch c.Data.Kind {
	case "mnist":
		dir := c.DataDir()
		if _, err := data.MNISTFiles(dir); err != nil {
			if err := data.FetchMNIST(dir, progress); err != nil {
				return nil, fmt.Errorf("data: %w", err)
			}
		}
		set, err := data.LoadMNIST(dir, data.Train)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		order, err := data.MNISTOrder(c.Data.Order)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if order != nil {
			set = set.Select(order)
		}
		if n := c.Data.N; n > 0 && n < set.Len() {
			set = set.Slice(0, n)
		}
		return set, nil
	case "stacked-mnist":
		digits, err := loadImages(config.Config{Seed: c.Seed, Data: config.Data{Kind: "mnist", Dir: c.Data.Dir}}, progress)
		if err != nil {
			return nil, err
		}
		set, err := data.StackedMNIST(digits, c.StackedN(), c.Seed)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		return set, nil
	case "folder":
		ch, side := c.ImageShape()
		set, skipped, err := data.LoadFolder(c.Data.Dir, data.FolderConfig{Height: side, Width: side, Gray: ch == 1, CenterCrop: true, Skip: true, Warnings: progress})
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if skipped > 0 && progress != nil {
			fmt.Fprintf(progress, "data: skipped %d unreadable files in %s\n", skipped, c.Data.Dir)
		}
		return set, nil
	case "synthetic":
		ch, side := c.ImageShape()
		n, classes := c.SyntheticSet()
		return Synthetic(n, classes, ch, side, c.Seed), nil
	}
	if isTranslation(c) {
		a, _, _, err := loadTranslation(c, progress)
		return a, err
	}
	return nil, fmt.Errorf("data.kind: %s is not an image set", c.Data.Kind)
}

// Synthetic returns n seeded images [n, channels, size, size] in classes
// classes: image i has label i mod classes and is a blurred blob whose
// position depends on its class, plus noise, in [-1, 1]. The same
// arguments give the same images.
func Synthetic(n, classes, channels, size int, seed uint64) *data.Set {
	rng := tensor.NewRNG(seed ^ 0x5eed5eed5eed5eed)
	img := make([]float32, n*channels*size*size)
	labels := make([]int, n)
	names := make([]string, classes)
	for k := range names {
		names[k] = strconv.Itoa(k)
	}
	plane := size * size
	for i := range n {
		k := i % classes
		labels[i] = k
		cx := float64(size) * (0.25 + 0.5*float64(k%4)/3)
		cy := float64(size) * (0.25 + 0.5*float64(k/4%4)/3)
		cx += (rng.Float64() - 0.5) * 3
		cy += (rng.Float64() - 0.5) * 3
		r2 := float64(size*size) / 32
		for ch := range channels {
			base := (i*channels + ch) * plane
			for y := range size {
				for x := range size {
					dx, dy := float64(x)-cx, float64(y)-cy
					v := 2*math.Exp(-(dx*dx+dy*dy)/r2) - 1 + 0.1*rng.NormFloat64()
					img[base+y*size+x] = float32(min(max(v, -1), 1))
				}
			}
		}
	}
	return &data.Set{Images: tensor.FromSlice(img, n, channels, size, size), Labels: labels, Classes: names}
}
