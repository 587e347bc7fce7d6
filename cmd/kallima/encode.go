package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/atomicfile"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/tensor"
)

const encodeUsage = `Usage: kallima encode RUN_OR_WEIGHTS -in DIR_OR_IMAGE -out DIR [flags]

Maps images to latent codes with a trained model that has an encoder
(model.kind bigan, ali, vae, ae, aae or avb; family.Encoder): BiGAN's
E(x), the posterior mean of ALI and the VAE, the AAE's code (for its
categorical prior, y then the style), the mean of AVB's samples.
RUN_OR_WEIGHTS is a run folder (its newest checkpoint that verifies; the
EMA weights when the run keeps them, unless -raw), a checkpoint file of
a run, or a weights file with -config.

-in is one PNG or JPEG image, or a folder: its .png, .jpg and .jpeg files
at any depth, in path order (other files are skipped with a note; names
starting with "." are left out). -out may be -in or a folder inside it:
the files encode writes there (codes.npy, names.txt, reconstructions.png)
are never read as inputs, so a second run encodes the same images (a note
says which files were skipped). Every image is brought to the run's
shape: another size is resized (an area filter when shrinking, bilinear
when growing; a non-square image is stretched) and a colour image is
reduced to gray by luma, 0.299 R + 0.587 G + 0.114 B, for a gray model, or
a gray image copied to R, G and B for a colour one; each change gets a
note on stderr. A file that cannot be read or is not a PNG or JPEG image
is an error naming it, and so is a folder without images.

-out DIR receives:
  codes.npy            the codes, float32 [N, D], one row per image (NumPy's
                       .npy format: numpy.load("codes.npy"))
  names.txt            the images' paths relative to -in (the file's name
                       for a single image), one per line, in row order
  reconstructions.png  for a model that decodes its codes too
                       (family.Reconstructor: all of the above): the
                       first 64 images (after resizing) in rows of 8, each
                       row followed by a row of their reconstructions

Flags:
`

const encodeExamples = `
Examples:
  kallima encode runs/bigan-mnist -in digits/ -out codes/
  kallima encode runs/vae-mnist -in seven.png -out seven/
  kallima encode runs/bigan-mnist/checkpoints/step-004000.safetensors -in digits/ -out early/
`

// encodeBatch is the number of images encoded per forward pass, and
// encodeGrid the number shown in reconstructions.png.
const (
	encodeBatch = 256
	encodeGrid  = 64
)

