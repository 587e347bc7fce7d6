package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/pix2pix"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// TestExport exports tiny DCGAN, conditional DCGAN and InfoGAN runs to
// ONNX and checks that the same run gives the same bytes, -raw other
// weights, and that -dump writes noise, labels (the classes in turn), an
// InfoGAN's codes (c1.npy, ...) and the samples Kallima's generator makes
// of them.
func TestExport(t *testing.T) {
	for _, kind := range []string{"dcgan", "cgan", "infogan"} {
		t.Run(kind, func(t *testing.T) {
			if kind == "infogan" && testing.Short() {
				t.Skip("infogan's code dump: not in -short (package onnx's tests export infogan there)")
			}
			dir := trainTiny(t, kind)
			tmp := t.TempDir()
			out, dump := filepath.Join(tmp, "sub", "g.onnx"), filepath.Join(tmp, "dump")
			code, stdout, stderr := call(runExport, dir, "-out", out, "-dump", dump, "-n", "5", "-seed", "3")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, kind+" generator") {
				t.Errorf("stdout %q does not name the %s generator", stdout, kind)
			}
			first := readFile(t, out)
			again := filepath.Join(tmp, "again.onnx")
			if code, _, stderr := call(runExport, dir, "-out", again); code != exitOK || !bytes.Equal(readFile(t, again), first) {
				t.Errorf("second export: exit %d (%s), same bytes %v", code, stderr, bytes.Equal(readFile(t, again), first))
			}
			if code, _, stderr := call(runExport, dir, "-raw", "-out", again); code != exitOK || bytes.Equal(readFile(t, again), first) {
				t.Errorf("-raw export: exit %d (%s), want other weights than the EMA's", code, stderr)
			}

			// -checkpoint picks an earlier checkpoint: other weights than the newest's.
			infos, err := pipeline.ListCheckpoints(dir)
			if err != nil || len(infos) < 2 {
				t.Fatalf("%d checkpoints (%v), want 2 or more", len(infos), err)
			}
			code, stdout, stderr = call(runExport, dir, "-checkpoint", strconv.Itoa(infos[0].Step), "-out", again)
			if code != exitOK || bytes.Equal(readFile(t, again), first) || !strings.Contains(stdout, fmt.Sprintf("step %d", infos[0].Step)) {
				t.Errorf("-checkpoint %d: exit %d (%s), stdout %q, want that step's weights", infos[0].Step, code, stderr, stdout)
			}

			g, _, err := pipeline.LoadSampler(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			z := readNPYTensor(t, filepath.Join(dump, "z.npy"))
			if !slices.Equal(z.Shape(), []int{5, g.Prior.Dim}) {
				t.Fatalf("z.npy shape %v, want [5 %d]", z.Shape(), g.Prior.Dim)
			}
			if want := g.Prior.Sample(tensor.NewRNG(3), 5); !slices.Equal(z.Data(), want.Data()) {
				t.Error("z.npy is not the prior's noise for seed 3")
			}
			var req family.Request
			if kind == "cgan" {
				lab, err := data.ReadNPYFile(filepath.Join(dump, "label.npy"))
				if err != nil {
					t.Fatal(err)
				}
				for i := range 5 {
					req.Labels = append(req.Labels, int(lab.Value(i)))
				}
				if !slices.Equal(req.Labels, []int{0, 1, 2, 3, 0}) {
					t.Errorf("labels %v, want the 4 classes in turn", req.Labels)
				}
			}
			if kind == "infogan" {
				// tinyRuns' infogan has c1 (Cat(4)) and c2 (continuous).
				c1, err := data.ReadNPYFile(filepath.Join(dump, "c1.npy"))
				if err != nil {
					t.Fatal(err)
				}
				c2 := readNPYTensor(t, filepath.Join(dump, "c2.npy"))
				req.Codes = map[string][]float64{}
				for i := range 5 {
					req.Codes["c1"] = append(req.Codes["c1"], c1.Value(i))
					req.Codes["c2"] = append(req.Codes["c2"], float64(c2.Data()[i]))
				}
				if c1.Kind != 'i' || !slices.Equal(req.Codes["c1"], []float64{0, 1, 2, 3, 0}) {
					t.Errorf("c1.npy %c %v, want int64 categories in turn", c1.Kind, req.Codes["c1"])
				}
				if !slices.Equal(c2.Shape(), []int{5}) || slices.Min(c2.Data()) < -1 || slices.Max(c2.Data()) > 1 || c2.Data()[0] == c2.Data()[1] {
					t.Errorf("c2.npy %v: want 5 values drawn from U(-1, 1)", c2.Data())
				}
			}
			want, err := g.SampleRequest(z, req)
			if err != nil {
				t.Fatal(err)
			}
			var meta dumpMeta
			if err := json.Unmarshal(readFile(t, filepath.Join(dump, "meta.json")), &meta); err != nil {
				t.Fatal(err)
			}
			if meta.Kind != kind || meta.Weights != pipeline.WeightsEMA || meta.ZDim != g.Prior.Dim || meta.Seed != 3 || meta.Step != g.Step {
				t.Errorf("meta.json %+v, want kind %s, EMA weights, z_dim %d, seed 3, step %d", meta, kind, g.Prior.Dim, g.Step)
			}
			if wantCodes := map[string]int{"infogan": 2}[kind]; len(meta.Codes) != wantCodes || (wantCodes > 0 && meta.Codes[0] != (dumpCode{"c1", 4})) {
				t.Errorf("meta.json codes %+v, want %d codes, c1 with 4 categories first", meta.Codes, wantCodes)
			}
			x := readNPYTensor(t, filepath.Join(dump, "x.npy"))
			if !slices.Equal(x.Shape(), []int{5, 1, 28, 28}) || !slices.Equal(x.Data(), want.Data()) {
				t.Errorf("x.npy shape %v: not the generator's samples of z.npy", x.Shape())
			}
		})
	}
}

