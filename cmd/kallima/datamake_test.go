package main

import (
	"fmt"
	"github.com/kallima-gan/kallima/internal/blas"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/pipeline"
)

// TestWriteTaskLoadsBack: every task written as folders loads, through
// the data kind that reads its layout, as the same images in the same
// order as the in-memory task (within PNG's rounding to bytes), with the
// same domains for width, so a run on the folder trains as one on the
// mnist-* kind.
func TestWriteTaskLoadsBack(t *testing.T) {
	digits := pipeline.Synthetic(45, 10, 1, 28, 4) // stand-in digits: blobs in [-1, 1]
	for _, tc := range []struct {
		task, kind string
		test       bool
	}{{"edges", "paired", false}, {"thick", "unpaired", false}, {"inverted", "unpaired", true}, {"width", "folder", false}} {
		task, err := data.MakeTask(tc.task, digits, 7)
		if err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		written, err := writeTask(task, out, tc.test)
		if err != nil {
			t.Fatal(err)
		}
		if tc.test {
			// A test split's unpaired folders: testA and testB, which the
			// unpaired kind does not train on; read them as trainA/trainB.
			for _, s := range []string{"A", "B"} {
				if err := os.Rename(filepath.Join(out, "test"+s), filepath.Join(out, "train"+s)); err != nil {
					t.Fatal(err)
				}
			}
		}
		c := config.Config{Data: config.Data{Kind: tc.kind, Dir: out, Size: 28, Channels: 1}}
		d, err := pipeline.LoadData(c, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", tc.task, err)
		}
		close := func(what string, got, want *data.Set) {
			t.Helper()
			if got.Len() != want.Len() {
				t.Fatalf("%s %s: %d images, want %d", tc.task, what, got.Len(), want.Len())
			}
			for i, v := range got.Images.Data() {
				if w := want.Images.Data()[i]; math.Abs(float64(v-w)) > 1.0/255+1e-6 {
					t.Fatalf("%s %s: value %d is %g, want %g within PNG rounding", tc.task, what, i, v, w)
				}
			}
		}
		switch task.Kind {
		case "domains":
			close("domains", d.Images, task.Domains)
			if !slices.Equal(d.Images.Labels, task.Domains.Labels) || !slices.Equal(d.ClassNames, []string{"0-thin", "1-normal", "2-thick"}) {
				t.Errorf("width: labels %v, names %v", d.Images.Labels[:5], d.ClassNames)
			}
			if len(written) != 3 || written[0].n != 15 {
				t.Errorf("width wrote %v", written)
			}
		default:
			close("A", d.Images, task.A)
			close("B", d.B, task.B)
			if d.Paired != (task.Kind == "paired") {
				t.Errorf("%s: paired %v", tc.task, d.Paired)
			}
		}
	}
}

func TestDataMake(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"make", "blur", "-out", t.TempDir()}, exitUsage, "\"blur\" is not a task; have\n  edges: paired"},
		{[]string{"make", "edges", "-out", t.TempDir(), "-split", "val"}, exitUsage, "-split \"val\": want train or test"},
		{[]string{"make", "edges"}, exitUsage, "give -out"},
		{[]string{"make", "edges", "-out", t.TempDir(), "-n", "2"}, exitUsage, "-n 2"},
		{[]string{"make", "edges", "-out", t.TempDir(), "-dir", "x"}, exitUsage, "-dir is fetch's destination"},
		{[]string{"fetch", "mnist", "-split", "test"}, exitUsage, "-split is for make"},
	} {
		code, _, stderr := cmdRun(runData, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("data %v: exit %d, %s\nwant exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if err := mnistPresent(); err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	code, stdout, stderr := cmdRun(runData, "make", "thick", "-out", out, "-n", "30", "-split", "test", "-seed", "3")
	if code != exitOK || !strings.Contains(stdout, filepath.Join(out, "testB")+": 15 images") || !strings.Contains(stdout, "from 30 MNIST test digits, seed 3") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	files, _ := os.ReadDir(filepath.Join(out, "testA"))
	if len(files) != 15 || files[0].Name() != "00000.png" {
		t.Fatalf("testA holds %d files, first %v", len(files), files[0].Name())
	}
	// The same folders again: refused, naming the folder.
	code, _, stderr = cmdRun(runData, "make", "thick", "-out", out, "-n", "30", "-split", "test")
	if code != exitError || !strings.Contains(stderr, filepath.Join(out, "testA")+" exists and is not empty") {
		t.Fatalf("again: exit %d: %s", code, stderr)
	}
}

// mnistPresent says whether MNIST is where kallima data make reads it.
func mnistPresent() error {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return err
	}
	if _, err := data.MNISTFiles(dir); err != nil {
		return fmt.Errorf("MNIST not found in %s (kallima data fetch mnist): %v", dir, err)
	}
	return nil
}

// TestDataMakeMatchesMNISTKinds writes every task from MNIST's whole
// training split, as kallima data make does with its defaults, and checks
// that the folder loads as the data.kind mnist-TASK run with seed 1 sees
// it: the same images in the same order within PNG rounding (and, for
// width, the same domains). Long: it writes and reads 300000 PNGs.
func TestDataMakeMatchesMNISTKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads every MNIST task at full size; runs without -short")
	}
	if blas.Impl == "go" {
		t.Skip("file writing and reading, the same in both builds: .ci/long's OpenBLAS pass runs it (94 s)")
	}
	if err := mnistPresent(); err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct{ task, kind string }{{"edges", "paired"}, {"thick", "unpaired"}, {"inverted", "unpaired"}, {"width", "folder"}} {
		out := t.TempDir()
		if code, _, stderr := cmdRun(runData, "make", tc.task, "-out", out); code != exitOK {
			t.Fatalf("%s: exit %d: %s", tc.task, code, stderr)
		}
		mem, err := pipeline.LoadData(config.Config{Seed: 1, Data: config.Data{Kind: "mnist-" + tc.task}}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		disk, err := pipeline.LoadData(config.Config{Seed: 1, Data: config.Data{Kind: tc.kind, Dir: out, Size: 28, Channels: 1}}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		sets := [][2]*data.Set{{mem.Images, disk.Images}}
		if mem.B != nil {
			sets = append(sets, [2]*data.Set{mem.B, disk.B})
		}
		for k, s := range sets {
			if s[0].Len() != s[1].Len() {
				t.Fatalf("%s set %d: %d images in memory, %d on disk", tc.task, k, s[0].Len(), s[1].Len())
			}
			for i, v := range s[1].Images.Data() {
				if w := s[0].Images.Data()[i]; math.Abs(float64(v-w)) > 1.0/255+1e-6 {
					t.Fatalf("%s set %d: value %d is %g on disk, %g in memory", tc.task, k, i, v, w)
				}
			}
		}
		if tc.task == "width" && !slices.Equal(mem.Images.Labels, disk.Images.Labels) {
			t.Errorf("width: the domains differ")
		}
		if mem.Paired != disk.Paired || (mem.B == nil) != (disk.B == nil) {
			t.Errorf("%s: paired %v and %v", tc.task, mem.Paired, disk.Paired)
		}
	}
}
