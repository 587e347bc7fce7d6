package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/pipeline"
	runfolder "github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

const evalUsage = `Usage: kallima eval RUN_OR_WEIGHTS [-ref IMAGES] [flags]
       kallima eval -per-class RUN_OR_WEIGHTS [-n 1000] [flags]
       kallima eval -per-class -real mnist/train [-n 1000] [flags]
       kallima eval -real mnist/train [-ref IMAGES] [flags]
       kallima eval IMAGES REFERENCE [flags]
       kallima eval -modes RUN_OR_NPY [-n 26000] [flags]
       kallima eval -modes -real stacked-mnist [-n 26000] [flags]
       kallima eval -classify RUN [-n 10000] [flags]
       kallima eval -translate RUN [-n 1000] [flags]

Scores a trained MNIST-shaped (28x28 gray) image generator: -n generated
images against the first -n images of the reference set (MNIST's test split
for an mnist run, the training images otherwise, or -ref), with Kallima's
own MNIST feature network (package classifier): fid and kid on its fc1
features, is (the Inception-Score-style score) on its class probabilities
in 10 splits, pr (precision/recall, k=3, and density/coverage, k=5) on fc1
features. -n must reach the bound of each metric asked for: 129 for fid
(more images than the 128 features), 10 for is, 6 for pr, 2 for kid; the
reference set needs as many, but none for is.

RUN_OR_WEIGHTS is a run folder (its best-scoring checkpoint, else its
newest), a checkpoint file inside one, or a weights file with a config.yaml
beside it. The EMA weights are used when the run keeps them, unless -raw
(which, like -truncation, applies to a generator, not to image sets).
With -real mnist/train, MNIST's first -n training images are scored in
place of a generator: the real-data row that calibrates a results table.

With -per-class, a conditional run on MNIST (cgan, acgan, biggan, sngan
and sagan with model.conditional: a class is a digit) is scored class by
class: -n/10 samples of each digit k (-n defaults to 1000 there), the
fraction the feature network classifies as k (class agreement), and
precision/recall (k=3) and density/coverage (k=5) of the samples of k
against the first -n/10 test images of digit k (fidelity and diversity
within the class); then FID and precision/recall of all -n samples against
the first -n test images. With -real mnist/train, MNIST's training images
of each digit (in order) stand in for the generator: the real-data row.

With two image sets (pytorch-fid's convention), the first -n images of
IMAGES (all of them by default) are scored as if generated against the
first -n of REFERENCE, e.g. another library's samples against MNIST:

  kallima data export mnist/test -out mnist-test       # MNIST as PNGs
  kallima eval samples.npy mnist-test -n 10000
  kallima eval mnist-test mnist/train                  # a real-data row

-truncation T scores a generator on truncated noise (see kallima sample
-h); -truncation-sweep 0.25,0.5,1,2 scores it at each threshold and without
truncation (FID, IS, precision, recall, the same noise seed each time) and
-plot curve.png draws the four curves: the fidelity/variety trade-off.

An image set (IMAGES, REFERENCE, -ref) is one of:
  - mnist/train or mnist/test: MNIST's split (write ./mnist/test for a
    folder of that name);
  - a folder of 28x28 PNG or JPEG images, read in sorted path order (files
    in it first, then each subfolder's; other files are skipped with a
    note); colour is reduced to gray by luma, 0.299 R + 0.587 G +
    0.114 B, rounded to a byte (equal channels, as torchvision's
    save_image writes gray images, stay exact);
  - a .npy file of shape [N,28,28], [N,1,28,28] or [N,28,28,1]: uint8
    (0..255), or float32/float64 in the range -range gives: auto (any value
    below 0: [-1,1]; else none above 1.01: [0,1]; else [0,255]), or 0,1,
    -1,1 or 0,255. Values may overshoot the range by 1% of its width.
Images of another size are an error: nothing is resized. A byte v is the
gray level v/127.5 - 1, as Kallima reads MNIST, so MNIST written as PNG or
.npy scores exactly as MNIST does.

With -codes, RUN is an InfoGAN run (model.kind infogan) and its latent
codes are scored against MNIST's digit classes, as Kallima's MNIST
classifier labels the generated images (no real labels are used). For
each value of a categorical code, -n images (default 1000, the noise and
the other codes drawn at random) are classified; the values are matched
one-to-one to the classes by the Hungarian algorithm, and the accuracy
under that matching and the NMI (normalised mutual information) of values
and classes are printed, with the matching. For each continuous code, 200
noise vectors are drawn at 11 values from -1 to 1 and the class agreement
is printed: the fraction of those images keeping the class of their noise
vector's image at 0 (near 1: the code changes an attribute, not the digit).
For a run on MNIST, Q (the discriminator's code head, from the same
checkpoint as G: a run folder's newest, or the checkpoint file given)
also reads each categorical code from MNIST's 10000 real test digits,
matched to their labels the same way: the InfoGAN paper's measure.

  kallima eval -codes runs/infogan-mnist
  kallima eval -codes runs/infogan-mnist/checkpoints/step-001500.safetensors -n 300
  kallima eval -codes runs/infogan-mnist -n 500 -seed 2 -json

With -nll, RUN is a VAE run (model.kind vae) and its log-likelihood is
estimated with the IWAE estimator (Burda et al. 2016, arXiv:1509.00519):
log p(x) ~= logsumexp_j [log p(x|z_j) + log p(z_j) - log q(z_j|x)] - log k
with k = -k samples z_j ~ q(z|x) per image (5000, the paper's; for an AVB
run, model.kind avb, q is a Gaussian fitted to its implicit encoder's
samples: model.proposal_samples), on the
first -n images of MNIST's test split (the run's own images for other
data), binarised once for a Bernoulli decoder by a stream split from -seed
(so every run is scored on the same binary digits). It prints the mean in
nats with its standard error; -recon FILE writes 32 test images and their
reconstructions. k = 5000 on 1000 digits takes minutes on two cores.

  kallima eval -nll runs/vae-mnist -n 1000 -recon recon.png

With -modes, the Stacked MNIST mode-collapse score (VEEGAN, arXiv:1705.07761;
PacGAN, arXiv:1712.04086): -n images (default 26000, the protocol's) of a
run trained on data.kind stacked-mnist, or of a .npy file [N,3,28,28] or
[N,28,28,3] (read as -range says; all of it when it holds fewer), or with -real stacked-mnist real Stacked
MNIST images built with -seed. The feature network reads the digit of each
channel; the image's mode is 100*R + 10*G + B, one of 1000. It prints the
modes found and KL(generated mode histogram || uniform over 1000) in nats,
the direction and log of PacGAN's code (0: every mode equally often; log
1000 = 6.91: one mode). Real images at n = 26000 score about 1000 modes and
KL 0.025, the finite sample's floor. The KL is split into each channel's
digits against uniform plus the channels' dependence, and the dependence
shown by pairs of channels (mutual information of R-G, R-B, G-B), with how
sure the network is of the digits it read.

  kallima eval -modes runs/dcgan-stacked -json
  kallima eval -modes -real stacked-mnist

With -classify, RUN is a run whose model classifies images (model.kind
aae with model.prior categorical: the argmax of its softmax y). Its classes
for the first -n test digits (MNIST's test split, default all 10000) are
scored against their labels: the error rate with each class read as the
label (the semi-supervised score), the accuracy after matching classes to
labels one to one by the Hungarian algorithm (each cluster to its most
frequent label when there are more classes than labels), and the NMI.

  kallima eval -classify runs/aae-semi-mnist -json

These scores use Kallima's MNIST feature network: they compare runs scored
the same way and are NOT comparable with Inception-based numbers in papers,
nor across -n: FID falls as n grows (MNIST test against train: 399 at
n=1000, 297 at 2000, 27 at 10000), so compare scores taken at the same -n.

Flags:
`

