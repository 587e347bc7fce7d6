package data

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kallima-gan/kallima/tensor"
)

// Layouts of a two-domain image folder, as LoadPaired and LoadUnpaired
// report them.
const (
	LayoutPairedFolders = "A/ and B/ with matching file names"
	LayoutSideBySide    = "side-by-side A|B images"
	LayoutTrainAB       = "trainA/ and trainB/"
	LayoutAB            = "A/ and B/"
)

// maxNamesListed is how many unmatched file names a pairing error lists.
const maxNamesListed = 5

// LoadPaired loads a paired image set (pix2pix's data) from root: image
// i of b is the target of image i of a. Two layouts are read:
//
//   - root/A and root/B, folders whose image files pair by their path
//     below A or B without the extension (A/x.jpg pairs with B/x.png). A
//     name on one side only is an error listing up to five such names;
//     so is a name twice on one side (x.png and x.jpg).
//   - otherwise, the images under root (as LoadFolder lists them) are
//     side-by-side pairs, A on the left half and B on the right; an image
//     whose width is not twice its height is an error naming it.
//
// Each side is converted and resized to cfg's size as LoadFolder does
// (with cfg.CenterCrop, each half is cropped by itself). Labels are the
// classes of A's listing (its subfolders, as LoadFolder numbers them), the
// same for b. An unreadable file is an error naming it; with cfg.Skip its
// pair is skipped, reported to cfg.Warnings and counted in skipped, and it
// is an error when no pair is left. layout is LayoutPairedFolders or
// LayoutSideBySide.
func LoadPaired(root string, cfg FolderConfig) (a, b *Set, layout string, skipped int, err error) {
	if cfg.Height <= 0 || cfg.Width <= 0 {
		return nil, nil, "", 0, fmt.Errorf("paired folder %s: output size %dx%d, want positive height and width", root, cfg.Height, cfg.Width)
	}
	if isDir(filepath.Join(root, "A")) && isDir(filepath.Join(root, "B")) {
		a, b, skipped, err = loadPairedFolders(root, cfg)
		return a, b, LayoutPairedFolders, skipped, err
	}
	a, b, skipped, err = loadSideBySide(root, cfg)
	return a, b, LayoutSideBySide, skipped, err
}

// LoadUnpaired loads an unpaired two-domain image set (CycleGAN's data)
// from root: the images under root/trainA and root/trainB, or, when root
// has no trainA, under root/A and root/B, each side read as LoadFolder
// reads a folder (its subfolders are classes; with cfg.Skip unreadable
// files are skipped, counted together in skipped). A missing side is an
// error naming the folders looked for. layout is LayoutTrainAB or
// LayoutAB.
func LoadUnpaired(root string, cfg FolderConfig) (a, b *Set, layout string, skipped int, err error) {
	if _, err := os.Stat(root); err != nil {
		return nil, nil, "", 0, fmt.Errorf("unpaired folder: %w", err)
	}
	da, db, layout := filepath.Join(root, "trainA"), filepath.Join(root, "trainB"), LayoutTrainAB
	if !isDir(da) && !isDir(db) {
		da, db, layout = filepath.Join(root, "A"), filepath.Join(root, "B"), LayoutAB
	}
	for _, d := range []string{da, db} {
		if !isDir(d) {
			return nil, nil, "", 0, fmt.Errorf("unpaired folder %s: no folder %s (want trainA/ and trainB/, or A/ and B/)", root, d)
		}
	}
	a, sa, err := LoadFolder(da, cfg)
	if err != nil {
		return nil, nil, "", sa, fmt.Errorf("unpaired folder, domain A: %w", err)
	}
	b, sb, err := LoadFolder(db, cfg)
	if err != nil {
		return nil, nil, "", sa + sb, fmt.Errorf("unpaired folder, domain B: %w", err)
	}
	return a, b, layout, sa + sb, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// pairKey is a file's pairing name: its path below root, slash-separated,
// without the extension.
func pairKey(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		rel = filepath.Base(path)
	}
	rel = filepath.ToSlash(rel)
	return strings.TrimSuffix(rel, filepath.Ext(rel))
}

