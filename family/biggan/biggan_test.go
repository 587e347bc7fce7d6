package biggan_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	_ "github.com/kallima-gan/kallima/family/all"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/pipeline"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// trainTiny trains biggan-mnist with narrow networks on synthetic labelled
// 28x28 images (3 classes) for steps steps, with the extra overrides, and
// returns the run folder and its metric records, one per step.
func trainTiny(t *testing.T, steps int, extra ...string) (string, []run.Record) {
	t.Helper()
	c, err := config.Preset("biggan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	sets := []string{"data.kind=synthetic", "data.n=64", "data.classes=3", "model.g_width=8", "model.d_width=8",
		"model.z_dim=12", "model.shared_dim=4", "train.batch=16", fmt.Sprintf("train.steps=%d", steps), "train.log_every=1"}
	for _, kv := range append(sets, extra...) {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "biggan")
	if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil || len(recs) != steps {
		t.Fatalf("%d metric records, want %d: %v", len(recs), steps, err)
	}
	return dir, recs
}

// TestTrainSynthetic trains biggan-mnist with narrow networks on synthetic
// labelled 28x28 images for 40 steps through the pipeline and checks: D's
// hinge loss falls, G's orthogonal term is logged, positive and finite,
// the checkpoint holds the shared embedding, the chunked projection and
// spectral norm in G, and the sampler takes a class per sample (refusing
// one out of range) and truncated noise.
func TestTrainSynthetic(t *testing.T) {
	dir, recs := trainTiny(t, 40, "train.sample_every=20", "train.checkpoint_every=20")
	mean := func(rs []run.Record, key string) float64 {
		s := 0.0
		for _, r := range rs {
			v, ok := r.Scalars[key]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("step %d: %s = %v (present %v)", r.Step, key, v, ok)
			}
			s += v
		}
		return s / float64(len(rs))
	}
	first, last := mean(recs[:3], "d/hinge"), mean(recs[len(recs)-5:], "d/hinge")
	if !(last < first-0.2) {
		t.Errorf("D's hinge loss went from %.3f to %.3f: want a fall of more than 0.2", first, last)
	}
	if o := mean(recs, "g/ortho"); !(o > 0) {
		t.Errorf("g/ortho averages %v: want a positive term", o)
	}
	ck, err := run.LoadCheckpoint(filepath.Join(dir, "checkpoints", "step-000040.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	g := ck.Group("g")
	if g["shared.weight"] == nil || g["l1.weight_orig"] == nil || g["blocks.0.b1.gain.weight_orig"] == nil || ck.Group("d")["embed.weight_orig"] == nil {
		t.Fatalf("checkpoint lacks G's shared embedding, its spectrally normalised projection or block gains, or D's projection embedding")
	}
	if sh := g["l1.weight_orig"].Shape(); sh[1] != 4 {
		t.Errorf("G's projection takes %v: want one chunk of z (4 of 12)", sh)
	}
	s, _, err := pipeline.LoadSampler(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.Classes != 3 {
		t.Fatalf("sampler has %d classes, want 3", s.Classes)
	}
	z := tensor.NewRNG(1).Normal(0, 1, 3, 12)
	if _, err := s.Sample(z, []int{0, 1, 3}); err == nil || !strings.Contains(err.Error(), "class 3") {
		t.Errorf("label 3 of 3 classes: %v", err)
	}
	if _, err := s.Sample(z, nil); err == nil {
		t.Error("no error without labels")
	}
	p := s.Prior
	p.Truncation = gan.Truncation{Threshold: 0.5}
	zt := p.Sample(tensor.NewRNG(1), 3)
	img, err := s.Sample(zt, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if sh := img.Shape(); len(sh) != 4 || sh[0] != 3 || sh[2] != 28 {
		t.Fatalf("samples %v", sh)
	}
	for _, v := range img.Data() {
		if !(v >= -1 && v <= 1) {
			t.Fatalf("sample value %v outside [-1, 1]", v)
		}
	}
}

// TestMatchingAware trains biggan-mnist with model.matching_aware for a
// few steps on synthetic labelled images and checks that D's loss has the
// mismatch term (real images under wrong labels) beside the hinge term.
func TestMatchingAware(t *testing.T) {
	_, recs := trainTiny(t, 5, "model.matching_aware=true", "train.sample_every=0", "train.checkpoint_every=0")
	for _, r := range recs {
		for _, k := range []string{"d/hinge", "d/mismatch"} {
			if v, ok := r.Scalars[k]; !ok || math.IsNaN(v) || v <= 0 {
				t.Fatalf("step %d: %s = %v (present %v): want a positive term", r.Step, k, v, ok)
			}
		}
	}
}

// TestConfigErrors checks that what BigGAN cannot take is refused with the
// field named.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"model.z_dim=100"}, "model.z_dim: 100 does not split into 3 equal chunks"},
		{[]string{"model.ortho=-1"}, "model.ortho"},
		{[]string{"model.shared_dim=0"}, "shared_dim"},
		{[]string{"model.size=32"}, "model.size: 32"},
		{[]string{"data.kind=ring8"}, "needs labelled image data"},
		{[]string{"model.bogus=1"}, "bogus"},
	} {
		c, err := config.Preset("biggan-mnist")
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range tc.sets {
			if err = c.Set(kv); err != nil {
				break
			}
		}
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error with %q", tc.sets, err, tc.want)
		}
	}
	// Unlabelled images: the model refuses at build time.
	c, err := config.Preset("biggan-mnist")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := family.Build(c, family.Data{Channels: 1, Size: 28}); err == nil || !strings.Contains(err.Error(), "class-conditional") {
		t.Errorf("unlabelled data: %v", err)
	}
}
