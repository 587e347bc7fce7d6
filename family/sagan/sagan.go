// Package sagan is the Self-Attention GAN family (model.kind sagan; Zhang
// et al. 2019, "Self-Attention Generative Adversarial Networks",
// arXiv:1805.08318): the SN-GAN ResNets of package sngan with SAGAN's
// self-attention block at the middle resolution of both networks (after
// G's block that reaches 14x14 for 28x28 images, 16x16 for 32x32; after
// D's first block, the same resolutions) and spectral norm on every layer
// of both, as the paper does. The paper trains with the hinge loss and
// the two time-scale update rule (lr_g 1e-4, lr_d 4e-4, one D step per G
// step; preset sagan-mnist). With model.conditional it is class-conditional
// like the paper's ImageNet model (conditional batch norm in G, projection
// in D).
package sagan

import (
	"github.com/kallima-gan/kallima/config"
	"github.com/kallima-gan/kallima/family"
	"github.com/kallima-gan/kallima/family/sngan"
	"github.com/kallima-gan/kallima/tensor"
)

// Section is the model: block of model.kind sagan: sngan's fields, with
// the same defaults.
type Section struct {
	sngan.Section `yaml:",inline"`
}

func init() {
	family.Register(family.Family{
		Name:       "sagan",
		Summary:    "SAGAN (Zhang et al. 2019): SN-GAN ResNets with self-attention and spectral norm in G and D",
		NewSection: func() config.ModelSection { return &Section{Section: sngan.Defaults()} },
		Build: func(c config.Config, d family.Data, root *tensor.RNG) (*family.Model, error) {
			return sngan.Build(c, d, root, &c.Model.Section.(*Section).Section, true)
		},
	})
}

// Validate checks the section against the config.
func (s *Section) Validate(c config.Config) error { return s.ValidateKind(c, "sagan") }