// realPrior is the noise handed to a Replay of real images: they ignore it,
// and its size only sets how far the noise advances the seed's stream
// before KID draws its subsets; 4 gives the real row of
// docs/RESULTS-mnist.md, and every image set is scored with it, so the same
// images score the same whichever way they are given.
var realPrior = gan.Prior{Kind: "normal", Dim: 4}

func runEval(args []string, stdout, stderr io.Writer) int {
	fs := flagSet("kallima eval", evalUsage, nnUsage+translateUsage)
	list := fs.String("metrics", "fid,kid,is,pr", "comma-separated metrics: fid, kid, is, pr")
	n := fs.Int("n", 10000, "generated images (and reference images, at most the set's size)")
	seed := fs.Uint64("seed", 1, "seed of the noise (and of KID's subsets)")
	raw := fs.Bool("raw", false, "use G's trained weights, not their EMA")
	asJSON := fs.Bool("json", false, "print one JSON result per line")
	realSet := fs.String("real", "", "score real images instead of a generator: mnist/train (against mnist/test)")
	refSet := fs.String("ref", "", "reference image set in place of the default: mnist/train, mnist/test, a folder or a .npy file")
	rangeName := fs.String("range", "auto", "value range of float .npy images: auto, 0,1, -1,1 or 0,255")
	truncation := truncationFlags(fs)
	sweep := fs.String("truncation-sweep", "", "score the generator at each of these comma-separated thresholds (and without truncation): FID, IS, precision, recall; with -truncation-mode")
	plot := fs.String("plot", "", "with -truncation-sweep: write the curves as this PNG")
	perClass := fs.Bool("per-class", false, "score a conditional MNIST run class by class (class agreement, per-class precision/recall)")
	codes := fs.Bool("codes", false, "score an InfoGAN run's latent codes against the digit classes instead (-n: images per category, default 1000)")
	nll := fs.Bool("nll", false, "estimate a VAE run's test log-likelihood by importance sampling instead (-n test images, -k samples each)")
	k := fs.Int("k", 5000, "with -nll: importance samples per image")
	recon := fs.String("recon", "", "with -nll: write test images and their reconstructions as this PNG")
	classify := fs.Bool("classify", false, "score a classifying run (aae, categorical prior) on the test digits instead: error rate, cluster accuracy, NMI")
	modes := fs.Bool("modes", false, "score Stacked MNIST mode collapse instead: modes found of 1000 and KL to the uniform (-n default 26000)")
	translate := fs.Bool("translate", false, "score an image-to-image run on its MNIST task's test digits instead: classes kept, FID to the target domain, L1/PSNR, domain accuracy (-n images per direction, default 1000)")
	judge := fs.Int("judge", 0, "with -translate: also train a class judge per domain on its real training images for this many steps (1000 is enough) and report the classes it reads kept")
	nn := fs.Bool("nn", false, "score an encoder run's codes instead: 1-nearest-neighbour accuracy on MNIST's test digits, reconstruction error (-n test digits)")
	order := fs.String("order", "", "with -nn -val: the order of the training digits the split takes its last N from: bigan (the BiGAN authors' shuffle) or files; unset, the run's data.order")
	val := fs.Int("val", 0, "with -nn: score the last N of MNIST's training digits (in the run's data.order) against the others instead of the test digits against all 60000 (the BiGAN authors' split: -val 10000, for a run trained with -set data.order=bigan -set data.n=50000)")
	bn := fs.Int("bn", 0, "with -nn: first re-estimate the encoder's batch norm statistics over this many batches of 128 reference digits (the BiGAN authors' deploy pass: 1000); 0 keeps the checkpoint's running averages")
	pos, code, done := parseCommand(fs, args, stdout, stderr)
	if done {
		return code
	}
	if isSet(fs, "judge") && !*translate {
		fmt.Fprintln(stderr, "kallima eval: -judge goes with -translate")
		return exitUsage
	}
	if *classify {
		return evalClassifyFlags(fs, pos, *n, *raw, *asJSON, stdout, stderr)
	}
	if *translate {
		return runEvalTranslate(fs, pos, *n, *seed, *judge, *raw, *asJSON, stdout, stderr)
	}
	for _, f := range []string{"val", "bn", "order"} {
		if isSet(fs, f) && !*nn {
			fmt.Fprintf(stderr, "kallima eval: -%s goes with -nn\n", f)
			return exitUsage
		}
	}
	if *nn {
		return runEvalNN(fs, pos, nnOptions{n: *n, val: *val, bn: *bn, order: *order, seed: *seed, raw: *raw, json: *asJSON}, stdout, stderr)
	}
	trunc, err := truncation(*sweep != "")
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitUsage
	}
	var thresholds []float64
	if *sweep != "" {
		if thresholds, err = parseThresholds(*sweep, trunc.Mode); err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitUsage
		}
		if trunc.Threshold > 0 || isSet(fs, "metrics") {
			fmt.Fprintln(stderr, "kallima eval: -truncation-sweep sets the thresholds and scores FID, IS and precision/recall; give neither -truncation nor -metrics with it")
			return exitUsage
		}
	} else if *plot != "" {
		fmt.Fprintln(stderr, "kallima eval: -plot draws the curves of -truncation-sweep; give that too")
		return exitUsage
	}
	// Image sets have no generator: its noise (truncation) and its weights
	// (-raw) mean nothing there, so say so rather than score as if they did.
	if *realSet != "" || len(pos) == 2 || *modes && len(pos) == 1 && strings.EqualFold(filepath.Ext(pos[0]), ".npy") {
		if trunc.Threshold > 0 || thresholds != nil {
			fmt.Fprintln(stderr, "kallima eval: -truncation and -truncation-sweep draw a generator's noise; they do not apply to image sets")
			return exitUsage
		}
		if *raw {
			fmt.Fprintln(stderr, "kallima eval: -raw picks a generator's weights (trained, not EMA); it does not apply to image sets")
			return exitUsage
		}
	}
	if *modes {
		for _, f := range []string{"metrics", "ref", "per-class", "codes", "nll", "k", "recon", "truncation", "truncation-sweep", "plot"} {
			if isSet(fs, f) {
				fmt.Fprintf(stderr, "kallima eval: -%s does not go with -modes\n", f)
				return exitUsage
			}
		}
		pr, err := data.ParsePixelRange(*rangeName)
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: -range: %v\n", err)
			return exitUsage
		}
		switch {
		case !isSet(fs, "n"):
			*n = 0 // imagegan.StackedSamples, or all of a smaller .npy
		case *n < 1:
			fmt.Fprintf(stderr, "kallima eval: -modes -n %d: want at least one image (%d is the protocol's)\n", *n, imagegan.StackedSamples)
			return exitUsage
		}
		return runEvalModes(pos, *realSet, *n, *seed, *raw, *asJSON, pr, stdout, stderr)
	}
	if *perClass && *codes {
		fmt.Fprintln(stderr, "kallima eval: -per-class and -codes are two different scorings; give one")
		return exitUsage
	}
	if *perClass {
		if trunc.Threshold > 0 || thresholds != nil {
			fmt.Fprintln(stderr, "kallima eval: -per-class scores untruncated samples; give no -truncation or -truncation-sweep with it")
			return exitUsage
		}
		if isSet(fs, "metrics") || isSet(fs, "ref") || isSet(fs, "range") || len(pos) != 1 && *realSet == "" || len(pos) != 0 && *realSet != "" {
			fmt.Fprintln(stderr, "kallima eval: -per-class takes one run folder or weights file (or -real mnist/train), and -n, -seed, -raw and -json only")
			return exitUsage
		}
		if *realSet != "" && *realSet != "mnist/train" {
			fmt.Fprintf(stderr, "kallima eval: -real %s: only mnist/train (mnist/test is the reference it is scored against)\n", *realSet)
			return exitUsage
		}
		if !isSet(fs, "n") {
			*n = 1000
		}
		path := *realSet
		if path == "" {
			path = pos[0]
		}
		return runEvalPerClass(path, *realSet != "", *n, *seed, *raw, *asJSON, stdout, stderr)
	}
	if *nll {
		for _, f := range []string{"metrics", "real", "ref", "range", "per-class", "codes", "truncation", "truncation-sweep", "plot"} {
			if isSet(fs, f) {
				fmt.Fprintf(stderr, "kallima eval: -%s does not go with -nll\n", f)
				return exitUsage
			}
		}
		return runEvalNLL(pos, *k, *n, *seed, *raw, *asJSON, *recon, stdout, stderr)
	}
	if isSet(fs, "k") || isSet(fs, "recon") {
		fmt.Fprintln(stderr, "kallima eval: -k and -recon go with -nll")
		return exitUsage
	}
	if *codes {
		if trunc.Threshold > 0 || thresholds != nil {
			fmt.Fprintln(stderr, "kallima eval: -codes scores untruncated samples per code value; give no -truncation or -truncation-sweep with it")
			return exitUsage
		}
		for _, f := range []string{"metrics", "real", "ref", "range"} {
			if isSet(fs, f) {
				fmt.Fprintf(stderr, "kallima eval: -%s does not go with -codes\n", f)
				return exitUsage
			}
		}
		per := 1000
		if isSet(fs, "n") {
			per = *n
		}
		return runEvalCodes(pos, per, *seed, *raw, *asJSON, stdout, stderr)
	}
	switch {
	case *realSet != "" && len(pos) != 0:
		fmt.Fprintln(stderr, "kallima eval: -real scores real images; give no run folder with it")
		return exitUsage
	case *realSet == "" && (len(pos) == 0 || len(pos) > 2):
		fmt.Fprintln(stderr, "kallima eval: give one run folder or weights file (kallima eval RUN_OR_WEIGHTS [flags]), or two image sets (kallima eval IMAGES REFERENCE [flags])")
		return exitUsage
	case len(pos) == 2 && *refSet != "":
		fmt.Fprintln(stderr, "kallima eval: with two image sets the second is the reference; give no -ref")
		return exitUsage
	case len(pos) == 1 && isImageSet(pos[0]):
		fmt.Fprintf(stderr, "kallima eval: %s holds images, not a run: give the reference set too (kallima eval IMAGES REFERENCE [flags])\n", pos[0])
		return exitUsage
	}
	if *realSet != "" && *realSet != "mnist/train" {
		fmt.Fprintf(stderr, "kallima eval: -real %s: only mnist/train (mnist/test is the reference it is scored against)\n", *realSet)
		return exitUsage
	}
	which, err := imagegan.ParseMetrics(*list)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: -metrics: %v\n", err)
		return exitUsage
	}
	pr, err := data.ParsePixelRange(*rangeName)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: -range: %v\n", err)
		return exitUsage
	}
	need, why := metricsMinimum(which)
	if *n < need {
		fmt.Fprintf(stderr, "kallima eval: -n %d: want at least %d (%s; 10000 is usual)\n", *n, need, why)
		return exitUsage
	}
	var (
		src   imagegan.Source
		prior gan.Prior
		ref   imagegan.Reference
		what  string
	)
	switch {
	case *realSet != "":
		src, ref, err = realMNIST(*n, stderr)
		prior, what = realPrior, fmt.Sprintf("real images      %s[:%d], scored as if generated", *realSet, *n)
	case len(pos) == 2:
		var set imageSet
		if set, err = loadImageSet(pos[0], pr, stderr); err != nil {
			break
		}
		if !isSet(fs, "n") {
			*n = set.images.Size(0)
		}
		if have := set.images.Size(0); *n > have {
			err = fmt.Errorf("-n %d: %s has %d images", *n, pos[0], have)
			break
		}
		if *n < need {
			err = fmt.Errorf("%s has %d images: %s (at least %d; 10000 is usual)", pos[0], *n, why, need)
			break
		}
		set.warnCut(*n, stderr)
		src, prior = &imagegan.Replay{Images: set.images}, realPrior
		what = fmt.Sprintf("images           %s[:%d] (%s), scored as if generated", pos[0], *n, set.format)
		var r imageSet
		if r, err = loadImageSet(pos[1], pr, stderr); err == nil {
			r.warnCut(*n, stderr)
			ref = imagegan.Reference{Name: pos[1], Images: r.images}
			what += fmt.Sprintf("\nreference set    %s (%s)", pos[1], r.format)
		}
	default:
		var s *pipeline.Sampler
		var c config.Config
		if s, c, what, err = loadForEval(pos[0], *raw); err == nil {
			s.Prior.Truncation = trunc
			src, prior = pipeline.SourceOf(s), s.Prior
			what = fmt.Sprintf("generator        %s (%s weights)", what, s.Weights)
			if trunc.Threshold > 0 {
				what += fmt.Sprintf("\ntruncation       %s", trunc)
			}
			if *refSet == "" {
				ref, err = pipeline.EvalReference(c)
			}
		}
	}
	if err == nil && *refSet != "" && len(pos) < 2 {
		var r imageSet
		if r, err = loadImageSet(*refSet, pr, stderr); err == nil {
			r.warnCut(*n, stderr)
			ref = imagegan.Reference{Name: *refSet, Images: r.images}
			what += fmt.Sprintf("\nreference set    %s (%s)", *refSet, r.format)
		}
	}
	if err == nil {
		// Checked before generating: the metric would fail only after.
		if rneed, rwhy := referenceMinimum(which); ref.Images != nil && ref.Images.Size(0) < rneed {
			err = fmt.Errorf("reference %s has %d images: %s (at least %d)", ref.Name, ref.Images.Size(0), rwhy, rneed)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if thresholds != nil {
		if err := truncationSweep(src, prior, trunc.Mode, thresholds, *n, ref, *seed, what, *plot, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
		return exitOK
	}
	res, err := imagegan.Evaluate(src, prior, *n, which, ref, tensor.NewRNG(*seed))
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	if *asJSON {
		for _, r := range res {
			b, err := r.JSON()
			if err != nil {
				fmt.Fprintf(stderr, "kallima eval: %v\n", err)
				return exitError
			}
			fmt.Fprintf(stdout, "%s\n", b)
		}
		return exitOK
	}
	fmt.Fprintln(stdout, what)
	for _, r := range res {
		fmt.Fprintf(stdout, "\n%s\n", r.Metric)
		for _, v := range r.Values {
			fmt.Fprintf(stdout, "  %-14s %s\n", v.Name, valueText(v.Value, v.Std, v.Runs))
		}
		fmt.Fprintf(stdout, "  n_real         %d\n  n_fake         %d\n  network        %s\n  layer          %s (%d-D)\n", r.NReal, r.NFake, r.Network, r.Layer, r.Dim)
		refText := r.Reference
		if refText == "" {
			refText = "none (no real set)"
		}
		fmt.Fprintf(stdout, "  reference      %s\n  protocol       %s\n", refText, r.Protocol)
	}
	fmt.Fprintln(stdout, "\nThese scores use Kallima's MNIST feature network; they are not comparable with Inception-based numbers in papers.")
	return exitOK
}

// fidFeatures is the width of the feature network's fc1 layer
// (classifier.Layers), which FID, KID and precision/recall read.
const fidFeatures = 128

// metricNeed is the fewest images a metric can be scored on: generated
// images (eval's -n) and reference images, with the reason.
type metricNeed struct {
	n, ref int
	why    string
}

// metricNeeds holds each metric's bounds as package metrics checks them,
// so that eval refuses too few images before generating any. IS reads no
// reference.
var metricNeeds = map[string]metricNeed{
	// A full-rank covariance of d features needs d+1 rows.
	"fid": {fidFeatures + 1, fidFeatures + 1, fmt.Sprintf("FID on %d features needs more images than features", fidFeatures)},
	// k-NN radii need more than k points; at most -n reference images
	// are used, so -n bounds both sets.
	"pr":  {6, 6, "precision/recall's nearest-neighbour radii (k = 5 for density and coverage) need more than 5 images"},
	"is":  {10, 0, "IS averages over 10 splits of at least one image each"},
	"kid": {2, 2, "KID's unbiased MMD needs at least 2 images of each set"},
}

// metricsMinimum returns the fewest images (eval's -n) the metrics in which
// can be scored on, and why: the largest of their bounds.
func metricsMinimum(which []string) (int, string) {
	need, why := 1, "a score needs images"
	for _, m := range which {
		if b := metricNeeds[m]; b.n > need {
			need, why = b.n, b.why
		}
	}
	return need, why
}

// referenceMinimum is metricsMinimum for the reference images.
func referenceMinimum(which []string) (int, string) {
	need, why := 0, ""
	for _, m := range which {
		if b := metricNeeds[m]; b.ref > need {
			need, why = b.ref, b.why
		}
	}
	return need, why
}

// realMNIST returns MNIST's training images, the first n of which are
// scored, and the test split as the reference, both from the folder the
// classifier uses (KALLIMA_MNIST_DIR, else the user cache; fetched with
// progress on log if missing).
func realMNIST(n int, log io.Writer) (imagegan.Source, imagegan.Reference, error) {
	train, err := loadMNISTSplit(data.Train, log)
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	if have := train.Size(0); n > have {
		return nil, imagegan.Reference{}, fmt.Errorf("-n %d: mnist/train has %d images", n, have)
	}
	test, err := loadMNISTSplit(data.Test, log)
	if err != nil {
		return nil, imagegan.Reference{}, err
	}
	return &imagegan.Replay{Images: train}, imagegan.Reference{Name: "mnist/test", Images: test}, nil
}

// loadMNISTSplit returns the images of an MNIST split, [N, 1, 28, 28] in
// [-1, 1], from the classifier's folder (fetched with progress on log if
// missing).
func loadMNISTSplit(split data.Split, log io.Writer) (*tensor.Tensor, error) {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		return nil, err
	}
	set, err := classifier.LoadMNIST(dir, split, log)
	if err != nil {
		return nil, err
	}
	return set.Images, nil
}

// imageSet is an image set named on eval's command line.
type imageSet struct {
	images *tensor.Tensor // [N, 1, 28, 28] in [-1, 1]
	format string         // what was read, for the report
	name   string
	// A folder's layout: whether it holds images directly, and how many
	// of its subfolders (its class folders) hold images.
	top       bool
	classDirs int
}

// isImageSet reports whether path names an image set rather than a run:
// an MNIST split, a .npy file, or a folder without a run's config.yaml.
func isImageSet(path string) bool {
	if _, ok := mnistSplit(path); ok || strings.EqualFold(filepath.Ext(path), ".npy") {
		return true
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return false
	}
	_, err := os.Stat(filepath.Join(path, runfolder.ConfigFile))
	return os.IsNotExist(err)
}

// loadImageSet loads the image set spec names (see evalUsage): an MNIST
// split, a folder of images or a .npy file, float arrays read in range r.
func loadImageSet(spec string, r data.PixelRange, log io.Writer) (imageSet, error) {
	if split, ok := mnistSplit(spec); ok {
		im, err := loadMNISTSplit(split, log)
		if err != nil {
			return imageSet{}, err
		}
		return imageSet{images: im, format: fmt.Sprintf("MNIST, %d images", im.Size(0)), name: spec}, nil
	}
	var top bool
	var classDirs int
	if fi, err := os.Stat(spec); err == nil && fi.IsDir() {
		var skipped []string
		skipped, top, classDirs = folderLayout(spec)
		// As translate and encode say: a file left out silently may be
		// one the user meant to score.
		for _, f := range skipped {
			fmt.Fprintf(log, "note: skipping %s: not a .png, .jpg or .jpeg file\n", f)
		}
	}
	set, err := data.LoadGray(spec, classifier.Side, r)
	if err != nil {
		return imageSet{}, err
	}
	return imageSet{images: set.Images, format: set.Format, name: spec, top: top, classDirs: classDirs}, nil
}

// folderLayout lists the image folder dir as data.LoadGray reads it (the
// same files: names starting with "." left out, subfolders at any depth)
// and returns the other files it skips, whether it holds images directly,
// and how many of its subfolders hold images. A folder it cannot list
// gives nothing: LoadGray then says what is wrong.
func folderLayout(dir string) (skipped []string, top bool, classDirs int) {
	files, skipped, err := data.ListImageFiles(dir)
	if err != nil {
		return skipped, false, 0
	}
	seen := map[string]bool{}
	for _, f := range files {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			continue
		}
		first, _, nested := strings.Cut(filepath.ToSlash(rel), "/")
		switch {
		case !nested:
			top = true
		case !seen[first]:
			seen[first] = true
			classDirs++
		}
	}
	return skipped, top, classDirs
}

