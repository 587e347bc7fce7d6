// Command ttq measures time to quality for class-conditional MNIST GANs:
// how many seconds of training a model needs before the images it draws
// for a requested class are classified as that class by Kallima's MNIST
// feature network (package classifier) at least -target of the time.
//
// The protocol (issue 11, "time to quality against PyTorch"): every -every
// of training wall time the clock stops, -per-class images of every class
// are drawn (in evaluation mode, with the EMA weights when the model keeps
// them) and judged, and the clock restarts; time spent checking is not
// counted. Training stops at the first check at or above -target, or after
// -budget of training time.
//
// Two modes:
//
//	ttq -preset cgan-mnist [-set k=v ...]   trains a Kallima model and checks it
//	ttq -judge DIR                          judges the checks another program
//	                                        wrote: DIR/checks.jsonl, one line
//	                                        {"check": k, "train_s": t, "step": s}
//	                                        per DIR/check-k.npy of float32
//	                                        images in [-1, 1], [N, 1, 28, 28],
//	                                        labels 0..9 in blocks of N/10
//
// Both print one JSON line per check: {"impl", "check", "train_s", "step",
// "agreement"}. bench/ttq_compare.sh runs Kallima and bench/pytorch_cgan.py
// this way and prints the table of docs/RESULTS-conditional.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// check is one judged check.
type check struct {
	Impl      string  `json:"impl"`
	Check     int     `json:"check"`
	TrainS    float64 `json:"train_s"`
	Step      int     `json:"step"`
	Agreement float64 `json:"agreement"`
}

type sets []string

func (s *sets) String() string     { return strings.Join(*s, " ") }
func (s *sets) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "ttq: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ttq", flag.ContinueOnError)
	preset := fs.String("preset", "", "train this preset (a class-conditional image model)")
	judge := fs.String("judge", "", "judge the checks written in this folder instead")
	var overrides sets
	fs.Var(&overrides, "set", "config override key=value (repeatable)")
	every := fs.Duration("every", 30*time.Second, "training time between checks")
	budget := fs.Duration("budget", 10*time.Minute, "training time at most")
	target := fs.Float64("target", 0.95, "stop at the first check with at least this class agreement")
	perClass := fs.Int("per-class", 100, "images per class in a check")
	seed := fs.Uint64("seed", 1, "training seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	net, err := classifier.Load()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	switch {
	case *judge != "" && *preset == "":
		return judgeDir(*judge, net, enc)
	case *preset != "" && *judge == "":
		return train(*preset, overrides, *seed, *every, *budget, *target, *perClass, net, enc, stderr)
	}
	return errors.New("give -preset (train and check a Kallima model) or -judge DIR (judge another program's checks)")
}

// agreement is the fraction of images classified as their label.
func agreement(net *classifier.Classifier, x *tensor.Tensor, labels []int) float64 {
	return net.Net.Accuracy(x, labels)
}

// blockLabels returns classes*per labels: per of class 0, then of 1, ...
func blockLabels(classes, per int) []int {
	ls := make([]int, 0, classes*per)
	for k := range classes {
		for range per {
			ls = append(ls, k)
		}
	}
	return ls
}

func train(preset string, overrides []string, seed uint64, every, budget time.Duration, target float64, perClass int, net *classifier.Classifier, enc *json.Encoder, log io.Writer) error {
	impl := "kallima " + preset
	if len(overrides) > 0 {
		impl += " (" + strings.Join(overrides, ", ") + ")"
	}
	c, err := config.Preset(preset)
	if err != nil {
		return err
	}
	c.Seed = seed
	for _, kv := range overrides {
		if err := c.Set(kv); err != nil {
			return err
		}
	}
	c.Train.Steps = 1 << 30 // the budget stops it
	d, err := pipeline.LoadData(c, log)
	if err != nil {
		return err
	}
	m, err := family.Build(c, d)
	if err != nil {
		return err
	}
	if m.Close != nil {
		defer m.Close()
	}
	cond, ok := m.Generator.(family.Conditional)
	if !ok {
		return fmt.Errorf("preset %s (%s) is not class-conditional", preset, c.Model.Kind)
	}
	labels := blockLabels(cond.Classes(), perClass)
	z := cond.Prior().Sample(tensor.NewRNG(0x77a), len(labels))
	judge := func() (float64, error) {
		p := m.GeneratorPlayer
		defer p.Evaluate()()
		var x *tensor.Tensor
		var err error
		tensor.Persistent(func() { x, err = cond.Generate(z, family.Request{Labels: labels}) })
		if err != nil {
			return 0, err
		}
		return agreement(net, x, labels), nil
	}
	var (
		trained time.Duration // training time before the current stretch
		stretch = time.Now()  // start of the current stretch
		next    = every
		k       int
		done    = errors.New("done")
	)
	tr := &gan.Trainer{Players: m.Players, Phases: m.Phases, Steps: c.Train.Steps}
	tr.Callbacks = []gan.Callback{func(t *gan.Trainer, _ gan.Logs) error {
		now := trained + time.Since(stretch)
		if now < next {
			return nil
		}
		trained = now
		a, err := judge()
		if err != nil {
			return err
		}
		k++
		if err := enc.Encode(check{Impl: impl, Check: k, TrainS: trained.Seconds(), Step: t.Step, Agreement: a}); err != nil {
			return err
		}
		fmt.Fprintf(log, "check %d: %.0f s, step %d, agreement %.3f\n", k, trained.Seconds(), t.Step, a)
		next += every
		stretch = time.Now()
		if a >= target || trained >= budget {
			return done
		}
		return nil
	}}
	if err := tr.Run(context.Background()); err != nil && !errors.Is(err, done) {
		return err
	}
	return nil
}

// judgeDir scores the checks another program wrote.
func judgeDir(dir string, net *classifier.Classifier, enc *json.Encoder) error {
	f, err := os.Open(filepath.Join(dir, "checks.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ck struct {
			Impl   string  `json:"impl"`
			Check  int     `json:"check"`
			TrainS float64 `json:"train_s"`
			Step   int     `json:"step"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ck); err != nil {
			return fmt.Errorf("checks.jsonl: %w", err)
		}
		path := filepath.Join(dir, fmt.Sprintf("check-%d.npy", ck.Check))
		x, err := data.ReadNPYFile(path)
		if err != nil {
			return err
		}
		if len(x.Shape) != 4 || x.Shape[1] != 1 || x.Shape[2] != 28 || x.Shape[3] != 28 || x.Shape[0]%10 != 0 {
			return fmt.Errorf("%s: shape %v, want [10k, 1, 28, 28]", path, x.Shape)
		}
		vals := make([]float32, x.Len())
		for i := range vals {
			vals[i] = float32(x.Value(i))
		}
		n := x.Shape[0]
		a := agreement(net, tensor.FromSlice(vals, n, 1, 28, 28), blockLabels(10, n/10))
		if err := enc.Encode(check{Impl: ck.Impl, Check: ck.Check, TrainS: ck.TrainS, Step: ck.Step, Agreement: a}); err != nil {
			return err
		}
	}
	return sc.Err()
}
