package pix2pix_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/internal/famtest"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/tensor"
)

// TestEdgesToDigitsOnMNIST trains pix2pix-edges, narrowed to width 16, for
// 300 steps through the pipeline and scores the run on 500 held-out test
// digits: Kallima's MNIST classifier must read at least 80% of the
// translated edge maps as their source digit, and the L1 distance to the
// true digits must be below 0.2 (pixels in [-1, 1]).
func TestEdgesToDigitsOnMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains pix2pix on MNIST edges for 300 steps (about a minute with OpenBLAS): CI's long step runs it")
	}
	test := famtest.MNIST(t, data.Test)
	c, err := config.Preset("pix2pix-edges")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"model.width=16", "model.d_width=16", "train.steps=300", "train.sample_every=0", "train.checkpoint_every=0", "train.log_every=100"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	tr, _, err := pipeline.LoadTranslator(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	small := &data.Set{Images: tensor.FromSlice(test.Images.Data()[:500*784], 500, 1, 28, 28), Labels: test.Labels[:500], Classes: test.Classes}
	task, err := data.MakeTask("edges", small, 1)
	if err != nil {
		t.Fatal(err)
	}
	net, err := classifier.Load()
	if err != nil {
		t.Fatal(err)
	}
	score, err := pipeline.EvaluateTranslation(tr.Translator, task, net, pipeline.TranslationEval{N: 500})
	if err != nil {
		t.Fatal(err)
	}
	d := score.Directions[0]
	t.Logf("300 steps: %+v", d)
	if d.ClassKept < 0.8 || !(d.L1 < 0.2) {
		t.Errorf("edges to digits after 300 steps: classes kept %.3f (want >= 0.8), L1 %.3f (want < 0.2)", d.ClassKept, d.L1)
	}
}
