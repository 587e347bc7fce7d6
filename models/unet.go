package models

import (
	"fmt"

	"github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/nn"
	"github.com/kallima-gan/kallima/tensor"
)

// UNetConfig describes pix2pix's U-Net generator (Isola et al. 2017,
// "Image-to-Image Translation with Conditional Adversarial Networks",
// arXiv:1611.07004, section 3.2.1 and appendix 6.1.1; Ronneberger et al.
// 2015, arXiv:1505.04597): an encoder-decoder whose decoder layer at each
// resolution also sees the encoder's maps of that resolution, concatenated
// along channels, so detail the bottleneck cannot carry (an MNIST digit's
// edges, its position) passes straight across.
//
// Sides that are not a power of two work by output padding: every encoder
// convolution (4x4, stride 2, padding 1) maps side s to floor(s/2), and the
// decoder's transposed convolution back to that level adds one row and
// column (output padding 1) where s was odd. A 28x28 image goes 28, 14, 7,
// 3, 1 down and 1, 3, 7, 14, 28 up (Depth 4), a 32x32 one 32, 16, 8, 4,
// 2, 1 and back (Depth 5); no padding or cropping of the image is needed.
type UNetConfig struct {
	Size        int // image side; at least 2
	Channels    int // input channels (domain A)
	OutChannels int // output channels (domain B); 0 means Channels
	// Width is the first encoder layer's channel count (64 in the paper);
	// it doubles at each level up to 8 * Width (C64-C128-C256-C512-...).
	Width int
	// Depth is the number of stride-2 encoder layers, at least 2; 0 means
	// down to a 1x1 bottleneck as in the paper (MaxUNetDepth: 4 for 28, 5
	// for 32).
	Depth int
	// Norm is NormBatch (the paper), NormInstance or NormNone; "" means
	// NormBatch.
	Norm string
	// Dropout is the drop probability of the innermost decoder layers, the
	// paper's only noise source (0.5 in the paper; 0 for none), and
	// DropoutLayers how many decoder layers, from the bottleneck out, have
	// it (the paper's three of eight); 0 means Depth/2 (2 for Depth 4 or
	// 5).
	Dropout       float64
	DropoutLayers int
	// NormalInit draws the paper's initialisation: weights N(0, 0.02),
	// batch norm scales N(1, 0.02), biases 0. When false the layers keep
	// PyTorch's default initialisation.
	NormalInit bool
}

// MaxUNetDepth is the number of stride-2 layers that take a side to 1:
// the halvings (rounding down) of size until it is 1.
func MaxUNetDepth(size int) int {
	d := 0
	for ; size > 1; size /= 2 {
		d++
	}
	return d
}

func (c UNetConfig) depth() int {
	if c.Depth == 0 {
		return MaxUNetDepth(c.Size)
	}
	return c.Depth
}

func (c UNetConfig) dropoutLayers() int {
	if c.DropoutLayers == 0 {
		return c.depth() / 2
	}
	return c.DropoutLayers
}

// Validate reports the first field of c no U-Net can have, naming it.
func (c UNetConfig) Validate() error {
	maxd := MaxUNetDepth(c.Size)
	switch {
	case c.Size < 4:
		return fmt.Errorf("unet: Size %d: want an image side of at least 4", c.Size)
	case c.Channels <= 0:
		return fmt.Errorf("unet: Channels %d: must be positive", c.Channels)
	case c.OutChannels < 0:
		return fmt.Errorf("unet: OutChannels %d: must be positive (0 for Channels)", c.OutChannels)
	case c.Width <= 0:
		return fmt.Errorf("unet: Width %d: must be positive", c.Width)
	case c.Depth < 0 || c.Depth == 1 || c.Depth > maxd:
		return fmt.Errorf("unet: Depth %d: want 2 to %d stride-2 layers for %dx%d images (0 for %d, down to 1x1)", c.Depth, maxd, c.Size, c.Size, maxd)
	case c.Dropout < 0 || c.Dropout >= 1:
		return fmt.Errorf("unet: Dropout %g: want a probability in [0, 1) (0.5 in the paper, 0 for none)", c.Dropout)
	case c.DropoutLayers < 0 || c.DropoutLayers > c.depth()-1:
		return fmt.Errorf("unet: DropoutLayers %d: want 0 (for %d) to %d, the decoder layers before the output", c.DropoutLayers, c.depth()/2, c.depth()-1)
	}
	return checkNorm("unet", c.Norm)
}

