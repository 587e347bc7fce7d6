package models

import (
	"testing"

	"github.com/kallima-gan/kallima/tensor"
)

// TestGoldenUNet checks the U-Net (28x28 down to 1x1 with batch norm and
// the output paddings 28 needs; 32x32 down to 4x4 with instance norm and
// other input and output channels) against PyTorch twins with dropout off:
// output, input and parameter gradients, running statistics.
func TestGoldenUNet(t *testing.T) {
	for name, c := range loadGoldenNets(t, "golden_unet.json", 2) {
		t.Run(name, func(t *testing.T) {
			u, err := NewUNet(UNetConfig{Size: c.int(t, "size"), Channels: c.int(t, "channels"), OutChannels: c.int(t, "out_channels"),
				Width: c.int(t, "width"), Depth: c.int(t, "depth"), Norm: c.str(t, "norm"), Dropout: 0.5}, tensor.NewRNG(1), tensor.NewRNG(2))
			if err != nil {
				t.Fatal(err)
			}
			if !u.HasDropout() {
				t.Fatal("the U-Net has no dropout layer to turn off")
			}
			u.SetDropout(false)
			checkGoldenNet(t, u, u.Forward, c, false)
		})
	}
}
