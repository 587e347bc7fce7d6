package pipeline

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/cluster"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// CodeScore is how well a Coded generator's latent codes line up with
// MNIST's digit classes, judged by a classifier of its images
// (EvaluateCodes).
type CodeScore struct {
	// Categorical has one entry per categorical code.
	Categorical []CategoricalScore
	// Continuous has one entry per continuous code.
	Continuous []ContinuousScore
	// Real, when set, scores Q's reading of each categorical code from
	// real labelled images (ScoreReader): the paper's measure. RealSet
	// names the images.
	Real    []CategoricalScore `json:",omitempty"`
	RealSet string             `json:",omitempty"`
}

// CategoricalScore scores one categorical code as a clustering of the
// generated digits: PerValue images are drawn for each of its values
// (noise and other codes from their priors) and classified.
type CategoricalScore struct {
	Code     string
	PerValue int
	// Match[k] is the class the Hungarian algorithm matched to value k
	// (-1 for a value left unmatched when there are more values than
	// classes).
	Match []int
	// Accuracy is the fraction of images whose class is their value's
	// matched class; NMI is the normalised mutual information of values
	// and classes (cluster.NMI).
	Accuracy, NMI float64
	// Counts[k][y] is how many images of value k were classified y.
	Counts [][]int
}

// ContinuousScore scores one continuous code's traversals: Columns noise
// vectors (other codes from their priors), each drawn at Values evenly
// spaced values of the code from Lo to Hi (an odd count, so the middle one
// is (Lo+Hi)/2).
type ContinuousScore struct {
	Code            string
	Columns, Values int
	Lo, Hi          float64
	// Agreement is the fraction of the traversal's images, the middle
	// ones left out, that keep the class of their column's middle image:
	// near 1 when the code changes an attribute (slant, width) and not
	// the digit.
	Agreement float64
}

// CodeEval says how many images EvaluateCodes draws.
type CodeEval struct {
	// PerValue is the images per value of a categorical code (default
	// 1000).
	PerValue int
	// Columns and Values shape each continuous code's traversal (default
	// 200 columns of 11 values from -1 to 1, the prior's range).
	Columns, Values int
	Lo, Hi          float64
	// Seed seeds the noise.
	Seed uint64
}

func (e CodeEval) withDefaults() CodeEval {
	if e.PerValue <= 0 {
		e.PerValue = 1000
	}
	if e.Columns <= 0 {
		e.Columns = 200
	}
	if e.Values <= 0 {
		e.Values = 11
	}
	if e.Lo == 0 && e.Hi == 0 {
		e.Lo, e.Hi = -1, 1
	}
	return e
}

// Predictor classifies images [N, 1, 28, 28] in [-1, 1];
// *classifier.Net is one.
type Predictor interface {
	Predict(x *tensor.Tensor) []int
}

// EvaluateCodes scores every code of g with net (Kallima's MNIST feature
// network, classifier.Load().Net, for MNIST runs). Categorical codes: the
// images of each value are classified, values are matched one-to-one to
// classes by the Hungarian algorithm (cluster.Match) and the accuracy under
// the matching and the NMI are reported. Continuous codes: the class
// agreement along traversals (ContinuousScore). g is run as it is (put its
// module in evaluation mode first). It returns an error for a traversal the
// codes do not admit, or a generator whose images net cannot take.
func EvaluateCodes(g family.Coded, net Predictor, e CodeEval) (CodeScore, error) {
	e = e.withDefaults()
	if e.Values%2 == 0 || e.Values < 3 {
		return CodeScore{}, fmt.Errorf("pipeline: %d traversal values: want an odd count of at least 3, so there is a middle one", e.Values)
	}
	prior := g.Prior()
	rng := tensor.NewRNG(e.Seed)
	var s CodeScore
	for _, c := range g.Codes() {
		if c.Categories == 0 {
			continue
		}
		t, err := family.NewTraversal(g, c.Name, 0, float64(c.Categories-1), 0)
		if err != nil {
			return CodeScore{}, err
		}
		z := prior.Sample(rng, e.PerValue)
		preds, err := traversalClasses(g, net, t, z)
		if err != nil {
			return CodeScore{}, err
		}
		values := make([]int, len(preds))
		for i := range values {
			values[i] = i / e.PerValue
		}
		cs, err := scoreCategorical(values, preds, c.Categories)
		if err != nil {
			return CodeScore{}, err
		}
		cs.Code, cs.PerValue = c.Name, e.PerValue
		s.Categorical = append(s.Categorical, cs)
	}
	for _, c := range g.Codes() {
		if c.Categories > 0 {
			continue
		}
		t, err := family.NewTraversal(g, c.Name, e.Lo, e.Hi, e.Values)
		if err != nil {
			return CodeScore{}, err
		}
		z := prior.Sample(rng, e.Columns)
		preds, err := traversalClasses(g, net, t, z)
		if err != nil {
			return CodeScore{}, err
		}
		s.Continuous = append(s.Continuous, ContinuousScore{Code: c.Name, Columns: e.Columns, Values: e.Values, Lo: e.Lo, Hi: e.Hi,
			Agreement: Agreement(preds, e.Values, e.Columns)})
	}
	return s, nil
}

