package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshot returns the content of every file under dir by its path
// relative to dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil {
			files[rel] = string(readFile(t, p))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameSnapshot reports how b differs from a, "" when it does not.
func sameSnapshot(a, b map[string]string) string {
	var diff []string
	for name, v := range a {
		if w, ok := b[name]; !ok {
			diff = append(diff, name+" gone")
		} else if v != w {
			diff = append(diff, name+" changed")
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			diff = append(diff, name+" new")
		}
	}
	return strings.Join(diff, ", ")
}

// TestTranslateOwnFiles: translate refuses, before writing anything, an
// -out that is -in or any output that would land on an input file, and
// never reads what is in an -out inside -in as input, so running it twice
// translates the same images.
func TestTranslateOwnFiles(t *testing.T) {
	dir, _ := trainShiftFolder(t, false)
	multi, _ := trainShiftFolder(t, true)

	t.Run("OutIsIn", func(t *testing.T) {
		in := t.TempDir()
		writeImage(t, filepath.Join(in, "a.png"), solidGray(8, 8, 64))
		writeImage(t, filepath.Join(in, "sub", "b.png"), solidGray(8, 8, 90))
		writeImage(t, filepath.Join(in, "c.jpg"), solidGray(8, 8, 30))
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(in, link); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, in)
		// -out is -in however spelled; only .jpg inputs would not be
		// overwritten, but their translations would be read next time.
		for _, out := range []string{in, in + string(filepath.Separator) + ".", link} {
			code, stdout, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out)
			if code != exitUsage || !strings.Contains(stderr, "-out "+out+" is -in") {
				t.Errorf("-out %s: exit %d, %s%s; want exit %d and -out is -in", out, code, stdout, stderr, exitUsage)
			}
		}
		jpg := filepath.Join(in, "c.jpg")
		if code, _, stderr := cmdRun(runTranslate, dir, "-in", jpg, "-out", jpg); code != exitUsage || !strings.Contains(stderr, "is -in") {
			t.Errorf("-in and -out one file: exit %d, %s", code, stderr)
		}
		if d := sameSnapshot(before, snapshot(t, in)); d != "" {
			t.Errorf("inputs touched: %s", d)
		}
	})

	t.Run("OutputOnInput", func(t *testing.T) {
		root := t.TempDir()
		in := filepath.Join(root, "in")
		writeImage(t, filepath.Join(in, "a.png"), solidGray(8, 8, 64))
		writeImage(t, filepath.Join(in, "in", "a.png"), solidGray(8, 8, 90))
		multiIn := filepath.Join(root, "y")
		writeImage(t, filepath.Join(multiIn, "y", "c.png"), solidGray(8, 8, 30))
		writeImage(t, filepath.Join(multiIn, "c.png"), solidGray(8, 8, 30))
		before := snapshot(t, root)
		for _, c := range []struct {
			args []string
			want string
		}{
			// One image into its own folder: its translation is its name.
			{[]string{dir, "-in", filepath.Join(in, "a.png"), "-out", in}, "writing " + filepath.Join(in, "a.png") + " would overwrite the input " + filepath.Join(in, "a.png")},
			// -in inside -out: in/in/a.png's translation is in/a.png, an input.
			{[]string{dir, "-in", in, "-out", root}, "writing " + filepath.Join(root, "in", "a.png") + " would overwrite the input " + filepath.Join(in, "a.png")},
			// A domain's subfolder of -out: y/y/c.png's translation to y
			// is y/c.png, an input.
			{[]string{multi, "-in", multiIn, "-out", root, "-from", "x"}, "would overwrite the input " + filepath.Join(multiIn, "c.png")},
		} {
			code, stdout, stderr := cmdRun(runTranslate, c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "translating") {
				t.Errorf("translate %v: exit %d, %s%s\nwant exit %d and %q before translating", c.args, code, stdout, stderr, exitUsage, c.want)
			}
		}
		if d := sameSnapshot(before, snapshot(t, root)); d != "" {
			t.Errorf("files touched: %s", d)
		}
	})

	t.Run("OutInsideIn", func(t *testing.T) {
		in := t.TempDir()
		writeImage(t, filepath.Join(in, "a.png"), solidGray(8, 8, 64))
		writeImage(t, filepath.Join(in, "sub", "b.png"), solidGray(8, 8, 90))
		out := filepath.Join(in, "t")
		var first map[string]string
		for round := range 3 {
			code, stdout, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out)
			if code != exitOK || !strings.Contains(stdout, "A to B: 2 images") {
				t.Fatalf("round %d: exit %d, %s%s; want 2 images translated", round, code, stdout, stderr)
			}
			got := snapshot(t, out)
			if round == 0 {
				first = got
				if len(first) != 3 || strings.Contains(stderr, "in -out") {
					t.Errorf("round 0 wrote %d files (want a.png, sub/b.png, grid.png), or noted -out:\n%s", len(first), stderr)
				}
				// A non-image file of the user's in -out is not noted as a
				// skipped input either.
				os.WriteFile(filepath.Join(out, "notes.txt"), []byte("x"), 0o644)
				first["notes.txt"] = "x"
				continue
			}
			if d := sameSnapshot(first, got); d != "" {
				t.Errorf("round %d: -out differs from the first run's: %s", round, d)
			}
			if !strings.Contains(stderr, "note: skipping the 4 files in -out "+out) || strings.Contains(stderr, "notes.txt") {
				t.Errorf("round %d: want one note for -out's 4 files:\n%s", round, stderr)
			}
		}
		// The same with -out named otherwise than the folders under -in.
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(out, link); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", link)
		if code != exitOK || !strings.Contains(stdout, "2 images") || !strings.Contains(stderr, "skipping the 4 files") {
			t.Errorf("-out a link to in/t: exit %d, %s%s", code, stdout, stderr)
		}
		if d := sameSnapshot(first, snapshot(t, out)); d != "" {
			t.Errorf("-out a link to in/t: %s", d)
		}
		// A folder whose only images are in -out has no inputs.
		only := t.TempDir()
		writeImage(t, filepath.Join(only, "t", "a.png"), solidGray(8, 8, 64))
		code, _, stderr = cmdRun(runTranslate, dir, "-in", only, "-out", filepath.Join(only, "t"))
		if code != exitError || !strings.Contains(stderr, "holds no images besides those in -out") {
			t.Errorf("only -out's images: exit %d, %s", code, stderr)
		}
	})

	t.Run("CheckpointStep", func(t *testing.T) {
		in := t.TempDir()
		writeImage(t, filepath.Join(in, "a.png"), solidGray(8, 8, 64))
		out := filepath.Join(t.TempDir(), "out")
		for _, c := range []struct {
			step string
			want string
		}{
			{"2", "for step 2, -checkpoint " + filepath.Join(dir, "checkpoints", "step-000002.safetensors")},
			{"3", "has none at step 3, its steps: 2, 4"},
		} {
			code, _, stderr := cmdRun(runTranslate, dir, "-in", in, "-out", out, "-checkpoint", c.step)
			if code != exitUsage || !strings.Contains(stderr, "takes a checkpoint file's path") || !strings.Contains(stderr, "what export's -checkpoint takes") || !strings.Contains(stderr, c.want) {
				t.Errorf("-checkpoint %s: exit %d, %s\nwant exit %d and %q", c.step, code, stderr, exitUsage, c.want)
			}
		}
	})
}

// TestTranslateHelp: -h states the rule about -out and -in, and the flag
// line of -from says what the command does without it.
func TestTranslateHelp(t *testing.T) {
	code, stdout, _ := cmdRun(runTranslate, "-h")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	help := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{
		"translate never writes over its inputs",
		"-out may be a folder inside -in: the files in it (an earlier run's output) are never read as inputs",
		"(default: A, or B when -to is A; required for a multi-domain model)",
		"not -in, but may be inside it",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(help, "the model's first") {
		t.Errorf("help still says -from defaults to the model's first:\n%s", stdout)
	}
	if !bytes.Contains([]byte(stdout), []byte("-checkpoint file")) {
		t.Errorf("help does not name -checkpoint's value a file:\n%s", stdout)
	}
}
