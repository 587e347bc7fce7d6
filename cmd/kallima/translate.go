package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

const translateCmdUsage = `Usage: kallima translate RUN -in IMAGE_OR_DIR -out DIR [-from A] [-to B] [flags]

Translates images with a trained image-to-image model (model.kind pix2pix,
cyclegan or stargan; family.Translator). RUN is a run folder (its newest
checkpoint that verifies) or a checkpoint file of a run; -checkpoint picks
another checkpoint file of RUN (a path such as
RUN/checkpoints/step-000040.safetensors, not a step number as export's
-checkpoint takes). The EMA weights are used when the run keeps them,
unless -raw.

-in is one PNG or JPEG image, or a folder: its .png, .jpg and .jpeg files at
any depth, in path order (other files are skipped with a note; names
starting with "." are left out). Every image is brought to the model's
shape: another size is resized (an area filter when shrinking, bilinear
when growing; another aspect ratio is stretched) and a colour image is
reduced to gray by luma, 0.299 R + 0.587 G + 0.114 B, for a gray model, or
a gray image copied to R, G and B for a colour one; each change gets a note
on stderr. A file that cannot be read or is not a PNG or JPEG image is an
error naming it, and so is a folder without images.

translate never writes over its inputs: an -out that is -in, or a
translation or grid.png that would land on an input file, is an error
before any image is read or written. -out may be a folder inside -in: the
files in it (an earlier run's output) are never read as inputs, and a note
says how many were skipped, so a second run translates the same images.

-from and -to are domain names (or their numbers) of the model: A and B for
a two-domain model, the data's domain names for a multi-domain one (a
wrong name is an error listing them). -from defaults to A for a two-domain
model (to B when -to is A) and must be given for a multi-domain one (its translations back to
-from are the reconstructions); -to defaults to the other one of two, or, for a multi-domain model, every domain
but -from, each into its own subfolder of -out.

-out DIR receives:
  NAME.png   each translation under its input's path relative to -in (the
             file's name for a single image), as a PNG
  grid.png   the first 64 inputs in rows of 8, each row followed by a row
             of their translations and, when the model translates back
             (-to to -from), a row of those reconstructions

Flags:
`

const translateCmdExamples = `
Examples:
  kallima translate runs/cyclegan-thick -in digits/ -out thick/
  kallima translate runs/cyclegan-thick -in thick-digits/ -from B -to A -out thin/
  kallima translate runs/stargan-width -in seven.png -to thick -out seven/
`

// translateBatch is the number of images translated per call, and
// translateGrid the number shown in grid.png.
const (
	translateBatch = 64
	translateGrid  = 64
)

// gridFile is the name of the grid translate writes into -out.
const gridFile = "grid.png"