// loadPairedFolders reads root/A and root/B, pairing files by name.
func loadPairedFolders(root string, cfg FolderConfig) (a, b *Set, skipped int, err error) {
	dirA, dirB := filepath.Join(root, "A"), filepath.Join(root, "B")
	filesA, labels, classes, err := listImages(dirA)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("paired folder, domain A: %w", err)
	}
	filesB, _, _, err := listImages(dirB)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("paired folder, domain B: %w", err)
	}
	byName := func(dir string, files []string) (map[string]string, error) {
		m := make(map[string]string, len(files))
		for _, f := range files {
			k := pairKey(dir, f)
			if prev, dup := m[k]; dup {
				return nil, fmt.Errorf("paired folder %s: %s and %s have the same name; each name must appear once on each side", root, prev, f)
			}
			m[k] = f
		}
		return m, nil
	}
	mapA, err := byName(dirA, filesA)
	if err != nil {
		return nil, nil, 0, err
	}
	mapB, err := byName(dirB, filesB)
	if err != nil {
		return nil, nil, 0, err
	}
	var onlyA, onlyB []string
	for _, f := range filesA {
		if _, ok := mapB[pairKey(dirA, f)]; !ok {
			onlyA = append(onlyA, f)
		}
	}
	for _, f := range filesB {
		if _, ok := mapA[pairKey(dirB, f)]; !ok {
			onlyB = append(onlyB, f)
		}
	}
	if len(onlyA)+len(onlyB) > 0 {
		var parts []string
		if len(onlyA) > 0 {
			parts = append(parts, fmt.Sprintf("%d in A/ only (%s)", len(onlyA), listSome(onlyA)))
		}
		if len(onlyB) > 0 {
			parts = append(parts, fmt.Sprintf("%d in B/ only (%s)", len(onlyB), listSome(onlyB)))
		}
		return nil, nil, 0, fmt.Errorf("paired folder %s: files pair by name, and %s", root, strings.Join(parts, "; "))
	}
	pathsB := make([]string, len(filesA))
	for i, f := range filesA {
		pathsB[i] = mapB[pairKey(dirA, f)]
	}
	return loadPairs(root, len(filesA), labels, classes, cfg, func(i int, outA, outB []float32) error {
		errA := loadImage(filesA[i], cfg, outA)
		errB := loadImage(pathsB[i], cfg, outB)
		return errors.Join(errA, errB)
	})
}

// listSome lists up to maxNamesListed of names, then how many more.
func listSome(names []string) string {
	if len(names) <= maxNamesListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxNamesListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamesListed)
}

// layoutError is a file that decodes but cannot be split into a pair:
// never skipped.
type layoutError struct{ error }

// loadSideBySide reads root's images as A|B pairs.
func loadSideBySide(root string, cfg FolderConfig) (a, b *Set, skipped int, err error) {
	files, labels, classes, err := listImages(root)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("paired folder (side-by-side A|B images, or folders A/ and B/): %w", err)
	}
	return loadPairs(root, len(files), labels, classes, cfg, func(i int, outA, outB []float32) error {
		img, err := decodeImage(files[i])
		if err != nil {
			return err
		}
		r := img.Bounds()
		if r.Dx() != 2*r.Dy() {
			return layoutError{fmt.Errorf("paired folder %s: %s is %dx%d pixels, but a side-by-side A|B image is twice as wide as it is high (or give folders A/ and B/ with matching names)", root, files[i], r.Dx(), r.Dy())}
		}
		h := r.Dy()
		fillImage(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+h, r.Max.Y), cfg, outA)
		fillImage(img, image.Rect(r.Min.X+h, r.Min.Y, r.Max.X, r.Max.Y), cfg, outB)
		return nil
	})
}

// loadPairs decodes n pairs with load(i, outA, outB) in parallel and keeps
// the ones that load, as LoadPaired describes.
func loadPairs(root string, n int, labels []int, classes []string, cfg FolderConfig, load func(i int, outA, outB []float32) error) (a, b *Set, skipped int, err error) {
	c := 3
	if cfg.Gray {
		c = 1
	}
	chw := c * cfg.Height * cfg.Width
	pa, pb := make([]float32, n*chw), make([]float32, n*chw)
	errs := decodeAll(n, func(i int) error { return load(i, pa[i*chw:(i+1)*chw], pb[i*chw:(i+1)*chw]) })
	k := 0
	for i, e := range errs {
		if e != nil {
			var le layoutError
			if !cfg.Skip || errors.As(e, &le) {
				return nil, nil, 0, e
			}
			skipped++
			if cfg.Warnings != nil {
				fmt.Fprintf(cfg.Warnings, "warning: skipping a pair: %v\n", strings.ReplaceAll(e.Error(), "\n", "; "))
			}
			continue
		}
		copy(pa[k*chw:(k+1)*chw], pa[i*chw:(i+1)*chw])
		copy(pb[k*chw:(k+1)*chw], pb[i*chw:(i+1)*chw])
		labels[k] = labels[i]
		k++
	}
	if k == 0 {
		return nil, nil, skipped, fmt.Errorf("paired folder %s: none of its %d pairs could be read", root, n)
	}
	set := func(p []float32) *Set {
		return &Set{Images: tensor.FromSlice(p[:k*chw:k*chw], k, c, cfg.Height, cfg.Width), Labels: slices.Clone(labels[:k]), Classes: classes}
	}
	return set(pa), set(pb), skipped, nil
}
