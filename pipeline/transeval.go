package pipeline

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/imagegan"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// TranslationEval configures EvaluateTranslation.
type TranslationEval struct {
	// N is the number of source images per direction (the first N of the
	// source domain's images); 0 means 1000.
	N int
	// Domain, when set, is a domain classifier trained on the real images
	// of a multi-domain task (labels = domains), not the model's own
	// discriminator: it says whether a translation reached its target.
	Domain *classifier.Net
	// Judges, when set, holds a class judge per domain, in the task's
	// order (A then B, or the domains' order): a classifier trained on that
	// domain's real training images with their digit labels (TrainJudges). MNIST's classifier has never seen thick or
	// thin strokes, so its ceiling there is below 1; a judge of the domain
	// itself reads its digits as well as MNIST's classifier reads MNIST.
	Judges []*classifier.Net
}

// DirectionScore is how one direction of a translation model does on a
// task's held-out images.
type DirectionScore struct {
	From, To string
	// N is the number of images translated.
	N int
	// ClassKept is the fraction of translations that Kallima's MNIST
	// classifier assigns to their source digit's class; Ceiling is the
	// same classifier's accuracy on the target domain's real images (read
	// the same way), the most a translation can be expected to reach.
	ClassKept, Ceiling float64
	// Readable says how the classifier reads the target domain ("as is",
	// or "negated" for inverted digits).
	Readable string
	// FID is the Frechet distance of the translations to the target
	// domain's real images on the classifier's fc1 features.
	FID float64
	// L1 (mean absolute error in [-1, 1]) and PSNR (dB, pixels in [0, 1])
	// against the paired targets; NaN for unpaired and domain tasks.
	L1, PSNR float64
	// DomainAcc is the fraction of translations the domain classifier
	// assigns to the target domain, and DomainCeiling its accuracy on the
	// target domain's real images; NaN without a domain classifier.
	DomainAcc, DomainCeiling float64
	// JudgedKept is the fraction of translations that the target domain's
	// class judge (TranslationEval.Judges) assigns to the source digit's
	// class, and JudgeCeiling the judge's accuracy on the target domain's
	// real images; NaN without a judge for the target.
	JudgedKept, JudgeCeiling float64
	// SourceRead is the fraction of sources that their own domain's judge
	// assigns to their digit's class, and KeptOfRead the fraction of those
	// sources whose translations the target's judge assigns to it: the
	// class kept where the source shows it, apart from sources whose
	// class their own domain's look hides. NaN without both judges.
	SourceRead, KeptOfRead float64
}

// TranslationScore is EvaluateTranslation's result.
type TranslationScore struct {
	Task       string
	Classifier string
	Directions []DirectionScore
}

// translateBatch is how many images EvaluateTranslation translates at once.
const translateBatch = 100

