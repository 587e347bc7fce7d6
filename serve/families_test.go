package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
)

// familySets are -set flags for a tiny run of each family: a few steps of
// batch 4 at width 4 on synthetic 28x28 digits (3 classes) or, for the
// translators, on small folders made by the test (PAIRED, UNPAIRED).
var familySets = map[string][]string{
	"dcgan":    {"model.width=4", "model.z_dim=8"},
	"cgan":     {"model.width=4", "model.z_dim=8"},
	"acgan":    {"model.width=4", "model.z_dim=8"},
	"infogan":  {"model.width=4", "model.z_dim=8", "model.q_hidden=6"},
	"sngan":    {"model.z_dim=8", "model.g_width=4", "model.d_width=4", "loss.name=hinge"},
	"sagan":    {"model.z_dim=8", "model.g_width=4", "model.d_width=4", "loss.name=hinge"},
	"biggan":   {"model.g_width=4", "model.d_width=4", "model.z_dim=9", "model.shared_dim=4", "loss.name=hinge"},
	"mixgan":   {"model.width=4", "model.z_dim=8", "model.components=2"},
	"vae":      {"model.z_dim=4", "model.hidden=[8]"},
	"ae":       {"model.z_dim=4", "model.hidden=[8]"},
	"aae":      {"model.hidden=[8]", "model.d_hidden=[6]", "model.z_dim=3"},
	"avb":      {"model.hidden=[8]", "model.adv_hidden=[8]", "model.adv_features=4", "model.eps_dim=4", "model.proposal_samples=4"},
	"bigan":    {"model.width=4", "model.z_dim=8"},
	"ali":      {"model.width=4", "model.z_dim=8"},
	"stargan":  {"model.g_width=4", "model.blocks=1", "model.d_width=4", "loss.name=wgan", "loss.penalty=gp", "loss.penalty_weight=10"},
	"pix2pix":  {"data.kind=paired", "data.dir=PAIRED", "data.size=16", "data.channels=1", "model.width=4", "model.d_width=4"},
	"cyclegan": {"data.kind=unpaired", "data.dir=UNPAIRED", "data.size=8", "data.channels=1", "model.width=2", "model.blocks=1", "model.d_width=2", "model.pool=4", "loss.name=lsgan"},
	"mlp":      {"data.kind=ring8", "train.batch=16", "train.sample_n=32"},
}

// TestServeEveryFamily trains a tiny run of every registered family, serves
// them all from one server, and asks each model for everything /v1/models
// says it can do: a sample grid (with a class for a conditional model),
// an interpolation, an encoding, a translation. A family registered without
// an entry in familySets fails the test, so a new family cannot land
// unserved.
func TestServeEveryFamily(t *testing.T) {
	root := t.TempDir()
	paired, unpaired := filepath.Join(root, "paired"), filepath.Join(root, "unpaired")
	for i := range 8 {
		name := fmt.Sprintf("%02d.png", i)
		for dir, size := range map[string]int{filepath.Join(paired, "A"): 16, filepath.Join(paired, "B"): 16, filepath.Join(unpaired, "trainA"): 8, filepath.Join(unpaired, "trainB"): 8} {
			img := image.NewGray(image.Rect(0, 0, size, size))
			for k := range img.Pix {
				img.Pix[k] = uint8((k*7 + i*31 + len(dir)*13) % 256)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := picture.SavePNG(filepath.Join(dir, name), img); err != nil {
				t.Fatal(err)
			}
		}
	}
	var dirs []string
	for _, kind := range family.Names() {
		if kind == "testshift" { // this test binary's own translator (internal/famtest/shift)
			continue
		}
		sets, ok := familySets[kind]
		if !ok {
			t.Errorf("family %s has no tiny run in familySets: is it served?", kind)
			continue
		}
		c := config.Default()
		base := []string{"seed=2", "data.kind=synthetic", "data.n=16", "data.classes=3", "model.kind=" + kind,
			"train.batch=4", "train.steps=2", "train.log_every=0", "train.sample_every=0", "train.checkpoint_every=0"}
		for _, kv := range append(base, sets...) {
			kv = strings.NewReplacer("PAIRED", paired, "UNPAIRED", unpaired).Replace(kv)
			if err := c.Set(kv); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
		}
		dir := filepath.Join(root, kind)
		if _, err := pipeline.Train(context.Background(), c, dir, pipeline.Options{Warn: io.Discard}); err != nil {
			t.Fatalf("%s: train: %v", kind, err)
		}
		dirs = append(dirs, dir)
	}
	s, err := New(dirs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer func() { ts.Close(); s.Close() }()
	_, b := get(t, ts.URL+"/v1/models")
	var list struct{ Models []ModelInfo }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("/v1/models: %v: %s", err, b)
	}
	if len(list.Models) != len(dirs) {
		t.Fatalf("/v1/models lists %d models, want %d", len(list.Models), len(dirs))
	}
	asked := map[string][]string{} // capability -> the families asked for it
	for _, m := range list.Models {
		if len(m.Can) == 0 {
			t.Errorf("%s (%s): can do nothing", m.Name, m.Family)
		}
		u := ts.URL + "/v1/models/" + m.Name
		for _, can := range m.Can {
			var res *http.Response
			var body []byte
			switch can {
			case "sample":
				q := "?n=3&seed=4"
				if m.Classes > 0 {
					q += "&class=1"
				}
				res, body = get(t, u+"/sample.png"+q)
			case "interpolate":
				res, body = get(t, u+"/interpolate.png?steps=3")
			case "encode":
				res, body = post(t, u+"/encode", "image/png", grayPNG(t, m.Width, m.Height, 120))
			case "translate":
				if len(m.Domains) < 2 {
					t.Errorf("%s: translates between %d domains", m.Name, len(m.Domains))
					continue
				}
				res, body = post(t, u+"/translate?from="+m.Domains[0]+"&to="+m.Domains[1], "image/png", grayPNG(t, m.Width, m.Height, 120))
				if len(m.Domains) == 2 && m.Family == "cyclegan" {
					// "to" alone picks the direction: to=A is B to A.
					r1, b1 := post(t, u+"/translate?from="+m.Domains[1]+"&to="+m.Domains[0], "image/png", grayPNG(t, m.Width, m.Height, 120))
					r2, b2 := post(t, u+"/translate?to="+m.Domains[0], "image/png", grayPNG(t, m.Width, m.Height, 120))
					if r1.StatusCode != 200 || r2.StatusCode != 200 || !bytes.Equal(b1, b2) {
						t.Errorf("%s: to=%s alone: status %d (%.200s), want B to A's grid (status %d)", m.Name, m.Domains[0], r2.StatusCode, b2, r1.StatusCode)
					}
				}
			default:
				t.Errorf("%s: unknown capability %q", m.Name, can)
				continue
			}
			asked[can] = append(asked[can], m.Family)
			if res.StatusCode != 200 {
				t.Errorf("%s (%s) %s: status %d: %.300s", m.Name, m.Family, can, res.StatusCode, body)
				continue
			}
			if can == "encode" {
				var out struct{ Code []float64 }
				if err := json.Unmarshal(body, &out); err != nil || len(out.Code) == 0 {
					t.Errorf("%s encode: %v %.200s", m.Name, err, body)
				}
				continue
			}
			decodePNG(t, body)
		}
	}
	for _, can := range []string{"sample", "interpolate", "encode", "translate"} {
		if len(asked[can]) == 0 {
			t.Errorf("no family was asked to %s", can)
		}
		t.Logf("%s: %s", can, strings.Join(asked[can], " "))
	}
}
