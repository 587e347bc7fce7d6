package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/internal/atomicfile"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

const exportUsage = `Usage: kallima export RUN_OR_WEIGHTS [flags]

Writes a trained generator (or a translator, or with -encoder an encoder)
in a format other programs load. -format onnx
(the only one yet) writes an ONNX model (IR version 8, opset 17): input
"z" [N, ZDim] float32 noise and, for a conditional model, "label" [N]
int64 classes; for infogan one input per latent code, named after it
(c1, c2, ...; categorical codes int64 [N] categories, continuous ones
float32 [N] values; every code must be given); output "x", images [N, C, H, W] in [-1, 1] or 2-D points
[N, 2]; N is symbolic, so any batch size runs. Batch norm uses its running
statistics, as sampling does. The weights are chosen as by kallima sample:
the newest checkpoint that verifies in a run folder (the EMA of G's
weights when the run keeps one, G's own with -raw; -checkpoint N for the
checkpoint at step N), a checkpoint file of a run, or a weights file with
its config (-config).

-dump DIR also writes what Kallima's own generator makes of -n noise
vectors drawn with -seed (as kallima sample draws them): DIR/z.npy,
DIR/label.npy (conditional models: the classes in turn), for infogan
DIR/c1.npy, ... (categories in turn, continuous values drawn from
U(-1, 1) after the noise), DIR/x.npy and
DIR/meta.json (the kind, the step, which weights, and for a 2-D run the
mean and scale that map the network's output to data coordinates),
for checking the exported model against Kallima (bench/onnx_check.sh).

Model kinds that export: mlp, dcgan, cgan, acgan, infogan, and the
generators of vae, ae, aae (a conditional graph for its mixture and
categorical priors), avb, bigan and ali (for the autoencoders: the
decoder's mean), sngan and sagan (conditional too), biggan and mixgan:
every family that draws from noise. See docs/EXPORT.md.

-encoder writes the encoder instead (vae, ae, aae, bigan, ali): input "x"
[N, C, H, W] float32 images in [-1, 1], output "z" [N, D], the codes
kallima encode writes (a VAE's posterior mean, an AAE's code or, for its
categorical prior, the softmax of y then the style, BiGAN's E(x), ALI's
posterior mean). avb's encoder draws noise and is not written. -dump
writes -n images drawn from U(-1, 1) with -seed (x.npy), Kallima's codes
of them (z.npy) and meta.json.

An image-to-image run (pix2pix, cyclegan, stargan) exports its
translator: input "x" [N, C, H, W] float32 images in [-1, 1], output "y"
of the same shape. A two-domain model is written for one direction,
-from to -to (A to B by default; either flag alone picks the direction,
-to A is B to A; cyclegan's B to A is its second generator, pix2pix
translates A to B only); stargan's graph takes every target, as a second
input "domain" [N] int64. pix2pix's graph has no dropout (Kallima's own translations keep it on by default,
model.test_dropout, with masks no ONNX runtime draws alike). -dump
writes -n images drawn from U(-1, 1) with -seed (x.npy), stargan's
targets (domain.npy, the domains in turn), Kallima's translations (y.npy)
and meta.json.

Flags:
`

