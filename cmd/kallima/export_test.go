package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
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
