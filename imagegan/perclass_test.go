package imagegan

import (
	"slices"
	"strings"
	"testing"

	"github.com/kallima-gan/kallima/classifier"
	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/gan"
	"github.com/kallima-gan/kallima/tensor"
)

// heldOut is a fake conditional generator that answers class k with real
// MNIST images: those of class pick(k), from its own pool, one after the
// other (or, with collapse, the first one every time). It records the
// labels it was asked for.
type heldOut struct {
	byClass  [][]int // image indices by class
	images   *tensor.Tensor
	pick     func(k int) int
	collapse bool
	next     []int
	asked    [][]int
}

func (h *heldOut) sample(z *tensor.Tensor, labels []int) (*tensor.Tensor, error) {
	h.asked = append(h.asked, slices.Clone(labels))
	px := 28 * 28
	out := tensor.New(len(labels), 1, 28, 28)
	for i, k := range labels {
		c := h.pick(k)
		j := h.byClass[c][h.next[c]]
		if !h.collapse {
			h.next[c]++
		}
		copy(out.Data()[i*px:(i+1)*px], h.images.Data()[j*px:(j+1)*px])
	}
	if z.Size(0) != len(labels) {
		panic("noise and labels differ in number")
	}
	return out, nil
}

// TestPerClass scores three fake generators made of real MNIST test images
// against other test images: one that answers each class with real images
// of it (agreement near 1, high precision and recall), one that answers
// class k with digit k+1 (agreement near 0, and low precision against
// class k's images), and one that answers each class with a single image
// repeated (agreement high, recall and coverage near 0: no diversity
// within the class).
func TestPerClass(t *testing.T) {
	dir, err := classifier.DefaultDataDir()
	if err != nil {
		t.Fatal(err)
	}
	test, err := classifier.LoadMNIST(dir, data.Test, nil)
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	const half, perClass = 5000, 50
	px := 28 * 28
	ref := Reference{Name: "mnist/test[:5000]", Images: tensor.FromSlice(test.Images.Data()[:half*px], half, 1, 28, 28), Labels: test.Labels[:half]}
	newGen := func(pick func(int) int, collapse bool) *heldOut {
		h := &heldOut{byClass: make([][]int, 10), images: test.Images, pick: pick, collapse: collapse, next: make([]int, 10)}
		for i := half; i < test.Images.Size(0); i++ {
			h.byClass[test.Labels[i]] = append(h.byClass[test.Labels[i]], i)
		}
		return h
	}
	prior := gan.Prior{Kind: "normal", Dim: 3}
	score := func(h *heldOut) ClassScores {
		s, err := PerClass(h.sample, prior, 10, perClass, ref, tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Classes) != 10 || s.PerClass != perClass || s.All.NFake != 10*perClass || s.All.NReal != 10*perClass {
			t.Fatalf("scores of %d classes, %d per class, all %d against %d", len(s.Classes), s.PerClass, s.All.NFake, s.All.NReal)
		}
		for k, labels := range h.asked {
			if len(labels) != perClass || slices.Min(labels) != k || slices.Max(labels) != k {
				t.Fatalf("call %d asked for labels %v, want %d of class %d", k, labels, perClass, k)
			}
		}
		return s
	}
	right := score(newGen(func(k int) int { return k }, false))
	shifted := score(newGen(func(k int) int { return (k + 1) % 10 }, false))
	collapsed := score(newGen(func(k int) int { return k }, true))
	t.Logf("right:     agreement %.3f precision %.3f recall %.3f fid %.1f", right.Agreement, right.Precision, right.Recall, right.FID)
	t.Logf("shifted:   agreement %.3f precision %.3f recall %.3f fid %.1f", shifted.Agreement, shifted.Precision, shifted.Recall, shifted.FID)
	t.Logf("collapsed: agreement %.3f precision %.3f recall %.3f coverage %.3f fid %.1f", collapsed.Agreement, collapsed.Precision, collapsed.Recall, collapsed.Coverage, collapsed.FID)
	// Real images of the right class: agreement 1.000, precision 0.908,
	// recall 0.506 (the held-out half of the test split covers less of the
	// first half than the other way round; 50 per class is few).
	if !(right.Agreement > 0.95 && right.Precision > 0.8 && right.Recall > 0.4) {
		t.Errorf("real images of the right class: agreement %.3f, precision %.3f, recall %.3f; want above 0.95, 0.8, 0.4", right.Agreement, right.Precision, right.Recall)
	}
	if !(shifted.Agreement < 0.05 && shifted.Precision < right.Precision/2) {
		t.Errorf("images of the next class: agreement %.3f, precision %.3f; want below 0.05 and half of %.3f", shifted.Agreement, shifted.Precision, right.Precision)
	}
	if !(collapsed.Agreement > 0.8 && collapsed.Recall < 0.1 && collapsed.Coverage < 0.1 && collapsed.Recall < right.Recall/5) {
		t.Errorf("one image per class: agreement %.3f, recall %.3f, coverage %.3f; want above 0.8, below 0.1, below 0.1", collapsed.Agreement, collapsed.Recall, collapsed.Coverage)
	}
	// The class-blind scores of all samples do not see the shift: they
	// are the same 500 images in another class order.
	if d := shifted.All.Precision - right.All.Precision; d < -0.05 || d > 0.05 {
		t.Errorf("all-sample precision %.3f (shifted) and %.3f (right): want nearly equal", shifted.All.Precision, right.All.Precision)
	}

	for _, tc := range []struct {
		edit func(r *Reference) (classes, perClass int)
		want string
	}{
		{func(r *Reference) (int, int) { r.Labels = nil; return 10, perClass }, "0 labels for 5000 images"},
		{func(r *Reference) (int, int) { return 10, 5 }, "5 samples per class"},
		{func(r *Reference) (int, int) { return 1, perClass }, "1 classes"},
		{func(r *Reference) (int, int) { return 10, 600 }, "fewer than 600"},
	} {
		r := ref
		classes, n := tc.edit(&r)
		_, err := PerClass(newGen(func(k int) int { return k }, false).sample, prior, classes, n, r, tensor.NewRNG(1))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}
