package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/tensor"
)

// parseThresholds reads -truncation-sweep: comma-separated positive
// thresholds, each valid for mode.
func parseThresholds(s, mode string) ([]float64, error) {
	var ts []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("-truncation-sweep: %q is not a number", f)
		}
		if v <= 0 {
			return nil, fmt.Errorf("-truncation-sweep: threshold %g: want positive thresholds", v)
		}
		if err := (gan.Truncation{Threshold: v, Mode: mode}).Validate(); err != nil {
			return nil, fmt.Errorf("-truncation-sweep: %v", err)
		}
		ts = append(ts, v)
	}
	if len(ts) > 32 {
		return nil, fmt.Errorf("-truncation-sweep: %d thresholds; at most 32", len(ts))
	}
	return ts, nil
}

// sweepScores are the scores of one threshold (0: no truncation).
type sweepScores struct {
	threshold                  float64
	fid, is, precision, recall float64
}

// truncationSweep scores src at each threshold, and without truncation,
// with the same noise seed each time; it prints a table to stdout (progress
// to log) and, when plotPath is set, writes the four curves as a PNG.
func truncationSweep(src imagegan.Source, prior gan.Prior, mode string, thresholds []float64, n int, ref imagegan.Reference, seed uint64, what, plotPath string, stdout, log io.Writer) error {
	var rows []sweepScores
	for _, thr := range append([]float64{0}, thresholds...) {
		p := prior
		p.Truncation = gan.Truncation{Threshold: thr, Mode: mode}
		fmt.Fprintf(log, "truncation %s: scoring %d images\n", p.Truncation, n)
		res, err := imagegan.Evaluate(src, p, n, []string{"fid", "is", "pr"}, ref, tensor.NewRNG(seed))
		if err != nil {
			return fmt.Errorf("truncation %s: %w", p.Truncation, err)
		}
		r := sweepScores{threshold: thr}
		for _, m := range res {
			for _, v := range m.Values {
				switch v.Name {
				case "fid":
					r.fid = v.Value
				case "is":
					r.is = v.Value
				case "precision":
					r.precision = v.Value
				case "recall":
					r.recall = v.Value
				}
			}
		}
		rows = append(rows, r)
	}
	fmt.Fprintf(stdout, "%s\ntruncation mode  %s; %d images per threshold, noise seed %d; Kallima's MNIST feature network\n\n", what, mode, n, seed)
	fmt.Fprintln(stdout, "| threshold | FID | IS | precision | recall |\n|---|---|---|---|---|")
	for _, r := range rows {
		t := strconv.FormatFloat(r.threshold, 'g', -1, 64)
		if r.threshold == 0 {
			t = "none"
		}
		fmt.Fprintf(stdout, "| %s | %.2f | %.3f | %.3f | %.3f |\n", t, r.fid, r.is, r.precision, r.recall)
	}
	if plotPath == "" {
		return nil
	}
	panel := func(title string, f func(sweepScores) float64) picture.Panel {
		p := picture.Panel{Title: title, Ref: f(rows[0])}
		for _, r := range rows[1:] {
			p.X, p.Y = append(p.X, r.threshold), append(p.Y, f(r))
		}
		return p
	}
	img := picture.Lines(fmt.Sprintf("truncation (%s) against its threshold; dashed: no truncation", mode), "threshold", []picture.Panel{
		panel("FID (lower is better)", func(r sweepScores) float64 { return r.fid }),
		panel("IS-style score", func(r sweepScores) float64 { return r.is }),
		panel("precision", func(r sweepScores) float64 { return r.precision }),
		panel("recall", func(r sweepScores) float64 { return r.recall }),
	})
	if err := picture.SavePNG(plotPath, img); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", plotPath)
	return nil
}