func runEncode(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima encode", encodeUsage, encodeExamples)
	in := fs.String("in", "", "an image (PNG or JPEG) or a folder of them")
	out := fs.String("out", "", "folder to write codes.npy, names.txt and reconstructions.png into (made if missing)")
	raw := fs.Bool("raw", false, "use the trained weights, not their EMA")
	cfgPath := fs.String("config", "", "the config a weights file was trained with")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintln(stderr, "kallima encode: give one run folder or weights file (kallima encode RUN -in DIR_OR_IMAGE -out DIR)")
		return exitUsage
	case *in == "" || *out == "":
		fmt.Fprintln(stderr, "kallima encode: -in (an image or a folder of images) and -out (a folder) are both required")
		return exitUsage
	}
	s, code := loadSampler("encode", pos[0], *cfgPath, *raw, stderr)
	if s == nil {
		return code
	}
	enc, ok := s.Generator.(family.Encoder)
	if !ok || !s.IsImage {
		fmt.Fprintf(stderr, "kallima encode: the model (model.kind %s) has no encoder: kallima encode takes bigan, ali, vae, ae, aae and avb runs\n", s.Config.Model.Kind)
		return exitError
	}
	files, skipped, err := data.ListImageFiles(*in)
	var own []string
	if fi, statErr := os.Stat(*in); statErr == nil && fi.IsDir() {
		// -out may be -in or inside it: what encode wrote there before is
		// not an input (an earlier reconstructions.png would be encoded).
		var ownOther []string
		files, own = dropOwnOutputs(files, *out)
		skipped, ownOther = dropOwnOutputs(skipped, *out)
		own = append(own, ownOther...)
	}
	for _, f := range skipped {
		fmt.Fprintf(stderr, "note: skipping %s: not a .png, .jpg or .jpeg file\n", f)
	}
	if len(own) > 0 {
		fmt.Fprintf(stderr, "note: skipping %s: encode's own output in -out, not an input\n", strings.Join(own, ", "))
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima encode: %v\n", err)
		return exitError
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "kallima encode: %s holds no images besides encode's own output\n", *in)
		return exitError
	}
	ch, side := s.Config.ImageShape()
	x, info, err := data.ReadImages(files, data.FolderConfig{Height: side, Width: side, Gray: ch == 1})
	if err != nil {
		fmt.Fprintf(stderr, "kallima encode: %v\n", err)
		return exitError
	}
	data.NoteConversions(info, ch, side, side, stderr)
	codes, err := encodeImages(enc, x)
	if err != nil {
		fmt.Fprintf(stderr, "kallima encode: %v\n", err)
		return exitError
	}
	names := make([]string, len(files))
	fi, err := os.Stat(*in)
	for i, f := range files {
		names[i] = filepath.Base(f)
		if err == nil && fi.IsDir() {
			if rel, err := filepath.Rel(*in, f); err == nil {
				names[i] = filepath.ToSlash(rel)
			}
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "kallima encode: %v\n", err)
		return exitError
	}
	if err := writeCodes(*out, codes, names); err != nil {
		fmt.Fprintf(stderr, "kallima encode: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "codes            %s: %d images x %d dimensions (float32), names in %s\n",
		filepath.Join(*out, "codes.npy"), codes.Size(0), codes.Size(1), filepath.Join(*out, "names.txt"))
	if rec, ok := enc.(family.Reconstructor); ok {
		path := filepath.Join(*out, "reconstructions.png")
		if err := saveRowPairs(rec, x, path); err != nil {
			fmt.Fprintf(stderr, "kallima encode: reconstructions: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "reconstructions  %s (rows of up to 8 images, each followed by their reconstructions)\n", path)
	}
	return exitOK
}

// encodeOutputs are the files encode writes into its -out folder.
var encodeOutputs = []string{"codes.npy", "names.txt", "reconstructions.png"}

// dropOwnOutputs returns paths without the files encode writes into the
// folder out (the same files, however named), and those it left out.
func dropOwnOutputs(paths []string, out string) (kept, own []string) {
	var outs []os.FileInfo
	for _, name := range encodeOutputs {
		if fi, err := os.Stat(filepath.Join(out, name)); err == nil {
			outs = append(outs, fi)
		}
	}
	if len(outs) == 0 {
		return paths, nil
	}
	for _, p := range paths {
		if slices.Contains(encodeOutputs, filepath.Base(p)) {
			if fi, err := os.Stat(p); err == nil && slices.ContainsFunc(outs, func(o os.FileInfo) bool { return os.SameFile(o, fi) }) {
				own = append(own, p)
				continue
			}
		}
		kept = append(kept, p)
	}
	return kept, own
}

// encodeImages encodes x [N, C, H, W] in batches of encodeBatch and
// returns the codes [N, D].
func encodeImages(enc family.Encoder, x *tensor.Tensor) (*tensor.Tensor, error) {
	n := x.Size(0)
	var codes []float32
	dim := 0
	for lo := 0; lo < n; lo += encodeBatch {
		hi := min(lo+encodeBatch, n)
		arena := tensor.OpenArena()
		z, err := enc.Encode(tensor.Slice(x, 0, lo, hi))
		if err == nil {
			dim = z.Size(1)
			codes = append(codes, z.Data()...)
		}
		arena.Close()
		if err != nil {
			return nil, err
		}
	}
	return tensor.FromSlice(codes, n, dim), nil
}

// writeCodes writes codes.npy (float32, little-endian) and names.txt into
// dir, each atomically.
func writeCodes(dir string, codes *tensor.Tensor, names []string) error {
	raw := make([]byte, 4*codes.Len())
	for i, v := range codes.Data() {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	x := &data.NPY{Kind: 'f', Size: 4, Shape: []int{codes.Size(0), codes.Size(1)}, Data: raw}
	if err := atomicfile.Write(filepath.Join(dir, "codes.npy"), func(w io.Writer) error { return data.WriteNPY(w, x) }); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "names.txt"), func(w io.Writer) error {
		_, err := io.WriteString(w, strings.Join(names, "\n")+"\n")
		return err
	})
}

// saveRowPairs writes the first encodeGrid images of x and their
// reconstructions as a grid of 8 columns: a row of images, then a row of
// their reconstructions.
func saveRowPairs(rec family.Reconstructor, x *tensor.Tensor, path string) error {
	n := min(encodeGrid, x.Size(0))
	cols := min(8, n)
	orig := tensor.Slice(x, 0, 0, n)
	out, err := rec.Reconstruct(orig)
	if err != nil {
		return err
	}
	return saveRowGroups(path, cols, orig, out)
}

// saveRowGroups writes sets of images of the same shape [N, C, H, W] as a
// grid of cols columns: a row of each set's first cols images in turn,
// then their next cols, and so on (a short last row padded with blank, -1,
// images).
func saveRowGroups(path string, cols int, sets ...*tensor.Tensor) error {
	n := sets[0].Size(0)
	var rows []*tensor.Tensor
	for lo := 0; lo < n; lo += cols {
		hi := min(lo+cols, n)
		for _, s := range sets {
			r := tensor.Slice(s, 0, lo, hi)
			if hi-lo < cols {
				pad := tensor.Full(-1, append([]int{cols - (hi - lo)}, s.Shape()[1:]...)...)
				r = tensor.Concat([]*tensor.Tensor{r, pad}, 0)
			}
			rows = append(rows, r)
		}
	}
	return picture.SavePNG(path, picture.Grid(tensor.Concat(rows, 0), cols, 2))
}