// EvaluateTranslation scores tr on task (made from held-out digits, e.g.
// MNIST's test split, with data.MakeTask): for a paired task the direction
// A to B, with L1 and PSNR to the targets; for an unpaired task A to B and
// B to A (a direction tr refuses is skipped, and an error only when it
// refuses both); for a domains task every target domain, from the images
// of the other domains. Every direction gets the fraction of translations
// whose class (Kallima's MNIST classifier, net) is the source digit's and
// the FID to the target domain's real images. tr runs as it is: put its
// networks in evaluation mode first.
func EvaluateTranslation(tr family.Translator, task *data.Task, net *classifier.Classifier, cfg TranslationEval) (TranslationScore, error) {
	if cfg.N == 0 {
		cfg.N = 1000
	}
	if cfg.N < 1 {
		return TranslationScore{}, fmt.Errorf("evaluate translation: n = %d: want a positive number of images", cfg.N)
	}
	score := TranslationScore{Task: task.Name, Classifier: net.Name}
	type job struct {
		from, to     int
		src, target  *data.Set // target: the target domain's real images
		srcDigits    []int
		paired       bool
		targetDigits []int
	}
	var jobs []job
	names := tr.Domains()
	switch task.Kind {
	case "paired", "unpaired":
		if len(names) != 2 {
			return score, fmt.Errorf("evaluate translation: task %s has domains A and B, the model %d domains (%v)", task.Name, len(names), names)
		}
		jobs = append(jobs, job{from: 0, to: 1, src: task.A, target: task.B, srcDigits: task.A.Labels, targetDigits: task.B.Labels, paired: task.Kind == "paired"})
		if task.Kind == "unpaired" {
			jobs = append(jobs, job{from: 1, to: 0, src: task.B, target: task.A, srcDigits: task.B.Labels, targetDigits: task.A.Labels})
		}
	case "domains":
		if !slices.Equal(names, task.Domains.Classes) {
			return score, fmt.Errorf("evaluate translation: task %s has domains %v, the model %v", task.Name, task.Domains.Classes, names)
		}
		byDomain := make([][]int, len(names))
		for i, d := range task.Domains.Labels {
			byDomain[d] = append(byDomain[d], i)
		}
		for to := range names {
			// The sources take turns among the other domains, so the
			// first N hold every one of them.
			var in []int
			for k := 0; ; k++ {
				added := false
				for d, idx := range byDomain {
					if d != to && k < len(idx) {
						in = append(in, idx[k])
						added = true
					}
				}
				if !added {
					break
				}
			}
			out := byDomain[to]
			src, srcDigits := subset(task.Domains, in, task.Digits)
			target, targetDigits := subset(task.Domains, out, task.Digits)
			jobs = append(jobs, job{from: -1, to: to, src: src, target: target, srcDigits: srcDigits, targetDigits: targetDigits})
		}
	default:
		return score, fmt.Errorf("evaluate translation: task %s of kind %q", task.Name, task.Kind)
	}
	var refused []error
	for _, j := range jobs {
		n := min(cfg.N, j.src.Len())
		from := j.from
		if from < 0 {
			from = 0 // a multi-domain model ignores it
		}
		out, err := translateAll(tr, j.src.Images, n, from, j.to)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		d := DirectionScore{To: names[j.to], N: n, L1: math.NaN(), PSNR: math.NaN(), DomainAcc: math.NaN(), DomainCeiling: math.NaN(),
			JudgedKept: math.NaN(), JudgeCeiling: math.NaN(), SourceRead: math.NaN(), KeptOfRead: math.NaN()}
		d.From = "all others"
		if j.from >= 0 {
			d.From = names[j.from]
		}
		readable, how := task.Readable(names[j.to])
		d.Readable = how
		d.ClassKept = net.Net.Accuracy(readable(out), j.srcDigits[:n])
		realN := min(cfg.N, j.target.Len())
		real := tensor.FromSlice(j.target.Images.Data()[:realN*out.Len()/n], append([]int{realN}, out.Shape()[1:]...)...)
		d.Ceiling = net.Net.Accuracy(readable(real), j.targetDigits[:realN])
		if j.paired {
			d.L1, d.PSNR = l1PSNR(out, j.target.Images.Data()[:out.Len()])
		}
		if j.to < len(cfg.Judges) && cfg.Judges[j.to] != nil {
			judge := cfg.Judges[j.to]
			d.JudgedKept = judge.Accuracy(out, j.srcDigits[:n])
			d.JudgeCeiling = judge.Accuracy(real, j.targetDigits[:realN])
			if j.from >= 0 && j.from < len(cfg.Judges) && cfg.Judges[j.from] != nil {
				src := tensor.FromSlice(j.src.Images.Data()[:out.Len()], out.Shape()...)
				d.SourceRead, d.KeptOfRead = keptOfRead(cfg.Judges[j.from].Predict(src), judge.Predict(out), j.srcDigits[:n])
			}
		}
		if cfg.Domain != nil {
			d.DomainAcc = cfg.Domain.Accuracy(out, repeat(j.to, n))
			d.DomainCeiling = cfg.Domain.Accuracy(real, repeat(j.to, realN))
		}
		ev, err := imagegan.NewEvaluator(imagegan.Reference{Name: fmt.Sprintf("%s/%s", task.Name, names[j.to]), Images: real}, realN)
		if err != nil {
			return score, fmt.Errorf("evaluate translation: %w", err)
		}
		rs, err := ev.Score(out, []string{"fid"}, 0)
		if err != nil {
			return score, fmt.Errorf("evaluate translation %s to %s: %w", d.From, d.To, err)
		}
		d.FID = fidValue(rs)
		score.Directions = append(score.Directions, d)
	}
	if len(score.Directions) == 0 {
		return score, fmt.Errorf("evaluate translation: the model translates no direction of task %s: %v", task.Name, refused[0])
	}
	return score, nil
}

// keptOfRead returns the fraction of labels that src (the source judge's
// readings) gets right, and of those the fraction that out (the target
// judge's readings of the translations) gets right too; NaN when src gets
// none right.
func keptOfRead(src, out, labels []int) (read, kept float64) {
	nRead, nKept := 0, 0
	for i, l := range labels {
		if src[i] == l {
			nRead++
			if out[i] == l {
				nKept++
			}
		}
	}
	if nRead == 0 {
		return 0, math.NaN()
	}
	return float64(nRead) / float64(len(labels)), float64(nKept) / float64(nRead)
}

