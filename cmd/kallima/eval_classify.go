package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kallima-gan/kallima/cluster"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// classifyBatch is the number of test images classified at a time.
const classifyBatch = 500

// ClassifyScore is the result of kallima eval -classify.
type ClassifyScore struct {
	Run string `json:"run"`
	// Set names the images scored: mnist/test[:n], or the run's own
	// training images when it has no test split.
	Set string `json:"set"`
	N   int    `json:"n"`
	// Classes is the model's number of classes (clusters); Labels the
	// labelled training digits of a semi-supervised run (0: unsupervised).
	Classes int `json:"classes"`
	Labels  int `json:"labels"`
	// ErrorRate is the fraction of images whose class, read directly as a
	// label, is wrong: the semi-supervised score.
	ErrorRate float64 `json:"error_rate"`
	// ClusterAccuracy is the accuracy after mapping each class to a label:
	// one to one by the Hungarian algorithm (Matching "hungarian") when the
	// model has no more classes than the data, else each cluster to its
	// most frequent label ("majority", the paper's rule for 16 and 30
	// clusters). Match[k] is class k's label; NMI the normalised mutual
	// information of classes and labels.
	ClusterAccuracy float64 `json:"cluster_accuracy"`
	Matching        string  `json:"matching"`
	Match           []int   `json:"match"`
	NMI             float64 `json:"nmi"`
	Seconds         float64 `json:"seconds"`
}

// runEvalClassify is kallima eval -classify RUN: a classifying model's
// (family.Classifier) error rate and clustering scores on the first n test
// images.
func runEvalClassify(pos []string, n int, raw, asJSON bool, stdout, stderr io.Writer) int {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima eval: -classify scores one run folder or checkpoint, got %d arguments\n", len(pos))
		return exitUsage
	}
	if n < 1 {
		fmt.Fprintf(stderr, "kallima eval: -classify -n %d: want at least one image\n", n)
		return exitUsage
	}
	s, c, what, err := loadForEval(pos[0], raw)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	cl, ok := s.Generator.(family.Classifier)
	if !ok {
		fmt.Fprintf(stderr, "kallima eval: -classify: the model (%s) does not classify images (model.kind aae with model.prior categorical does)\n", c.Model.Kind)
		return exitUsage
	}
	set, name, err := classifyImages(c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if have := set.Len(); n > have {
		fmt.Fprintf(stderr, "kallima eval: -n %d: %s has %d images; scoring all of them\n", n, name, have)
		n = have
	}
	start := time.Now()
	pred := make([]int, 0, n)
	for lo := 0; lo < n; lo += classifyBatch {
		hi := min(lo+classifyBatch, n)
		p, err := cl.Classify(tensor.Slice(set.Images, 0, lo, hi))
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		pred = append(pred, p...)
	}
	classes := s.Classes
	for _, k := range pred {
		classes = max(classes, k+1)
	}
	score, err := scoreClassify(pred, set.Labels[:n], classes, max(len(set.Classes), 1))
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	score.Run, score.Set, score.N, score.Seconds = what, fmt.Sprintf("%s[:%d]", name, n), n, time.Since(start).Seconds()
	if l, ok := c.Model.Section.(interface{ LabelCount() int }); ok {
		score.Labels = l.LabelCount()
	}
	if asJSON {
		return printJSON(score, stdout, stderr)
	}
	fmt.Fprintf(stdout, "model             %s (%s weights)\n", what, s.Weights)
	fmt.Fprintf(stdout, "images            %s\n", score.Set)
	if score.Labels > 0 {
		fmt.Fprintf(stdout, "trained with      %d labelled digits (semi-supervised): the class is the label\n", score.Labels)
	} else {
		fmt.Fprintf(stdout, "trained with      no labels (unsupervised): the classes are clusters; read the matched accuracy\n")
	}
	fmt.Fprintf(stdout, "error rate        %.2f%% (class read as the label)\n", 100*score.ErrorRate)
	fmt.Fprintf(stdout, "cluster accuracy  %.2f%% (%d classes matched to labels, %s: %v)\n", 100*score.ClusterAccuracy, score.Classes, score.Matching, score.Match)
	fmt.Fprintf(stdout, "NMI               %.4f\n", score.NMI)
	return exitOK
}

// scoreClassify scores predicted classes (0 .. classes-1) against labels
// (0 .. ny-1): the error rate read directly, the accuracy under the
// Hungarian matching (or the majority map when classes > ny) and NMI.
func scoreClassify(pred, labels []int, classes, ny int) (ClassifyScore, error) {
	var s ClassifyScore
	for i, k := range pred {
		if k != labels[i] {
			s.ErrorRate++
		}
	}
	s.ErrorRate /= float64(len(pred))
	table, err := cluster.Contingency(pred, labels, classes, ny)
	if err != nil {
		return s, err
	}
	s.Classes, s.NMI = classes, cluster.NMI(table)
	if classes <= ny {
		s.Matching = "hungarian"
		s.Match, s.ClusterAccuracy, err = cluster.Match(table)
		return s, err
	}
	s.Matching = "majority"
	hit := 0
	for _, row := range table {
		best := 0
		for y, v := range row {
			if v > row[best] {
				best = y
			}
		}
		s.Match = append(s.Match, best)
		hit += row[best]
	}
	s.ClusterAccuracy = float64(hit) / float64(len(pred))
	return s, nil
}

// classifyImages returns the labelled images -classify scores: MNIST's test
// split for an mnist run, else the run's own images, and their name.
func classifyImages(c config.Config, log io.Writer) (*data.Set, string, error) {
	if c.Data.Kind == "mnist" {
		if _, err := data.MNISTFiles(c.DataDir()); err != nil {
			if err := data.FetchMNIST(c.DataDir(), log); err != nil {
				return nil, "", err
			}
		}
		set, err := data.LoadMNIST(c.DataDir(), data.Test)
		return set, "mnist/test", err
	}
	d, err := pipeline.LoadData(c, log)
	if err != nil {
		return nil, "", err
	}
	if d.Images.Labels == nil {
		return nil, "", fmt.Errorf("-classify: data.kind %s has no labels to score against", c.Data.Kind)
	}
	return d.Images, fmt.Sprintf("the run's %s training images (no test split)", c.Data.Kind), nil
}

// evalClassifyFlags checks that -classify comes with its own flags only
// (-n, -raw, -json) and runs it; -n defaults to the whole test split.
func evalClassifyFlags(fs *flag.FlagSet, pos []string, n int, raw, asJSON bool, stdout, stderr io.Writer) int {
	bad := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "classify", "n", "raw", "json":
		default:
			if !bad {
				fmt.Fprintf(stderr, "kallima eval: -%s does not go with -classify (it takes -n, -raw and -json)\n", f.Name)
			}
			bad = true
		}
	})
	if bad {
		return exitUsage
	}
	return runEvalClassify(pos, n, raw, asJSON, stdout, stderr)
}
