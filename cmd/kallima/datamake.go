package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/tensor"
)

// dataMakeUsage is the part of `kallima data -h` about make.
const dataMakeUsage = `
make writes an image-to-image task made from MNIST (data.MakeTask, the same
images as data.kind mnist-TASK with the same -seed as the run's seed) as
folders of 28x28 gray PNGs that data.kind paired, unpaired and folder read,
so the same commands work on your own images:

  edges     paired: DIR/A/00000.png is the edge map of the digit DIR/B/00000.png
  thick     unpaired: DIR/trainA/ digits, DIR/trainB/ thickened digits from
            the other half of the split (-split test: DIR/testA/, DIR/testB/)
  inverted  unpaired, as thick with inverted digits
  width     domains: DIR/0-thin/, DIR/1-normal/, DIR/2-thick/ (numbered so a
            folder run keeps the domains' order: data.kind folder)

-split train (the default) uses MNIST's 60000 training digits, -split test its
10000 test digits, e.g. for kallima translate; thick and inverted put the two
splits in different subfolders of one DIR, edges and width want another -out
for each split. -n uses only the first N digits of the split. Folders that
would be written into must be new or empty.
`

// runDataMake runs `kallima data make TASK -out DIR`.
func runDataMake(task, out, split string, n int, seed uint64, stdout, stderr io.Writer) int {
	var s data.Split
	switch split {
	case "", "train":
		s, split = data.Train, "train"
	case "test":
		s = data.Test
	default:
		fmt.Fprintf(stderr, "kallima data make: -split %q: want train or test\n", split)
		return exitUsage
	}
	switch {
	case out == "":
		fmt.Fprintln(stderr, "kallima data make: give -out, the folder to write the task into")
		return exitUsage
	case n < 0 || n == 1 || n == 2:
		fmt.Fprintf(stderr, "kallima data make: -n %d: want 0 (all) or at least 3 digits\n", n)
		return exitUsage
	}
	if !isTask(task) {
		fmt.Fprintf(stderr, "kallima data make: %q is not a task; have\n  %s\n", task, strings.Join(data.TaskNames(), "\n  "))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "kallima data make: %v\n", err)
		return exitError
	}
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return fail(err)
	}
	digits, err := classifier.LoadMNIST(dir, s, stderr)
	if err != nil {
		return fail(err)
	}
	if n > digits.Len() {
		return fail(fmt.Errorf("-n %d: MNIST's %s split has %d digits", n, split, digits.Len()))
	}
	if n > 0 {
		digits = digits.Slice(0, n)
	}
	t, err := data.MakeTask(task, digits, seed)
	if err != nil {
		return fail(err)
	}
	written, err := writeTask(t, out, s == data.Test)
	if err != nil {
		return fail(err)
	}
	for _, w := range written {
		fmt.Fprintf(stdout, "%s: %d images\n", w.dir, w.n)
	}
	fmt.Fprintf(stdout, "wrote task %s (%s) from %d MNIST %s digits, seed %d, to %s\n", task, t.Kind, digits.Len(), split, seed, out)
	return exitOK
}

func isTask(name string) bool {
	for _, line := range data.TaskNames() {
		if strings.HasPrefix(line, name+":") {
			return true
		}
	}
	return false
}

// folderCount is one folder writeTask wrote and its image count.
type folderCount struct {
	dir string
	n   int
}

// taskFolders returns the folders of task t's layout under out, with the
// set each holds: A/ and B/ for a paired task, trainA/ and trainB/ (testA/
// and testB/ for a test split) for an unpaired one, a numbered folder per
// domain ("0-thin") for a domains task, its images in the domain's order.
func taskFolders(t *data.Task, out string, test bool) (dirs []string, sets []*data.Set, err error) {
	switch t.Kind {
	case "paired":
		return []string{filepath.Join(out, "A"), filepath.Join(out, "B")}, []*data.Set{t.A, t.B}, nil
	case "unpaired":
		pre := "train"
		if test {
			pre = "test"
		}
		return []string{filepath.Join(out, pre+"A"), filepath.Join(out, pre+"B")}, []*data.Set{t.A, t.B}, nil
	case "domains":
		for k, name := range t.Domains.Classes {
			var idx []int
			for i, l := range t.Domains.Labels {
				if l == k {
					idx = append(idx, i)
				}
			}
			dirs = append(dirs, filepath.Join(out, fmt.Sprintf("%d-%s", k, name)))
			sets = append(sets, subset(t.Domains, idx))
		}
		return dirs, sets, nil
	}
	return nil, nil, fmt.Errorf("task %s: kind %q has no folder layout", t.Name, t.Kind)
}

// subset returns images idx of s.
func subset(s *data.Set, idx []int) *data.Set {
	chw := s.Images.Len() / s.Len()
	img := make([]float32, 0, len(idx)*chw)
	labels := make([]int, len(idx))
	for k, i := range idx {
		x, l := s.Get(i)
		img = append(img, x...)
		labels[k] = l
	}
	return &data.Set{Images: tensor.FromSlice(img, append([]int{len(idx)}, s.Shape()...)...), Labels: labels, Classes: s.Classes}
}

// writeTask writes task t as PNG folders under out (taskFolders), each
// image i as a zero-padded NNNNN.png in order, so that the folder loads in
// the task's order. A folder that exists and is not empty is an error
// naming it, before anything is written.
func writeTask(t *data.Task, out string, test bool) ([]folderCount, error) {
	dirs, sets, err := taskFolders(t, out, test)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		es, err := os.ReadDir(d)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if len(es) > 0 {
			return nil, fmt.Errorf("%s exists and is not empty: give another -out", d)
		}
	}
	var written []folderCount
	for k, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		s := sets[k]
		digitsWide := max(5, len(fmt.Sprint(s.Len()-1)))
		for i := range s.Len() {
			x, _ := s.Get(i)
			path := filepath.Join(d, fmt.Sprintf("%0*d.png", digitsWide, i))
			if err := writeGrayPNG(path, x, s.Shape()); err != nil {
				return nil, err
			}
		}
		written = append(written, folderCount{d, s.Len()})
	}
	return written, nil
}

// writeGrayPNG writes one gray image [1, H, W] in [-1, 1] as a PNG, each
// value as picture.ToByte rounds it.
func writeGrayPNG(path string, x []float32, shape []int) error {
	h, w := shape[1], shape[2]
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range x[:h*w] {
		img.Pix[i] = picture.ToByte(v)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
