package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family/pix2pix"
	"github.com/kallima-gan/kallima/onnx"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// runKind returns the model kind of the run target belongs to (a run
// folder or a checkpoint in one), or "" for a weights file outside a run.
func runKind(target string) (string, error) {
	dir := target
	if fi, err := os.Stat(target); err != nil {
		return "", err
	} else if !fi.IsDir() {
		var ok bool
		if dir, ok = pipeline.RunOf(target); !ok {
			return "", nil
		}
	}
	c, err := pipeline.RunConfig(dir)
	if err != nil {
		return "", err
	}
	return c.Model.Kind, nil
}

// exportTranslator writes the translator of the run (or checkpoint)
// target as ONNX: one direction, -from to -to, for a two-domain model;
// every target domain as an input for a multi-domain one.
func exportTranslator(target, out, from, to, dump string, raw bool, n int, seed uint64, stdout, stderr io.Writer) int {
	tr, skipped, err := pipeline.LoadTranslator(target, raw)
	for _, s := range skipped {
		fmt.Fprintf(stderr, "kallima export: skipping a checkpoint: %v\n", s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima export: %v\n", err)
		return exitError
	}
	kind, names := tr.Config.Model.Kind, tr.Translator.Domains()
	var fromK, toK int
	multi := onnx.DomainInput(tr.Translator)
	if multi {
		if from != "" || to != "" {
			fmt.Fprintf(stderr, "kallima export: -from and -to pick a direction of a two-domain model; a %s model is written with every target domain as the graph's input %q (int64 [N])\n", kind, onnx.InputDomain)
			return exitUsage
		}
	} else {
		// Either flag alone picks the direction: -to A means from B.
		if fromK, err = domainIndex(names, from, pipeline.DefaultSource(names, to), "from"); err == nil {
			toK, err = domainIndex(names, to, 1-fromK, "to")
		}
		if err == nil && fromK == toK {
			err = fmt.Errorf("-from %s -to %s: a translation goes between the two domains (%s)", names[fromK], names[toK], strings.Join(names, ", "))
		}
		if err != nil {
			fmt.Fprintf(stderr, "kallima export: %v\n", err)
			return exitUsage
		}
	}
	if p, ok := tr.Translator.(*pix2pix.Translator); ok && p.G.HasDropout() {
		if p.TestDropout {
			fmt.Fprintln(stderr, "kallima export: note: the graph has no dropout; Kallima's own translations of this run keep it on (model.test_dropout), so theirs differ from the graph's")
		}
		p.TestDropout = false // -dump's translations are the graph's
	}
	model, err := onnx.Translator(tr.Translator, kind, fromK, toK)
	if err != nil {
		fmt.Fprintf(stderr, "kallima export: %v\n", err)
		return exitUsage
	}
	if err := writeModel(out, model); err != nil {
		fmt.Fprintf(stderr, "kallima export: %v\n", err)
		return exitError
	}
	what := fmt.Sprintf("%s to %s", names[fromK], names[toK])
	if multi {
		what = "any of its domains, the target as input " + onnx.InputDomain
	}
	weights := "G's weights"
	if tr.Weights == pipeline.WeightsEMA {
		weights = "EMA weights"
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes): %s translator, %s; %s step %d, %s\n", out, len(model), kind, what, tr.Path, tr.Step, weights)
	if dump != "" {
		if err := dumpTranslations(dump, tr, fromK, toK, n, seed); err != nil {
			fmt.Fprintf(stderr, "kallima export: -dump: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "wrote %d images and Kallima's translations into %s\n", n, dump)
	}
	return exitOK
}

// dumpTranslations writes n images drawn from U(-1, 1) with seed (x.npy,
// float32 [n, C, H, W]), for a multi-domain model their target domains
// (domain.npy, int64, the domains in turn), Kallima's translations of them
// (y.npy) and meta.json into dir, for checking the exported model.
func dumpTranslations(dir string, tr *pipeline.Translator, from, to, n int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shape := tr.Translator.Shape()
	x := tensor.NewRNG(seed).Uniform(-1, 1, append([]int{n}, shape...)...)
	names := tr.Translator.Domains()
	var y *tensor.Tensor
	multi := onnx.DomainInput(tr.Translator)
	if multi {
		per := x.Len() / n
		y = tensor.New(x.Shape()...)
		dom := make([]byte, 8*n)
		for i := range n {
			d := i % len(names)
			binary.LittleEndian.PutUint64(dom[8*i:], uint64(d))
			yi, err := tr.Translator.Translate(tensor.FromSlice(x.Data()[i*per:(i+1)*per], append([]int{1}, shape...)...), d, d)
			if err != nil {
				return err
			}
			copy(y.Data()[i*per:], yi.Data())
		}
		if err := writeNPY(filepath.Join(dir, onnx.InputDomain+".npy"), &data.NPY{Kind: 'i', Size: 8, Shape: []int{n}, Data: dom}); err != nil {
			return err
		}
	} else {
		var err error
		if y, err = tr.Translator.Translate(x, from, to); err != nil {
			return err
		}
	}
	if err := writeNPY(filepath.Join(dir, onnx.InputImages+".npy"), float32NPY(x)); err != nil {
		return err
	}
	if err := writeNPY(filepath.Join(dir, onnx.OutputY+".npy"), float32NPY(y)); err != nil {
		return err
	}
	meta := translationMeta{Kind: tr.Config.Model.Kind, Domains: slices.Clone(names), Step: tr.Step, Weights: tr.Weights, Seed: seed}
	if !multi {
		meta.From, meta.To = names[from], names[to]
	}
	return writeMeta(dir, meta)
}

// translationMeta is a translator dump's meta.json.
type translationMeta struct {
	Kind    string   `json:"kind"`
	Domains []string `json:"domains"`
	// From and To name a two-domain model's direction.
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Step    int    `json:"step"`
	Weights string `json:"weights"` // pipeline.WeightsEMA or WeightsG
	Seed    uint64 `json:"seed"`
}
