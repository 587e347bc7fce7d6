package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// nnUsage is eval's help for -nn.
const nnUsage = `
With -nn, RUN is a run whose model has an encoder (family.Encoder: bigan,
ali, vae, ae, aae, avb) trained on 28x28 gray images, scored as the BiGAN authors
score theirs (Donahue et al. 2017, arXiv:1605.09782; their code,
github.com/jeffdonahue/bigan): every one of MNIST's 60000 training digits
and the first -n test digits (default all 10000) is encoded, and each test
digit takes the label of its nearest training digit by Euclidean distance
(their metric) between codes: the 1-nearest-neighbour accuracy. For a
BiGAN or ALI it is also given on E's last hidden layer (the authors'
NNC_e-, where their 97.35% at 400 epochs was measured; NNC_e, on the
codes, was 92.10%). Their figures are on a 10000-digit validation split
of the training set against the other 50000, with the model trained on
those 50000 only: their code shuffles the 60000 training digits with
numpy's RandomState(42) and holds out the last 10000. -val N scores the
last N training digits, in the run's data.order, against the others:
train with -set data.order=bigan -set data.n=50000 and score with -val
10000 for their split (-order bigan or -order files picks the order
instead of the run's; a run that trained on held-out digits is scored
with a note saying how many). Without -val the test digits are scored
against all 60000. Before every evaluation the authors recompute batch
norm's statistics as the average over 1000 batches of 128 training
digits; -bn 1000 does the same with the reference digits (without it
the checkpoint's running averages are used: an exponential average with
momentum 0.1, most of its weight on training's last twenty batches).
For a model that reconstructs (family.Reconstructor), the mean L2 distance ||G(E(x)) - x|| per test digit in [0, 1] pixel units
(the authors' EGr; divide by 28 for the per-pixel RMS) is printed beside
two random-pair baselines: ||x' - x|| and ||x' - G(E(x))|| (the authors'
EGr_b), x' another test digit (a random derangement drawn from -seed).
Every training digit is encoded, whatever -n: seconds for most
families, several minutes for AVB, whose code averages
model.proposal_samples (256) encoder samples per digit.

  kallima eval -nn runs/bigan-mnist
  kallima eval -nn runs/vae-mnist -n 1000 -json
  kallima train -preset bigan-mnist -set data.order=bigan -set data.n=50000 -set train.steps=156400 -out runs/bigan-50k
  kallima eval -nn runs/bigan-50k -val 10000 -bn 1000
`

// nnChunk is the number of images encoded between progress lines, and
// nnRows the number of test rows whose distances to every training code
// are computed at once.
const (
	nnChunk = 5000
	nnRows  = 256
)

// NNScore is the result of kallima eval -nn.
type NNScore struct {
	Run  string `json:"run"`
	Kind string `json:"kind"`
	// Train and Test are the numbers of reference and scored digits
	// encoded, Split where the scored ones come from ("test", or "val":
	// the last Test training digits, against the first Train, "val-bigan"
	// when the training digits were in data.order bigan), and
	// Distance the nearest-neighbour metric.
	Train    int    `json:"train"`
	Test     int    `json:"test"`
	Split    string `json:"split"`
	Distance string `json:"distance"`
	// BNBatches is the number of batches of reference digits the
	// encoder's batch norm statistics were re-estimated over before
	// encoding (-bn), 0 when the checkpoint's were used.
	BNBatches int `json:"bn_batches,omitempty"`
	// CodeDim and CodeAccuracy are the codes' width and the 1-NN accuracy
	// (a fraction) on them.
	CodeDim      int     `json:"code_dim"`
	CodeAccuracy float64 `json:"code_accuracy"`
	// FeatureDim and FeatureAccuracy are the same on the encoder's last
	// hidden layer, for a family.Featurer.
	FeatureDim      int      `json:"feature_dim,omitempty"`
	FeatureAccuracy *float64 `json:"feature_accuracy,omitempty"`
	// Recon is the reconstruction error, for a family.Reconstructor.
	Recon *family.ReconError `json:"recon,omitempty"`
	// Seconds is the wall time of the whole scoring.
	Seconds float64 `json:"seconds"`
}

// nnOptions are eval's flags that -nn reads.
type nnOptions struct {
	n, val, bn int
	order      string
	seed       uint64
	raw, json  bool
}

