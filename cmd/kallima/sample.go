package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/atomicfile"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

const sampleUsage = `Usage: kallima sample RUN_OR_WEIGHTS [flags]

Draws samples from a trained generator of any family: the newest
checkpoint that verifies in a run folder (the EMA of G's weights when the
run keeps one, G's own with -raw), any checkpoint file of a run
(RUN/checkpoints/step-N.safetensors: the run's config is found beside it;
RUN/checkpoints/latest, the run's pointer, gives the checkpoint it names),
or a safetensors file of G's weights with the config it was trained with
(-config). The noise is drawn from the run's prior with
-seed, so the same seed gives the same images. The images go into one grid
(ceil(sqrt(n)) per row; PNG, or JPEG or GIF when -out's name says so),
with -separate one PNG each, or with -out FILE.npy one array for other
tools to read or score: uint8 [N, C, H, W], the bytes the PNGs would hold
(the layout kallima data export writes and kallima eval reads), up to
100000 images. -separate wants a new or empty folder, so that no image of
an earlier draw is left among the new ones; -out names a file, not a folder.
A conditional model (one that takes a class: cgan, acgan, biggan, sngan
and sagan with model.conditional, aae with the mixture or categorical
prior) draws class K with -class K, else the classes in turn; -per-class K
lays it out one row per class instead, K images each, the same K noise
vectors in every row (so a column keeps its noise).
An InfoGAN model's latent codes are named c1, c2, ... (categorical ones
first, then continuous, as in its config): -code c1=3 holds c1 at 3 in
every image (a categorical code takes a category 0..K-1, a continuous one
a value in [-2, 2]), and codes not given follow the noise. -code c2=-2:2
draws a traversal grid instead: one row per value of c2 (-rows values
evenly spaced from LO to HI; for a categorical code every category from LO
to HI), one column per noise vector (-n of them, 8 by default), so a
column keeps its noise and its other codes while c2 changes down it.
-plane P decodes the latent plane instead: a PxP grid whose column c and
row r hold the first two noise dimensions at the prior's quantiles
(c+0.5)/P and (r+0.5)/P, the other dimensions at 0 (the picture of a VAE's
2-d latent manifold, or a slice through the centre of a larger one). The
plane draws no noise, so it is the same for every seed: -seed, like -n,
-code and -truncation, is refused with it.
-truncation bounds the noise; a uniform prior's noise lies in [-1, 1], so
there a bound of 1 or more (resample or clamp) changes nothing, and a note
says so.
A 2-D run's samples are points: they go into a CSV file (x,y per line;
-out samples.csv by default), as float32 [N, 2] with -out FILE.npy, or
drawn as a scatter plot when -out names an image (.png, .jpg, .gif).

Flags:
`

const sampleExamples = `
Examples:
  kallima sample runs/dcgan                          64 samples into grid.png
  kallima sample runs/dcgan -n 16 -seed 3 -out s.png
  kallima sample runs/cgan -class 7 -n 25            25 images of class 7
  kallima sample runs/cgan -per-class 8              one row per class, 8 columns
  kallima sample runs/infogan -code c1=0:9           one row per category of c1, 8 noise columns
  kallima sample runs/infogan -code c2=-2:2 -code c1=7 -n 10   c2 from -2 to 2 down the rows, all with c1=7
  kallima sample runs/dcgan -raw -separate out/      G's live weights, out/sample-000.png, ...
  kallima sample runs/stacked -n 26000 -out s.npy    26000 images as uint8 [N, C, H, W] for another tool to score
  kallima sample runs/dcgan/checkpoints/step-001000.safetensors   an earlier checkpoint of the run
  kallima sample runs/dcgan -truncation 0.5          noise within [-0.5, 0.5]: values beyond redrawn (BigGAN's truncation)
  kallima sample runs/dcgan -truncation 0.7 -truncation-mode scale   noise times 0.7 (StyleGAN's psi, in z)
  kallima sample runs/vae -plane 15                 the latent plane: z1 across, z2 down, 15x15
  kallima sample runs/ring8 -n 2500                  2-D points into samples.csv
  kallima sample g.safetensors -config dcgan.yaml    a weights file and its config
`

