package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/pipeline"
)

// translateUsage is eval's help for -translate.
const translateUsage = `
With -translate, RUN is an image-to-image run (pix2pix, cyclegan,
stargan) trained on one of the MNIST tasks (data.kind mnist-edges,
mnist-thick, mnist-inverted, mnist-width). The same task is made from
MNIST's test digits with the run's seed, and the first -n source images
of each direction (default 1000; at least 129, for FID) are translated:
A to B for a paired task, both ways for an unpaired one, into every
domain (from the others) for a multi-domain one. Each direction gets the fraction of translations that
Kallima's MNIST classifier assigns to the source digit's class, beside the
classifier's accuracy on the target domain's real test images (the
ceiling; inverted digits are read negated), the FID to the target domain's
real test images on the classifier's features, L1 and PSNR to the ground
truth for a paired task, and, for a multi-domain task, the fraction that
a domain classifier assigns to the target domain: a classifier trained
here on the real training images' domains (not the model's
discriminator), with its accuracy on real test images beside it.

-judge STEPS also trains a class judge for each domain: the same network
trained for STEPS steps on that domain's real training images with their
digit labels. MNIST's classifier has never seen thick, thin or edge
images, so its ceiling there is below 1; each direction then also gets
the fraction of translations the target domain's judge assigns to the
source digit's class, beside the judge's accuracy on the domain's real
test images (about a minute per 400 steps on two cores), and the same
fraction among the sources that their own domain's judge reads right
(readable kept): what the translation loses apart from sources whose
class their look hides.

  kallima eval -translate runs/cyclegan-inverted
  kallima eval -translate runs/stargan-width -n 500 -json
  kallima eval -translate runs/cyclegan-thick -n 4000 -judge 1000
`

// maxJudgeSteps bounds -judge: 10000 steps of 128 images is over 20 epochs
// of a task's domain.
const maxJudgeSteps = 10000

// domainSteps is how long the domain classifier of a multi-domain task
// trains: 400 steps of 128 images, most of an epoch of the 60000 training
// digits' domains (about a minute on two cores).
const domainSteps = 400

// TranslateScore is the result of kallima eval -translate.
type TranslateScore struct {
	Run        string          `json:"run"`
	Kind       string          `json:"kind"`
	Step       int             `json:"step"`
	Weights    string          `json:"weights"`
	Task       string          `json:"task"`
	Classifier string          `json:"classifier"`
	Domain     string          `json:"domain_classifier,omitempty"`
	Directions []DirectionJSON `json:"directions"`
	Seconds    float64         `json:"seconds"`
}

