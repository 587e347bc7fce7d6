#!/usr/bin/python3
"""Writes golden_unet.json: PyTorch references for models/golden_unet_test.go.

Each case is a U-Net generator (models/unet.go) written here in PyTorch with
the same module names, so its state_dict keys (less BatchNorm's
num_batches_tracked) are the names the Go network lists. The conventions
are gen_golden_dcgan.py's: float32 weights drawn by numpy from fixed seeds
and stored, the input x and output weights r the wave sin(0.731 i + phase)
recomputed by Go, PyTorch in float64 and training mode (batch statistics)
with dropout off (the Go test turns it off with SetDropout(false); dropout
holds no state). For each case:

    out      = G(x)
    grad_x   = d sum(out * r) / dx
    grad.P   = d sum(out * r) / dP  for every parameter P
    after.B  = every buffer after the forward pass

Run from this directory with Debian's python3-torch and numpy:

    /usr/bin/python3 gen_golden_unet.py
"""
import json

import numpy as np
import torch
import torch.nn as nn

from gen_golden_dcgan import buffers_after, inp, res, t, wave
from gen_golden_patchgan import Block, fill, make_norm

torch.set_default_dtype(torch.float64)


class UNet(nn.Module):
    """Encoder: Depth 4x4 stride-2 convolutions + norm (none on the first
    and the bottleneck) + LeakyReLU(0.2), channels Width * 2^min(i, 3).
    Decoder: 4x4 stride-2 transposed convolutions + norm + ReLU, each (but
    the innermost) reading [skip, previous] concatenated along channels,
    output padding where the encoder's side was odd; the last one to the
    output channels with tanh."""

    def __init__(self, size, cin, cout, width, depth, norm):
        super().__init__()
        sides = [size]
        for _ in range(depth):
            sides.append(sides[-1] // 2)
        ch = lambda i: width << min(i, 3)
        self.down = nn.ModuleList()
        c = cin
        for i in range(depth):
            n = make_norm(norm, ch(i)) if 0 < i < depth - 1 else None
            self.down.append(Block(nn.Conv2d(c, ch(i), 4, 2, 1, bias=n is None), n, nn.LeakyReLU(0.2)))
            c = ch(i)
        self.up = nn.ModuleList()
        for k in range(depth - 1):
            j = depth - 1 - k
            if k > 0:
                c = 2 * ch(j)
            n = make_norm(norm, ch(j - 1))
            conv = nn.ConvTranspose2d(c, ch(j - 1), 4, 2, 1, output_padding=sides[j] - 2 * sides[j + 1], bias=n is None)
            self.up.append(Block(conv, n, nn.ReLU()))
        self.out = nn.ConvTranspose2d(2 * ch(0), cout, 4, 2, 1, output_padding=sides[0] - 2 * sides[1])

    def forward(self, x):
        skips = []
        h = x
        for b in self.down:
            h = b(h)
            skips.append(h)
        for k, b in enumerate(self.up):
            if k > 0:
                h = torch.cat([skips[len(self.down) - 1 - k], h], 1)
            h = b(h)
        return torch.tanh(self.out(torch.cat([skips[0], h], 1)))


def case(seed, config, n):
    m = UNet(config["size"], config["channels"], config["out_channels"], config["width"], config["depth"], config["norm"])
    rng = np.random.default_rng(seed)
    state = fill(rng, m)
    m.train()
    xs = [n, config["channels"], config["size"], config["size"]]
    xt = t(wave(xs, 0.5), True)
    out = m(xt)
    rs = list(out.shape)
    r = wave(rs, 1.5)
    params = dict(m.named_parameters())
    grads = torch.autograd.grad((out * t(r)).sum(), [xt] + list(params.values()))
    return {
        "config": config, "state": {k: inp(a) for k, a in state.items()},
        "x": {"shape": xs, "phase": 0.5}, "r": {"shape": rs, "phase": 1.5},
        "out": res(out), "grad_x": res(grads[0]),
        "grad": {k: res(g) for k, g in zip(params.keys(), grads[1:])},
        "after": buffers_after(m),
    }


def main():
    cases = {
        # pix2pix on MNIST: 28 -> 14 -> 7 -> 3 -> 1 and back (output padding 1 at 3 and 7).
        "u28_batch_d4": case(21, dict(size=28, channels=1, out_channels=1, width=2, depth=4, norm="batch"), 2),
        # 32 down to 4x4 only, instance norm, 2 channels in and 1 out.
        "u32_instance_d3": case(22, dict(size=32, channels=2, out_channels=1, width=1, depth=3, norm="instance"), 2),
    }
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_unet.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
