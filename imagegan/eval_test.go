package imagegan

import (
	"math"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/internal/blas"
	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/tensor"
)

// TestEvaluateRealVersusNoise scores 1000 real MNIST test images (test
// images 1000..1999 as the "generator") and 1000 images of uniform noise
// against test images 0..999: real images must get high precision and
// recall, an FID far below noise's, and an IS-style score near 10; every
// result must carry its provenance.
func TestEvaluateRealVersusNoise(t *testing.T) {
	if testing.Short() && blas.Impl == "go" {
		// The README's test command runs it under OpenBLAS; its scores of
		// thousands of images take 20-35 s under the pure-Go GEMM, which
		// .ci/long's pure-Go pass (without -short) still spends.
		t.Skip("scores thousands of images: under the pure-Go GEMM only without -short")
	}
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	test, err := classifier.LoadMNIST(dir, data.Test, nil)
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	const n = 1000
	ref := Reference{Name: "mnist/test", Images: test.Images}
	prior := gan.Prior{Kind: "normal", Dim: 4}
	real := &Replay{Images: test.Images, Next: n}
	which := []string{"fid", "kid", "is", "pr"}
	rr, err := Evaluate(real, prior, n, which, ref, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	noise := &Replay{Images: tensor.NewRNG(2).Uniform(-1, 1, n, 1, 28, 28)}
	rn, err := Evaluate(noise, prior, n, which, ref, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rr) != 4 || len(rn) != 4 {
		t.Fatalf("got %d and %d results, want 4", len(rr), len(rn))
	}
	get := func(rs []metrics.Result, metric, name string) float64 {
		t.Helper()
		for _, r := range rs {
			if r.Metric == metric {
				v, ok := r.Get(name)
				if !ok {
					t.Fatalf("%s has no %s", metric, name)
				}
				return v.Value
			}
		}
		t.Fatalf("no %s result", metric)
		return 0
	}
	for i, r := range rr {
		t.Log(r)
		t.Log(rn[i])
		if r.NFake != n || !strings.HasPrefix(r.Network, "kallima mnist-cnn") {
			t.Errorf("%s: n_fake %d, network %q", r.Metric, r.NFake, r.Network)
		}
		wantLayer, wantRef, wantReal := "fc1", "mnist/test[:1000]", n
		if r.Metric == "IS" {
			wantLayer, wantRef, wantReal = "probs", "", 0
		}
		if r.Layer != wantLayer || r.Reference != wantRef || r.NReal != wantReal {
			t.Errorf("%s: layer %q, reference %q, n_real %d; want %q, %q, %d", r.Metric, r.Layer, r.Reference, r.NReal, wantLayer, wantRef, wantReal)
		}
	}
	fidReal, fidNoise := get(rr, "FID", "fid"), get(rn, "FID", "fid")
	if !(fidReal*20 < fidNoise) {
		t.Errorf("FID real %g, noise %g: want real at least 20x smaller", fidReal, fidNoise)
	}
	if p, r := get(rr, "PRDC", "precision"), get(rr, "PRDC", "recall"); p < 0.8 || r < 0.8 {
		t.Errorf("real images: precision %g, recall %g, want >= 0.8", p, r)
	}
	if p := get(rn, "PRDC", "precision"); p > 0.2 {
		t.Errorf("noise: precision %g, want <= 0.2", p)
	}
	if is := get(rr, "IS", "is"); is < 8 {
		t.Errorf("real images: IS %g, want >= 8 (10 classes, confident)", is)
	}
	if kr, kn := get(rr, "KID", "kid"), get(rn, "KID", "kid"); !(math.Abs(kr)*20 < kn) {
		t.Errorf("KID real %g, noise %g", kr, kn)
	}
}

// TestEvaluateRejects checks the errors of bad arguments.
func TestEvaluateRejects(t *testing.T) {
	ref := Reference{Name: "noise", Images: tensor.NewRNG(3).Uniform(-1, 1, 200, 1, 28, 28)}
	prior := gan.Prior{Kind: "normal", Dim: 4}
	for _, tc := range []struct {
		name  string
		src   Source
		n     int
		which []string
		want  string
	}{
		{"unknown metric", &Replay{Images: ref.Images}, 150, []string{"fid", "lpips"}, `"lpips"`},
		{"too few for FID", &Replay{Images: ref.Images}, 100, []string{"fid"}, "too few samples"},
		{"wrong image shape", &Replay{Images: tensor.New(150, 1, 14, 56)}, 150, []string{"is"}, "[150 1 14 56]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(tc.src, prior, tc.n, tc.which, ref, tensor.NewRNG(1))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one containing %s", err, tc.want)
			}
		})
	}
	if _, err := ParseMetrics("fid,bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("ParseMetrics: err %v, want one naming bogus", err)
	}
	if got, err := ParseMetrics("FID, prdc,fid"); err != nil || strings.Join(got, ",") != "fid,pr" {
		t.Errorf("ParseMetrics: %v, %v", got, err)
	}
}
