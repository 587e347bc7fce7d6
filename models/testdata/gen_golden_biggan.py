#!/usr/bin/python3
"""Writes golden_biggan.json: PyTorch references for models/golden_biggan_test.go.

BigGAN's generator block and a whole small generator (models.BigGBlock and
BigGANGenerator), in PyTorch with the module names of Kallima's models
package, built from the layers of gen_golden_resnet.py (LinearCondBN,
SelfAttention) and checked with its case(): outputs, input and parameter
gradients, the second-order penalty gradients, buffers after the pass and
the evaluation-mode output. See gen_golden_resnet.py for the quantities.

    bigblock    BigGBlock(3, 2, dim 4, upsampling): linear conditional batch
                norms with spectral norm, spectrally normalised convolutions
    biggen28    BigGANGenerator at 28x28: shared embedding (3 classes, 2-d),
                z of 6 in 3 chunks of 2, width 4, self-attention

Run from this directory with Debian's python3-torch (1.13) and numpy:

    /usr/bin/python3 gen_golden_biggan.py
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from gen_golden_resnet import SN, LinearCondBN, SelfAttention, case, g_levels


class BigGBlock(nn.Module):
    def __init__(self, cin, cout, dim, up):
        super().__init__()
        self.b1 = LinearCondBN(cin, dim)
        self.c1 = SN(nn.Conv2d(cin, cout, 3, padding=1))
        self.b2 = LinearCondBN(cout, dim)
        self.c2 = SN(nn.Conv2d(cout, cout, 3, padding=1))
        if cin != cout or up:
            self.c_sc = SN(nn.Conv2d(cin, cout, 1))
        self.up = up

    def forward(self, x, v):
        up = (lambda h: F.interpolate(h, scale_factor=2, mode="nearest")) if self.up else (lambda h: h)
        h = self.c1(up(F.relu(self.b1(x, v))))
        h = self.c2(F.relu(self.b2(h, v)))
        sc = up(x)
        if hasattr(self, "c_sc"):
            sc = self.c_sc(sc)
        return h + sc


class BigGenerator(nn.Module):
    def __init__(self, size, channels, width, zdim, classes, shared):
        super().__init__()
        self.base, n = g_levels(size)
        self.width, self.chunk = width, zdim // (n + 1)
        self.shared = nn.Embedding(classes, shared)
        self.l1 = SN(nn.Linear(self.chunk, self.base * self.base * width))
        self.blocks = nn.ModuleList([BigGBlock(width, width, shared + self.chunk, True) for _ in range(n)])
        self.attn_at = (n - 1) // 2
        self.attn = SelfAttention(width, True)
        self.b_out = nn.BatchNorm2d(width)
        self.c_out = SN(nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, z, labels):
        zs = torch.split(z, self.chunk, dim=1)
        e = self.shared(torch.tensor(labels))
        h = self.l1(zs[0]).view(z.shape[0], self.width, self.base, self.base)
        for i, b in enumerate(self.blocks):
            h = b(h, torch.cat([e, zs[i + 1]], 1))
            if i == self.attn_at:
                h = self.attn(h)
        return torch.tanh(self.c_out(F.relu(self.b_out(h))))


def main():
    cases = {
        "bigblock": case(21, BigGBlock(3, 2, 4, True), [3, 3, 2, 3], vs=[3, 4]),
        "biggen28": case(22, BigGenerator(28, 1, 4, 6, 3, 2), [2, 6], labels=[2, 0]),
    }
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_biggan.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