// TrainJudges trains a class judge for each domain of task (made from
// training digits with data.MakeTask), in the task's domain order: Kallima's classifier network
// trained for steps steps on that domain's images with their digit labels
// (classifier.TrainOn, seeded by seed), as EvaluateTranslation's
// TranslationEval.Judges. Progress goes to progress (nil for none).
func TrainJudges(task *data.Task, steps int, seed uint64, progress io.Writer) ([]*classifier.Net, error) {
	if progress == nil {
		progress = io.Discard
	}
	sets := map[string]*data.Set{}
	var order []string
	switch task.Kind {
	case "paired", "unpaired":
		for _, side := range []struct {
			name string
			set  *data.Set
		}{{"A", task.A}, {"B", task.B}} {
			if side.set == nil {
				return nil, fmt.Errorf("class judges: task %s has no domain %s", task.Name, side.name)
			}
			sets[side.name] = side.set
			order = append(order, side.name)
		}
	case "domains":
		byDomain := make([][]int, len(task.Domains.Classes))
		for i, d := range task.Domains.Labels {
			byDomain[d] = append(byDomain[d], i)
		}
		for d, name := range task.Domains.Classes {
			// The digits become the labels of the domain's images.
			imgs, digits := subset(task.Domains, byDomain[d], task.Digits)
			imgs.Labels, imgs.Classes = digits, nil
			sets[name] = imgs
			order = append(order, name)
		}
	default:
		return nil, fmt.Errorf("class judges: task %s of kind %q", task.Name, task.Kind)
	}
	var judges []*classifier.Net
	for _, name := range order {
		set := sets[name]
		if set.Classes == nil {
			set = &data.Set{Images: set.Images, Labels: set.Labels, Classes: digitNames(set.Labels)}
		}
		fmt.Fprintf(progress, "training the class judge of %s on its %d training images (%d steps)\n", name, set.Len(), steps)
		c, err := classifier.TrainOn(set, classifier.TrainConfig{Seed: seed, MaxSteps: steps}, nil)
		if err != nil {
			return nil, fmt.Errorf("class judge of %s: %w", name, err)
		}
		judges = append(judges, c.Net)
	}
	return judges, nil
}

// digitNames names classes 0 to the largest label, "0", "1", ...
func digitNames(labels []int) []string {
	names := make([]string, slices.Max(labels)+1)
	for k := range names {
		names[k] = strconv.Itoa(k)
	}
	return names
}

// translateAll translates the first n images of x from domain from to to,
// in batches, without recording a graph, into memory of its own.
func translateAll(tr family.Translator, x *tensor.Tensor, n, from, to int) (*tensor.Tensor, error) {
	per := x.Len() / x.Size(0)
	shape := x.Shape()[1:]
	var out *tensor.Tensor
	tensor.Persistent(func() { out = tensor.New(append([]int{n}, shape...)...) })
	for lo := 0; lo < n; lo += translateBatch {
		hi := min(lo+translateBatch, n)
		var err error
		func() {
			arena := tensor.OpenArena()
			defer arena.Close()
			autograd.NoGrad(func() {
				in := tensor.FromSlice(x.Data()[lo*per:hi*per:hi*per], append([]int{hi - lo}, shape...)...)
				var y *tensor.Tensor
				y, err = tr.Translate(in, from, to)
				if err == nil && y.Len() != in.Len() {
					err = fmt.Errorf("translation of %v gave %v", in.Shape(), y.Shape())
				}
				if err == nil {
					copy(out.Data()[lo*per:hi*per], y.Data())
				}
			})
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// subset returns the images idx of s and their digits.
func subset(s *data.Set, idx []int, digits []int) (*data.Set, []int) {
	per := s.Images.Len() / s.Len()
	img := make([]float32, len(idx)*per)
	labels := make([]int, len(idx))
	dg := make([]int, len(idx))
	for k, i := range idx {
		p, l := s.Get(i)
		copy(img[k*per:], p)
		labels[k], dg[k] = l, digits[i]
	}
	return &data.Set{Images: tensor.FromSlice(img, append([]int{len(idx)}, s.Shape()...)...), Labels: labels, Classes: s.Classes}, dg
}

// l1PSNR returns the mean absolute error of out against target (both in
// [-1, 1]) and the PSNR in dB with pixels mapped to [0, 1].
func l1PSNR(out *tensor.Tensor, target []float32) (l1, psnr float64) {
	var abs, sq float64
	for i, v := range out.Data() {
		d := float64(v) - float64(target[i])
		abs += math.Abs(d)
		sq += d * d
	}
	n := float64(len(target))
	mse := sq / n / 4 // (d/2)^2 in [0, 1] units
	return abs / n, 10 * math.Log10(1/mse)
}

func repeat(v, n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = v
	}
	return r
}

// fidValue is the "fid" value of one FID result.
func fidValue(rs []metrics.Result) float64 {
	for _, r := range rs {
		for _, v := range r.Values {
			if v.Name == "fid" {
				return v.Value
			}
		}
	}
	return math.NaN()
}
