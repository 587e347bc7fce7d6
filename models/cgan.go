package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// Ways a conditional discriminator takes the label (CGANConfig.Conditioning).
const (
	// ConditionProjection is the projection discriminator (Miyato & Koyama
	// 2018, "cGANs with Projection Discriminator", arXiv:1802.05637):
	// logit = psi(phi(x)) + <embed(y), phi(x)>.
	ConditionProjection = "projection"
	// ConditionChannels concatenates one constant one-hot map per class to
	// the image, in the spirit of Mirza & Osindero 2014 (arXiv:1411.1784),
	// who feed y to D's input alongside x.
	ConditionChannels = "channels"
)

// CGANConfig describes a class-conditional DCGAN pair (Mirza & Osindero
// 2014, "Conditional Generative Adversarial Nets", arXiv:1411.1784): the
// DCGAN of the embedded config, with the label entering G beside the noise
// and D by projection or as input channels.
type CGANConfig struct {
	DCGANConfig
	// Classes is the number of classes; labels are 0 .. Classes-1. At
	// least 2.
	Classes int
	// EmbedDim (generator only) is the size of the learnt label embedding
	// concatenated to z, drawn N(0, 1) like z; 0 concatenates the one-hot
	// code instead.
	EmbedDim int
	// Conditioning (discriminator only) is ConditionProjection (the
	// default, when empty) or ConditionChannels.
	Conditioning string
}

// Validate reports the first field of c that no conditional DCGAN can
// have, naming it.
func (c CGANConfig) Validate() error {
	if err := c.DCGANConfig.Validate(); err != nil {
		return err
	}
	switch {
	case c.Classes < 2:
		return fmt.Errorf("cgan: Classes %d: want at least 2", c.Classes)
	case c.EmbedDim < 0:
		return fmt.Errorf("cgan: EmbedDim %d: must not be negative", c.EmbedDim)
	case c.Conditioning != "" && c.Conditioning != ConditionProjection && c.Conditioning != ConditionChannels:
		return fmt.Errorf("cgan: Conditioning %q: want %q or %q", c.Conditioning, ConditionProjection, ConditionChannels)
	}
	return nil
}

// checkLabels panics unless labels has n entries in [0, classes).
func checkLabels(op string, labels []int, n, classes int) {
	if len(labels) != n {
		panic(fmt.Sprintf("%s: %d labels for a batch of %d", op, len(labels), n))
	}
	for _, y := range labels {
		if y < 0 || y >= classes {
			panic(fmt.Sprintf("%s: label %d out of range for %d classes", op, y, classes))
		}
	}
}

// OneHot returns the one-hot codes of labels, [len(labels), classes]. It
// panics on a label out of range.
func OneHot(labels []int, classes int) *tensor.Tensor {
	checkLabels("models.OneHot", labels, len(labels), classes)
	t := tensor.New(len(labels), classes)
	for i, y := range labels {
		t.Data()[i*classes+y] = 1
	}
	return t
}

// oneHotMaps returns [N, classes, size, size] with sample i's channel
// labels[i] all ones and the rest zero.
func oneHotMaps(labels []int, classes, size int) *tensor.Tensor {
	t := tensor.New(len(labels), classes, size, size)
	d, hw := t.Data(), size*size
	for i, y := range labels {
		off := (i*classes + y) * hw
		for j := range hw {
			d[off+j] = 1
		}
	}
	return t
}

// CondGenerator is a class-conditional DCGAN generator: the label's code
// (a learnt embedding, or one-hot) is concatenated to z and the result goes
// through a DCGANGenerator whose projection takes ZDim + code size inputs.
//
// State names: embed.weight (learnt embedding only), then the DCGAN
// generator's names under "net".
type CondGenerator struct {
	Embed *nn.Embedding // [Classes, EmbedDim]; nil for a one-hot code
	Net   *DCGANGenerator

	zDim, classes int
}