// runEvalNN is kallima eval -nn RUN.
func runEvalNN(fs *flag.FlagSet, pos []string, o nnOptions, stdout, stderr io.Writer) int {
	n, val, seed := o.n, o.val, o.seed
	for _, f := range []string{"metrics", "real", "ref", "range", "per-class", "codes", "nll", "k", "recon", "modes", "truncation", "truncation-sweep", "plot"} {
		if isSet(fs, f) {
			fmt.Fprintf(stderr, "kallima eval: -%s does not go with -nn\n", f)
			return exitUsage
		}
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima eval: -nn scores one run folder or checkpoint, got %d arguments\n", len(pos))
		return exitUsage
	}
	if n < 1 {
		fmt.Fprintf(stderr, "kallima eval: -nn -n %d: want at least one test digit\n", n)
		return exitUsage
	}
	if o.bn < 0 {
		fmt.Fprintf(stderr, "kallima eval: -bn %d: want a number of batches, or 0 to keep the checkpoint's statistics\n", o.bn)
		return exitUsage
	}
	if val < 0 || val >= data.MNISTTrainN {
		fmt.Fprintf(stderr, "kallima eval: -val %d: want how many of the last of MNIST's %d training digits to score (10000 is the BiGAN authors' split), or 0 for the test digits\n", val, data.MNISTTrainN)
		return exitUsage
	}
	if isSet(fs, "order") && val == 0 {
		fmt.Fprintln(stderr, "kallima eval: -order goes with -val: it picks the training digits the split holds out")
		return exitUsage
	}
	start := time.Now()
	s, c, what, err := loadForEval(pos[0], o.raw)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	enc, ok := s.Generator.(family.Encoder)
	if !ok {
		fmt.Fprintf(stderr, "kallima eval: -nn: the model (%s) has no encoder (model.kind bigan, ali, vae, ae, aae and avb have)\n", c.Model.Kind)
		return exitUsage
	}
	if ch, side := c.ImageShape(); ch != 1 || side != 28 {
		fmt.Fprintf(stderr, "kallima eval: -nn encodes MNIST's digits, and the run takes %dx%dx%d images, not 1x28x28\n", ch, side, side)
		return exitUsage
	}
	train, test, err := nnDigits(c, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	split, from, against := "test", "mnist/test", "mnist/train"
	if val > 0 {
		order, runOrder, name, err := nnOrders(c, o.order)
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitUsage
		}
		if order != nil {
			train = train.Select(order)
		}
		cut := train.Len() - val
		train, test = train.Slice(0, cut), train.Slice(cut, train.Len())
		split, from, against = "val", fmt.Sprintf("mnist/train[%d:]", cut), fmt.Sprintf("mnist/train[:%d]", cut)
		if name != "" {
			split += "-" + name
			from, against = fmt.Sprintf("mnist/train[%d:] in order %s", cut, name), fmt.Sprintf("mnist/train[:%d] in order %s", cut, name)
		}
		if !isSet(fs, "n") {
			n = val
		}
		// The held-out digits are only held out if the run never saw them.
		if c.Data.Kind == "mnist" {
			seen := cmp.Or(c.Data.N, data.MNISTTrainN)
			if k := overlap(runOrder, seen, order, cut); k > 0 {
				fmt.Fprintf(stderr, "kallima eval: note: the run trained on %d of the %d digits scored (it trained on the first %d of mnist/train%s; train with -set data.n=%d%s to hold them out)\n",
					k, val, seen, orderSuffix(c.Data.Order), cut, setOrder(name))
			}
		}
	}
	if have := test.Len(); n > have {
		if isSet(fs, "n") {
			fmt.Fprintf(stderr, "kallima eval: -n %d: %s has %d digits; scoring all of them\n", n, from, have)
		}
		n = have
	}
	if o.bn > 0 {
		layers, err := estimateNorms(enc, c.Model.Kind, train, o.bn, seed, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: -nn -bn: %v\n", err)
			return exitError
		}
		if layers == 0 {
			o.bn = 0 // nothing was re-estimated: the score says so
		}
	}
	feat, _ := enc.(family.Featurer)
	total := train.Len() + n
	done := 0
	progress := func(k int) {
		done += k
		fmt.Fprintf(stderr, "nn: encoded %d/%d images, %s\n", done, total, time.Since(start).Round(time.Second))
	}
	testX := tensor.Slice(test.Images, 0, 0, n)
	trCodes, trFeats, err := encodeAll(enc, feat, train.Images, progress)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	teCodes, teFeats, err := encodeAll(enc, feat, testX, progress)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	testLabels := test.Labels[:n]
	score := NNScore{Run: what, Kind: c.Model.Kind, Train: train.Len(), Test: n, Split: split, Distance: "euclidean", BNBatches: o.bn}
	score.CodeDim = len(trCodes) / train.Len()
	score.CodeAccuracy = nnAccuracy(trCodes, train.Labels, teCodes, testLabels, score.CodeDim)
	fmt.Fprintf(stderr, "nn: codes scored, %s\n", time.Since(start).Round(time.Second))
	if feat != nil {
		score.FeatureDim = len(trFeats) / train.Len()
		acc := nnAccuracy(trFeats, train.Labels, teFeats, testLabels, score.FeatureDim)
		score.FeatureAccuracy = &acc
		fmt.Fprintf(stderr, "nn: features scored, %s\n", time.Since(start).Round(time.Second))
	}
	if rec, ok := enc.(family.Reconstructor); ok {
		r, err := family.ReconErrors(rec, testX, tensor.NewRNG(seed))
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: -nn: %v\n", err)
			return exitError
		}
		score.Recon = &r
	}
	score.Seconds = time.Since(start).Seconds()
	if o.json {
		return printJSON(score, stdout, stderr)
	}
	fmt.Fprintf(stdout, "model            %s (%s weights), model.kind %s\n", what, s.Weights, c.Model.Kind)
	if val > 0 {
		fmt.Fprintf(stdout, "digits           %d of %s against %s (a validation split of the training digits), 1-nearest neighbour, Euclidean distance\n", n, from, against)
	} else {
		fmt.Fprintf(stdout, "digits           mnist/test[:%d] against all %d of mnist/train, 1-nearest neighbour, Euclidean distance\n", n, score.Train)
	}
	if o.bn > 0 {
		fmt.Fprintf(stdout, "batch norm       re-estimated over %d batches of %d reference digits\n", o.bn, nnBNBatch)
	}
	fmt.Fprintf(stdout, "codes            %.2f%% (%d-D)\n", 100*score.CodeAccuracy, score.CodeDim)
	if score.FeatureAccuracy != nil {
		fmt.Fprintf(stdout, "features         %.2f%% (%d-D, the encoder's last hidden layer)\n", 100**score.FeatureAccuracy, score.FeatureDim)
	}
	if r := score.Recon; r != nil {
		fmt.Fprintf(stdout, "reconstruction   ||G(E(x)) - x|| %.3f, random pairs ||x' - x|| %.3f, ||x' - G(E(x))|| %.3f (L2 per digit, [0, 1] pixels)\n", r.Recon, r.RandomPair, r.RandomRecon)
	}
	fmt.Fprintf(stdout, "time             %.1f s\n", score.Seconds)
	return exitOK
}