// runEvalTranslate is kallima eval -translate RUN.
func runEvalTranslate(fs *flag.FlagSet, pos []string, n int, seed uint64, judgeSteps int, raw, asJSON bool, stdout, stderr io.Writer) int {
	for _, f := range []string{"metrics", "real", "ref", "range", "per-class", "codes", "nll", "k", "recon", "classify", "modes", "nn", "truncation", "truncation-sweep", "plot"} {
		if isSet(fs, f) {
			fmt.Fprintf(stderr, "kallima eval: -%s does not go with -translate\n", f)
			return exitUsage
		}
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "kallima eval: -translate scores one run folder or checkpoint, got %d arguments\n", len(pos))
		return exitUsage
	}
	if !isSet(fs, "n") {
		n = 1000
	}
	// Each direction's FID needs more images than features: check before
	// the domain classifier and judges train, not after.
	if n <= fidFeatures || n > maxSamples {
		fmt.Fprintf(stderr, "kallima eval: -translate -n %d: want %d to %d images per direction (%s; 1000 is the default)\n", n, fidFeatures+1, maxSamples, metricNeeds["fid"].why)
		return exitUsage
	}
	if judgeSteps < 0 || judgeSteps > maxJudgeSteps {
		fmt.Fprintf(stderr, "kallima eval: -judge %d: want 0 (no judges) or 1 to %d training steps per judge\n", judgeSteps, maxJudgeSteps)
		return exitUsage
	}
	start := time.Now()
	tr, skipped, err := pipeline.LoadTranslator(pos[0], raw)
	for _, e := range skipped {
		fmt.Fprintf(stderr, "kallima eval: skipped %v\n", e)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	name, ok := tr.Config.MNISTTask()
	if !ok {
		fmt.Fprintf(stderr, "kallima eval: -translate scores runs on an MNIST task (data.kind %s); %s is not one. For your own images, kallima translate writes the translations\n",
			strings.Join(config.MNISTTasks, ", "), tr.Config.Data.Kind)
		return exitUsage
	}
	test, err := classifier.LoadMNIST(tr.Config.DataDir(), data.Test, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	task, err := data.MakeTask(name, test, tr.Config.Seed)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	net, err := classifier.Load()
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	cfg := pipeline.TranslationEval{N: n}
	var domainName string
	if task.Kind == "domains" || judgeSteps > 0 {
		train, err := classifier.LoadMNIST(tr.Config.DataDir(), data.Train, stderr)
		var tt *data.Task
		if err == nil {
			tt, err = data.MakeTask(name, train, tr.Config.Seed)
		}
		if err == nil && task.Kind == "domains" {
			fmt.Fprintf(stderr, "training the domain classifier on the %d training images' domains (%d steps)\n", tt.Domains.Len(), domainSteps)
			var dc *classifier.Classifier
			if dc, err = classifier.TrainOn(tt.Domains, classifier.TrainConfig{Seed: seed, MaxSteps: domainSteps}, nil); err == nil {
				cfg.Domain, domainName = dc.Net, dc.Name
			} else {
				err = fmt.Errorf("domain classifier: %w", err)
			}
		}
		if err == nil && judgeSteps > 0 {
			cfg.Judges, err = pipeline.TrainJudges(tt, judgeSteps, seed, stderr)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kallima eval: %v\n", err)
			return exitError
		}
	}
	score, err := pipeline.EvaluateTranslation(tr.Translator, task, net, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "kallima eval: %v\n", err)
		return exitError
	}
	out := TranslateScore{Run: pos[0], Kind: tr.Config.Model.Kind, Step: tr.Step, Weights: tr.Weights, Task: tr.Config.Data.Kind + " (mnist/test)",
		Classifier: net.Name, Domain: domainName, Seconds: time.Since(start).Seconds()}
	for _, d := range score.Directions {
		out.Directions = append(out.Directions, DirectionJSON{From: d.From, To: d.To, N: d.N, ClassKept: d.ClassKept, Ceiling: d.Ceiling,
			Readable: d.Readable, FID: d.FID, L1: orNil(d.L1), PSNR: orNil(d.PSNR), DomainAcc: orNil(d.DomainAcc), DomainCeiling: orNil(d.DomainCeiling),
			JudgedKept: orNil(d.JudgedKept), JudgeCeiling: orNil(d.JudgeCeiling), SourceRead: orNil(d.SourceRead), KeptOfRead: orNil(d.KeptOfRead)})
	}
	if asJSON {
		return printJSON(out, stdout, stderr)
	}
	fmt.Fprintf(stdout, "translator       %s (%s, step %d, %s weights)\ntask             %s\nclassifier       %s\n", out.Run, out.Kind, out.Step, out.Weights, out.Task, out.Classifier)
	if domainName != "" {
		fmt.Fprintf(stdout, "domains          %s\n", domainName)
	}
	for _, d := range out.Directions {
		fmt.Fprintf(stdout, "%s -> %s (%d images)\n", d.From, d.To, d.N)
		fmt.Fprintf(stdout, "  class kept     %.4f  (ceiling %.4f: the classifier on real %s images, read %s)\n", d.ClassKept, d.Ceiling, d.To, d.Readable)
		fmt.Fprintf(stdout, "  FID            %.2f  (to real %s images)\n", d.FID, d.To)
		if d.L1 != nil {
			fmt.Fprintf(stdout, "  L1, PSNR       %.4f, %.2f dB  (to the paired targets)\n", *d.L1, *d.PSNR)
		}
		if d.JudgedKept != nil {
			fmt.Fprintf(stdout, "  judged kept    %.4f  (ceiling %.4f: a classifier trained on real %s training digits, on its test digits)\n", *d.JudgedKept, *d.JudgeCeiling, d.To)
		}
		if d.KeptOfRead != nil {
			fmt.Fprintf(stdout, "  readable kept  %.4f  (judged kept among the %.2f%% of sources that %s's own judge reads right)\n", *d.KeptOfRead, 100**d.SourceRead, d.From)
		}
		if d.DomainAcc != nil {
			fmt.Fprintf(stdout, "  domain         %.4f  (ceiling %.4f on real %s images)\n", *d.DomainAcc, *d.DomainCeiling, d.To)
		}
	}
	fmt.Fprintf(stdout, "time             %.1f s\n", out.Seconds)
	return exitOK
}

// DirectionJSON is one direction of TranslateScore (pipeline.DirectionScore
// with the scores a direction lacks left out instead of NaN).
type DirectionJSON struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	N             int      `json:"n"`
	ClassKept     float64  `json:"class_kept"`
	Ceiling       float64  `json:"class_ceiling"`
	Readable      string   `json:"read"`
	FID           float64  `json:"fid"`
	L1            *float64 `json:"l1,omitempty"`
	PSNR          *float64 `json:"psnr_db,omitempty"`
	DomainAcc     *float64 `json:"domain_accuracy,omitempty"`
	DomainCeiling *float64 `json:"domain_ceiling,omitempty"`
	JudgedKept    *float64 `json:"judged_kept,omitempty"`
	JudgeCeiling  *float64 `json:"judge_ceiling,omitempty"`
	SourceRead    *float64 `json:"source_read,omitempty"`
	KeptOfRead    *float64 `json:"kept_of_read,omitempty"`
}

// orNil is nil for NaN, else a pointer to v.
func orNil(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}