const exportExamples = `
Examples:
  kallima export runs/dcgan -out g.onnx
  kallima export runs/cgan -raw -out g.onnx           G's live weights instead of their EMA
  kallima export runs/ring8 -out g.onnx -dump check/  with 16 noise vectors and Kallima's samples
  kallima export runs/dcgan -checkpoint 1000 -out g.onnx   the checkpoint at step 1000
  kallima export runs/dcgan/checkpoints/step-001000.safetensors -out g.onnx
  kallima export runs/cyclegan-thick -from B -to A -out thick2digit.onnx
  kallima export runs/stargan-width -out stargan.onnx -dump check/
  kallima export runs/bigan-mnist -encoder -out e.onnx     BiGAN's encoder E
`

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima export", exportUsage, exportExamples)
	format := fs.String("format", "onnx", "output format: onnx")
	out := fs.String("out", "generator.onnx", "file to write")
	raw := fs.Bool("raw", false, "use G's live weights instead of their EMA")
	step := optionalInt(fs, "checkpoint", "export the run's checkpoint at this `step`; left out, the newest that verifies")
	cfgPath := fs.String("config", "", "config of a weights file (the YAML it was trained with)")
	dump := fs.String("dump", "", "also write z.npy, label.npy and Kallima's samples x.npy into this folder (a translator: images x.npy, its translations y.npy; an encoder: images x.npy, its codes z.npy)")
	n := fs.Int("n", 16, "with -dump: number of noise vectors (images, for a translator)")
	seed := fs.Uint64("seed", 1, "with -dump: seed of the noise (of the images, for a translator)")
	from := fs.String("from", "", "translator: the source domain of a two-domain model (default A, or the other one than -to)")
	to := fs.String("to", "", "translator: the target domain of a two-domain model (default the other one)")
	encoder := fs.Bool("encoder", false, "write the encoder (images to codes) instead of the generator: vae, ae, aae, bigan, ali")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima export: want one run folder or weights file, got %d arguments (see kallima export -h)\n", len(pos))
		return exitUsage
	}
	if *format != "onnx" {
		fmt.Fprintf(stderr, "kallima export: -format %q: want onnx\n", *format)
		return exitUsage
	}
	if *out == "" {
		fmt.Fprintln(stderr, "kallima export: -out is empty")
		return exitUsage
	}
	if *n < 1 || *n > maxSamples {
		fmt.Fprintf(stderr, "kallima export: -n %d: want 1 to %d\n", *n, maxSamples)
		return exitUsage
	}
	target := pos[0]
	if isSet(fs, "checkpoint") {
		path, code := checkpointAt(pos[0], *step, stderr)
		if path == "" {
			return code
		}
		target = path
	}
	if *cfgPath == "" {
		kind, err := runKind(target)
		if err != nil {
			fmt.Fprintf(stderr, "kallima export: %v\n", err)
			return exitUsage
		}
		if slices.Contains(onnx.Translators, kind) {
			if *encoder {
				fmt.Fprintf(stderr, "kallima export: -encoder: model.kind %s translates images and has no encoder (kinds with one: %s)\n", kind, strings.Join(onnx.Encoders, ", "))
				return exitUsage
			}
			return exportTranslator(target, *out, *from, *to, *dump, *raw, *n, *seed, stdout, stderr)
		}
	} else if c, err := config.Load(*cfgPath); err == nil && slices.Contains(onnx.Translators, c.Model.Kind) {
		fmt.Fprintf(stderr, "kallima export: model.kind %s: a translator exports from its run folder or a checkpoint in it, not from a weights file with -config\n", c.Model.Kind)
		return exitUsage
	}
	if isSet(fs, "from") || isSet(fs, "to") {
		fmt.Fprintln(stderr, "kallima export: -from and -to pick a translator's direction; this model draws from noise")
		return exitUsage
	}
	g, code := loadSampler("export", target, *cfgPath, *raw, stderr)
	if g == nil {
		return code
	}
	if *encoder {
		return exportEncoder(g, target, *out, *dump, *n, *seed, stdout, stderr)
	}
	model, err := onnx.Generator(g.Generator, g.Config.Model.Kind)
	if err != nil {
		fmt.Fprintf(stderr, "kallima export: %v\n", err)
		return exitError
	}
	if err := writeModel(*out, model); err != nil {
		fmt.Fprintf(stderr, "kallima export: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): %s generator, %s\n", *out, len(model), g.Config.Model.Kind, describe(g, target))
	if *dump != "" {
		if err := dumpSamples(*dump, g, *n, *seed); err != nil {
			fmt.Fprintf(stderr, "kallima export: -dump: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %d noise vectors and Kallima's samples into %s\n", *n, *dump)
	}
	return exitOK
}

// checkpointAt returns the path of run dir's checkpoint at step, or "" and
// the exit code after saying why there is none.
func checkpointAt(dir string, step int, stderr io.Writer) (string, int) {
	infos, err := pipeline.ListCheckpoints(dir)
	if err != nil {
		fmt.Fprintf(stderr, "kallima export: -checkpoint %d: %v\n", step, err)
		return "", exitUsage
	}
	var steps []string
	for _, in := range infos {
		if in.Step == step {
			return in.Path, exitOK
		}
		steps = append(steps, strconv.Itoa(in.Step))
	}
	fmt.Fprintf(stderr, "kallima export: -checkpoint %d: %s has no checkpoint at that step (steps: %s)\n", step, dir, strings.Join(steps, ", "))
	return "", exitUsage
}

// dumpSamples writes n noise vectors drawn with seed (z.npy, float32), the
// labels of a conditional model (label.npy, int64, the classes in turn),
// the latent codes of a coded one (NAME.npy for each: a categorical code's
// categories in turn, int64; a continuous code's values drawn from
// U(-1, 1) by the noise's stream after the noise, float32) and g's samples
// of them (x.npy, float32) into dir.
func dumpSamples(dir string, g *pipeline.Sampler, n int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rng := tensor.NewRNG(seed)
	z := g.Prior.Sample(rng, n)
	var req family.Request
	if g.Classes > 0 {
		req.Labels = make([]int, n)
		lab := make([]byte, 8*n)
		for i := range req.Labels {
			req.Labels[i] = i % g.Classes
			binary.LittleEndian.PutUint64(lab[8*i:], uint64(req.Labels[i]))
		}
		if err := writeNPY(filepath.Join(dir, "label.npy"), &data.NPY{Kind: 'i', Size: 8, Shape: []int{n}, Data: lab}); err != nil {
			return err
		}
	}
	var codes []family.Code
	if cg, ok := g.Generator.(family.Coded); ok {
		codes = cg.Codes()
		req.Codes = map[string][]float64{}
		for j, c := range codes {
			vs := make([]float64, n)
			var npy *data.NPY
			if c.Categories > 0 {
				b := make([]byte, 8*n)
				for i := range vs {
					vs[i] = float64((i + j) % c.Categories)
					binary.LittleEndian.PutUint64(b[8*i:], uint64(vs[i]))
				}
				npy = &data.NPY{Kind: 'i', Size: 8, Shape: []int{n}, Data: b}
			} else {
				u := rng.Uniform(-1, 1, n)
				for i, v := range u.Data() {
					vs[i] = float64(v)
				}
				npy = float32NPY(u)
			}
			req.Codes[c.Name] = vs
			if err := writeNPY(filepath.Join(dir, c.Name+".npy"), npy); err != nil {
				return err
			}
		}
	}
	x, err := g.SampleRequest(z, req)
	if err != nil {
		return err
	}
	if err := writeNPY(filepath.Join(dir, "z.npy"), float32NPY(z)); err != nil {
		return err
	}
	if err := writeNPY(filepath.Join(dir, "x.npy"), float32NPY(x)); err != nil {
		return err
	}
	meta := dumpMeta{Kind: g.Config.Model.Kind, ZDim: g.Prior.Dim, Classes: g.Classes, Step: g.Step, Weights: g.Weights, Seed: seed}
	for _, c := range codes {
		meta.Codes = append(meta.Codes, dumpCode{Name: c.Name, Categories: c.Categories})
	}
	if s, ok := g.Generator.(interface {
		Standardisation() (mean []float64, std float64)
	}); ok {
		meta.DataMean, meta.DataStd = s.Standardisation()
	}
	return writeMeta(dir, meta)
}

// writeModel writes an encoded model to out atomically, making its folder.
func writeModel(out string, model []byte) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(out, func(w io.Writer) error { _, err := w.Write(model); return err })
}

