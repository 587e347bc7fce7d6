package classifier

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/tensor"
)

// TrainOn trains a new Net on any labelled set of 28x28 grey images in
// [-1, 1] (set.Images [N, 1, 28, 28], set.Labels in 0 .. 9), with the same
// loss, optimiser and schedule as Train: Adam on the cross-entropy
// -mean_i log softmax(logits_i)[y_i], the learning rate annealed to 0 by a
// cosine over cfg.Epochs epochs of the set (or cfg.MaxSteps steps).
// cfg.DataDir is not read. It is the separately trained classifier that
// scores other labellings than MNIST's digits: a StarGAN's domains (stroke
// width), where it tells which domain a translation landed in, as the
// StarGAN paper's classifier trained on real images does (Choi et al.
// 2018, arXiv:1711.09020, section 4.5), instead of the model's own
// discriminator head.
//
// The network keeps its ten outputs whatever the number of classes: the
// outputs of labels the set lacks are only ever pushed down, so Predict
// chooses among the set's labels in practice (a prediction outside them
// counts as wrong). Progress lines (the loss every 100 steps) go to
// progress (nil: nowhere). The Classifier's Metadata records "classes"
// (the set's class names, or numbers, comma-separated), "images", "seed",
// "epochs", "batch_size", "lr", "shift", "steps", "seconds", "command",
// "date", "architecture" and "data"; accuracy is the caller's to measure
// on held-out images (Net.Accuracy). It returns an error for a nil or
// empty set, images of another shape, a label count other than the image
// count, a label outside 0 .. 9, fewer than two distinct labels, or a
// negative config field.
func TrainOn(set *data.Set, cfg TrainConfig, progress io.Writer) (*Classifier, error) {
	if progress == nil {
		progress = io.Discard
	}
	if err := checkLabelled(set); err != nil {
		return nil, fmt.Errorf("train classifier: %w", err)
	}
	cfg, err := cfg.withTrainingDefaults()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var net *Net
	tensor.Persistent(func() { net = New(tensor.NewRNG(cfg.Seed)) })
	steps, err := fit(net, set, cfg, progress, nil, nil)
	if err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	names := classNames(set)
	fmt.Fprintf(progress, "trained on %d images in %d classes (%s) for %d steps (%.0f s)\n", set.Len(), len(names), strings.Join(names, ", "), steps, secs)
	c := &Classifier{Net: net, Name: "kallima mnist-cnn on " + strings.Join(names, "/") + " (trained)", Metadata: map[string]string{
		"classes":      strings.Join(names, ","),
		"images":       strconv.Itoa(set.Len()),
		"seed":         strconv.FormatUint(cfg.Seed, 10),
		"epochs":       strconv.Itoa(cfg.Epochs),
		"batch_size":   strconv.Itoa(cfg.BatchSize),
		"lr":           strconv.FormatFloat(float64(cfg.LR), 'g', -1, 32),
		"shift":        strconv.Itoa(cfg.Shift),
		"steps":        strconv.Itoa(steps),
		"seconds":      strconv.FormatFloat(secs, 'f', 0, 64),
		"command":      cfg.Command,
		"date":         time.Now().UTC().Format(time.RFC3339),
		"architecture": "conv1 1-32 k3, conv2 32-64 k3 s2, conv3 64-64 k3 s2, fc1 1600-128, fc2 128-10; ReLU; no padding",
		"data":         fmt.Sprintf("a labelled set of %d images in %d classes; inputs [N,1,28,28] in [-1,1]", set.Len(), len(names)),
	}}
	return c, nil
}

// checkLabelled reports a set TrainOn cannot train on.
func checkLabelled(set *data.Set) error {
	if set == nil || set.Images == nil || set.Images.Dim() == 0 || set.Len() == 0 {
		return fmt.Errorf("no images to train on")
	}
	if s := set.Images.Shape(); len(s) != 4 || s[1] != 1 || s[2] != Side || s[3] != Side {
		return fmt.Errorf("images of shape %v, want [N 1 %d %d] (grey 28x28)", s, Side, Side)
	}
	if len(set.Labels) != set.Len() {
		return fmt.Errorf("%d labels for %d images", len(set.Labels), set.Len())
	}
	seen := map[int]bool{}
	for i, y := range set.Labels {
		if y < 0 || y >= Classes {
			return fmt.Errorf("image %d: label %d out of range [0, %d): the network has %d outputs", i, y, Classes, Classes)
		}
		seen[y] = true
	}
	if len(seen) < 2 {
		return fmt.Errorf("the images carry %d distinct label(s): a classifier needs at least 2", len(seen))
	}
	return nil
}

// classNames returns the set's class names, or the numbers 0 .. max label
// when it has none.
func classNames(set *data.Set) []string {
	if len(set.Classes) > 0 {
		return set.Classes
	}
	top := 0
	for _, y := range set.Labels {
		top = max(top, y)
	}
	names := make([]string, top+1)
	for k := range names {
		names[k] = strconv.Itoa(k)
	}
	return names
}
