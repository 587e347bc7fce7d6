// Package all registers every model family; import it for its side
// effect (import _ "github.com/kallima-gan/kallima/family/all") where any
// config may be read.
package all

import (
	// Each family registers itself in its init.
	_ "github.com/kallima-gan/kallima/family/aae"
	_ "github.com/kallima-gan/kallima/family/acgan"
	_ "github.com/kallima-gan/kallima/family/avb"
	_ "github.com/kallima-gan/kallima/family/bigan"
	_ "github.com/kallima-gan/kallima/family/biggan"
	_ "github.com/kallima-gan/kallima/family/cgan"
	_ "github.com/kallima-gan/kallima/family/cyclegan"
	_ "github.com/kallima-gan/kallima/family/dcgan"
	_ "github.com/kallima-gan/kallima/family/infogan"
	_ "github.com/kallima-gan/kallima/family/mixgan"
	_ "github.com/kallima-gan/kallima/family/mlp"
	_ "github.com/kallima-gan/kallima/family/pix2pix"
	_ "github.com/kallima-gan/kallima/family/sagan"
	_ "github.com/kallima-gan/kallima/family/sngan"
	_ "github.com/kallima-gan/kallima/family/stargan"
	_ "github.com/kallima-gan/kallima/family/vae"
)