// maxSamples bounds -n, and maxNPYSamples -n with -out FILE.npy (an
// array of bytes, not a picture: 100000 3x64x64 images are 1.2 GB).
const (
	maxSamples    = 10000
	maxNPYSamples = 100000
)

// sampleChunk is the number of images generated per forward pass.
const sampleChunk = 64

// loadSampler loads a generator from a run folder or, with cfgPath, a
// weights file. Problems with the arguments get exitUsage, others
// exitError.
func loadSampler(cmd, target, cfgPath string, raw bool, stderr io.Writer) (*pipeline.Sampler, int) {
	fi, err := os.Stat(target)
	if err != nil {
		fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
		return nil, exitUsage
	}
	if fi.IsDir() {
		if cfgPath != "" {
			fmt.Fprintf(stderr, "kallima %s: -config goes with a weights file; %s is a run folder, which has its own config\n", cmd, target)
			return nil, exitUsage
		}
		g, skipped, err := pipeline.LoadSampler(target, raw)
		for _, s := range skipped {
			fmt.Fprintf(stderr, "kallima %s: skipping a checkpoint: %v\n", cmd, s)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
			return nil, exitError
		}
		return g, exitOK
	}
	if dir, ok := pipeline.RunOf(target); ok && cfgPath == "" {
		// A checkpoint of a run: its config is the run's.
		c, err := pipeline.RunConfig(dir)
		if err != nil {
			fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
			return nil, exitError
		}
		ck, err := runfolder.LoadCheckpoint(target)
		if err != nil {
			fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
			return nil, exitError
		}
		g, err := pipeline.SamplerFromCheckpoint(c, ck, raw)
		if err != nil {
			fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
			return nil, exitError
		}
		return g, exitOK
	}
	if cfgPath == "" {
		fmt.Fprintf(stderr, "kallima %s: %s is a file outside a run's checkpoints folder: give the config it was trained with (-config FILE), or a run folder\n", cmd, target)
		return nil, exitUsage
	}
	if raw {
		fmt.Fprintf(stderr, "kallima %s: -raw chooses between a run's weights; a weights file has one set\n", cmd)
		return nil, exitUsage
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
		return nil, exitUsage
	}
	g, err := pipeline.LoadSamplerWeights(c, target)
	if err != nil {
		fmt.Fprintf(stderr, "kallima %s: %v\n", cmd, err)
		return nil, exitError
	}
	return g, exitOK
}

// checkClass validates -class k (k < 0: not given) against g. For an
// unconditional generator any class is an error.
func checkClass(cmd string, g *pipeline.Sampler, k int, stderr io.Writer) bool {
	if k < 0 {
		return true
	}
	if g.Classes == 0 {
		fmt.Fprintf(stderr, "kallima %s: -class %d: the model (%s) is unconditional; -class needs a conditional model\n", cmd, k, g.Config.Model.Kind)
		return false
	}
	if k >= g.Classes {
		fmt.Fprintf(stderr, "kallima %s: -class %d out of range: the model has classes 0 to %d\n", cmd, k, g.Classes-1)
		return false
	}
	return true
}

// describe names where a generator's weights came from.
func describe(g *pipeline.Sampler, target string) string {
	switch g.Weights {
	case pipeline.WeightsEMA:
		return fmt.Sprintf("%s step %d, EMA weights", target, g.Step)
	case pipeline.WeightsG:
		return fmt.Sprintf("%s step %d, G's weights", target, g.Step)
	case pipeline.WeightsAverage:
		return fmt.Sprintf("%s, G's weights averaged over steps %s", target, joinInts(g.Averaged))
	}
	return target
}

