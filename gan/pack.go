package gan

import (
	"fmt"

	ag "github.com/kallima-gan/kallima/autograd"
	"github.com/kallima-gan/kallima/tensor"
)

// Pack is PacGAN's packing (Lin et al. 2018, "PacGAN: The power of two
// samples in generative adversarial networks", arXiv:1712.04086): it turns a
// batch x [N, C, ...] into N/m packed samples [N/m, m*C, ...], group g
// holding samples g*m .. g*m+m-1 concatenated along dimension 1 (channels
// for images [N, C, H, W], features for points [N, F]): packed channel
// j*C + c is sample g*m+j's channel c, as torch.cat([x[g*m+j] for j], 1).
// The discriminator then maps each group of m samples to one output, and
// its input layer is m times wider; nothing else of it changes (the paper's
// PacDCGAN changes only the first layer's input width).
//
// A batch passed to Pack is all real or all fake (the games pack the real
// and the fake batch separately), and its samples are independent draws, so
// consecutive grouping is the paper's "m samples drawn jointly from the
// same distribution". Pack shares x's data (a reshape; the gradient is
// reshaped back). m <= 1 returns x itself. It panics if x has fewer than
// two dimensions or N is not a multiple of m; configs check train.batch
// against model.pack first.
func Pack(x *ag.Value, m int) *ag.Value {
	if m <= 1 {
		return x
	}
	return ag.Reshape(x, packedShape(x.Shape(), m)...)
}

// PackTensor is Pack on a tensor without a graph (the penalties' inputs).
func PackTensor(x *tensor.Tensor, m int) *tensor.Tensor {
	if m <= 1 {
		return x
	}
	return tensor.Reshape(x, packedShape(x.Shape(), m)...)
}

// packedShape returns [N/m, m*C, rest...] for a batch of shape s.
func packedShape(s []int, m int) []int {
	if len(s) < 2 || s[0]%m != 0 {
		panic(fmt.Sprintf("gan.Pack: batch of shape %v cannot be packed in groups of %d (want [N, C, ...] with N a multiple of %d)", s, m, m))
	}
	out := append([]int{s[0] / m, s[1] * m}, s[2:]...)
	return out
}