// nnOrders returns the order of MNIST's training digits -val splits
// (flag -order: "files" or a data.order name; unset, the run's data.order),
// the order the run trained in, and the split's order name ("" for the
// files' order). A nil order is the files' order.
func nnOrders(c config.Config, flagOrder string) (order, runOrder []int, name string, err error) {
	if c.Data.Kind == "mnist" {
		if runOrder, err = data.MNISTOrder(c.Data.Order); err != nil {
			return nil, nil, "", err
		}
		name = c.Data.Order
	}
	switch flagOrder {
	case "":
		return runOrder, runOrder, name, nil
	case "files":
		return nil, runOrder, "", nil
	}
	if order, err = data.MNISTOrder(flagOrder); err != nil {
		return nil, nil, "", fmt.Errorf("-order %s: want %s (the BiGAN authors' shuffle) or files (the files' order); unset, the run's data.order", flagOrder, data.OrderBiGAN)
	}
	return order, runOrder, flagOrder, nil
}

// overlap counts the digits among the first seen of runOrder that are
// not among the first cut of order (nil orders being the files' order):
// the held-out digits a run trained on.
func overlap(runOrder []int, seen int, order []int, cut int) int {
	at := func(p []int, i int) int {
		if p == nil {
			return i
		}
		return p[i]
	}
	trained := make([]bool, data.MNISTTrainN)
	for i := range seen {
		trained[at(runOrder, i)] = true
	}
	k := 0
	for i := cut; i < data.MNISTTrainN; i++ {
		if trained[at(order, i)] {
			k++
		}
	}
	return k
}

// orderSuffix and setOrder name a data.order in eval's notes.
func orderSuffix(name string) string {
	if name == "" {
		return ""
	}
	return " in order " + name
}

func setOrder(name string) string {
	if name == "" {
		return ""
	}
	return " -set data.order=" + name
}

