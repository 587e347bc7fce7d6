package pipeline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// sampleCols is the number of columns of an image preview grid; an
// unconditional grid has sampleCols rows, a conditional one a column per
// class and a row per noise vector.
const sampleCols = 8

// plotSeed seeds the real points drawn under a 2-D preview plot; it never
// touches the training streams.
const plotSeed = 0x9107

// preview is a run's fixed noise batch, drawn once from the model's
// SampleRNG, and how a sample step shows it: the data kind decides.
type preview struct {
	z      *tensor.Tensor
	req    family.Request
	cols   int            // grid columns, images
	points *data.Mixture  // the mixture, 2-D runs
	real   *tensor.Tensor // real points under the plot, 2-D runs
	n      int            // 2-D: points scored at the end
}

// newPreview draws the fixed batch: for images an 8x8 grid (a row of
// classes per noise vector for a conditional model), for points
// train.sample_n of them, the same ones the final score uses.
func newPreview(c config.Config, d family.Data, m *family.Model) *preview {
	prior := m.Generator.Prior()
	if !d.IsImage() {
		return &preview{z: prior.Sample(m.SampleRNG, c.Train.SampleN), points: d.Points, n: c.Train.SampleN,
			real: d.Points.Sample(tensor.NewRNG(c.Seed^plotSeed), c.Train.SampleN)}
	}
	if cg, ok := m.Generator.(family.Coded); ok {
		// Row r holds the first code's r-th value (every category of a
		// categorical code), column j noise vector j.
		z := prior.Sample(m.SampleRNG, sampleCols)
		zs, req := previewTraversal(cg, cg.Codes()[0], sampleCols).Grid(z)
		return &preview{z: zs, req: req, cols: sampleCols}
	}
	cg, ok := m.Generator.(family.Conditional)
	if !ok {
		return &preview{z: prior.Sample(m.SampleRNG, sampleCols*sampleCols), cols: sampleCols}
	}
	// Row r holds noise vector r for every class: z is repeated along
	// each row and the labels run 0 .. classes-1.
	classes := cg.Classes()
	z := prior.Sample(m.SampleRNG, sampleCols)
	zs := tensor.New(sampleCols*classes, prior.Dim)
	labels := make([]int, sampleCols*classes)
	for r := range sampleCols {
		for k := range classes {
			copy(zs.Data()[(r*classes+k)*prior.Dim:], z.Data()[r*prior.Dim:(r+1)*prior.Dim])
			labels[r*classes+k] = k
		}
	}
	return &preview{z: zs, req: family.Request{Labels: labels}, cols: classes}
}

// generate runs the fixed batch through the generator with its EMA weights
// (when it keeps an EMA) in evaluation mode, leaving every weight and
// statistic as it was.
func (s *session) generate() (*tensor.Tensor, error) {
	return s.generateFrom(s.preview.z, s.preview.req)
}

// generateFrom runs noise z and request req through the generator as
// generate does.
func (s *session) generateFrom(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	p := s.model.GeneratorPlayer
	defer p.Evaluate()()
	var out *tensor.Tensor
	var err error
	tensor.Persistent(func() { out, err = s.model.Generator.Generate(z, req) })
	return out, err
}

// savePreview writes the sample step's picture: an image grid, or the
// generated points over the real ones; for a translator its translation
// grid (saveTranslationPreview).
func (s *session) savePreview() error {
	if err := s.saveTranslationPreview(); err != nil {
		return err
	}
	if s.preview == nil {
		return nil
	}
	out, err := s.generate()
	if err != nil {
		return err
	}
	if s.data.IsImage() {
		return s.run.SaveSamples(s.tr.Step, picture.Grid(out, s.preview.cols, 2))
	}
	title := fmt.Sprintf("%s, %s, step %d", s.c.Data.Kind, lossName(s.c), s.tr.Step)
	return s.run.SaveSamples(s.tr.Step, picture.Scatter(s.preview.real, out, title))
}

// scorePoints scores a 2-D run's fixed batch against the mixture (the
// benchmark protocol of metrics.ScoreMixture) and, with a run folder,
// writes plot.png and metrics.txt.
func (s *session) scorePoints() (*PointsResult, error) {
	fake, err := s.generate()
	if err != nil {
		return nil, err
	}
	rng := s.model.SampleRNG
	score, err := metrics.ScoreMixture(*s.preview.points, fake, metrics.MixtureProtocol{Samples: s.preview.n}, rng)
	if err != nil {
		return nil, err
	}
	r := &PointsResult{Score: score, Real: s.preview.points.Sample(rng, s.preview.n), Fake: fake}
	if s.run == nil {
		return r, nil
	}
	r.Plot = filepath.Join(s.run.Dir(), PlotFile)
	title := fmt.Sprintf("%s, %s, %d steps: %d/%d modes, %.1f%% high quality, W1 %.3f", s.c.Data.Kind, lossName(s.c), s.tr.Step, score.Modes, score.TotalModes, 100*score.HighQuality, score.W1)
	if err := picture.ScatterPlot(r.Plot, r.Real, r.Fake, title); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(s.run.Dir(), SummaryFile), []byte(Summary(score)), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", SummaryFile, err)
	}
	return r, nil
}