func runTranslate(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima translate", translateCmdUsage, translateCmdExamples)
	in := fs.String("in", "", "an image (PNG or JPEG) or a folder of them")
	out := fs.String("out", "", "folder to write the translations and grid.png into (made if missing; not -in, but may be inside it)")
	from := fs.String("from", "", "the inputs' domain (default: A, or B when -to is A; required for a multi-domain model)")
	to := fs.String("to", "", "the target domain (default: the other of two; every other for a multi-domain model)")
	ckPath := fs.String("checkpoint", "", "a checkpoint `file` of RUN (RUN/checkpoints/step-NNNNNN.safetensors, not a step) to use instead of its newest")
	raw := fs.Bool("raw", false, "use the trained weights, not their EMA")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintln(stderr, "kallima translate: give one run folder or checkpoint (kallima translate RUN -in IMAGE_OR_DIR -out DIR)")
		return exitUsage
	case *in == "" || *out == "":
		fmt.Fprintln(stderr, "kallima translate: -in (an image or a folder of images) and -out (a folder) are both required")
		return exitUsage
	}
	if sameFile(*in, *out) {
		// Checked before loading the model: nothing else can make it work.
		fmt.Fprintf(stderr, "kallima translate: -out %s is -in: the translations would be written over or among the inputs; give another folder (one inside -in is fine)\n", *out)
		return exitUsage
	}
	tr, code := loadTranslator(pos[0], *ckPath, *raw, stderr)
	if tr == nil {
		return code
	}
	t := tr.Translator
	names := t.Domains()
	if *from == "" && len(names) > 2 {
		fmt.Fprintf(stderr, "kallima translate: -from: the model has %d domains (%s); say which one the inputs are in\n", len(names), strings.Join(names, ", "))
		return exitUsage
	}
	src, err := domainIndex(names, *from, pipeline.DefaultSource(names, *to), "from")
	if err != nil {
		fmt.Fprintf(stderr, "kallima translate: %v\n", err)
		return exitUsage
	}
	var targets []int
	switch {
	case *to != "":
		k, err := domainIndex(names, *to, 0, "to")
		if err != nil {
			fmt.Fprintf(stderr, "kallima translate: %v\n", err)
			return exitUsage
		}
		targets = []int{k}
	case len(names) == 2:
		targets = []int{1 - src}
	default:
		for k := range names {
			if k != src {
				targets = append(targets, k)
			}
		}
	}
	shape := t.Shape()
	if len(shape) != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] < 1 || shape[2] < 1 {
		fmt.Fprintf(stderr, "kallima translate: the model takes images of shape %v; kallima translate reads gray (1 channel) or RGB (3) images into it, and cannot\n", shape)
		return exitError
	}
	files, skipped, err := data.ListImageFiles(*in)
	var inOut int
	if fi, statErr := os.Stat(*in); statErr == nil && fi.IsDir() {
		// -out may be inside -in, as encode's may: what is there (an
		// earlier run's translations and grid) is not an input, else a
		// second run would translate them into -out/-out.
		var dropped, droppedOther []string
		files, dropped = dropInside(files, *in, *out)
		skipped, droppedOther = dropInside(skipped, *in, *out)
		inOut = len(dropped) + len(droppedOther)
	}
	for _, f := range skipped {
		fmt.Fprintf(stderr, "note: skipping %s: not a .png, .jpg or .jpeg file\n", f)
	}
	if inOut > 0 {
		noun := "files"
		if inOut == 1 {
			noun = "file"
		}
		fmt.Fprintf(stderr, "note: skipping the %d %s in -out %s: translate's output folder, not inputs\n", inOut, noun, *out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima translate: %v\n", err)
		return exitError
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "kallima translate: %s holds no images besides those in -out %s\n", *in, *out)
		return exitError
	}
	outNames, err := translatedNames(*in, files)
	if err != nil {
		fmt.Fprintf(stderr, "kallima translate: %v\n", err)
		return exitError
	}
	dirs := make([]string, len(targets))
	for i, k := range targets {
		dirs[i] = *out
		if len(targets) > 1 {
			dirs[i] = filepath.Join(*out, names[k])
		}
	}
	if path, input := overwritten(files, dirs, outNames); path != "" {
		fmt.Fprintf(stderr, "kallima translate: writing %s would overwrite the input %s: give an -out that holds none of the inputs\n", path, input)
		return exitUsage
	}
	x, info, err := data.ReadImages(files, data.FolderConfig{Height: shape[1], Width: shape[2], Gray: shape[0] == 1})
	if err != nil {
		fmt.Fprintf(stderr, "kallima translate: %v (the model takes %dx%d images with %d channels)\n", err, shape[2], shape[1], shape[0])
		return exitError
	}
	data.NoteConversions(info, shape[0], shape[1], shape[2], stderr)
	fmt.Fprintf(stderr, "translating %d images with %s (step %d, %s weights)\n", len(files), tr.Path, tr.Step, tr.Weights)
	for i, k := range targets {
		dir := dirs[i]
		back, err := translateTo(t, x, src, k, outNames, dir)
		if err != nil {
			fmt.Fprintf(stderr, "kallima translate: %s to %s: %v\n", names[src], names[k], err)
			return exitError
		}
		how := "inputs and translations"
		if back {
			how += " and reconstructions (translated back to " + names[src] + ")"
		}
		fmt.Fprintf(stdout, "%s to %s: %d images in %s, grid of %s in %s\n", names[src], names[k], len(files), dir, how, filepath.Join(dir, gridFile))
	}
	return exitOK
}