// nnDigits loads MNIST's training and test splits, from the run's data
// folder for an mnist run and the classifier's otherwise (fetched with
// progress on log when missing).
func nnDigits(c config.Config, log io.Writer) (train, test *data.Set, err error) {
	dir := c.DataDir()
	if c.Data.Kind != "mnist" {
		if dir, err = classifier.DefaultDataDir(); err != nil {
			return nil, nil, err
		}
	}
	if train, err = classifier.LoadMNIST(dir, data.Train, log); err != nil {
		return nil, nil, err
	}
	if test, err = classifier.LoadMNIST(dir, data.Test, log); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// nnBNBatch is the batch size of -bn's pass: the authors' training batch.
const nnBNBatch = 128

// estimateNorms replaces the running statistics of enc's batch norm
// layers by their averages over batches of nnBNBatch digits drawn from ref
// (shuffled by seed), as the BiGAN authors' deploy pass does before each
// evaluation, and returns how many layers it re-estimated. An encoder
// without batch norm, or that is not one network (AVB's averages noisy
// samples), is left as it is, with a note.
func estimateNorms(enc family.Encoder, kind string, ref *data.Set, batches int, seed uint64, log io.Writer) (int, error) {
	net, ok := enc.(family.EncoderNet)
	var g family.EncoderGraph
	var err error
	if ok {
		g, err = net.EncoderGraph()
	}
	if !ok || err != nil {
		fmt.Fprintf(log, "kallima eval: note: -bn: %s's encoder is not one network whose batch norm could be re-estimated; nothing re-estimated\n", kind)
		return 0, nil
	}
	ld, err := data.NewLoader(ref, data.LoaderConfig{BatchSize: min(nnBNBatch, ref.Len()), Seed: seed, DropLast: true, Prefetch: -1})
	if err != nil {
		return 0, err
	}
	defer ld.Close()
	start := time.Now()
	layers, err := nn.EstimateStatistics(g.Net, batches, func(i int) error {
		x := ld.Next().Images
		arena := tensor.OpenArena()
		_, err := enc.Encode(x)
		arena.Close()
		if done := i + 1; done%250 == 0 || done == batches {
			fmt.Fprintf(log, "nn: batch norm statistics: %d/%d batches, %s\n", done, batches, time.Since(start).Round(time.Second))
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	if layers == 0 {
		fmt.Fprintln(log, "kallima eval: note: -bn: the encoder has no batch norm; nothing re-estimated")
	}
	return layers, nil
}

// encodeAll encodes images [N, C, H, W] in chunks of nnChunk and returns
// the codes (and, when feat is not nil, the features) as row-major [N, D]
// slices, calling progress after each chunk with its size.
func encodeAll(enc family.Encoder, feat family.Featurer, images *tensor.Tensor, progress func(int)) (codes, feats []float32, err error) {
	n := images.Size(0)
	for lo := 0; lo < n; lo += nnChunk {
		hi := min(lo+nnChunk, n)
		arena := tensor.OpenArena()
		x := tensor.Slice(images, 0, lo, hi)
		var z, f *tensor.Tensor
		if z, err = enc.Encode(x); err == nil && feat != nil {
			f, err = feat.Features(x)
		}
		if err == nil {
			codes = append(codes, z.Data()...)
			if f != nil {
				feats = append(feats, f.Data()...)
			}
		}
		arena.Close()
		if err != nil {
			return nil, nil, err
		}
		progress(hi - lo)
	}
	return codes, feats, nil
}

// nnAccuracy returns the fraction of test rows (row-major [M, dim]) whose
// nearest train row ([N, dim]) by Euclidean distance has the same label;
// a tie goes to the lowest train index. Squared distances are
// ||a||^2 + ||b||^2 - 2 a.b, the products by GEMM in float32 and the
// norms in float64, as the authors' code computes them.
func nnAccuracy(train []float32, trainLabels []int, test []float32, testLabels []int, dim int) float64 {
	n, m := len(trainLabels), len(testLabels)
	if n == 0 || m == 0 {
		return 0
	}
	sqNorms := func(x []float32, rows int) []float64 {
		r := make([]float64, rows)
		for i := range r {
			var s float64
			for _, v := range x[i*dim : (i+1)*dim] {
				s += float64(v) * float64(v)
			}
			r[i] = s
		}
		return r
	}
	trN := sqNorms(train, n)
	teN := sqNorms(test, m)
	trT := tensor.FromSlice(train, n, dim)
	correct := 0
	for lo := 0; lo < m; lo += nnRows {
		hi := min(lo+nnRows, m)
		arena := tensor.OpenArena()
		dots := tensor.MatMul(tensor.FromSlice(test[lo*dim:hi*dim], hi-lo, dim), trT, false, true).Data()
		for i := lo; i < hi; i++ {
			row := dots[(i-lo)*n : (i-lo+1)*n]
			best, bestD := -1, math.Inf(1)
			for j, d := range row {
				if dd := teN[i] + trN[j] - 2*float64(d); dd < bestD {
					best, bestD = j, dd
				}
			}
			if trainLabels[best] == testLabels[i] {
				correct++
			}
		}
		arena.Close()
	}
	return float64(correct) / float64(m)
}
