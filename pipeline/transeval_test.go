package pipeline

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/tensor"
)

// fnTranslator translates with f, refusing the pairs f returns nil for.
type fnTranslator struct {
	names []string
	f     func(x []float32, from, to int) []float32
}

func (t fnTranslator) Domains() []string { return t.names }
func (t fnTranslator) Shape() []int      { return []int{1, 28, 28} }
func (t fnTranslator) Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error) {
	y := t.f(x.Data(), from, to)
	if y == nil {
		return nil, errors.New("refused")
	}
	return tensor.FromSlice(y, x.Shape()...), nil
}

// skipSlowPureGo keeps the README's short pure-Go pass in budget: these
// tests run the classifier over thousands of images (5 s with the pure-Go
// GEMM); the OpenBLAS pass runs them, and .ci/long runs both.
func skipSlowPureGo(t *testing.T) {
	if testing.Short() && blas.Impl == "go" {
		t.Skip("classifies thousands of images: with OpenBLAS, or without -short")
	}
}

func negate(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = -v
	}
	return y
}

// invertedTask makes the inverted task from the first 600 test digits,
// with MNIST's classifier and the task's exact inverse (negation); it skips
// the test where skipSlowPureGo does.
func invertedTask(t *testing.T) (*data.Task, *classifier.Classifier, fnTranslator) {
	t.Helper()
	skipSlowPureGo(t)
	digits := famtest.MNIST(t, data.Test)
	small := &data.Set{Images: tensor.FromSlice(digits.Images.Data()[:600*784], 600, 1, 28, 28), Labels: digits.Labels[:600], Classes: digits.Classes}
	task, err := data.MakeTask("inverted", small, 1)
	if err != nil {
		t.Fatal(err)
	}
	net, err := classifier.Load()
	if err != nil {
		t.Fatal(err)
	}
	return task, net, fnTranslator{[]string{"A", "B"}, func(x []float32, _, _ int) []float32 { return negate(x) }}
}

