package pipeline

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// pixelCoded is a Coded generator whose image holds its codes: pixel 0
// the categorical code (c1, 5 categories), pixel 1 the continuous one (c2).
type pixelCoded struct{}

func (pixelCoded) Prior() gan.Prior { return gan.Prior{Kind: "uniform", Dim: 2} }

func (pixelCoded) Codes() []family.Code {
	return []family.Code{{Name: "c1", Categories: 5}, {Name: "c2", Lo: -2, Hi: 2}}
}

func (pixelCoded) Generate(z *tensor.Tensor, req family.Request) (*tensor.Tensor, error) {
	n := z.Size(0)
	out := tensor.New(n, 1, 28, 28)
	for i := range n {
		if v, ok := req.Codes["c1"]; ok {
			out.Data()[i*784] = float32(v[i])
		}
		if v, ok := req.Codes["c2"]; ok {
			out.Data()[i*784+1] = float32(v[i])
		}
		out.Data()[i*784+2] = z.At(i, 0)
	}
	return out, nil
}

// permPredictor classifies an image as perm[c1], except that a c2 above
// 0.5 turns it into class 9: the digit "changes" at the top of c2's
// traversal.
type permPredictor struct{ perm []int }

func (p permPredictor) Predict(x *tensor.Tensor) []int {
	r := make([]int, x.Size(0))
	for i := range r {
		r[i] = p.perm[int(x.Data()[i*784])]
		if x.Data()[i*784+1] > 0.5 {
			r[i] = 9
		}
	}
	return r
}

// TestEvaluateCodes: a categorical code that is the class under a
// permutation scores accuracy 1 and NMI 1 with that permutation as the
// matching; the continuous traversal from -1 to 1 in 11 values changes
// class at 0.6, 0.8 and 1 (3 of the 10 off-middle values), so the
// agreement is 0.7.
func TestEvaluateCodes(t *testing.T) {
	perm := []int{7, 2, 0, 4, 1}
	s, err := EvaluateCodes(pixelCoded{}, permPredictor{perm}, CodeEval{PerValue: 20, Columns: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Categorical) != 1 || len(s.Continuous) != 1 {
		t.Fatalf("%d categorical and %d continuous scores, want 1 and 1", len(s.Categorical), len(s.Continuous))
	}
	c := s.Categorical[0]
	if c.Accuracy != 1 || math.Abs(c.NMI-1) > 1e-12 || c.Code != "c1" {
		t.Fatalf("categorical: %+v, want accuracy 1 and NMI 1", c)
	}
	for k, y := range perm {
		if c.Match[k] != y || c.Counts[k][y] != 20 {
			t.Fatalf("value %d matched to %d with %d images, want class %d, 20", k, c.Match[k], c.Counts[k][y], y)
		}
	}
	if a := s.Continuous[0].Agreement; math.Abs(a-0.7) > 1e-12 {
		t.Fatalf("continuous agreement %v, want 0.7", a)
	}
	if _, err := EvaluateCodes(pixelCoded{}, permPredictor{perm}, CodeEval{Values: 4}); err == nil {
		t.Fatal("an even traversal length (no middle value) was accepted")
	}
}

// TestScoreCategoricalMoreValuesThanClasses: with 12 values and 10
// classes, each class is matched to one value and two values stay
// unmatched (-1); values 10 and 11 duplicate classes 0 and 1 here, so
// the accuracy is 10 of 12 values' images.
func TestScoreCategoricalMoreValuesThanClasses(t *testing.T) {
	var values, classes []int
	for v := range 12 {
		for range 5 {
			values, classes = append(values, v), append(classes, v%10)
		}
	}
	s, err := scoreCategorical(values, classes, 12)
	if err != nil {
		t.Fatal(err)
	}
	unmatched := 0
	for _, y := range s.Match {
		if y < 0 {
			unmatched++
		}
	}
	if unmatched != 2 || math.Abs(s.Accuracy-50.0/60) > 1e-12 {
		t.Fatalf("match %v, accuracy %v: want 2 unmatched values and 50/60", s.Match, s.Accuracy)
	}
}

// pixelReader reads c1 back from pixel 0 of an image.
type pixelReader struct{ pixelCoded }

func (pixelReader) ReadCategorical(x *tensor.Tensor) ([][]int, error) {
	r := make([]int, x.Size(0))
	for i := range r {
		r[i] = int(x.Data()[i*784])
	}
	return [][]int{r}, nil
}

// TestScoreReader: images whose c1 pixel is perm^-1 of their label, but
// for 3 of 600, read back as a perfect clustering but for those; the
// reader's batches (500) are joined in order.
func TestScoreReader(t *testing.T) {
	perm := []int{3, 0, 4, 1, 2} // value -> label
	n := 600
	x := tensor.New(n, 1, 28, 28)
	labels := make([]int, n)
	for i := range n {
		v := i % 5
		labels[i] = perm[v]
		if i%200 == 7 {
			labels[i] = perm[(v+1)%5]
		}
		x.Data()[i*784] = float32(v)
	}
	s, err := ScoreReader(pixelReader{}, x, labels, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || s[0].Code != "c1" || math.Abs(s[0].Accuracy-597.0/600) > 1e-12 {
		t.Fatalf("%+v, want c1 with accuracy 597/600", s)
	}
	for v, y := range perm {
		if s[0].Match[v] != y {
			t.Fatalf("match %v, want %v", s[0].Match, perm)
		}
	}
	if _, err := ScoreReader(pixelReader{}, x, labels[:5], 5); err == nil {
		t.Fatal("5 labels for 600 images were accepted")
	}
}

// TestLoadCodeReader loads a trained InfoGAN's Q and refuses a DCGAN.
func TestLoadCodeReader(t *testing.T) {
	for _, kind := range []string{"infogan", "dcgan"} {
		c := tinyConfig(t, kind)
		c.Train.CheckpointEvery, c.Train.KeepCheckpoints = 12, -1
		dir := filepath.Join(t.TempDir(), kind)
		if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); err != nil {
			t.Fatal(err)
		}
		r, step, err := LoadCodeReader(dir)
		if kind == "dcgan" {
			if err == nil || !strings.Contains(err.Error(), "does not read codes") {
				t.Fatalf("dcgan: %v, want an error", err)
			}
			continue
		}
		if err != nil || step != c.Train.Steps {
			t.Fatalf("infogan: step %d, %v", step, err)
		}
		cats, err := r.ReadCategorical(tensor.NewRNG(1).Uniform(-1, 1, 4, 1, 28, 28))
		if err != nil || len(cats) != 1 || len(cats[0]) != 4 {
			t.Fatalf("ReadCategorical: %v, %v", cats, err)
		}
		// One checkpoint file: its own step, not the newest's.
		infos, err := ListCheckpoints(dir)
		if err != nil || len(infos) < 2 {
			t.Fatalf("checkpoints %v, %v: want two or more", infos, err)
		}
		first, err := run.LoadCheckpoint(infos[0].Path)
		if err != nil {
			t.Fatal(err)
		}
		if _, step0, err := LoadCodeReader(infos[0].Path); err != nil || step0 != first.Step || step0 == step {
			t.Fatalf("%s: step %d (newest %d), %v: want step %d", infos[0].Path, step0, step, err, first.Step)
		}
		if _, _, err := LoadCodeReader(filepath.Join(dir, run.ConfigFile)); err == nil || !strings.Contains(err.Error(), "checkpoints folder") {
			t.Fatalf("a file outside checkpoints/: %v, want a refusal", err)
		}
	}
}
