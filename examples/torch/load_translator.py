#!/usr/bin/env python3
"""load_translator.py: Kallima's image-to-image translators in PyTorch.

Builds the torch module matching a Kallima translator (pix2pix's U-Net,
CycleGAN's ResNet generators, StarGAN's generator), loads a Kallima
checkpoint's weights into it by tensor name, and, given a folder written by
`kallima export RUN -dump DIR`, reproduces Kallima's translations of the same
images (x.npy, and StarGAN's targets domain.npy), printing the largest
absolute difference from y.npy (exit 1 above --tol).

CycleGAN's generators carry the state names of the official PyTorch
ResnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix: model.0 ... in
nn.Sequential order, a block's convolutions conv_block.1 and conv_block.5),
so the module below is that network's layout at Kallima's widths.

Usage:
  kallima export runs/cyclegan-thick -from B -out t.onnx -dump dump/
  /usr/bin/python3 examples/torch/load_translator.py runs/cyclegan-thick dump/
  ... --checkpoint runs/cyclegan-thick/checkpoints/step-001000.safetensors

The direction (two-domain models) and the weights (meta.json's "weights":
the EMA of the generators, "ema", or their own, "g") are the dump's unless
--raw asks for the live weights. pix2pix runs without dropout, as the dump's
translations are made. Needs torch, numpy and yaml (Debian's python3-torch,
python3-numpy, python3-yaml).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import yaml
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_generator import load_weights, newest_checkpoint, read_safetensors  # noqa: E402


class ResnetBlock(nn.Module):
    """x + IN(conv(pad(ReLU(IN(conv(pad(x))))))), reflection padding 1."""

    def __init__(self, c):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator (models.ResNetGenerator): 7x7 in, two stride-2
    convolutions, residual blocks, two transposed convolutions, 7x7 out,
    instance norm without affine parameters."""

    def __init__(self, channels, width, blocks):
        super().__init__()
        w = width
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, w, 7), nn.InstanceNorm2d(w), nn.ReLU(True)]
        for m in (1, 2):
            layers += [nn.Conv2d(w * m, w * m * 2, 3, 2, 1), nn.InstanceNorm2d(w * m * 2), nn.ReLU(True)]
        layers += [ResnetBlock(4 * w) for _ in range(blocks)]
        for m in (4, 2):
            layers += [nn.ConvTranspose2d(w * m, w * m // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(w * m // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class CycleGAN(nn.Module):
    """The generator player: g_ab then g_ba (the EMA's parameter order)."""

    def __init__(self, channels, width, blocks):
        super().__init__()
        self.g_ab = ResnetGenerator(channels, width, blocks)
        self.g_ba = ResnetGenerator(channels, width, blocks)


class NormBlock(nn.Module):
    """models.NormBlock: a (transposed) convolution, a norm or none, an
    activation or none; state "conv" and "norm"."""

    def __init__(self, conv, norm, act):
        super().__init__()
        self.conv, self.norm, self.act = conv, norm, act

    def forward(self, x):
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        return self.act(x) if self.act is not None else x


def norm_of(state, prefix, c, affine_in):
    """The norm whose state is under prefix: batch norm when it has running
    statistics, affine instance norm when it has a weight, else instance
    norm without one when affine_in is None and the block has a norm."""
    if prefix + "running_mean" in state:
        return nn.BatchNorm2d(c)
    if prefix + "weight" in state:
        return nn.InstanceNorm2d(c, affine=True)
    return nn.InstanceNorm2d(c) if affine_in else None


class UNet(nn.Module):
    """pix2pix's U-Net (models.UNet) without dropout: each decoder layer
    reads the encoder's maps at its level concatenated before its input."""

    def __init__(self, state, size, norm):
        super().__init__()
        depth = len({k.split(".")[1] for k in state if k.startswith("down.")})
        sides = [size]
        for _ in range(depth):
            sides.append(sides[-1] // 2)
        down = []
        for i in range(depth):
            w = state["down.%d.conv.weight" % i]
            has_norm = 0 < i < depth - 1 and norm != "none"
            conv = nn.Conv2d(w.shape[1], w.shape[0], 4, 2, 1, bias="down.%d.conv.bias" % i in state)
            down.append(NormBlock(conv, norm_of(state, "down.%d.norm." % i, w.shape[0], has_norm), nn.LeakyReLU(0.2)))
        up = []
        for k in range(depth - 1):
            j = depth - 1 - k
            w = state["up.%d.conv.weight" % k]
            conv = nn.ConvTranspose2d(w.shape[0], w.shape[1], 4, 2, 1, output_padding=sides[j] - 2 * sides[j + 1],
                                      bias="up.%d.conv.bias" % k in state)
            up.append(NormBlock(conv, norm_of(state, "up.%d.norm." % k, w.shape[1], norm != "none"), nn.ReLU()))
        w = state["out.weight"]
        self.down, self.up = nn.ModuleList(down), nn.ModuleList(up)
        self.out = nn.ConvTranspose2d(w.shape[0], w.shape[1], 4, 2, 1, output_padding=sides[0] - 2 * sides[1])

    def forward(self, x):
        skips, h = [], x
        for b in self.down:
            h = b(h)
            skips.append(h)
        for k, b in enumerate(self.up):
            if k > 0:
                h = torch.cat([skips[len(self.down) - 1 - k], h], 1)
            h = b(h)
        return torch.tanh(self.out(torch.cat([skips[0], h], 1)))


class StarGenerator(nn.Module):
    """StarGAN's generator (models.StarGenerator): the target's one-hot maps
    after the image, 7x7 in, two stride-2 convolutions, residual blocks,
    two transposed convolutions, 7x7 out; no biases, affine instance
    norms."""

    def __init__(self, state):
        super().__init__()
        cin, w = state["in.conv.weight"].shape[1], state["in.conv.weight"].shape[0]
        self.domains = cin - state["out.weight"].shape[0]
        blk = lambda conv, c, relu: NormBlock(conv, nn.InstanceNorm2d(c, affine=True), nn.ReLU() if relu else None)
        setattr(self, "in", blk(nn.Conv2d(cin, w, 7, 1, 3, bias=False), w, True))
        self.down = nn.ModuleList([blk(nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), 2 * w, True),
                                   blk(nn.Conv2d(2 * w, 4 * w, 4, 2, 1, bias=False), 4 * w, True)])
        c = 4 * w
        nres = len({k.split(".")[1] for k in state if k.startswith("res.")})
        self.res = nn.ModuleList(nn.ModuleDict({
            "a": blk(nn.Conv2d(c, c, 3, 1, 1, bias=False), c, True),
            "b": blk(nn.Conv2d(c, c, 3, 1, 1, bias=False), c, False)}) for _ in range(nres))
        self.up = nn.ModuleList([blk(nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), c // 2, True),
                                 blk(nn.ConvTranspose2d(c // 2, c // 4, 4, 2, 1, bias=False), c // 4, True)])
        self.out = nn.Conv2d(w, state["out.weight"].shape[0], 7, 1, 3, bias=False)

    def forward(self, x, domains):
        maps = nn.functional.one_hot(domains, self.domains).to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        h = getattr(self, "in")(torch.cat([x, maps], 1))
        for b in self.down:
            h = b(h)
        for r in self.res:
            h = h + r["b"](r["a"](h))
        for b in self.up:
            h = b(h)
        return torch.tanh(self.out(h))


def load(run, checkpoint, raw, shape):
    """Builds the translator of run for images of shape [C, H, W] and loads
    checkpoint's weights: the EMA (group ema_g, in the module's parameter
    and buffer order) unless raw, else the generators' own (group g)."""
    with open(os.path.join(run, "config.yaml")) as f:
        cfg = yaml.safe_load(f)
    model = cfg["model"]
    kind = model["kind"]
    tensors, _ = read_safetensors(checkpoint)
    state = {k[2:]: v for k, v in tensors.items() if k.startswith("g/")}
    if kind == "cyclegan":
        width = state["g_ab.model.1.weight"].shape[0]
        blocks = len({k.split(".")[2] for k in state if k.startswith("g_ab.") and ".conv_block." in k})
        g = CycleGAN(shape[0], width, blocks)
    elif kind == "pix2pix":
        g = UNet(state, shape[1], model.get("norm") or "batch")
    elif kind == "stargan":
        g = StarGenerator(state)
    else:
        sys.exit("model.kind %s: this script builds pix2pix, cyclegan and stargan translators" % kind)
    used = load_weights(g, tensors, state, checkpoint, raw)
    return g.eval(), kind, used


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a Kallima run folder of pix2pix, cyclegan or stargan")
    ap.add_argument("dump", help="a folder written by kallima export -dump")
    ap.add_argument("--checkpoint", help="a checkpoint file (default: the run's newest)")
    ap.add_argument("--raw", action="store_true", help="the generators' live weights instead of their EMA")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    with open(os.path.join(a.dump, "meta.json")) as f:
        meta = json.load(f)
    x = torch.from_numpy(np.load(os.path.join(a.dump, "x.npy")))
    want = np.load(os.path.join(a.dump, "y.npy"))
    ck = a.checkpoint or newest_checkpoint(a.run)
    g, kind, used = load(a.run, ck, a.raw or meta["weights"] == "g", tuple(x.shape[1:]))
    with torch.no_grad():
        if kind == "stargan":
            y = g(x, torch.from_numpy(np.load(os.path.join(a.dump, "domain.npy"))))
            what = "to each image's domain"
        elif kind == "cyclegan":
            y = (g.g_ab if meta["from"] == meta["domains"][0] else g.g_ba)(x)
            what = "%s to %s" % (meta["from"], meta["to"])
        else:
            y = g(x)
            what = "A to B"
    diff = float(np.abs(y.numpy() - want).max())
    print("%s (%s %s, %s weights, %s): torch %s, %d images %s, max |diff| %.3e" % (a.run, kind, what, used, os.path.basename(ck), torch.__version__, y.shape[0], list(y.shape[1:]), diff))
    if not diff <= a.tol:
        sys.exit("difference above %g" % a.tol)


if __name__ == "__main__":
    main()