// UNet maps images x [N, Channels, Size, Size] to images [N, OutChannels,
// Size, Size] in [-1, 1]. With e_i the encoder's maps at level i+1 (side
// L_{i+1}, L_0 = Size, L_{i+1} = floor(L_i/2)) and ch_i = Width *
// 2^min(i, 3) channels:
//
//	e_0 = LeakyReLU_0.2(Conv2d(x; Channels -> ch_0, k4 s2 p1))
//	e_i = LeakyReLU_0.2(norm(Conv2d(e_{i-1}; ch_{i-1} -> ch_i, k4 s2 p1)))  for 0 < i < Depth-1
//	e_{D-1} = LeakyReLU_0.2(Conv2d(e_{D-2}; -> ch_{D-1}, k4 s2 p1))         the bottleneck, no norm
//	u_{D-2} = ReLU(norm(ConvTranspose2d(e_{D-1}; -> ch_{D-2}, k4 s2 p1)))
//	u_{i-1} = ReLU(norm(ConvTranspose2d([e_i, u_i]; 2 ch_i -> ch_{i-1}, k4 s2 p1)))
//	y = tanh(ConvTranspose2d([e_0, u_0]; 2 ch_0 -> OutChannels, k4 s2 p1))
//
// where [a, b] concatenates along channels (the skip first) and each
// transposed convolution has output padding L_i - 2 L_{i+1}. The skips
// carry the encoder's activations, as the paper's appendix describes (the
// authors' code concatenates them before the LeakyReLU and applies the
// decoder's ReLU to the concatenation instead). Dropout follows the ReLU
// of the DropoutLayers innermost decoder layers (u_{D-2} outwards). The
// bottleneck has no norm, as in the authors' code: at 1x1 with the paper's
// batch of one, batch norm would zero it. Convolutions followed by a norm
// have no bias; the others have one.
//
// State names: down.<i>.conv.{weight,bias}, down.<i>.norm.*,
// up.<k>.conv.weight, up.<k>.norm.* (k = 0 the innermost decoder layer),
// out.{weight,bias}.
type UNet struct {
	Down []*NormBlock
	Up   []*NormBlock
	Drop []*nn.Dropout // per Up layer; nil where it has none
	Out  *nn.ConvTranspose2d

	in, size int
	dropping bool // the dropout layers' mode
}

// NewUNet builds the U-Net c describes, drawing weights from rng; its
// dropout masks come from drop, which the caller keeps as a training
// stream (it may be nil when c.Dropout is 0). It returns an error naming
// the field if c is invalid.
func NewUNet(c UNetConfig, rng, drop *tensor.RNG) (*UNet, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Dropout > 0 && drop == nil {
		return nil, fmt.Errorf("unet: Dropout %g without a stream to draw masks from", c.Dropout)
	}
	if c.Norm == "" {
		c.Norm = NormBatch
	}
	if c.OutChannels == 0 {
		c.OutChannels = c.Channels
	}
	d := c.depth()
	sides := make([]int, d+1)
	sides[0] = c.Size
	for i := 1; i <= d; i++ {
		sides[i] = sides[i-1] / 2
	}
	ch := func(i int) int { return c.Width << min(i, 3) }
	u := &UNet{in: c.Channels, size: c.Size, dropping: true}
	initW := func(w, b *autograd.Value) {
		if c.NormalInit {
			normalInit(w, b, rng)
		}
	}
	in := c.Channels
	for i := range d {
		conv := nn.NewConv2d(in, ch(i), 4, stride2, rng)
		var norm nn.Layer
		if i > 0 && i < d-1 {
			norm = newNorm(c.Norm, ch(i), c.NormalInit, rng)
		}
		if norm != nil {
			conv.Bias = nil
		}
		initW(conv.Weight, conv.Bias)
		u.Down = append(u.Down, &NormBlock{Conv: conv, Norm: norm, Act: nn.LeakyReLU{Slope: 0.2}})
		in = ch(i)
	}
	for k := range d - 1 {
		j := d - 1 - k // the level this layer reads: e_j (and u_j)
		if k > 0 {
			in = 2 * ch(j)
		}
		conv := nn.NewConvTranspose2d(in, ch(j-1), 4, nn.ConvOptions{Stride: 2, Padding: 1, OutputPadding: sides[j] - 2*sides[j+1]}, rng)
		norm := newNorm(c.Norm, ch(j-1), c.NormalInit, rng)
		if norm != nil {
			conv.Bias = nil
		}
		initW(conv.Weight, conv.Bias)
		u.Up = append(u.Up, &NormBlock{Conv: conv, Norm: norm, Act: nn.ReLU{}})
		var drop1 *nn.Dropout
		if c.Dropout > 0 && k < c.dropoutLayers() {
			drop1 = nn.NewDropout(c.Dropout, drop)
		}
		u.Drop = append(u.Drop, drop1)
	}
	u.Out = nn.NewConvTranspose2d(2*ch(0), c.OutChannels, 4, nn.ConvOptions{Stride: 2, Padding: 1, OutputPadding: sides[0] - 2*sides[1]}, rng)
	initW(u.Out.Weight, u.Out.Bias)
	return u, nil
}