// loadTranslator loads the translator of run (a run folder or checkpoint
// file), or of checkpoint when given (a checkpoint file of run), printing
// any error and returning the exit code with nil.
func loadTranslator(run, checkpoint string, raw bool, stderr io.Writer) (*pipeline.Translator, int) {
	target := run
	if checkpoint != "" {
		dir, ok := pipeline.RunOf(checkpoint)
		if !ok {
			fmt.Fprintf(stderr, "kallima translate: -checkpoint %s: not a checkpoint file in a run's checkpoints folder; translate's -checkpoint takes a checkpoint file's path%s\n", checkpoint, stepHint(run, checkpoint))
			return nil, exitUsage
		}
		a, errA := filepath.Abs(dir)
		b, errB := filepath.Abs(run)
		if errors.Join(errA, errB) != nil || a != b {
			fmt.Fprintf(stderr, "kallima translate: -checkpoint %s belongs to the run %s, not %s\n", checkpoint, dir, run)
			return nil, exitUsage
		}
		target = checkpoint
	}
	if _, err := os.Stat(target); err != nil {
		fmt.Fprintf(stderr, "kallima translate: %v\n", err)
		return nil, exitUsage
	}
	tr, skipped, err := pipeline.LoadTranslator(target, raw)
	for _, s := range skipped {
		fmt.Fprintf(stderr, "kallima translate: skipping a checkpoint: %v\n", s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima translate: %v\n", err)
		return nil, exitError
	}
	return tr, exitOK
}

// stepHint returns what to say when translate's -checkpoint value is a
// step number, as export's -checkpoint takes: the file of that step in run
// if it has one, else its steps; "" for any other value.
func stepHint(run, value string) string {
	step, err := strconv.Atoi(value)
	if err != nil {
		return ""
	}
	infos, err := pipeline.ListCheckpoints(run)
	if err != nil {
		return fmt.Sprintf(" (a step number is what export's -checkpoint takes; %v)", err)
	}
	var steps []string
	for _, in := range infos {
		if in.Step == step {
			return fmt.Sprintf(" (a step number is what export's -checkpoint takes): for step %d, -checkpoint %s", step, in.Path)
		}
		steps = append(steps, strconv.Itoa(in.Step))
	}
	if len(steps) == 0 {
		return fmt.Sprintf(" (a step number is what export's -checkpoint takes; %s has no checkpoints)", run)
	}
	return fmt.Sprintf(" (a step number is what export's -checkpoint takes; %s has none at step %d, its steps: %s)", run, step, strings.Join(steps, ", "))
}

// sameFile reports whether a and b both exist and are one file or folder,
// however named.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// dropInside returns paths (files found under the folder in) without
// those inside the folder out, and those it left out. out is compared by
// identity, not by name, with each folder between a path and in, so
// another spelling of it (./x, a symbolic link) is found too.
func dropInside(paths []string, in, out string) (kept, inside []string) {
	fo, err := os.Stat(out)
	if err != nil || !fo.IsDir() {
		return paths, nil
	}
	in = filepath.Clean(in)
	isOut := map[string]bool{} // by folder: many files share one
	for _, p := range paths {
		found := false
		for d := filepath.Dir(p); d != in && d != filepath.Dir(d) && d != "."; d = filepath.Dir(d) {
			v, ok := isOut[d]
			if !ok {
				fi, err := os.Stat(d)
				v = err == nil && os.SameFile(fi, fo)
				isOut[d] = v
			}
			if v {
				found = true
				break
			}
		}
		if found {
			inside = append(inside, p)
		} else {
			kept = append(kept, p)
		}
	}
	return kept, inside
}

// overwritten returns the first file translate would write (each of names
// and gridFile in each of dirs) that already exists as one of the input
// files, with that input; "" when none does.
func overwritten(files, dirs, names []string) (path, input string) {
	// Inputs by size: os.SameFile on every pair would be quadratic, and a
	// file has one size however it is named (a link, another spelling).
	bySize := map[int64][]int{}
	infos := make([]os.FileInfo, len(files))
	for i, f := range files {
		if fi, err := os.Stat(f); err == nil {
			infos[i] = fi
			bySize[fi.Size()] = append(bySize[fi.Size()], i)
		}
	}
	for _, dir := range dirs {
		for _, name := range append(slices.Clip(names), gridFile) {
			p := filepath.Join(dir, name)
			fi, err := os.Stat(p)
			if err != nil {
				continue // missing: not an input, which all exist
			}
			for _, i := range bySize[fi.Size()] {
				if os.SameFile(fi, infos[i]) {
					return p, files[i]
				}
			}
		}
	}
	return "", ""
}

// domainIndex finds domain name (or number) among names; "" gives def.
func domainIndex(names []string, name string, def int, flag string) (int, error) {
	if k, ok := pipeline.DomainIndex(names, name, def); ok {
		return k, nil
	}
	return 0, fmt.Errorf("-%s %s: the model's domains are %s (or their numbers 0 to %d)", flag, name, strings.Join(names, ", "), len(names)-1)
}

// translatedNames returns the output name of each input file: its path
// relative to in (its base name when in is a file) with the extension
// .png. Two inputs with one output name (x.jpg and x.png), or one named
// like the grid, are an error naming them.
func translatedNames(in string, files []string) ([]string, error) {
	fi, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(files))
	seen := map[string]string{}
	for i, f := range files {
		name := filepath.Base(f)
		if fi.IsDir() {
			if rel, err := filepath.Rel(in, f); err == nil {
				name = rel
			}
		}
		name = strings.TrimSuffix(name, filepath.Ext(name)) + ".png"
		if name == gridFile {
			return nil, fmt.Errorf("%s would be written as %s, the grid's name: rename it", f, name)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s and %s would both be written as %s: rename one", prev, f, name)
		}
		seen[name] = f
		names[i] = name
	}
	return names, nil
}