func TestEvaluateTranslationInverted(t *testing.T) {
	task, net, oracle := invertedTask(t)
	good, err := EvaluateTranslation(oracle, task, net, TranslationEval{N: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(good.Directions) != 2 || good.Directions[0].From != "A" || good.Directions[1].To != "A" || good.Directions[0].Readable != "negated" {
		t.Fatalf("directions %+v, want A to B (read negated) and B to A", good.Directions)
	}
	for _, d := range good.Directions {
		if d.N != 200 || d.ClassKept < 0.95 || d.Ceiling < 0.95 || !math.IsNaN(d.L1) {
			t.Errorf("the exact inverse, %s to %s: %+v, want N 200, classes kept and ceiling >= 0.95, no L1", d.From, d.To, d)
		}
	}
	// Copying the input keeps the digit but not the look: read negated,
	// the copies of A lose their classes, and their FID to B is large.
	copier := fnTranslator{[]string{"A", "B"}, func(x []float32, from, _ int) []float32 {
		if from == 1 {
			return nil
		}
		return append([]float32(nil), x...)
	}}
	bad, err := EvaluateTranslation(copier, task, net, TranslationEval{N: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad.Directions) != 1 {
		t.Fatalf("a refused direction was scored: %+v", bad.Directions)
	}
	if d := bad.Directions[0]; d.ClassKept > 0.5 || d.FID < 3*good.Directions[0].FID {
		t.Errorf("copying A to B: %+v, want classes lost and a much larger FID than the inverse's %.2f", d, good.Directions[0].FID)
	}
	none := fnTranslator{[]string{"A", "B"}, func([]float32, int, int) []float32 { return nil }}
	if _, err := EvaluateTranslation(none, task, net, TranslationEval{N: 200}); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a model refusing every direction: %v, want its error", err)
	}
}

// TestEvaluateTranslationJudges checks that a direction is read by the
// judge of its target domain, as the images are: with MNIST's classifier as
// the judge of both domains of the inverted task, the exact inverse's
// inverted outputs (B) are judged unread (the judge does not negate them)
// while its digits (A) are judged as the classifier reads them.
func TestEvaluateTranslationJudges(t *testing.T) {
	task, net, oracle := invertedTask(t)
	s, err := EvaluateTranslation(oracle, task, net, TranslationEval{N: 200, Judges: []*classifier.Net{net.Net, net.Net}})
	if err != nil {
		t.Fatal(err)
	}
	toB, toA := s.Directions[0], s.Directions[1]
	if toB.JudgedKept > 0.5 || toB.JudgeCeiling > 0.5 || toB.ClassKept < 0.95 {
		t.Errorf("A to B judged as is: kept %.3f, ceiling %.3f (read negated %.3f); want both under 0.5", toB.JudgedKept, toB.JudgeCeiling, toB.ClassKept)
	}
	if toA.JudgedKept != toA.ClassKept || toA.JudgeCeiling != toA.Ceiling {
		t.Errorf("B to A: judged %.3f / %.3f, want the classifier's own %.3f / %.3f", toA.JudgedKept, toA.JudgeCeiling, toA.ClassKept, toA.Ceiling)
	}
	// The sources as their own domain's judge reads them: A's digits
	// read right, their inverted translations not; B's inverted digits
	// mostly not, but those read right are translated to digits read right.
	b := tensor.FromSlice(task.B.Images.Data()[:200*28*28], 200, 1, 28, 28)
	srcB, outA := net.Net.Predict(b), net.Net.Predict(tensor.FromSlice(negate(b.Data()), 200, 1, 28, 28))
	read, kept := 0, 0
	for i, l := range task.B.Labels[:200] {
		if srcB[i] == l {
			read++
			if outA[i] == l {
				kept++
			}
		}
	}
	if toA.SourceRead != float64(read)/200 || toA.KeptOfRead != float64(kept)/float64(read) || toA.SourceRead > 0.5 || toA.KeptOfRead < 0.9 {
		t.Errorf("B to A: source read %.3f, kept of read %.3f; want %d/200 (under half) and %d/%d (over 0.9)", toA.SourceRead, toA.KeptOfRead, read, kept, read)
	}
	if toB.SourceRead < 0.95 || toB.KeptOfRead > 0.5 {
		t.Errorf("A to B: source read %.3f, kept of read %.3f; want the digits read and their inverted translations not", toB.SourceRead, toB.KeptOfRead)
	}
	none, err := EvaluateTranslation(oracle, task, net, TranslationEval{N: 200})
	if err != nil {
		t.Fatal(err)
	}
	if d := none.Directions[0]; !math.IsNaN(d.JudgedKept) || !math.IsNaN(d.JudgeCeiling) || !math.IsNaN(d.SourceRead) || !math.IsNaN(d.KeptOfRead) {
		t.Errorf("without judges: %+v, want NaN judged scores", d)
	}
}

// TestTrainJudges trains the judges of an unpaired and a domains task
// briefly on training digits: one per domain, in the task's order, each
// reading held-out digits of its own domain far above chance.
func TestTrainJudges(t *testing.T) {
	skipSlowPureGo(t)
	if testing.Short() {
		t.Skip("trains five small classifiers")
	}
	train, test := famtest.MNIST(t, data.Train), famtest.MNIST(t, data.Test)
	head := func(s *data.Set, n int) *data.Set {
		return &data.Set{Images: tensor.FromSlice(s.Images.Data()[:n*784], n, 1, 28, 28), Labels: s.Labels[:n], Classes: s.Classes}
	}
	for _, name := range []string{"thick", "width"} {
		tt, err := data.MakeTask(name, head(train, 3000), 1)
		if err != nil {
			t.Fatal(err)
		}
		judges, err := TrainJudges(tt, 60, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		held, err := data.MakeTask(name, head(test, 600), 1)
		if err != nil {
			t.Fatal(err)
		}
		var sets []*data.Set
		var digits [][]int
		if held.Kind == "domains" {
			for d := range held.Domains.Classes {
				var idx []int
				for i, l := range held.Domains.Labels {
					if l == d {
						idx = append(idx, i)
					}
				}
				s, dg := subset(held.Domains, idx, held.Digits)
				sets, digits = append(sets, s), append(digits, dg)
			}
		} else {
			sets, digits = []*data.Set{held.A, held.B}, [][]int{held.A.Labels, held.B.Labels}
		}
		if len(judges) != len(sets) {
			t.Fatalf("%s: %d judges for %d domains", name, len(judges), len(sets))
		}
		for k, j := range judges {
			acc := j.Accuracy(sets[k].Images, digits[k])
			t.Logf("%s: domain %d judge %.3f on %d held-out digits", name, k, acc, sets[k].Len())
			if acc < 0.6 {
				t.Errorf("%s: the judge of domain %d reads %.3f of its held-out digits, want at least 0.6 after 60 steps", name, k, acc)
			}
		}
	}
	if _, err := TrainJudges(&data.Task{Name: "x", Kind: "other"}, 10, 1, nil); err == nil {
		t.Error("a task of unknown kind: no error")
	}
}

func TestEvaluateTranslationDomainsAndPairs(t *testing.T) {
	skipSlowPureGo(t)
	digits := famtest.MNIST(t, data.Test)
	small := &data.Set{Images: tensor.FromSlice(digits.Images.Data()[:900*784], 900, 1, 28, 28), Labels: digits.Labels[:900], Classes: digits.Classes}
	net, err := classifier.Load()
	if err != nil {
		t.Fatal(err)
	}
	task, err := data.MakeTask("width", small, 1)
	if err != nil {
		t.Fatal(err)
	}
	ident := fnTranslator{data.WidthDomains, func(x []float32, _, _ int) []float32 { return append([]float32(nil), x...) }}
	s, err := EvaluateTranslation(ident, task, net, TranslationEval{N: 150})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Directions) != 3 || s.Directions[2].To != "thick" || s.Directions[2].From != "all others" || s.Directions[2].N != 150 {
		t.Fatalf("width: %+v, want one direction per domain, 150 images each", s.Directions)
	}
	// Copies keep their digits: the classifier reads the thin and thick
	// sources (the normal target's) about as well as it reads the normal
	// digits, and the normal and thick sources better than thin targets.
	for _, d := range s.Directions {
		if d.ClassKept < 0.85 || d.Ceiling < 0.85 || d.FID < 100 {
			t.Errorf("width, copying to %s: classes kept %.3f, ceiling %.3f, FID %.1f; want both >= 0.85 and a large FID", d.To, d.ClassKept, d.Ceiling, d.FID)
		}
	}
	if _, err := EvaluateTranslation(fnTranslator{[]string{"A", "B"}, ident.f}, task, net, TranslationEval{N: 150}); err == nil || !strings.Contains(err.Error(), "thin") {
		t.Errorf("a two-domain model on the width task: %v, want an error naming the domains", err)
	}
	edges, err := data.MakeTask("edges", small, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := EvaluateTranslation(ident, edges, net, TranslationEval{N: 150})
	if err == nil {
		t.Fatalf("a three-domain model on a paired task: %+v, want an error", p)
	}
	p, err = EvaluateTranslation(fnTranslator{[]string{"A", "B"}, ident.f}, edges, net, TranslationEval{N: 150})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Directions) != 1 || math.IsNaN(p.Directions[0].L1) || p.Directions[0].L1 <= 0 || p.Directions[0].PSNR > 20 {
		t.Errorf("edges copied as digits: %+v, want one direction with a positive L1 and a low PSNR", p.Directions)
	}
}

func TestL1PSNR(t *testing.T) {
	out := tensor.FromSlice([]float32{1, 1, -1, -1}, 4)
	if l1, psnr := l1PSNR(out, []float32{-1, -1, -1, -1}); l1 != 1 || math.Abs(psnr-10*math.Log10(2)) > 1e-12 {
		t.Errorf("half the pixels off by the whole range: L1 %v, PSNR %v, want 1 and %v", l1, psnr, 10*math.Log10(2))
	}
}