// NewCondGenerator builds the generator c describes, drawing weights from
// rng. It returns an error naming the field if c is invalid.
func NewCondGenerator(c CGANConfig, rng *tensor.RNG) (*CondGenerator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.ZDim <= 0 {
		return nil, fmt.Errorf("cgan: ZDim %d: must be positive", c.ZDim)
	}
	return newCondGenerator(c, rng), nil
}

// newCondGenerator builds the generator of a valid c.
func newCondGenerator(c CGANConfig, rng *tensor.RNG) *CondGenerator {
	g := &CondGenerator{zDim: c.ZDim, classes: c.Classes}
	code := c.Classes
	if c.EmbedDim > 0 {
		g.Embed = nn.NewEmbedding(c.Classes, c.EmbedDim, rng)
		code = c.EmbedDim
	}
	dc := c.DCGANConfig
	dc.ZDim += code
	g.Net = newDCGANGenerator(dc, rng)
	return g
}

// ZDim is the noise dimension the generator takes (without the label code).
func (g *CondGenerator) ZDim() int { return g.zDim }

// Classes is the number of classes.
func (g *CondGenerator) Classes() int { return g.classes }

// Forward maps z [N, ZDim] and one label per sample to images
// [N, Channels, Size, Size]. It panics if z is not [N, ZDim], or on a
// label count other than N or a label out of range.
func (g *CondGenerator) Forward(z *autograd.Value, labels []int) *autograd.Value {
	zs := z.Shape()
	if len(zs) != 2 || zs[1] != g.zDim {
		panic(fmt.Sprintf("models.CondGenerator: noise shape %v, want [N %d]", zs, g.zDim))
	}
	checkLabels("models.CondGenerator", labels, zs[0], g.classes)
	var code *autograd.Value
	if g.Embed != nil {
		code = g.Embed.Forward(labels)
	} else {
		code = autograd.Const(OneHot(labels, g.classes))
	}
	return g.Net.Forward(autograd.Concat([]*autograd.Value{z, code}, 1))
}

func (g *CondGenerator) children() nn.Children {
	return nn.Children{{Name: "embed", Module: g.Embed}, {Name: "net", Module: g.Net}}
}

// Params lists the embedding's, then the network's parameters.
func (g *CondGenerator) Params(prefix string) []nn.Param { return g.children().Params(prefix) }

// Buffers lists the network's batch norm statistics.
func (g *CondGenerator) Buffers(prefix string) []nn.Buffer { return g.children().Buffers(prefix) }

// SetTraining sets the network's mode.
func (g *CondGenerator) SetTraining(on bool) { g.children().SetTraining(on) }

// CondDiscriminator is a class-conditional DCGAN discriminator.
//
// With ConditionProjection, phi(x) [N, F] are the DCGAN discriminator's
// flattened penultimate features, psi its final linear map, and
//
//	logit(x, y) = psi(phi(x)) + <Embed[y], phi(x)>
//
// (Miyato & Koyama 2018, arXiv:1802.05637, eq. 3), the inner product over
// the F features. The paper's ResNet discriminators sum-pool their last
// maps into phi; here phi is the flattened maps D's last linear map reads
// (F = 2 * Width * 7 * 7 for Size 28), so psi and the projection see the
// same features. Embed [Classes, F] starts Xavier-uniform (gain 1), as the
// paper's code initialises it, or N(0, 0.02) with NormalInit, and gets
// spectral norm when D does.
//
// With ConditionChannels the DCGAN discriminator takes Channels + Classes
// input channels: the image, then a constant one-hot map per class.
//
// State names: embed.weight (projection only; weight_orig, weight_u,
// weight_v under spectral norm), then the DCGAN discriminator's under
// "net".
type CondDiscriminator struct {
	Embed *nn.Embedding // [Classes, F]; nil with label channels
	Net   *DCGANDiscriminator

	classes, channels, size int
}

// NewCondDiscriminator builds the discriminator c describes, drawing
// weights from rng. It returns an error naming the field if c is invalid.
func NewCondDiscriminator(c CGANConfig, rng *tensor.RNG) (*CondDiscriminator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return newCondDiscriminator(c, rng), nil
}