// TestExportErrors: an unknown format, bad arguments, a missing run and a
// missing checkpoint are errors naming the problem. (Every family that
// draws from noise exports; package onnx's tests check the error for one
// that would not.)
func TestExportErrors(t *testing.T) {
	dir := trainTiny(t, "cgan")
	out := filepath.Join(t.TempDir(), "g.onnx")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{dir, "-format", "torchscript"}, exitUsage, `-format "torchscript"`},
		{[]string{dir, dir}, exitUsage, "got 2 arguments"},
		{[]string{dir, "-n", "0", "-dump", out}, exitUsage, "-n 0"},
		{[]string{filepath.Join(dir, "nothing")}, exitUsage, "no such file"},
		{[]string{dir, "-checkpoint", "3"}, exitUsage, "no checkpoint at that step (steps: 2, 4)"},
	} {
		code, _, stderr := call(runExport, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("export %v: exit %d, stderr %q; want exit %d naming %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// readNPYTensor reads a float32 NPY file as a tensor.
func readNPYTensor(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	x, err := data.ReadNPYFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := tensor.New(x.Shape...)
	for i := range out.Data() {
		out.Data()[i] = float32(x.Value(i))
	}
	return out
}

// trainTranslator trains a 2-step run of an image-to-image kind (pix2pix,
// cyclegan, stargan) at width 2 on 8x8 gray images made on the spot: A/
// and B/ (paired), trainA/ and trainB/ (unpaired) or three domain
// subfolders x, y and z.
func trainTranslator(t *testing.T, kind string) string {
	t.Helper()
	dataDir := t.TempDir()
	folders, dataKind := []string{"A", "B"}, "paired"
	sets := []string{"model.width=2", "model.d_width=2"}
	switch kind {
	case "cyclegan":
		folders, dataKind = []string{"trainA", "trainB"}, "unpaired"
		sets = append(sets, "model.blocks=1", "loss.name=lsgan")
	case "stargan":
		folders, dataKind = []string{"x", "y", "z"}, "folder"
		sets = []string{"model.g_width=2", "model.d_width=2", "model.blocks=1", "loss.name=wgan", "loss.penalty=gp", "loss.penalty_weight=10"}
	}
	rng := tensor.NewRNG(5)
	for f, folder := range folders {
		for i := range 4 {
			img := solidGray(8, 8, uint8(60+40*f))
			for j := range img.Pix {
				img.Pix[j] += uint8(rng.Intn(30))
			}
			writeImage(t, filepath.Join(dataDir, folder, fmt.Sprintf("%d.png", i)), img)
		}
	}
	c := config.Default()
	for _, kv := range append([]string{"model.kind=" + kind, "data.kind=" + dataKind, "data.dir=" + dataDir, "data.size=8", "data.channels=1",
		"train.batch=2", "train.steps=2", "train.sample_every=0", "train.checkpoint_every=2", "train.log_every=0", "train.eval_every=0"}, sets...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), kind)
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestExportTranslators exports tiny pix2pix, CycleGAN (both directions)
// and StarGAN runs and checks the dumps: images drawn with the seed,
// StarGAN's targets in turn, and Kallima's own translations of them
// (package onnx's tests check the graphs compute the same; onnxruntime
// runs them in bench/onnx_check.sh). Flags a model cannot take are
// refused naming them.
func TestExportTranslators(t *testing.T) {
	runs := map[string]string{}
	for _, kind := range []string{"pix2pix", "cyclegan", "stargan"} {
		runs[kind] = trainTranslator(t, kind)
	}
	for _, tc := range []struct {
		kind     string
		args     []string
		from, to int
		what     string
	}{
		{"pix2pix", nil, 0, 1, "pix2pix translator, A to B"},
		{"cyclegan", nil, 0, 1, "cyclegan translator, A to B"},
		{"cyclegan", []string{"-from", "B"}, 1, 0, "cyclegan translator, B to A"},
		{"cyclegan", []string{"-to", "A"}, 1, 0, "cyclegan translator, B to A"},
		{"stargan", nil, -1, -1, "stargan translator, any of its domains"},
	} {
		tmp := t.TempDir()
		out, dump := filepath.Join(tmp, "t.onnx"), filepath.Join(tmp, "dump")
		code, stdout, stderr := call(runExport, append([]string{runs[tc.kind], "-out", out, "-dump", dump, "-n", "4", "-seed", "3"}, tc.args...)...)
		if code != exitOK {
			t.Fatalf("%s %v: exit %d: %s", tc.kind, tc.args, code, stderr)
		}
		if !strings.Contains(stdout, tc.what) || len(readFile(t, out)) == 0 {
			t.Errorf("%s %v: stdout %q, want %q and a model", tc.kind, tc.args, stdout, tc.what)
		}
		if tc.kind == "pix2pix" && !strings.Contains(stderr, "the graph has no dropout") {
			t.Errorf("pix2pix: stderr %q, want the note on dropout", stderr)
		}
		tr, _, err := pipeline.LoadTranslator(runs[tc.kind], false)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := tr.Translator.(*pix2pix.Translator); ok {
			p.TestDropout = false
		}
		x := readNPYTensor(t, filepath.Join(dump, "x.npy"))
		if want := tensor.NewRNG(3).Uniform(-1, 1, 4, 1, 8, 8); !slices.Equal(x.Shape(), want.Shape()) || !slices.Equal(x.Data(), want.Data()) {
			t.Fatalf("%s: x.npy %v is not 4 images drawn from U(-1, 1) with seed 3", tc.kind, x.Shape())
		}
		// The translations as the dump makes them: the batch in one
		// direction, or StarGAN's images one at a time to image i's target.
		y := readNPYTensor(t, filepath.Join(dump, "y.npy"))
		var want *tensor.Tensor
		if tc.from >= 0 {
			want, err = tr.Translator.Translate(x, tc.from, tc.to)
		} else {
			want = tensor.New(x.Shape()...)
			for i := range 4 {
				var one *tensor.Tensor
				if one, err = tr.Translator.Translate(tensor.FromSlice(x.Data()[i*64:(i+1)*64], 1, 1, 8, 8), 0, i%3); err != nil {
					break
				}
				copy(want.Data()[i*64:], one.Data())
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y.Data(), want.Data()) {
			t.Errorf("%s %v: y.npy is not Kallima's translations of x.npy", tc.kind, tc.args)
		}
		var meta translationMeta
		if err := json.Unmarshal(readFile(t, filepath.Join(dump, "meta.json")), &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Kind != tc.kind || meta.Seed != 3 || meta.Step != 2 || (tc.from >= 0 && (meta.From != meta.Domains[tc.from] || meta.To != meta.Domains[tc.to])) {
			t.Errorf("%s %v: meta.json %+v", tc.kind, tc.args, meta)
		}
		if tc.kind == "stargan" {
			dom, err := data.ReadNPYFile(filepath.Join(dump, "domain.npy"))
			if err != nil {
				t.Fatal(err)
			}
			if dom.Kind != 'i' || dom.Value(0) != 0 || dom.Value(1) != 1 || dom.Value(2) != 2 || dom.Value(3) != 0 {
				t.Errorf("domain.npy %c, want int64 domains 0 1 2 0", dom.Kind)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{runs["pix2pix"], "-from", "B"}, "translates A to B only"},
		{[]string{runs["cyclegan"], "-to", "C"}, "-to C: the model's domains are A, B"},
		{[]string{runs["cyclegan"], "-from", "B", "-to", "1"}, "-from B -to B: a translation goes between the two domains"},
		{[]string{filepath.Join(runs["cyclegan"], "checkpoints", "step-000002.safetensors"), "-config", filepath.Join(runs["cyclegan"], "config.yaml")},
			"a translator exports from its run folder or a checkpoint in it"},
		{[]string{runs["stargan"], "-to", "y"}, "every target domain as the graph's input"},
		{[]string{trainTiny(t, "dcgan"), "-to", "B"}, "this model draws from noise"},
	} {
		code, _, stderr := call(runExport, append(tc.args, "-out", filepath.Join(t.TempDir(), "t.onnx"))...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("export %v: exit %d, stderr %q; want exit %d naming %q", tc.args[1:], code, stderr, exitUsage, tc.want)
		}
	}
}

func init() {
	// An encoder that draws noise, which -encoder refuses.
	tinyRuns["avb"] = `
name: tiny-avb
seed: 3
data: {kind: synthetic, size: 28, n: 32}
model: {kind: avb, z_dim: 2, eps_dim: 2, hidden: [8], adv_hidden: [8]}
train: {steps: 2, batch: 8, log_every: 0, sample_every: 0, checkpoint_every: 0}
`
}

// TestExportEncoder exports a tiny BiGAN's encoder with a dump: the images
// drawn with the seed, and codes that are the loaded model's own codes of
// them (package onnx's tests check the graph computes the same;
// onnxruntime runs it in bench/onnx_check.sh). A model without an encoder
// network, a generator-only one and a translator are refused naming why.
func TestExportEncoder(t *testing.T) {
	dir := trainTiny(t, "bigan")
	out, dump := filepath.Join(t.TempDir(), "e.onnx"), filepath.Join(t.TempDir(), "dump")
	code, stdout, stderr := call(runExport, dir, "-encoder", "-out", out, "-dump", dump, "-n", "5", "-seed", "4")
	if code != exitOK || !strings.Contains(stdout, "bigan encoder, images [1 28 28] to codes") {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() < 1000 {
		t.Fatalf("model file: %v", err)
	}
	x, z := readNPYTensor(t, filepath.Join(dump, "x.npy")), readNPYTensor(t, filepath.Join(dump, "z.npy"))
	if want := tensor.NewRNG(4).Uniform(-1, 1, 5, 1, 28, 28); !slices.Equal(x.Data(), want.Data()) {
		t.Error("x.npy is not U(-1, 1) drawn with -seed")
	}
	g, _, err := pipeline.LoadSampler(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := g.Generator.(family.Encoder).Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(z.Shape(), []int{5, 4}) || !slices.Equal(z.Data(), want.Data()) {
		t.Errorf("z.npy %v is not the model's codes of x.npy %v", z.Shape(), want.Shape())
	}
	var meta encoderMeta
	if err := json.Unmarshal(readFile(t, filepath.Join(dump, "meta.json")), &meta); err != nil || meta.Kind != "bigan" || !meta.Encoder || meta.ZDim != 4 || meta.Seed != 4 {
		t.Errorf("meta.json: %+v (%v)", meta, err)
	}
	for _, tc := range []struct {
		run, want string
	}{
		{trainTiny(t, "dcgan"), "model.kind dcgan has no encoder (kinds with one: vae, ae, aae, bigan, ali)"},
		{trainTiny(t, "avb"), "the encoder draws noise"},
		{trainTranslator(t, "pix2pix"), "model.kind pix2pix translates images and has no encoder"},
	} {
		p := filepath.Join(t.TempDir(), "x.onnx")
		code, _, stderr := call(runExport, tc.run, "-encoder", "-out", p)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", tc.run, code, stderr, tc.want)
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: a refused export wrote its file", tc.run)
		}
	}
}
