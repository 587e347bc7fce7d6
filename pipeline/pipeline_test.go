package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

func tinyConfig(t *testing.T, kind string) config.Config {
	t.Helper()
	c := config.Default()
	family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(kind, "-reuse"), "-cond"), "-pac")
	sets := []string{"data.kind=synthetic", "data.n=48", "data.classes=3", "model.kind=" + family, "model.width=4", "model.z_dim=8",
		"train.batch=8", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.ema=0.9", "train.lr_decay=true"}
	if strings.HasSuffix(kind, "-reuse") {
		// G's update reuses D's fake batch (train.reuse_fake).
		sets = append(sets, "train.reuse_fake=true")
	}
	switch kind {
	case "infogan", "infogan-reuse":
		// The paper's codes (Cat(10), two continuous), a small Q head.
		sets = append(sets, "model.q_hidden=6")
	case "sngan", "sngan-cond", "sagan":
		// The ResNet families name their widths per network.
		sets[4] = "model.g_width=4"
		sets = append(sets, "model.d_width=4", "loss.name=hinge", "train.lr_d=4e-4")
		if kind == "sngan-cond" {
			sets = append(sets, "model.conditional=true")
		}
	case "biggan":
		// Three chunks of z at 28x28; G's orthogonal regularisation on.
		sets[4], sets[5] = "model.g_width=4", "model.z_dim=9"
		sets = append(sets, "model.d_width=4", "model.shared_dim=4", "model.ortho=1e-3", "loss.name=hinge", "train.lr_d=4e-4")
	case "aae", "aae-mixture":
		// Four players (ae, d, enc, semi) sharing the encoder; the
		// semi-supervised phase on 6 labelled images.
		sets[3], sets[4] = "model.kind=aae", "model.hidden=[8]"
		sets = append(sets, "model.d_hidden=[6]", "model.z_dim=3", "model.classes=3", "model.prior=categorical", "model.labels=6", "model.input_noise=0.1")
		if kind == "aae-mixture" {
			sets = sets[:len(sets)-3]
			sets = append(sets, "model.prior=mixture")
		}
	case "bigan", "ali":
		// The exponential decay of model.decay_start in place of lr_decay;
		// ali alternates its updates (bigan's are simultaneous).
		sets[len(sets)-1] = "train.lr_decay=false"
		if kind == "ali" {
			sets = append(sets, "model.simultaneous=false", "train.n_critic=2")
		}
	case "stargan":
		// A translator: two D updates on the batch G then translates, WGAN-GP.
		sets[4], sets[5] = "model.g_width=4", "model.blocks=1"
		sets = append(sets, "model.d_width=4", "loss.name=wgan", "loss.penalty=gp", "loss.penalty_weight=10", "train.n_critic=2")
	case "vae-conv":
		// A conv VAE with a learnt Gaussian sigma (a parameter beside the nets).
		sets[3] = "model.kind=vae"
		sets = append(sets, "model.net=conv", "model.likelihood=gaussian", "model.learn_sigma=true")
	case "avb", "avb-ac":
		// AVB: encoder, decoder and T as two players; adaptive contrast's
		// encoder samples come from the game stream too.
		sets[3], sets[4] = "model.kind=avb", "model.hidden=[8]"
		sets = append(sets, "model.adv_hidden=[8]", "model.adv_features=4", "model.eps_dim=4", "model.proposal_samples=4",
			"model.adaptive_contrast="+strconv.FormatBool(kind == "avb-ac"), "model.ac_samples=3")
	case "pix2pix":
		// Paired 16x16 folders; dropout masks from the game stream.
		sets = pix2pixSets(t)
	case "mlp":
		sets = []string{"train.batch=32", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.sample_n=200", "train.ema=0.9"}
	case "mlp-pac":
		// PacGAN packing: D scores groups of 4 points.
		sets = []string{"train.batch=32", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.sample_n=200", "train.ema=0.9", "model.pack=4"}
	case "dcgan-pac":
		// PacDCGAN2, with R1 on the packed real groups.
		sets = append(sets, "model.pack=2", "model.d_no_batchnorm=true", "loss.penalty=r1", "loss.penalty_weight=1")
	case "mixgan":
		// Three DCGAN-net components a side (width 4), uneven chunks of 8.
		sets = append(sets, "model.components=3")
	case "mixgan-mlp":
		// Three MLP components a side, the R1 penalty per D.
		sets = []string{"model.kind=mixgan", "model.components=3", "model.g_hidden=[16]", "model.d_hidden=[16]", "loss.penalty=r1", "loss.penalty_weight=1",
			"train.batch=32", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.sample_n=200", "train.ema=0.9"}
	case "cyclegan":
		// Two generators and two discriminators on unpaired folders; the
		// history pools and the second loader are extras.
		sets = cycleganSets(t)
	case "mlp-tricks":
		// Historical averages are the family's extra checkpoint state.
		sets = []string{"train.batch=32", "train.steps=24", "train.checkpoint_every=0", "train.sample_every=10", "train.sample_n=200",
			"loss.historical_average=0.01", "loss.feature_matching=1", "loss.instance_noise=0.1", "train.n_critic=2"}
	}
	for _, kv := range sets {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// cancelAt is a progress writer that cancels a context once a line for
// the given step has been written.
type cancelAt struct {
	mark   string
	cancel context.CancelFunc
}

func (w cancelAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.mark) {
		w.cancel()
	}
	return len(p), nil
}

// TestStopThenResumeMatchesWholeRun stops a run through its context (as
// SIGINT does), checks that a checkpoint was written at the step it stopped
// at, resumes it, and compares the final weights, optimizer moments, EMA
// and states with an uninterrupted run's, bit for bit.
func TestStopThenResumeMatchesWholeRun(t *testing.T) {
	for _, kind := range []string{"dcgan", "cgan", "cgan-reuse", "acgan", "acgan-reuse", "infogan", "infogan-reuse", "mlp", "mlp-tricks", "mlp-pac", "dcgan-pac", "sngan", "sngan-cond", "sagan", "biggan", "vae", "vae-conv", "ae", "mixgan", "mixgan-mlp", "avb", "avb-ac", "aae", "aae-mixture", "bigan", "ali", "stargan", "pix2pix", "cyclegan"} {
		t.Run(kind, func(t *testing.T) {
			c := tinyConfig(t, kind)
			c.Train.LogEvery = 1
			root := t.TempDir()
			whole, stopped := filepath.Join(root, "whole"), filepath.Join(root, "stopped")
			if _, err := Train(context.Background(), c, whole, Options{Warn: io.Discard}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := Train(ctx, c, stopped, Options{Progress: cancelAt{"step 7/", cancel}, Warn: io.Discard})
			if !errors.Is(err, gan.ErrStopped) || res.Step != 7 || res.Checkpoint != 7 {
				t.Fatalf("stop: %+v, %v (want ErrStopped at step 7 with a checkpoint)", res, err)
			}
			res, err = Resume(context.Background(), stopped, Options{Warn: io.Discard})
			if err != nil || res.ResumedAt != 7 || res.Step != 24 {
				t.Fatalf("resume: %+v, %v", res, err)
			}
			a, b := latest(t, whole), latest(t, stopped)
			if a.Step != 24 {
				t.Fatalf("final checkpoint at %d", a.Step)
			}
			sameWeights(t, kind, a, b)
			// A packed D's input layer is m times wider: 4 points of 2
			// features (mlp-pac), 2 one-channel images (dcgan-pac).
			if first, want := map[string]string{"mlp-pac": "d/0.weight", "dcgan-pac": "d/blocks.0.conv.weight"}[kind], map[string]int{"mlp-pac": 8, "dcgan-pac": 2}[kind]; first != "" {
				if w := a.Tensors[first]; w == nil || w.Shape()[1] != want {
					t.Fatalf("%s: D's first layer %s is %v, want input width %d", kind, first, w, want)
				}
			}
			keys := []string{"rng/game", "json/loader"}
			if kind == "cyclegan" {
				keys = []string{"json/loader", "json/loader_b", "json/pool_a", "rng/pool_a", "rng/pool_b"}
			}
			if !c.IsImage() {
				keys = []string{"rng/game", "rng/data"}
				ma, err1 := os.ReadFile(filepath.Join(whole, SummaryFile))
				mb, err2 := os.ReadFile(filepath.Join(stopped, SummaryFile))
				if err1 != nil || err2 != nil || string(ma) != string(mb) {
					t.Fatalf("2-D scores differ: %q and %q (%v, %v)", ma, mb, err1, err2)
				}
			}
			for _, k := range keys {
				if a.Meta[k] == "" || a.Meta[k] != b.Meta[k] {
					t.Fatalf("%s: %q and %q", k, a.Meta[k], b.Meta[k])
				}
			}
		})
	}
}

// TestResumeBeforeFirstCheckpoint resumes a run killed before its first
// checkpoint (its config and metrics written, no checkpoint): training
// starts over, says so, and ends where an uninterrupted run ends, with each
// step logged once.
func TestResumeBeforeFirstCheckpoint(t *testing.T) {
	c := tinyConfig(t, "dcgan")
	c.Train.LogEvery = 1
	root := t.TempDir()
	whole, cut := filepath.Join(root, "whole"), filepath.Join(root, "cut")
	if _, err := Train(context.Background(), c, whole, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Train(ctx, c, cut, Options{Progress: cancelAt{"step 7/", cancel}, Warn: io.Discard}); !errors.Is(err, gan.ErrStopped) {
		t.Fatalf("stop: %v", err)
	}
	// What kill -9 leaves before the first checkpoint.
	if err := os.RemoveAll(filepath.Join(cut, run.CheckpointsDir)); err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	res, err := Resume(context.Background(), cut, Options{Progress: &progress, Warn: io.Discard})
	if err != nil || res.ResumedAt != 0 || res.Step != 24 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	if !strings.Contains(progress.String(), "stopped before its first checkpoint") {
		t.Errorf("progress does not say the run starts over:\n%s", progress.String())
	}
	sameWeights(t, "dcgan", latest(t, whole), latest(t, cut))
	recs, err := run.ReadMetrics(filepath.Join(cut, run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 24 {
		t.Fatalf("%d metrics lines, want 24", len(recs))
	}
	for i, r := range recs {
		if r.Step != i+1 {
			t.Fatalf("metrics line %d is step %d: the cut run's lines were kept", i+1, r.Step)
		}
	}
}

// TestResumeWithNothingToDoLeavesFolder resumes finished runs (an image
// run and a 2-D one) twice: with train.steps below the checkpoint, which
// is refused, and as they are, which has nothing to train and says so.
// Neither changes a file of the folder, nor adds one (an event file).
func TestResumeWithNothingToDoLeavesFolder(t *testing.T) {
	for _, kind := range []string{"dcgan", "mlp"} {
		t.Run(kind, func(t *testing.T) {
			c := tinyConfig(t, kind)
			dir := filepath.Join(t.TempDir(), "run")
			if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); err != nil {
				t.Fatal(err)
			}
			before := folderState(t, dir)
			if _, err := Resume(context.Background(), dir, Options{Warn: io.Discard}, "train.steps=20"); err == nil || !strings.Contains(err.Error(), "past train.steps 20") {
				t.Fatalf("resume with fewer steps than done: %v, want a refusal", err)
			}
			if after := folderState(t, dir); !maps.Equal(after, before) {
				t.Fatalf("the refused resume changed the folder:\n%v\nthen\n%v", before, after)
			}
			var progress strings.Builder
			res, err := Resume(context.Background(), dir, Options{Progress: &progress, Warn: io.Discard})
			if err != nil || res.Step != 24 || res.ResumedAt != 24 || res.Checkpoint != 24 || res.Dir != dir {
				t.Fatalf("resume of the finished run: %+v, %v", res, err)
			}
			if !strings.Contains(progress.String(), "is finished (step 24 of 24)") {
				t.Errorf("progress does not say the run is finished: %q", progress.String())
			}
			if after := folderState(t, dir); !maps.Equal(after, before) {
				t.Fatalf("the resume of a finished run changed the folder:\n%v\nthen\n%v", before, after)
			}
		})
	}
}

// folderState maps the path of each file under dir to its size and
// modification time.
func folderState(t *testing.T, dir string) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		state[strings.TrimPrefix(path, dir)] = fmt.Sprintf("%d bytes, %v", fi.Size(), fi.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

func latest(t *testing.T, dir string) *run.Checkpoint {
	t.Helper()
	r, err := run.Open(dir, run.Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ck, _, err := r.LoadLatest()
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// TestSamplingLeavesStateAlone checks that writing a sample grid (EMA swap,
// evaluation mode, a forward pass) changes no weight, buffer or shadow.
func TestSamplingLeavesStateAlone(t *testing.T) {
	c := tinyConfig(t, "cgan")
	s, err := build(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if s.run, err = run.Create(t.TempDir(), []byte("x: 1\n"), run.Options{AllowNonEmpty: true, Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	defer s.run.Close()
	s.tr.Steps = 3
	if err := s.tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := s.model.Player("g")
	before := run.NewCheckpoint(3)
	before.PutModule("g", g.Module)
	before.PutState("ema", g.EMA)
	if err := s.savePreview(); err != nil {
		t.Fatal(err)
	}
	after := run.NewCheckpoint(3)
	after.PutModule("g", g.Module)
	after.PutState("ema", g.EMA)
	for name, x := range before.Tensors {
		xs, ys := x.Data(), after.Tensors[name].Data()
		for i := range xs {
			if math.Float32bits(xs[i]) != math.Float32bits(ys[i]) {
				t.Fatalf("%s[%d] changed from %v to %v", name, i, xs[i], ys[i])
			}
		}
	}
}

// TestSyntheticIsSeeded checks that synthetic images are reproducible,
// labelled round-robin, in [-1, 1] and differ between seeds.
func TestSyntheticIsSeeded(t *testing.T) {
	a, b, other := Synthetic(20, 4, 3, 32, 5), Synthetic(20, 4, 3, 32, 5), Synthetic(20, 4, 3, 32, 6)
	if got := a.Images.Shape(); got[0] != 20 || got[1] != 3 || got[2] != 32 || got[3] != 32 {
		t.Fatalf("shape %v", got)
	}
	same, differ := true, false
	for i, v := range a.Images.Data() {
		if v < -1 || v > 1 {
			t.Fatalf("value %v out of [-1, 1]", v)
		}
		same = same && v == b.Images.Data()[i]
		differ = differ || v != other.Images.Data()[i]
	}
	if !same || !differ {
		t.Fatalf("same seed same images: %v; other seed other images: %v", same, differ)
	}
	for i, l := range a.Labels {
		if l != i%4 {
			t.Fatalf("label %d is %d", i, l)
		}
	}
}

// TestPointsRun trains a short 2-D run into a run folder and checks what
// it holds (previews, checkpoints, plot and score), that its generator
// samples points, and that -resume -set train.steps extends it while any
// other change is refused.
func TestPointsRun(t *testing.T) {
	c := tinyConfig(t, "mlp")
	dir := filepath.Join(t.TempDir(), "ring8")
	res, err := Train(context.Background(), c, dir, Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Points == nil || res.Points.Score.TotalModes != 8 || res.Points.Plot != filepath.Join(dir, PlotFile) {
		t.Fatalf("result %+v: want a ring8 score and plot", res.Points)
	}
	for _, f := range []string{PlotFile, SummaryFile, run.MetricsFile, "samples/step-000010.png", "samples/step-000020.png", "samples/step-000024.png", "checkpoints/step-000024.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("run folder lacks %s: %v", f, err)
		}
	}
	g, _, err := LoadSampler(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := g.Sample(g.Prior.Sample(tensor.NewRNG(1), 5), nil)
	if err != nil || g.IsImage || g.Weights != WeightsEMA || !slices.Equal(pts.Shape(), []int{5, 2}) {
		t.Fatalf("sampler: %v, image %v, weights %s, shape %v", err, g.IsImage, g.Weights, pts.Shape())
	}
	if _, err := Resume(context.Background(), dir, Options{Warn: io.Discard}, "train.lr_g=0.1"); err == nil || !strings.Contains(err.Error(), "only train.steps") {
		t.Fatalf("resume changing lr_g: %v, want a refusal naming train.steps", err)
	}
	// The model section sits behind an interface: a change to it must be
	// seen too, and config.yaml left as it was.
	saved, err := os.ReadFile(filepath.Join(dir, run.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"model.z_dim=3", "model.g_hidden=[16]"} {
		if _, err := Resume(context.Background(), dir, Options{Warn: io.Discard}, set, "train.steps=30"); err == nil || !strings.Contains(err.Error(), "only train.steps") {
			t.Fatalf("resume with -set %s: %v, want a refusal naming train.steps", set, err)
		}
	}
	if now, err := os.ReadFile(filepath.Join(dir, run.ConfigFile)); err != nil || !bytes.Equal(now, saved) {
		t.Fatalf("config.yaml changed by refused resumes (%v):\n%s\nwas\n%s", err, now, saved)
	}
	res, err = Resume(context.Background(), dir, Options{Warn: io.Discard}, "train.steps=30")
	if err != nil || res.ResumedAt != 24 || res.Step != 30 {
		t.Fatalf("extend: %+v, %v", res, err)
	}
	back, err := RunConfig(dir)
	if err != nil || back.Train.Steps != 30 {
		t.Fatalf("config.yaml after extending: steps %d, %v", back.Train.Steps, err)
	}
	if _, err := Resume(context.Background(), dir, Options{Warn: io.Discard}, "train.steps=20"); err == nil || !strings.Contains(err.Error(), "past train.steps") {
		t.Fatalf("resume to fewer steps than done: %v", err)
	}
}

// TestRollbackStateIsCheckpointed: the rollbacks' learning-rate scale and
// count go into a checkpoint and come back on restore, so a resumed run
// keeps the reduced rates.
func TestRollbackStateIsCheckpointed(t *testing.T) {
	c := tinyConfig(t, "dcgan")
	c.Train.RollbackEvery = 5
	s, err := build(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if s.run, err = run.Create(t.TempDir(), []byte("x: 1\n"), run.Options{AllowNonEmpty: true, Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	defer s.run.Close()
	s.tr.Steps, s.tr.LRScale, s.tr.Rollbacks = 3, 0.25, 2
	if err := s.tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The last step (step 2, counting from 0) ran at the linear decay's
	// rate times the scale.
	if lr, want := float64(s.model.Player("d").Opt.LR()), float64(c.Train.LRD)*0.25*(1-2.0/24); math.Abs(lr-want) > 1e-6*want {
		t.Fatalf("D's rate %g: want the decayed rate scaled by 0.25", lr)
	}
	if err := s.checkpoint(nil, nil); err != nil {
		t.Fatal(err)
	}
	s2, err := build(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	ck, _, err := s.run.LoadLatest()
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.restore(ck, io.Discard); err != nil {
		t.Fatal(err)
	}
	if s2.tr.LRScale != 0.25 || s2.tr.Rollbacks != 2 || s2.tr.Step != 3 {
		t.Fatalf("restored scale %g, rollbacks %d, step %d: want 0.25, 2, 3", s2.tr.LRScale, s2.tr.Rollbacks, s2.tr.Step)
	}
}