// newCondDiscriminator builds the discriminator of a valid c.
func newCondDiscriminator(c CGANConfig, rng *tensor.RNG) *CondDiscriminator {
	d := &CondDiscriminator{classes: c.Classes, channels: c.Channels, size: c.Size}
	if c.Conditioning == ConditionChannels {
		d.Net = newDCGANDiscriminator(c.DCGANConfig, c.Channels+c.Classes, rng)
		return d
	}
	d.Net = newDCGANDiscriminator(c.DCGANConfig, c.Channels, rng)
	d.Embed = nn.NewEmbedding(c.Classes, d.Net.FeatureDim(), rng)
	if c.NormalInit {
		nn.InitNormal(d.Embed.Weight.Data(), 0, 0.02, rng)
	} else {
		nn.XavierUniform(d.Embed.Weight.Data(), 1, rng)
	}
	if c.SpectralNorm {
		d.Embed = d.Embed.WithSpectralNorm(rng)
	}
	return d
}

// Classes is the number of classes.
func (d *CondDiscriminator) Classes() int { return d.classes }

// Features returns the features phi [N, F] and the logits [N, 1] of images
// x [N, Channels, Size, Size] with one label each. With label channels phi
// are the features of the image and its label maps. It panics if x has the
// wrong shape, or on a label count other than N or a label out of range.
func (d *CondDiscriminator) Features(x *autograd.Value, labels []int) (features, logits *autograd.Value) {
	d.check(x, labels)
	if d.Embed == nil {
		maps := autograd.Const(oneHotMaps(labels, d.classes, d.size))
		return d.Net.Features(autograd.Concat([]*autograd.Value{x, maps}, 1))
	}
	phi, psi := d.Net.Features(x)
	return phi, autograd.Add(psi, projection(d.Embed, phi, labels))
}

// check panics if x is not [N, Channels, Size, Size] with a label in
// range for each sample.
func (d *CondDiscriminator) check(x *autograd.Value, labels []int) {
	xs := x.Shape()
	if len(xs) != 4 || xs[1] != d.channels || xs[2] != d.size || xs[3] != d.size {
		panic(fmt.Sprintf("models.CondDiscriminator: input shape %v, want [N %d %d %d]", xs, d.channels, d.size, d.size))
	}
	checkLabels("models.CondDiscriminator", labels, xs[0], d.classes)
}

// projection is the projection discriminator's class term (Miyato & Koyama
// 2018): <embed[y_i], phi_i> [N, 1] for features phi [N, F] and an
// embedding of F per class.
func projection(embed *nn.Embedding, phi *autograd.Value, labels []int) *autograd.Value {
	return autograd.Sum(autograd.Mul(embed.Forward(labels), phi), []int{1}, true)
}

// ForwardRelabel returns the logits of images x under labels and under
// other (gan.Relabeler). The projection D reads x's features once; with
// label channels the label is part of the input, so it makes two passes.
// It panics as Features does, for either label set.
func (d *CondDiscriminator) ForwardRelabel(x *autograd.Value, labels, other []int) (logits, otherLogits *autograd.Value) {
	if d.Embed == nil {
		return d.Forward(x, labels), d.Forward(x, other)
	}
	d.check(x, labels)
	d.check(x, other)
	phi, psi := d.Net.Features(x)
	return autograd.Add(psi, projection(d.Embed, phi, labels)), autograd.Add(psi, projection(d.Embed, phi, other))
}

// Forward returns the logits [N, 1] of images x with one label each; see
// Features.
func (d *CondDiscriminator) Forward(x *autograd.Value, labels []int) *autograd.Value {
	_, l := d.Features(x, labels)
	return l
}

func (d *CondDiscriminator) children() nn.Children {
	return nn.Children{{Name: "embed", Module: d.Embed}, {Name: "net", Module: d.Net}}
}

// Params lists the embedding's, then the network's parameters.
func (d *CondDiscriminator) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists batch norm's statistics and spectral norm's vectors.
func (d *CondDiscriminator) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining switches batch norm and spectral norm's power iteration.
func (d *CondDiscriminator) SetTraining(on bool) { d.children().SetTraining(on) }