// warnCut warns on log when only the first n of a folder's images are
// scored and they come from more than one class (a class folder, or the
// images directly in the folder, which are read first): its first n
// images are then not a sample of every class.
func (s imageSet) warnCut(n int, log io.Writer) {
	groups := s.classDirs
	if s.top {
		groups++
	}
	if have := s.images.Size(0); n < have && groups > 1 {
		what := fmt.Sprintf("%d class folders", s.classDirs)
		if s.classDirs == 1 {
			what = "1 class folder"
		}
		if s.top {
			what = "images directly in it and " + what
		}
		fmt.Fprintf(log, "warning: %s: scoring its first %d of %d images in path order, which with %s is not a sample of every class\n", s.name, n, have, what)
	}
}

// valueText formats a score, with its spread over runs when it has one.
func valueText(v, std float64, runs int) string {
	if runs > 0 {
		return fmt.Sprintf("%.6g ± %.3g (%d runs)", v, std, runs)
	}
	return fmt.Sprintf("%.6g", v)
}

// loadForEval loads the generator at path: a run folder (its best-scoring
// checkpoint, else its newest that verifies), a checkpoint file of a run,
// or a weights file with config.yaml beside it. It returns the generator,
// its config and a description of what was loaded.
func loadForEval(path string, raw bool) (*pipeline.Sampler, config.Config, string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, config.Config{}, "", err
	}
	if fi.IsDir() {
		c, err := pipeline.RunConfig(path)
		if err != nil {
			return nil, c, "", err
		}
		infos, err := pipeline.ListCheckpoints(path)
		if err != nil {
			return nil, c, "", err
		}
		best := -1
		for i, in := range infos {
			if in.Err == nil && in.Score != nil && !math.IsNaN(*in.Score) && (best < 0 || *in.Score <= *infos[best].Score) {
				best = i
			}
		}
		if best >= 0 {
			ck, err := runfolder.LoadCheckpoint(infos[best].Path)
			if err == nil {
				s, err := pipeline.SamplerFromCheckpoint(c, ck, raw)
				return s, c, fmt.Sprintf("%s, best checkpoint: step %d (score %.6g)", path, ck.Step, *infos[best].Score), err
			}
		}
		s, _, err := pipeline.LoadSampler(path, raw)
		if err != nil {
			return nil, c, "", err
		}
		return s, c, fmt.Sprintf("%s, newest checkpoint: step %d", path, s.Step), nil
	}
	// A checkpoint file inside a run's checkpoints folder.
	if runDir, ok := pipeline.CheckpointRun(path); ok {
		if c, err := pipeline.RunConfig(runDir); err == nil {
			ck, err := runfolder.LoadCheckpoint(path)
			if err != nil {
				return nil, c, "", err
			}
			s, err := pipeline.SamplerFromCheckpoint(c, ck, raw)
			return s, c, fmt.Sprintf("%s (step %d)", path, ck.Step), err
		}
	}
	c, err := config.Load(filepath.Join(filepath.Dir(path), runfolder.ConfigFile))
	if err != nil {
		return nil, c, "", fmt.Errorf("%s: a weights file needs its run's config.yaml beside it: %w", path, err)
	}
	s, err := pipeline.LoadSamplerWeights(c, path)
	return s, c, path, err
}

// printJSON writes v as one line of JSON to stdout (eval's -json), or the
// error to stderr.
func printJSON(v any, stdout, stderr io.Writer) int {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return exitOK
}
