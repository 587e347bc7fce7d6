package family

import "github.com/kallima-gan/kallima/tensor"

// Translator is what an image-to-image family can be asked: map images of
// one domain to another. pix2pix translates A to B; CycleGAN A to B and B
// to A; StarGAN any domain to any other.
type Translator interface {
	// Domains names the domains in index order: "A" and "B" for a
	// two-domain model, the data's class names (or their numbers) for a
	// multi-domain one.
	Domains() []string
	// Shape is the shape [C, H, W] of the images Translate takes.
	Shape() []int
	// Translate maps images x [N, C, H, W] with values in [-1, 1] from
	// domain from to domain to (indices into Domains) and returns images
	// of the same shape. A multi-domain model may ignore from. A pair the
	// model cannot translate, or x of another shape, is an error that
	// names it; it never panics on them. Where translating back (to to
	// from) works, previews and `kallima translate` show it as the
	// reconstruction.
	Translate(x *tensor.Tensor, from, to int) (*tensor.Tensor, error)
}
