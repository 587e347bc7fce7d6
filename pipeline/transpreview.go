package pipeline

import (
	"fmt"
	"image"
	"path/filepath"

	"github.com/kallima-gan/kallima/data"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/picture"
	"github.com/kallima-gan/kallima/run"
	"github.com/kallima-gan/kallima/tensor"
)

// translationCols is the number of fixed inputs a translation preview
// shows, one per column.
const translationCols = 8

// TranslationFile is the name of the translation grid a run whose model
// both draws from noise and translates writes into its samples folder at
// a sample step (a translator alone writes it as the step's samples,
// step-NNNNNN.png).
func TranslationFile(step int) string { return fmt.Sprintf("translate-step-%06d.png", step) }

// translationSeed seeds the draw of a translation preview's inputs for a
// model that gives no SampleRNG.
const translationSeed = 0x7e57

// translationPreview is a translation run's fixed inputs, drawn once from
// the training data with the model's SampleRNG, in blocks of rows.
type translationPreview struct {
	blocks []translationBlock
}

// translationBlock is one block of a translation grid: a row of inputs,
// then a row per target domain (each input translated from its own
// domain), then, for a two-domain model, a row of the translations
// translated back (when the model can) and a row of paired targets.
type translationBlock struct {
	x      *tensor.Tensor // [n, C, H, W] inputs
	from   []int          // each input's domain
	to     []int          // the target domain of each translation row
	back   bool           // add a row translating the (one) translation row back
	target *tensor.Tensor // paired targets, or nil
}

// newTranslationPreview draws the fixed inputs of a translation preview
// from d with rng: for two-domain data, translationCols images of A (with
// their targets when paired) and, for unpaired data, translationCols of B;
// for multi-domain data (labels are domains), translationCols images of
// the set, each translated to every domain.
func newTranslationPreview(d family.Data, tr family.Translator, rng *tensor.RNG) *translationPreview {
	if d.Images == nil || d.Images.Len() == 0 {
		return nil
	}
	if rng == nil {
		rng = tensor.NewRNG(translationSeed)
	}
	k := len(tr.Domains())
	if d.B != nil {
		idx := drawDistinct(rng, d.Images.Len(), translationCols)
		a := translationBlock{x: gather(d.Images, idx), from: repeatInt(0, len(idx)), to: []int{1}, back: true}
		if d.Paired {
			a.target = gather(d.B, idx)
		}
		p := &translationPreview{blocks: []translationBlock{a}}
		if !d.Paired && d.B.Len() > 0 {
			idx := drawDistinct(rng, d.B.Len(), translationCols)
			p.blocks = append(p.blocks, translationBlock{x: gather(d.B, idx), from: repeatInt(1, len(idx)), to: []int{0}, back: true})
		}
		return p
	}
	idx := drawDistinct(rng, d.Images.Len(), translationCols)
	b := translationBlock{x: gather(d.Images, idx), from: make([]int, len(idx))}
	for i, j := range idx {
		b.from[i] = min(d.Images.Labels[j], k-1)
	}
	for t := range k {
		b.to = append(b.to, t)
	}
	return &translationPreview{blocks: []translationBlock{b}}
}

// drawDistinct draws min(k, n) distinct indices below n.
func drawDistinct(rng *tensor.RNG, n, k int) []int {
	k = min(k, n)
	seen := make(map[int]bool, k)
	idx := make([]int, 0, k)
	for len(idx) < k {
		i := rng.Intn(n)
		if !seen[i] {
			seen[i] = true
			idx = append(idx, i)
		}
	}
	return idx
}

// gather copies images idx of s into a new [len(idx), C, H, W] tensor.
func gather(s *data.Set, idx []int) *tensor.Tensor {
	var px []float32
	for _, i := range idx {
		img, _ := s.Get(i)
		px = append(px, img...)
	}
	return tensor.FromSlice(px, append([]int{len(idx)}, s.Shape()...)...)
}