func runSample(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima sample", sampleUsage, sampleExamples)
	n := fs.Int("n", 64, "number of images")
	seed := fs.Uint64("seed", 1, "seed of the noise")
	out := fs.String("out", "grid.png", "grid image to write, .png, .jpg or .gif (not written with -separate unless given), or .npy for an array of the images; samples.csv for a 2-D run")
	separate := fs.String("separate", "", "write each image as DIR/sample-NNN.png instead (DIR new or empty)")
	class := optionalInt(fs, "class", "draw only this `class` (0 or more) of a conditional model; left out, the classes in turn")
	raw := fs.Bool("raw", false, "use G's live weights instead of their EMA")
	cfgPath := fs.String("config", "", "config of a weights file (the YAML it was trained with)")
	perClass := fs.Int("per-class", 0, "for a conditional model: this many images of every class, one row per class")
	truncation := truncationFlags(fs)
	var codes codeFlags
	fs.Var(&codes, "code", "for an InfoGAN model: NAME=VALUE holds latent code NAME (c1, c2, ...) at VALUE; NAME=LO:HI traverses it (repeatable, one traversal)")
	rows := fs.Int("rows", 9, "with a -code traversal of a continuous code: the number of values from LO to HI")
	plane := fs.Int("plane", 0, "draw the latent plane instead: a PxP grid over the first two noise dimensions at the prior's quantiles, the rest 0 (no noise drawn: not with -seed)")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	trunc, err := truncation(false)
	if err != nil {
		fmt.Fprintf(stderr, "kallima sample: %v\n", err)
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima sample: want one run folder or weights file, got %d arguments (see kallima sample -h)\n", len(pos))
		return exitUsage
	}
	asNPY := strings.EqualFold(filepath.Ext(*out), ".npy") && isSet(fs, "out")
	limit, more := maxSamples, fmt.Sprintf(" (up to %d with -out FILE.npy)", maxNPYSamples)
	if asNPY {
		limit, more = maxNPYSamples, " with -out FILE.npy"
	}
	if *n < 1 || *n > limit {
		fmt.Fprintf(stderr, "kallima sample: -n %d: want 1 to %d%s\n", *n, limit, more)
		return exitUsage
	}
	if isSet(fs, "class") && *class < 0 {
		fmt.Fprintf(stderr, "kallima sample: -class %d: classes are 0 or more\n", *class)
		return exitUsage
	}
	if isSet(fs, "per-class") && (*perClass < 1 || *perClass > limit || isSet(fs, "class") || isSet(fs, "n")) {
		fmt.Fprintf(stderr, "kallima sample: -per-class %d: want 1 to %d images per class, without -class or -n\n", *perClass, limit)
		return exitUsage
	}
	if !isSet(fs, "out") {
		*out = ""
	}
	if *out == "" && *separate == "" && isSet(fs, "out") {
		fmt.Fprintln(stderr, "kallima sample: -out is empty and no -separate folder: nothing to write")
		return exitUsage
	}
	if *out != "" && !strings.HasSuffix(strings.ToLower(*out), ".csv") && !asNPY {
		if _, err := picture.FormatOf(*out); err != nil {
			fmt.Fprintf(stderr, "kallima sample: -out %v\n", err)
			return exitUsage
		}
	}
	if asNPY && *separate != "" {
		fmt.Fprintln(stderr, "kallima sample: -separate writes one PNG per image and -out FILE.npy one array of them: give one")
		return exitUsage
	}
	hint := fmt.Sprintf("-separate %s writes one PNG per image into a folder", *out)
	if *separate != "" {
		hint = fmt.Sprintf("-separate %s already takes the folder of PNGs", *separate)
	}
	if err := checkOutFile(*out, "grid.png", hint); err != nil {
		fmt.Fprintf(stderr, "kallima sample: %v\n", err)
		return exitUsage
	}
	if err := checkSeparateDir(*separate); err != nil {
		fmt.Fprintf(stderr, "kallima sample: %v\n", err)
		return exitUsage
	}
	if codes.Given() && (isSet(fs, "class") || isSet(fs, "per-class")) {
		fmt.Fprintln(stderr, "kallima sample: -code goes with a model with latent codes; -class and -per-class with a conditional one")
		return exitUsage
	}
	if isSet(fs, "rows") && (codes.Trav == nil || *rows < 2) {
		fmt.Fprintf(stderr, "kallima sample: -rows %d: want at least 2, with a -code NAME=LO:HI traversal\n", *rows)
		return exitUsage
	}
	if isSet(fs, "plane") && (*plane < 2 || *plane**plane > maxSamples || isSet(fs, "n") || isSet(fs, "per-class") || codes.Given() || trunc.Threshold > 0) {
		fmt.Fprintf(stderr, "kallima sample: -plane %d: want 2 to %d rows, without -n, -seed, -per-class, -code or -truncation\n", *plane, int(math.Sqrt(maxSamples)))
		return exitUsage
	}
	if isSet(fs, "plane") && isSet(fs, "seed") {
		// The plane is the prior's quantiles, not a draw: a seed would be
		// accepted and change nothing.
		fmt.Fprintf(stderr, "kallima sample: -seed %d with -plane: the plane draws no noise (its cells are the prior's quantiles), so every seed gives the same plane; leave -seed out\n", *seed)
		return exitUsage
	}
	g, code := loadSampler("sample", pos[0], *cfgPath, *raw, stderr)
	if g == nil {
		return code
	}
	if !checkClass("sample", g, *class, stderr) {
		return exitUsage
	}
	g.Prior.Truncation = trunc
	if truncationIsNoop(g.Prior) {
		fmt.Fprintf(stderr, "kallima sample: note: -truncation %g (%s) changes nothing here: the model's prior is uniform on [-1, 1], inside any bound of 1 or more; a bound below 1 truncates it, as does -truncation-mode scale\n", trunc.Threshold, cmp.Or(trunc.Mode, "resample"))
	}
	if *perClass > 0 && g.Classes == 0 {
		fmt.Fprintf(stderr, "kallima sample: -per-class: the model (%s) is unconditional; -per-class needs a conditional model\n", g.Config.Model.Kind)
		return exitUsage
	}
	var z *tensor.Tensor
	var labels []int
	var req family.Request
	perRow := int(math.Ceil(math.Sqrt(float64(*n))))
	coded, isCoded := g.Generator.(family.Coded)
	switch {
	case *plane > 0:
		if g.Prior.Dim < 2 {
			fmt.Fprintf(stderr, "kallima sample: -plane: the model's noise has %d dimension; the plane needs 2\n", g.Prior.Dim)
			return exitUsage
		}
		if g.Classes > 0 && *class < 0 {
			fmt.Fprintf(stderr, "kallima sample: -plane: the model (%s) is conditional; give the class of the plane (-class K)\n", g.Config.Model.Kind)
			return exitUsage
		}
		z, *n, perRow = g.Prior.Plane(*plane), *plane**plane, *plane
		if g.Classes > 0 {
			labels = make([]int, *n)
			for i := range labels {
				labels[i] = *class
			}
		}
	case codes.Given() && !isCoded:
		fmt.Fprintf(stderr, "kallima sample: -code: the model (%s) has no latent codes (model.kind infogan has)\n", g.Config.Model.Kind)
		return exitUsage
	case codes.Given():
		// A traversal: -n noise vectors, one per column (8 by default).
		cols := *n
		if !isSet(fs, "n") {
			cols = 8
		}
		if err := codes.check(coded); err != nil {
			fmt.Fprintf(stderr, "kallima sample: -code: %v\n", err)
			return exitUsage
		}
		var err error
		if z, req, perRow, err = codes.Batch(coded, tensor.NewRNG(*seed), *n, cols, *rows); err != nil {
			fmt.Fprintf(stderr, "kallima sample: -code: %v\n", err)
			return exitUsage
		}
		if *n = z.Size(0); *n > limit {
			fmt.Fprintf(stderr, "kallima sample: -code: the traversal makes %d images, more than %d\n", *n, limit)
			return exitUsage
		}
	case *perClass > 0:
		// Row k is class k, and every row reuses the same noise.
		if *n = *perClass * g.Classes; *n > limit {
			fmt.Fprintf(stderr, "kallima sample: -per-class %d: %d classes make %d images, more than %d\n", *perClass, g.Classes, *n, limit)
			return exitUsage
		}
		z0 := g.Prior.Sample(tensor.NewRNG(*seed), *perClass).Data()
		var all []float32
		for k := range g.Classes {
			all = append(all, z0...)
			for range *perClass {
				labels = append(labels, k)
			}
		}
		z, perRow = tensor.FromSlice(all, *n, g.Prior.Dim), *perClass
	default:
		// One stream, so the first k images do not depend on n.
		z = g.Prior.Sample(tensor.NewRNG(*seed), *n)
		if g.Classes > 0 {
			labels = make([]int, *n)
			for i := range labels {
				labels[i] = i % g.Classes
				if *class >= 0 {
					labels[i] = *class
				}
			}
		}
	}
	req.Labels = labels
	from := describe(g, pos[0])
	if asNPY && g.IsImage {
		// Bytes chunk by chunk: 100000 images as floats would be 4 times
		// the array written.
		var pix []byte
		var shape []int
		start := time.Now()
		next := 10000 // the next progress line, on long draws
		err := drawEach(g, z, req, func(lo, hi int, img *tensor.Tensor) {
			if pix == nil {
				shape = append([]int{*n}, img.Shape()[1:]...)
				pix = make([]byte, 0, *n*img.Len()/(hi-lo))
			}
			for _, v := range img.Data() {
				pix = append(pix, picture.ToByte(v))
			}
			if hi >= next || (hi == *n && *n > 10000) {
				fmt.Fprintf(stderr, "sample: %d/%d images, %s\n", hi, *n, time.Since(start).Round(time.Second))
				next += 10000
			}
		})
		if err == nil {
			err = writeNPY(*out, &data.NPY{Kind: 'u', Size: 1, Shape: shape, Data: pix})
		}
		if err != nil {
			fmt.Fprintf(stderr, "kallima sample: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %s: %d images as uint8 %v from %s\n", *out, *n, shape, from)
		return exitOK
	}
	imgs, err := drawSamples(g, z, req)
	if err != nil {
		fmt.Fprintf(stderr, "kallima sample: %v\n", err)
		return exitError
	}
	if !g.IsImage {
		if *separate != "" {
			fmt.Fprintln(stderr, "kallima sample: -separate writes images; a 2-D run's samples are points (-out FILE.csv)")
			return exitUsage
		}
		path := cmp.Or(*out, "samples.csv")
		if asNPY {
			if err := writeNPY(path, float32NPY(imgs)); err != nil {
				fmt.Fprintf(stderr, "kallima sample: %v\n", err)
				return exitError
			}
			fmt.Fprintf(stdout, "wrote %s: %d points as float32 [%d, 2] from %s\n", path, *n, *n, from)
			return exitOK
		}
		if ext := strings.ToLower(filepath.Ext(path)); ext != "" && ext != ".csv" { // an image name: the points drawn
			if err := picture.Save(path, picture.Scatter(nil, imgs, fmt.Sprintf("%d samples, %s", *n, from))); err != nil {
				fmt.Fprintf(stderr, "kallima sample: %v\n", err)
				return exitError
			}
			fmt.Fprintf(stdout, "wrote %s: a scatter plot of %d points from %s\n", path, *n, from)
			return exitOK
		}
		if err := savePoints(path, imgs); err != nil {
			fmt.Fprintf(stderr, "kallima sample: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %s: %d points (x,y) from %s\n", path, *n, from)
		return exitOK
	}
	*out = cmp.Or(*out, "grid.png")
	if *separate != "" {
		if err := saveSeparate(*separate, imgs); err != nil {
			fmt.Fprintf(stderr, "kallima sample: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %d images into %s from %s\n", *n, *separate, from)
	}
	if *separate == "" || isSet(fs, "out") {
		if err := picture.Save(*out, picture.Grid(imgs, perRow, 2)); err != nil {
			fmt.Fprintf(stderr, "kallima sample: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %s: %d images, %d per row, from %s\n", *out, *n, perRow, from)
	}
	return exitOK
}

// checkOutFile reports an -out that names an existing folder: the write
// would fail late, as a rename error, after all the drawing. hint, when
// not empty, follows the message (what takes a folder instead).
func checkOutFile(out, example, hint string) error {
	if out == "" {
		return nil
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		msg := fmt.Sprintf("-out %s is a folder: -out takes a file name (such as %s)", out, filepath.Join(out, example))
		if hint != "" {
			msg += "; " + hint
		}
		return errors.New(msg)
	}
	return nil
}

// checkSeparateDir reports a -separate folder that is a file or holds
// anything already: new images would mix with old ones (a second, smaller
// draw would leave the first one's last images), as kallima data export
// refuses for the same reason.
func checkSeparateDir(dir string) error {
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("-separate %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("-separate %s is a file: -separate takes a folder to write one PNG per image into; -out takes a file name", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("-separate %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("-separate %s: the folder is not empty (%d entries, such as %s): its files would mix with the new images; give a new or empty folder", dir, len(entries), entries[0].Name())
	}
	return nil
}

// truncationIsNoop reports a truncation that leaves p's noise as drawn: a
// uniform prior's values lie in [-1, 1], so resampling or clamping beyond
// a bound of 1 or more never happens (gan.Truncation.apply).
func truncationIsNoop(p gan.Prior) bool {
	t := p.Truncation
	return p.Kind == "uniform" && t.Threshold >= 1 && t.Mode != "scale"
}

// drawSamples draws the images [n, C, H, W] of the noise z [n, dim] (and
// the request's labels or codes, one per row) from g, in chunks.
func drawSamples(g *pipeline.Sampler, z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	var all []float32
	var shape []int
	err := drawEach(g, z, req, func(_, _ int, img *tensor.Tensor) {
		all = append(all, img.Data()...)
		shape = img.Shape()
	})
	if err != nil {
		return nil, err
	}
	return tensor.FromSlice(all, append([]int{z.Size(0)}, shape[1:]...)...), nil
}

// drawEach draws drawSamples' images sampleChunk at a time, handing each
// chunk, images lo to hi-1, to f.
func drawEach(g *pipeline.Sampler, z *tensor.Tensor, req family.Request, f func(lo, hi int, img *tensor.Tensor)) error {
	n, d := z.Size(0), g.Prior.Dim
	for lo := 0; lo < n; lo += sampleChunk {
		hi := min(n, lo+sampleChunk)
		zc := tensor.FromSlice(z.Data()[lo*d:hi*d], hi-lo, d)
		var part family.Request
		if req.Labels != nil {
			part.Labels = req.Labels[lo:hi]
		}
		if req.Codes != nil {
			part.Codes = map[string][]float64{}
			for name, vs := range req.Codes {
				part.Codes[name] = vs[lo:hi]
			}
		}
		img, err := g.SampleRequest(zc, part)
		if err != nil {
			return err
		}
		f(lo, hi, img)
	}
	return nil
}

// savePoints writes points [N, 2] as CSV: a header, then x,y per line.
func savePoints(path string, pts *tensor.Tensor) error {
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range pts.Size(0) {
		fmt.Fprintf(&b, "%g,%g\n", pts.At(i, 0), pts.At(i, 1))
	}
	// atomicfile, as for every other output: the parent folders are made.
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := io.WriteString(w, b.String()); return err }); err != nil {
		return fmt.Errorf("save points: %w", err)
	}
	return nil
}

// saveSeparate writes image i of imgs [N, C, H, W] to dir/sample-NNN.png.
func saveSeparate(dir string, imgs *tensor.Tensor) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n, per := imgs.Size(0), imgs.Size(1)*imgs.Size(2)*imgs.Size(3)
	width := max(3, len(fmt.Sprint(n-1)))
	for i := range n {
		one := tensor.FromSlice(imgs.Data()[i*per:(i+1)*per], 1, imgs.Size(1), imgs.Size(2), imgs.Size(3))
		path := filepath.Join(dir, fmt.Sprintf("sample-%0*d.png", width, i))
		if err := picture.SavePNG(path, picture.Grid(one, 1, 0)); err != nil {
			return err
		}
	}
	return nil
}
