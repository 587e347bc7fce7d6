package classifier

import (
	"crypto/sha256"
	_ "embed" // the shipped weights
	"encoding/hex"
	"fmt"
	"os"

	"github.com/kallima-gan/kallima/metrics"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/safetensors"
	"github.com/kallima-gan/kallima/tensor"
)

// EmbeddedFile is the path, inside this package, of the weights Load
// returns; its metadata records how they were made.
const EmbeddedFile = "weights/mnist-cnn.safetensors"

//go:embed weights/mnist-cnn.safetensors
var embedded []byte

// Load returns the classifier shipped with Kallima (the embedded
// weights/mnist-cnn.safetensors, trained by `kallima train-classifier`
// with the settings in its metadata). Each call returns a new copy.
func Load() (*Classifier, error) {
	c, err := parse(embedded)
	if err != nil {
		return nil, fmt.Errorf("classifier: embedded %s: %w", EmbeddedFile, err)
	}
	return c, nil
}

// LoadFile reads a classifier from a safetensors file holding Net's state
// (as written by Classifier.Save). It returns an error if the file cannot
// be read or does not hold exactly Net's tensors with Net's shapes.
func LoadFile(path string) (*Classifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	c, err := parse(b)
	if err != nil {
		return nil, fmt.Errorf("classifier: %s: %w", path, err)
	}
	return c, nil
}

// parse builds a Classifier from the bytes of a safetensors file.
func parse(b []byte) (*Classifier, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, err
	}
	var net *Net
	tensor.Persistent(func() { net = New(tensor.NewRNG(0)) })
	if err := nn.LoadState(net, f.Tensors); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return &Classifier{Net: net, Metadata: f.Metadata, Name: "kallima mnist-cnn (sha256 " + hex.EncodeToString(sum[:4]) + ")"}, nil
}

// File returns the classifier as a safetensors file: Net's state and the
// metadata.
func (c *Classifier) File() *safetensors.File {
	f := &safetensors.File{Tensors: map[string]*tensor.Tensor{}, Metadata: map[string]string{}}
	for _, b := range nn.State(c.Net) {
		f.Tensors[b.Name] = b.Tensor
	}
	for k, v := range c.Metadata {
		f.Metadata[k] = v
	}
	return f
}

// Save writes the classifier to path as a float32 safetensors file
// (atomically, as safetensors.File.Save does).
func (c *Classifier) Save(path string) error {
	if err := c.File().Save(path); err != nil {
		return fmt.Errorf("classifier: save: %w", err)
	}
	return nil
}

// Provenance names these weights and layer ("" is DefaultLayer) for a
// score's report; reference names the real data compared with (empty for
// the IS-style score).
func (c *Classifier) Provenance(layer, reference string) metrics.Provenance {
	if layer == "" {
		layer = DefaultLayer
	}
	return metrics.Provenance{Network: c.Name, Layer: layer, Reference: reference}
}