// Summary is metrics.txt: a 2-D run's score, one value a line.
func Summary(s metrics.MixtureScore) string {
	return fmt.Sprintf("modes captured   %d / %d\nhigh quality     %.1f%%\nreverse KL       %.4f\nW1               %.4f\nprotocol         %s\n",
		s.Modes, s.TotalModes, 100*s.HighQuality, s.ReverseKL, s.W1, s.Protocol)
}

// LoadData loads (fetching MNIST if needed) or makes the config's data:
// the mixture of a 2-D run, or an image set with its shape and class
// count. Progress and warnings go to progress (nil for none).
func LoadData(c config.Config, progress io.Writer) (family.Data, error) {
	if !c.IsImage() {
		mix := c.Mixture()
		return family.Data{Points: &mix}, nil
	}
	if isTranslation(c) {
		return loadTranslationData(c, progress)
	}
	set, err := loadImages(c, progress)
	if err != nil {
		return family.Data{}, err
	}
	ch, side := c.ImageShape()
	if sh := set.Shape(); sh[0] != ch || sh[1] != side || sh[2] != side {
		return family.Data{}, fmt.Errorf("data: images are %v, want [%d, %d, %d]", sh, ch, side, side)
	}
	return family.Data{Channels: ch, Size: side, Classes: classCount(set), Images: set, ClassNames: set.Classes}, nil
}

// classCount is the number of classes of set: its names, or more when a
// label is past them.
func classCount(set *data.Set) int {
	classes := len(set.Classes)
	for _, l := range set.Labels {
		classes = max(classes, l+1)
	}
	return classes
}

// lossName names the loss for a plot title: "ns loss", or with a penalty
// "ns loss + r1".
func lossName(c config.Config) string {
	if c.Loss.Penalty == "" {
		return c.Loss.Name + " loss"
	}
	return c.Loss.Name + " loss + " + c.Loss.Penalty
}

// traversalSeed seeds the noise of the traversal grids written at the end
// of a coded run; it never touches the training streams.
const traversalSeed = 0x7a1e

// previewTraversal is the traversal a grid shows of code c: every category
// of a categorical code, or rows values from -2 to 2 (the paper's figure
// 2 range, twice the prior's) of a continuous one.
func previewTraversal(g family.Coded, c family.Code, rows int) family.Traversal {
	lo, hi := -2.0, 2.0
	if c.Categories > 0 {
		lo, hi = 0, float64(c.Categories-1)
	}
	t, err := family.NewTraversal(g, c.Name, lo, hi, rows)
	if err != nil {
		panic(fmt.Sprintf("pipeline: traversal of code %s: %v", c.Name, err)) // the family's own codes and ranges
	}
	return t
}

// TraversalFile is the name of the traversal grid of code name that a
// coded run (InfoGAN) writes into its samples folder at the end.
func TraversalFile(name string) string { return "traversal-" + name + ".png" }

// saveTraversals writes, for a coded generator, one traversal grid per code
// into the run's samples folder (TraversalFile): rows the code's values
// (every category, or 9 values from -2 to 2), 10 columns of noise drawn
// from the seed apart from the training streams, the other codes fixed per
// column. EMA weights and evaluation mode, as the previews.
func (s *session) saveTraversals() error {
	g, ok := s.model.Generator.(family.Coded)
	if !ok || s.run == nil || !s.data.IsImage() {
		return nil
	}
	const cols, rows = 10, 9
	z := g.Prior().Sample(tensor.NewRNG(s.c.Seed^traversalSeed), cols)
	for _, c := range g.Codes() {
		zs, req := previewTraversal(g, c, rows).Grid(z)
		out, err := s.generateFrom(zs, req)
		if err != nil {
			return fmt.Errorf("traversal of code %s: %w", c.Name, err)
		}
		path := filepath.Join(s.run.Dir(), run.SamplesDir, TraversalFile(c.Name))
		if err := picture.SavePNG(path, picture.Grid(out, cols, 2)); err != nil {
			return fmt.Errorf("traversal of code %s: %w", c.Name, err)
		}
	}
	return nil
}
