package models

import (
	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// ACDiscriminator is the discriminator of an auxiliary classifier GAN
// (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier
// GANs", arXiv:1610.09585): a DCGAN discriminator's trunk whose features
// phi(x) [N, F] feed two heads, the DCGAN's source head (one real/fake
// logit) and a linear class head of Classes logits:
//
//	source = Net.Head(phi(x))    [N, 1]
//	class  = Class(phi(x))       [N, Classes]
//
// It does not take the label: it predicts it.
//
// State names: the DCGAN discriminator's names under "net", then
// class.weight and class.bias (spectral norm's class.weight_orig, _u, _v
// with SpectralNorm).
type ACDiscriminator struct {
	Net   *DCGANDiscriminator
	Class *nn.Linear

	classes int
}

// NewACDiscriminator builds the discriminator c describes (c.EmbedDim and
// c.Conditioning are not used), drawing weights from rng: the trunk and
// source head first, as NewDCGANDiscriminator draws them, then the class
// head (N(0, 0.02) weights and zero bias with NormalInit). It returns an
// error naming the field if c is invalid.
func NewACDiscriminator(c CGANConfig, rng *tensor.RNG) (*ACDiscriminator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	d := &ACDiscriminator{Net: newDCGANDiscriminator(c.DCGANConfig, c.Channels, rng), classes: c.Classes}
	d.Class = nn.NewLinear(d.Net.FeatureDim(), c.Classes, rng)
	if c.NormalInit {
		normalInit(d.Class.Weight, d.Class.Bias, rng)
	}
	if c.SpectralNorm {
		d.Class = d.Class.WithSpectralNorm(rng)
	}
	return d, nil
}

// Classes is the number of classes the class head scores.
func (d *ACDiscriminator) Classes() int { return d.classes }

// Forward returns the source logits [N, 1] and the class logits
// [N, Classes] of images x [N, Channels, Size, Size]. It panics if x has
// another shape.
func (d *ACDiscriminator) Forward(x *autograd.Value) (source, class *autograd.Value) {
	phi, source := d.Net.Features(x)
	return source, d.Class.Forward(phi)
}

func (d *ACDiscriminator) children() nn.Children {
	return nn.Children{{Name: "net", Module: d.Net}, {Name: "class", Module: d.Class}}
}

// Params lists the trunk's and source head's, then the class head's
// parameters.
func (d *ACDiscriminator) Params(prefix string) []nn.Param { return d.children().Params(prefix) }

// Buffers lists batch norm's statistics and spectral norm's vectors.
func (d *ACDiscriminator) Buffers(prefix string) []nn.Buffer { return d.children().Buffers(prefix) }

// SetTraining switches batch norm and spectral norm's power iteration.
func (d *ACDiscriminator) SetTraining(on bool) { d.children().SetTraining(on) }