// writeMeta writes meta as indented JSON to dir/meta.json.
func writeMeta(dir string, meta any) error {
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "meta.json"), func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err })
}

// dumpMeta is -dump's meta.json: what a reader of the dump needs besides
// the weights to rebuild the samples (bench/torch_load.py).
type dumpMeta struct {
	Kind    string `json:"kind"`
	ZDim    int    `json:"z_dim"`
	Classes int    `json:"classes"`
	Step    int    `json:"step"`
	Weights string `json:"weights"` // pipeline.WeightsEMA, WeightsG or WeightsFile
	Seed    uint64 `json:"seed"`
	// DataMean and DataStd map a 2-D generator's output y to data
	// coordinates, y * DataStd + DataMean (the mlp family standardises).
	DataMean []float64 `json:"data_mean,omitempty"`
	DataStd  float64   `json:"data_std,omitempty"`
	// Codes lists a coded generator's latent codes, each dumped as
	// NAME.npy.
	Codes []dumpCode `json:"codes,omitempty"`
}

// dumpCode is one latent code in meta.json: its name and, for a
// categorical code, its number of categories (0 for a continuous one).
type dumpCode struct {
	Name       string `json:"name"`
	Categories int    `json:"categories"`
}

// float32NPY is t as a little-endian float32 NPY array.
func float32NPY(t *tensor.Tensor) *data.NPY {
	b := make([]byte, 4*t.Len())
	for i, v := range t.Data() {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return &data.NPY{Kind: 'f', Size: 4, Shape: append([]int(nil), t.Shape()...), Data: b}
}

func writeNPY(path string, x *data.NPY) error {
	return atomicfile.Write(path, func(w io.Writer) error { return data.WriteNPY(w, x) })
}
