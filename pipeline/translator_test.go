package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/internal/famtest/shift"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

func TestLoadTranslator(t *testing.T) {
	domains := t.TempDir()
	for i := range 6 {
		writeGray(t, filepath.Join(domains, []string{"x", "y", "z"}[i%3], string(rune('a'+i))+".png"), 8, 100)
	}
	dir := filepath.Join(t.TempDir(), "run")
	c := shiftConfig(t, "folder", domains, "train.checkpoint_every=2")
	if _, err := Train(context.Background(), c, dir, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	live, ema := emaB(t, dir)
	tr, skipped, err := LoadTranslator(dir, false)
	if err != nil || len(skipped) != 0 {
		t.Fatal(err, skipped)
	}
	if tr.Step != 4 || tr.Weights != WeightsEMA || filepath.Base(tr.Path) != "step-000004.safetensors" {
		t.Fatalf("step %d, weights %s, path %s", tr.Step, tr.Weights, tr.Path)
	}
	// The domains come from the checkpoint, without the data.
	if got := tr.Translator.Domains(); !slices.Equal(got, []string{"x", "y", "z"}) || !slices.Equal(tr.Translator.Shape(), []int{1, 8, 8}) {
		t.Fatalf("domains %v, shape %v", got, tr.Translator.Shape())
	}
	x := tensor.Full(0, 1, 1, 8, 8)
	// Evaluation mode (testshift refuses training mode), EMA weights.
	y, err := tr.Translator.Translate(x, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := y.Data()[0]; got != ema+0.5 {
		t.Fatalf("translated 0 to %g, want EMA b %g + 0.5 (live b %g)", got, ema, live)
	}
	raw, _, err := LoadTranslator(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	// Loading it as a generator from noise says what it does instead.
	if _, _, err := LoadSampler(dir, false); err == nil || !strings.Contains(err.Error(), "does not draw from noise: it translates images (kallima translate") {
		t.Errorf("LoadSampler of a translator: %v", err)
	}
	if y, _ := raw.Translator.Translate(x, 0, 0); raw.Weights != WeightsG || y.Data()[0] != live {
		t.Fatalf("raw: weights %s, %g, want live b %g", raw.Weights, y.Data()[0], live)
	}
	// A checkpoint file of the run: its own step.
	early, _, err := LoadTranslator(filepath.Join(dir, run.CheckpointsDir, "step-000002.safetensors"), false)
	if err != nil || early.Step != 2 {
		t.Fatalf("checkpoint file: %v", err)
	}
	if got := early.Translator.(*shift.Translator).Net.B.Data().Data()[0]; got == ema {
		t.Fatalf("step 2's b %g is step 4's", got)
	}
	// A corrupt newest checkpoint is skipped.
	newest := filepath.Join(dir, run.CheckpointsDir, "step-000004.safetensors")
	b := readAll(t, newest)
	b[len(b)-1] ^= 0xff
	writeAll(t, newest, b)
	tr, skipped, err = LoadTranslator(dir, false)
	if err != nil || len(skipped) != 1 || tr.Step != 2 {
		t.Fatalf("corrupt newest: %v, skipped %v", err, skipped)
	}
	// Errors.
	other := filepath.Join(t.TempDir(), "ae")
	ae := tinyConfig(t, "dcgan")
	for _, kv := range []string{"model.kind=testae", "train.steps=2", "train.sample_every=0"} {
		if err := ae.Set(kv); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Train(context.Background(), ae, other, Options{Warn: io.Discard}); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(t.TempDir(), "x.safetensors")
	os.WriteFile(stray, []byte("x"), 0o644)
	for _, c := range []struct{ path, want string }{
		{other, "model.kind testae does not translate images"},
		{stray, "neither a run folder nor a checkpoint"},
		{filepath.Join(dir, "nope"), "no such file"},
		{t.TempDir(), "not a run"},
	} {
		if _, _, err := LoadTranslator(c.path, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadTranslator(%s): %v, want %q", c.path, err, c.want)
		}
	}
}

func TestDomainIndex(t *testing.T) {
	names := []string{"0-thin", "1-normal", "2-thick"}
	for _, c := range []struct {
		name string
		k    int
		ok   bool
	}{{"", 1, true}, {"2-thick", 2, true}, {"0", 0, true}, {"2", 2, true}, {"3", 0, false}, {"-1", 0, false}, {"wide", 0, false}} {
		k, ok := DomainIndex(names, c.name, 1)
		if k != c.k || ok != c.ok {
			t.Errorf("DomainIndex(%q) = %d, %v; want %d, %v", c.name, k, ok, c.k, c.ok)
		}
	}
}

// TestDefaultSource: a two-domain model's target alone picks the source
// (by name or number); otherwise, or for a target naming no domain, the
// first domain.
func TestDefaultSource(t *testing.T) {
	ab, xyz := []string{"A", "B"}, []string{"x", "y", "z"}
	for _, c := range []struct {
		names []string
		to    string
		want  int
	}{{ab, "A", 1}, {ab, "B", 0}, {ab, "0", 1}, {ab, "", 0}, {ab, "C", 0}, {xyz, "x", 0}, {xyz, "z", 0}} {
		if got := DefaultSource(c.names, c.to); got != c.want {
			t.Errorf("DefaultSource(%v, %q) = %d, want %d", c.names, c.to, got, c.want)
		}
	}
}