// translateTo translates x from domain from to domain to in batches,
// writes each translation under its name in dir and the grid, and reports
// whether the grid shows reconstructions (the model translates back).
func translateTo(t family.Translator, x *tensor.Tensor, from, to int, names []string, dir string) (back bool, err error) {
	n := x.Size(0)
	chw := x.Len() / n
	y := tensor.New(x.Shape()...)
	for lo := 0; lo < n; lo += translateBatch {
		hi := min(lo+translateBatch, n)
		arena := tensor.OpenArena()
		out, err := t.Translate(tensor.Slice(x, 0, lo, hi), from, to)
		if err == nil && out.Len() != (hi-lo)*chw {
			err = fmt.Errorf("the model returned %v for %d images of shape %v", out.Shape(), hi-lo, x.Shape()[1:])
		}
		if err == nil {
			copy(y.Data()[lo*chw:hi*chw], out.Data())
		}
		arena.Close()
		if err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	for i, name := range names {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return false, err
		}
		if err := picture.SavePNG(path, picture.Grid(tensor.Slice(y, 0, i, i+1), 1, 0)); err != nil {
			return false, err
		}
	}
	g := min(translateGrid, n)
	sets := []*tensor.Tensor{tensor.Slice(x, 0, 0, g), tensor.Slice(y, 0, 0, g)}
	if rec, err := t.Translate(sets[1], to, from); err == nil && rec.Len() == sets[1].Len() {
		sets, back = append(sets, rec), true
	}
	return back, saveRowGroups(filepath.Join(dir, gridFile), min(8, g), sets...)
}
