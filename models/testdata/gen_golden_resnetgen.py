#!/usr/bin/python3
"""Writes golden_resnetgen.json: PyTorch references for models/golden_resnetgen_test.go.

CycleGAN's ResNet generator and its residual block (models.ResNetGenerator,
models.ResNetBlock), built here from PyTorch's own layers (ReflectionPad2d,
Conv2d, InstanceNorm2d without affine parameters and without running
statistics, ConvTranspose2d with output padding, ReLU, Tanh) in the layout
of the CycleGAN paper's appendix (arXiv:1703.10593), so the state_dict keys
are the names the Go modules list ("model.K.*", "conv_block.1.*"); the Go
test loads the state with nn.LoadState, which fails on any missing or extra
name.

Weights are drawn by numpy from fixed seeds, rounded to float32 (so Go sees
exactly the same numbers) and stored. The input x and the output weights r
are the wave sin(0.731 i + phase) over the row-major index i, rounded to
float32, which the Go test recomputes. PyTorch computes in float64:

    out        = M(x)
    grad_x     = d sum(out * r) / dx
    grad.P     = d sum(out * r) / dP  for every parameter P
    pen_grad.P = d sum(grad_x^2) / dP   (block only: the second-order path
                                         through reflection padding and
                                         instance norm)

Tensors are {"shape": [...], "data": [...]} (row-major); the state is
written with 9 significant digits (exact for float32), results with 8.

Run from this directory with Debian's python3-torch (1.13) and numpy:

    /usr/bin/python3 gen_golden_resnetgen.py
"""
import json

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)

from gen_golden_dcgan import draw, inp, res, t, wave  # noqa: E402 (the shared conventions)


def norm(c):
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), norm(c), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), norm(c))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, channels, width, blocks):
        super().__init__()
        w = width
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(channels, w, 7), norm(w), nn.ReLU()]
        for m in (1, 2):
            layers += [nn.Conv2d(w * m, w * m * 2, 3, stride=2, padding=1), norm(w * m * 2), nn.ReLU()]
        layers += [ResnetBlock(4 * w) for _ in range(blocks)]
        for m in (4, 2):
            layers += [nn.ConvTranspose2d(w * m, w * m // 2, 3, stride=2, padding=1, output_padding=1),
                       norm(w * m // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def fill(rng, m):
    state = {}
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                a = draw(rng, *p.shape, scale=0.1)
            else:
                a = draw(rng, *p.shape, scale=1.0 / np.sqrt(np.prod(p.shape[1:])))
            p.copy_(t(a))
            state[name] = a
    return state


def case(seed, config, m, xs, second):
    rng = np.random.default_rng(seed)
    state = fill(rng, m)
    x = wave(xs, 0.5)
    xt = t(x, True)
    out = m(xt)
    r = wave(list(out.shape), 1.5)
    params = dict(m.named_parameters())
    grads = torch.autograd.grad((out * t(r)).sum(), [xt] + list(params.values()), create_graph=second)
    c = {
        "config": config, "state": {n: inp(a) for n, a in state.items()},
        "x": {"shape": xs, "phase": 0.5}, "r": {"shape": list(out.shape), "phase": 1.5},
        "out": res(out), "grad_x": res(grads[0]),
        "grad": {n: res(g) for n, g in zip(params.keys(), grads[1:])},
    }
    if second:
        pen = (grads[0] ** 2).sum()
        pg = torch.autograd.grad(pen, list(params.values()))
        c["pen_grad"] = {n: res(g) for n, g in zip(params.keys(), pg)}
    return c


def main():
    cases = {
        "block": case(1, dict(channels=3), ResnetBlock(3), [2, 3, 5, 4], True),
        "g28": case(2, dict(channels=1, width=2, blocks=2, size=28), ResnetGenerator(1, 2, 2), [2, 1, 28, 28], False),
        "g32_rgb": case(3, dict(channels=3, width=1, blocks=1, size=32), ResnetGenerator(3, 1, 1), [1, 3, 32, 32], False),
    }
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_resnetgen.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