// Agreement is the class agreement of a traversal's classes, laid out row
// by row (rows values, cols noise columns): the fraction of images off the
// middle row whose class is that of their column's middle-row image.
func Agreement(classes []int, rows, cols int) float64 {
	mid := rows / 2
	same, all := 0, 0
	for r := range rows {
		if r == mid {
			continue
		}
		for j := range cols {
			all++
			if classes[r*cols+j] == classes[mid*cols+j] {
				same++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(same) / float64(all)
}

// scoreCategorical matches a code's values (0 .. k-1) to the classifier's
// classes and scores the matching.
func scoreCategorical(values, classes []int, k int) (CategoricalScore, error) {
	return scoreMatch(values, classes, k, classifier.Classes)
}

// scoreMatch matches values (0 .. k-1) to classes (0 .. ny-1) one to one
// and scores the matching: accuracy under it, and NMI.
func scoreMatch(values, classes []int, k, ny int) (CategoricalScore, error) {
	n, err := cluster.Contingency(values, classes, k, ny)
	if err != nil {
		return CategoricalScore{}, err
	}
	cs := CategoricalScore{Counts: n, NMI: cluster.NMI(n)}
	if k <= ny {
		cs.Match, cs.Accuracy, err = cluster.Match(n)
		return cs, err
	}
	// More values than classes: match classes to values instead; the
	// values no class takes stay unmatched.
	t := make([][]int, ny)
	for y := range t {
		t[y] = make([]int, k)
		for v := range k {
			t[y][v] = n[v][y]
		}
	}
	back, acc, err := cluster.Match(t)
	if err != nil {
		return CategoricalScore{}, err
	}
	cs.Match, cs.Accuracy = slices.Repeat([]int{-1}, k), acc
	for y, v := range back {
		cs.Match[v] = y
	}
	return cs, nil
}

// traversalBatch is how many images traversalClasses generates at once.
const traversalBatch = 250

// traversalClasses generates the traversal t over noise z and returns the
// classes of its images, row by row.
func traversalClasses(g family.Coded, net Predictor, t family.Traversal, z *tensor.Tensor) ([]int, error) {
	zs, req := t.Grid(z)
	n, dim := zs.Size(0), zs.Size(1)
	var classes []int
	for lo := 0; lo < n; lo += traversalBatch {
		hi := min(n, lo+traversalBatch)
		part := family.Request{Codes: map[string][]float64{}}
		for name, vs := range req.Codes {
			part.Codes[name] = vs[lo:hi]
		}
		var err error
		func() {
			arena := tensor.OpenArena()
			defer arena.Close()
			var img *tensor.Tensor
			if img, err = g.Generate(tensor.FromSlice(zs.Data()[lo*dim:hi*dim], hi-lo, dim), part); err != nil {
				return
			}
			if s := img.Shape(); len(s) != 4 || s[1] != 1 || s[2] != classifier.Side || s[3] != classifier.Side {
				err = fmt.Errorf("pipeline: the generator's images are %v; the MNIST classifier takes [N 1 28 28]", s)
				return
			}
			classes = append(classes, net.Predict(img)...)
		}()
		if err != nil {
			return nil, err
		}
	}
	return classes, nil
}

// LoadCodeReader loads the model of the run at path with every player's
// live weights, in evaluation mode, and returns it as a family.CodeReader
// (an InfoGAN's Q head on its discriminator) with the checkpoint's step.
// path is a run folder (its newest checkpoint that verifies) or one
// checkpoint file in a run's checkpoints folder. It returns an error for
// a model that cannot read codes back.
func LoadCodeReader(path string) (family.CodeReader, int, error) {
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		dir, ok := CheckpointRun(path)
		if !ok {
			return nil, 0, fmt.Errorf("pipeline: %s: want a run folder or a checkpoint in a run's %s folder", path, run.CheckpointsDir)
		}
		c, err := RunConfig(dir)
		if err != nil {
			return nil, 0, err
		}
		ck, err := run.LoadCheckpoint(path)
		if err != nil {
			return nil, 0, err
		}
		return codeReader(c, ck)
	}
	c, err := RunConfig(path)
	if err != nil {
		return nil, 0, err
	}
	infos, err := ListCheckpoints(path)
	if err != nil {
		return nil, 0, err
	}
	for i := len(infos) - 1; i >= 0; i-- {
		ck, err := run.LoadCheckpoint(infos[i].Path)
		if err != nil {
			continue
		}
		return codeReader(c, ck)
	}
	return nil, 0, fmt.Errorf("pipeline: %s: no checkpoint verifies: %w", path, run.ErrNoCheckpoint)
}

// codeReader builds the model of config c with the live weights of ck.
func codeReader(c config.Config, ck *run.Checkpoint) (family.CodeReader, int, error) {
	classes, _ := strconv.Atoi(ck.Meta[metaClasses])
	_, m, err := newSampler(c, classes)
	if err != nil {
		return nil, 0, err
	}
	r, ok := m.Generator.(family.CodeReader)
	if !ok {
		return nil, 0, fmt.Errorf("pipeline: model.kind %s does not read codes back from images", c.Model.Kind)
	}
	for _, p := range m.Players {
		if err := nn.LoadState(p.Module, ck.Group(p.Name)); err != nil {
			return nil, 0, fmt.Errorf("pipeline: checkpoint at step %d: group %s: %w", ck.Step, p.Name, err)
		}
		p.Module.SetTraining(false)
	}
	return r, ck.Step, nil
}

// readBatch is how many images ScoreReader reads at once.
const readBatch = 500

// ScoreReader scores each categorical code as r reads it from labelled
// images [N, C, H, W] (real digits, say): Q's category of each image
// against its label, matched one-to-one by the Hungarian algorithm
// (accuracy) and by NMI, as the InfoGAN paper scores c1 as a classifier
// of MNIST. PerValue is 0 in the scores: the images are not grouped by
// value.
func ScoreReader(r family.CodeReader, images *tensor.Tensor, labels []int, classes int) ([]CategoricalScore, error) {
	n := images.Size(0)
	if len(labels) != n {
		return nil, fmt.Errorf("pipeline: %d labels for %d images", len(labels), n)
	}
	px := images.Len() / max(n, 1)
	shape := images.Shape()[1:]
	var cats [][]int
	for lo := 0; lo < n; lo += readBatch {
		hi := min(n, lo+readBatch)
		var part [][]int
		var err error
		func() {
			arena := tensor.OpenArena()
			defer arena.Close()
			x := tensor.FromSlice(images.Data()[lo*px:hi*px], append([]int{hi - lo}, shape...)...)
			part, err = r.ReadCategorical(x)
		}()
		if err != nil {
			return nil, err
		}
		if cats == nil {
			cats = make([][]int, len(part))
		}
		for j := range part {
			cats[j] = append(cats[j], part[j]...)
		}
	}
	var out []CategoricalScore
	j := 0
	for _, c := range r.Codes() {
		if c.Categories == 0 {
			continue
		}
		s, err := scoreMatch(cats[j], labels, c.Categories, classes)
		if err != nil {
			return nil, err
		}
		s.Code = c.Name
		out = append(out, s)
		j++
	}
	return out, nil
}
