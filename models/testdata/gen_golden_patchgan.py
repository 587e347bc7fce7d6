#!/usr/bin/python3
"""Writes golden_patchgan.json: PyTorch references for models/golden_patchgan_test.go.

Each case is a PatchGAN discriminator (models/patchgan.go) written here in
PyTorch with the same module names, so its state_dict keys (less
BatchNorm's num_batches_tracked) are the names the Go network lists. The
conventions are gen_golden_dcgan.py's (whose helpers this script imports):
float32 weights drawn by numpy from fixed seeds and stored, inputs and
output weights r the wave sin(0.731 i + phase) recomputed by Go, PyTorch
in float64 and training mode. For each case:

    out        = D(x), the patch logits [N, 1, H', W']
    grad_x     = d sum(out * r) / dx
    grad.P     = d sum(out * r) / dP   for every parameter P
    pen_grad.P = d sum(grad_x^2) / dP  (second order, as a gradient penalty needs)
    after.B    = every buffer after the forward pass

Run from this directory with Debian's python3-torch and numpy:

    /usr/bin/python3 gen_golden_patchgan.py
"""
import json

import numpy as np
import torch
import torch.nn as nn

from gen_golden_dcgan import buffers_after, draw, inp, res, t, wave

torch.set_default_dtype(torch.float64)


class Block(nn.Module):
    def __init__(self, conv, norm, act):
        super().__init__()
        self.conv = conv
        if norm is not None:
            self.norm = norm
        self.act = act

    def forward(self, x):
        x = self.conv(x)
        if hasattr(self, "norm"):
            x = self.norm(x)
        return self.act(x) if self.act is not None else x


def make_norm(kind, c):
    if kind == "batch":
        return nn.BatchNorm2d(c)
    if kind == "instance":
        return nn.InstanceNorm2d(c, affine=False)
    return None


class PatchGAN(nn.Module):
    """Layers stride-2 4x4 convolutions (no norm on the first), one stride-1
    4x4 convolution with norm, all followed by LeakyReLU(0.2), then a
    stride-1 4x4 convolution to one channel; channels Width * 2^min(i, 3)."""

    def __init__(self, cin, width, layers, norm):
        super().__init__()
        self.blocks = nn.ModuleList()
        for i in range(layers + 1):
            cout = width << min(i, 3)
            stride = 2 if i < layers else 1
            n = make_norm(norm, cout) if i > 0 else None
            conv = nn.Conv2d(cin, cout, 4, stride, 1, bias=n is None)
            self.blocks.append(Block(conv, n, nn.LeakyReLU(0.2)))
            cin = cout
        self.out = nn.Conv2d(cin, 1, 4, 1, 1)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.out(x)


def fill(rng, m):
    """Draws every parameter and buffer of m as float32 (norm scales near
    1) and returns the state by name (num_batches_tracked left out)."""
    state = {}
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm.weight"):
                a = draw(rng, *p.shape, scale=0.1, shift=1.0)
            elif p.dim() == 1:
                a = draw(rng, *p.shape, scale=0.1)
            else:
                a = draw(rng, *p.shape, scale=1.0 / np.sqrt(np.prod(p.shape[1:])))
            p.copy_(t(a))
            state[name] = a
        for name, b in m.named_buffers():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                a = (np.abs(draw(rng, *b.shape)) + np.float32(0.5)).astype(np.float32)
            else:
                a = draw(rng, *b.shape, scale=0.1)
            b.copy_(t(a))
            state[name] = a
    return state


def case(seed, config, n):
    m = PatchGAN(config["channels"], config["width"], config["layers"], config["norm"])
    rng = np.random.default_rng(seed)
    state = fill(rng, m)
    m.train()
    xs = [n, config["channels"], config["size"], config["size"]]
    xt = t(wave(xs, 0.5), True)
    out = m(xt)
    rs = list(out.shape)
    r = wave(rs, 1.5)
    params = dict(m.named_parameters())
    grads = torch.autograd.grad((out * t(r)).sum(), [xt] + list(params.values()), create_graph=True)
    gx = grads[0]
    pen_grads = torch.autograd.grad((gx ** 2).sum(), list(params.values()), allow_unused=True)
    zero = lambda g, p: g if g is not None else torch.zeros_like(p)
    return {
        "config": config, "state": {k: inp(a) for k, a in state.items()},
        "x": {"shape": xs, "phase": 0.5}, "r": {"shape": rs, "phase": 1.5},
        "out": res(out), "grad_x": res(gx),
        "grad": {k: res(g) for k, g in zip(params.keys(), grads[1:])},
        "pen_grad": {k: res(zero(g, p)) for (k, p), g in zip(params.items(), pen_grads)},
        "after": buffers_after(m),
    }


def main():
    cases = {
        # pix2pix on MNIST pairs: 2 channels, the default one stride-2 layer.
        "p28_batch_l1": case(11, dict(size=28, channels=2, width=2, layers=1, norm="batch"), 2),
        # CycleGAN's norm, two stride-2 layers on 32x32.
        "p32_instance_l2": case(12, dict(size=32, channels=1, width=2, layers=2, norm="instance"), 2),
        # No norm, three stride-2 layers (the 70x70 geometry) on 28x28.
        "p28_none_l3": case(13, dict(size=28, channels=3, width=1, layers=3, norm="none"), 2),
    }
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_patchgan.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
