package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/models"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// aeSection is the model: block of the test-only family "testae": an
// autoencoder with one player, one phase and no adversary, the shape of the
// VAE family to come. Registering it here shows a family needs nothing but
// its own package (here, this file).
type aeSection struct {
	Code int `yaml:"code"`
}

func (s *aeSection) Validate(c config.Config) error {
	if !c.IsImage() {
		return fmt.Errorf("model.kind: testae needs image data")
	}
	if s.Code <= 0 {
		return fmt.Errorf("model.code: %d must be positive", s.Code)
	}
	return nil
}

func init() {
	family.Register(family.Family{
		Name:       "testae",
		Summary:    "a test autoencoder: one player, one phase",
		NewSection: func() config.ModelSection { return &aeSection{Code: 4} },
		Build: func(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
			s := c.Model.Section.(*aeSection)
			initRNG, loaderRNG := root.Split(), root.Split()
			px := d.Channels * d.Size * d.Size
			net, err := models.NewMLP(models.MLPConfig{In: px, Out: px, Hidden: []int{s.Code}, Act: "relu", OutAct: "tanh"}, initRNG)
			if err != nil {
				return nil, err
			}
			p, err := family.NewPlayer("ae", net, c.Train, c.Train.LRG, false)
			if err != nil {
				return nil, err
			}
			m := &family.Model{Players: []*gan.Player{p}, Extras: map[string]family.Extra{}}
			if d.Images == nil {
				return m, nil
			}
			l, err := d.Loader(c.Train.Batch, loaderRNG)
			if err != nil {
				return nil, err
			}
			m.Extras["loader"], m.Close = family.LoaderExtra{L: l}, l.Close
			m.Phases = []gan.Phase{{Player: p, Terms: func(int) []gan.Term {
				x := l.Next().Images
				flat := ag.Const(tensor.Reshape(x, x.Size(0), px))
				diff := ag.Sub(net.Forward(flat), flat)
				return []gan.Term{{Name: "recon", Value: ag.Mean(ag.Mul(diff, diff), nil, false)}}
			}}}
			return m, nil
		},
	})
}

// TestOnePlayerFamily trains the test autoencoder through the pipeline:
// no discriminator, no generator to preview, a checkpoint by player name,
// and a stop and resume that matches the whole run bit for bit.
func TestOnePlayerFamily(t *testing.T) {
	c := tinyConfig(t, "dcgan")
	for _, kv := range []string{"model.kind=testae", "model.code=6", "train.ema=0", "train.lr_g=0.01"} {
		if err := c.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	c.Train.LogEvery = 1
	root := t.TempDir()
	whole, stopped := filepath.Join(root, "whole"), filepath.Join(root, "stopped")
	if _, err := Train(context.Background(), c, whole, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Train(ctx, c, stopped, Options{Progress: cancelAt{"step 5/", cancel}, Warn: io.Discard}); !errors.Is(err, gan.ErrStopped) {
		t.Fatalf("stop: %v", err)
	}
	if _, err := Resume(context.Background(), stopped, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	a, b := latest(t, whole), latest(t, stopped)
	if len(a.Group("ae")) == 0 || len(a.Group("opt_ae")) == 0 || a.Meta["json/loader"] == "" {
		t.Fatalf("checkpoint groups %v, meta %v: want ae, opt_ae and the loader", a.Groups(), a.Meta)
	}
	for name, x := range a.Tensors {
		for i, v := range x.Data() {
			if math.Float32bits(v) != math.Float32bits(b.Tensors[name].Data()[i]) {
				t.Fatalf("%s[%d]: %v and %v", name, i, v, b.Tensors[name].Data()[i])
			}
		}
	}
	recs := readLoss(t, whole, "ae/recon")
	if len(recs) != 24 || !(recs[23] < recs[0]) {
		t.Fatalf("reconstruction loss %v: want 24 steps, falling", recs)
	}
	if _, _, err := LoadSampler(whole, false); err == nil || !strings.Contains(err.Error(), "does not draw from noise") {
		t.Fatalf("sampling a model without a generator: %v", err)
	}
}

// readLoss returns a scalar's values by step from a run's metrics.jsonl.
func readLoss(t *testing.T, dir, key string) []float64 {
	t.Helper()
	recs, err := run.ReadMetrics(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var r []float64
	for _, rec := range recs {
		if v, ok := rec.Scalars[key]; ok {
			r = append(r, v)
		}
	}
	return r
}
