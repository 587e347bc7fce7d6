package serve

import (
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kallima-gan/kallima/config"
	_ "github.com/kallima-gan/kallima/family/all"
	_ "github.com/kallima-gan/kallima/internal/famtest/shift"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/pipeline"
)

// tinyRuns are the configs of the test runs: a few steps of tiny models on
// synthetic data, trained once per test binary.
var tinyRuns = map[string]string{
	"dcgan": `
seed: 3
data: {kind: synthetic, size: 28, n: 16}
model: {kind: dcgan, z_dim: 8, width: 4}
train: {steps: 2, batch: 8, ema: 0.9, log_every: 0, sample_every: 0}
`,
	"cgan": `
seed: 4
data: {kind: synthetic, size: 28, n: 12, classes: 3}
model: {kind: cgan, z_dim: 8, width: 4}
train: {steps: 2, batch: 6, ema: 0.9, log_every: 0, sample_every: 0}
`,
	"infogan": `
seed: 5
data: {kind: synthetic, size: 28, n: 16}
model: {kind: infogan, z_dim: 8, width: 4, q_hidden: 6}
train: {steps: 2, batch: 8, log_every: 0, sample_every: 0}
`,
	"ring8": `
seed: 6
data: {kind: ring8}
train: {steps: 5, batch: 32, ema: 0.9, log_every: 0, sample_every: 0, sample_n: 64}
`,
	"vae": `
seed: 7
data: {kind: synthetic, size: 28, n: 16}
model: {kind: vae, z_dim: 4, hidden: [8]}
train: {steps: 2, batch: 8, log_every: 0, sample_every: 0}
`,
	"shift": `
seed: 8
data: {kind: folder, dir: DOMAINS, size: 8, channels: 1}
model: {kind: testshift}
train: {steps: 2, batch: 2, sample_every: 0, ema: 0.9, lr_g: 0.1}
`,
}

var (
	runsOnce sync.Once
	runsDir  string
	runsErr  error
)

// tinyRun returns the folder of the tiny run name, training them all on
// first use.
func tinyRun(t testing.TB, name string) string {
	t.Helper()
	runsOnce.Do(func() { runsDir, runsErr = trainTinyRuns() })
	if runsErr != nil {
		t.Fatal(runsErr)
	}
	return filepath.Join(runsDir, name)
}

func trainTinyRuns() (string, error) {
	root, err := os.MkdirTemp("", "kallima-serve-test-")
	if err != nil {
		return "", err
	}
	domains := filepath.Join(root, "domains")
	for i := range 6 {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		for k := range img.Pix {
			img.Pix[k] = uint8(40 * i)
		}
		path := filepath.Join(domains, []string{"x", "y", "z"}[i%3], fmt.Sprintf("%c.png", 'a'+i))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return root, err
		}
		if err := picture.SavePNG(path, img); err != nil {
			return root, err
		}
	}
	for name, yaml := range tinyRuns {
		c, err := config.Parse(strings.NewReader(strings.ReplaceAll(yaml, "DOMAINS", domains)))
		if err != nil {
			return root, fmt.Errorf("%s: %w", name, err)
		}
		if _, err := pipeline.Train(context.Background(), c, filepath.Join(root, name), pipeline.Options{Warn: io.Discard}); err != nil {
			return root, fmt.Errorf("%s: %w", name, err)
		}
	}
	return root, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if runsDir != "" {
		os.RemoveAll(runsDir)
	}
	os.Exit(code)
}