func repeatInt(v, n int) []int {
	r := make([]int, n)
	for i := range r {
		r[i] = v
	}
	return r
}

// translateEach translates each image of x from its domain from[i] to to,
// one Translate call per distinct source domain, keeping x's order.
func translateEach(tr family.Translator, x *tensor.Tensor, from []int, to int) (*tensor.Tensor, error) {
	out := tensor.New(x.Shape()...)
	chw := x.Len() / x.Size(0)
	done := make([]bool, len(from))
	for i := range from {
		if done[i] {
			continue
		}
		var idx []int
		for j := i; j < len(from); j++ {
			if from[j] == from[i] {
				idx, done[j] = append(idx, j), true
			}
		}
		sub := tensor.New(append([]int{len(idx)}, x.Shape()[1:]...)...)
		for k, j := range idx {
			copy(sub.Data()[k*chw:(k+1)*chw], x.Data()[j*chw:(j+1)*chw])
		}
		y, err := tr.Translate(sub, from[i], to)
		if err != nil {
			return nil, err
		}
		if y.Len() != sub.Len() {
			return nil, fmt.Errorf("translating %d images of shape %v gave %v", len(idx), x.Shape()[1:], y.Shape())
		}
		for k, j := range idx {
			copy(out.Data()[j*chw:(j+1)*chw], y.Data()[k*chw:(k+1)*chw])
		}
	}
	return out, nil
}

// grid renders the preview with tr as a grid: translationCols columns, the
// blocks' rows one after another. A block whose translation the model
// refuses is left out, unless it is the first (then the refusal is the
// error); a back-translation it refuses leaves that row out.
func (p *translationPreview) grid(tr family.Translator) (image.Image, error) {
	var rows []*tensor.Tensor
	shape := p.blocks[0].x.Shape()[1:]
	pad := func(x *tensor.Tensor) *tensor.Tensor {
		if n := x.Size(0); n < translationCols {
			blank := tensor.Full(-1, append([]int{translationCols - n}, shape...)...)
			return tensor.Concat([]*tensor.Tensor{x, blank}, 0)
		}
		return x
	}
	for bi, b := range p.blocks {
		block := []*tensor.Tensor{pad(b.x)}
		var first *tensor.Tensor
		refused := false
		for _, to := range b.to {
			y, err := translateEach(tr, b.x, b.from, to)
			if err != nil && bi == 0 {
				return nil, fmt.Errorf("translation preview: %w", err)
			}
			if err != nil {
				refused = true
				break
			}
			if first == nil {
				first = y
			}
			block = append(block, pad(y))
		}
		if refused {
			continue
		}
		if b.back && len(b.to) == 1 {
			if back, err := tr.Translate(first, b.to[0], b.from[0]); err == nil {
				block = append(block, pad(back))
			}
		}
		if b.target != nil {
			block = append(block, pad(b.target))
		}
		rows = append(rows, block...)
	}
	return picture.Grid(tensor.Concat(rows, 0), translationCols, 2), nil
}

// saveTranslationPreview writes a translation run's preview grid at the
// current step with the generator player's EMA weights (when it keeps an
// EMA) in evaluation mode, leaving every weight and statistic as it was:
// as the step's samples for a translator alone, as TranslationFile beside
// them for a model that also draws from noise.
func (s *session) saveTranslationPreview() error {
	if s.translation == nil || s.run == nil {
		return nil
	}
	p := s.model.GeneratorPlayer
	defer p.Evaluate()()
	var img image.Image
	var err error
	tensor.Persistent(func() { img, err = s.translation.grid(s.model.Translator) })
	if err != nil {
		return err
	}
	if s.preview == nil {
		return s.run.SaveSamples(s.tr.Step, img)
	}
	path := filepath.Join(s.run.Dir(), run.SamplesDir, TranslationFile(s.tr.Step))
	if err := picture.SavePNG(path, img); err != nil {
		return fmt.Errorf("translation preview at step %d: %w", s.tr.Step, err)
	}
	return nil
}