// Forward maps x [N, Channels, Size, Size] to [N, OutChannels, Size,
// Size]. It panics if x has another shape.
func (u *UNet) Forward(x *autograd.Value) *autograd.Value {
	if xs := x.Shape(); len(xs) != 4 || xs[1] != u.in || xs[2] != u.size || xs[3] != u.size {
		panic(fmt.Sprintf("models.UNet: input shape %v, want [N %d %d %d]", xs, u.in, u.size, u.size))
	}
	skips := make([]*autograd.Value, len(u.Down))
	h := x
	for i, b := range u.Down {
		h = b.Forward(h)
		skips[i] = h
	}
	for k, b := range u.Up {
		if k > 0 {
			h = autograd.Concat([]*autograd.Value{skips[len(u.Down)-1-k], h}, 1)
		}
		h = b.Forward(h)
		if u.Drop[k] != nil {
			h = u.Drop[k].Forward(h)
		}
	}
	return autograd.Tanh(u.Out.Forward(autograd.Concat([]*autograd.Value{skips[0], h}, 1)))
}

func (u *UNet) children() nn.Children {
	c := make(nn.Children, 0, len(u.Down)+len(u.Up)+1)
	for i, b := range u.Down {
		c = append(c, nn.Child{Name: fmt.Sprintf("down.%d", i), Module: b})
	}
	for k, b := range u.Up {
		c = append(c, nn.Child{Name: fmt.Sprintf("up.%d", k), Module: b})
	}
	return append(c, nn.Child{Name: "out", Module: u.Out})
}

// Params lists the parameters in forward order.
func (u *UNet) Params(prefix string) []nn.Param { return u.children().Params(prefix) }

// Buffers lists the batch norms' running statistics.
func (u *UNet) Buffers(prefix string) []nn.Buffer { return u.children().Buffers(prefix) }

// SetTraining switches batch norm between batch and running statistics
// and dropout on or off, as PyTorch's train() and eval() do.
func (u *UNet) SetTraining(on bool) {
	u.children().SetTraining(on)
	u.SetDropout(on)
}

// SetDropout turns dropout alone on or off; call it after SetTraining(false)
// to keep dropout at test time, as the paper does.
func (u *UNet) SetDropout(on bool) {
	u.dropping = on
	for _, d := range u.Drop {
		if d != nil {
			d.SetTraining(on)
		}
	}
}

// Dropping reports whether dropout is on (the last SetTraining or
// SetDropout; true for a new U-Net, which is in training mode).
func (u *UNet) Dropping() bool { return u.dropping }

// HasDropout reports whether any layer drops.
func (u *UNet) HasDropout() bool {
	for _, d := range u.Drop {
		if d != nil {
			return true
		}
	}
	return false
}
