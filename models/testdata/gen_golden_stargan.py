#!/usr/bin/python3
"""Writes golden_stargan.json: PyTorch references for models/golden_stargan_test.go.

StarGAN's generator and discriminator (models.StarGenerator and
StarDiscriminator; Choi et al. 2018, arXiv:1711.09020), written here in
PyTorch with the module names of Kallima's models package, so the
state_dict keys are the names the Go networks list. Weights are drawn by
numpy and stored as float32 (see gen_golden_dcgan.py for the conventions:
the inputs and output weights r are waves the Go test recomputes, PyTorch
computes in float64, training mode).

    g28   StarGenerator at 28x28: 1 channel, 3 domains, width 2, 2 residual
          blocks; out = G(x, to), grad_x and grad.P of sum(out * r)
    d28   StarDiscriminator at 28x28: 1 channel, 3 domains, width 2, 3
          layers (28 -> 14 -> 7 -> 3); src [N,1,3,3] and cls [N,3];
          grad_x and grad.P of L = sum(src * r) + sum(cls * r2), and
          pen_grad.P = d sum(grad_x^2) / dP with grad_x = dL/dx recorded
          (the second-order path of WGAN-GP)

Run from this directory with Debian's python3-torch (1.13) and numpy:

    /usr/bin/python3 gen_golden_stargan.py
"""
import json

import numpy as np
import torch
import torch.nn as nn

from gen_golden_dcgan import draw, inp, res, t, wave

torch.set_default_dtype(torch.float64)


class NormConv(nn.Module):
    def __init__(self, conv, out, relu):
        super().__init__()
        self.conv = conv
        self.norm = nn.InstanceNorm2d(out, affine=True)
        self.relu = relu

    def forward(self, x):
        x = self.norm(self.conv(x))
        return torch.relu(x) if self.relu else x


class ResBlock(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.a = NormConv(nn.Conv2d(w, w, 3, 1, 1, bias=False), w, True)
        self.b = NormConv(nn.Conv2d(w, w, 3, 1, 1, bias=False), w, False)

    def forward(self, x):
        return x + self.b(self.a(x))


class Generator(nn.Module):
    def __init__(self, channels, domains, width, blocks):
        super().__init__()
        self.domains = domains
        w = width
        self.__setattr__("in", NormConv(nn.Conv2d(channels + domains, w, 7, 1, 3, bias=False), w, True))
        self.down = nn.ModuleList()
        for _ in range(2):
            self.down.append(NormConv(nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), 2 * w, True))
            w *= 2
        self.res = nn.ModuleList([ResBlock(w) for _ in range(blocks)])
        self.up = nn.ModuleList()
        for _ in range(2):
            self.up.append(NormConv(nn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False), w // 2, True))
            w //= 2
        self.out = nn.Conv2d(w, channels, 7, 1, 3, bias=False)

    def forward(self, x, to):
        c = nn.functional.one_hot(torch.tensor(to), self.domains).double()
        c = c[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        h = getattr(self, "in")(torch.cat([x, c], 1))
        for b in self.down:
            h = b(h)
        for b in self.res:
            h = b(h)
        for b in self.up:
            h = b(h)
        return torch.tanh(self.out(h))


class Discriminator(nn.Module):
    def __init__(self, size, channels, domains, width, layers):
        super().__init__()
        self.main = nn.ModuleList()
        cin, cout, side = channels, width, size
        for _ in range(layers):
            self.main.append(nn.Conv2d(cin, cout, 4, 2, 1))
            cin, cout, side = cout, 2 * cout, side // 2
        self.src = nn.Conv2d(cin, 1, 3, 1, 1, bias=False)
        self.cls = nn.Conv2d(cin, domains, side, bias=False)

    def forward(self, x):
        h = x
        for conv in self.main:
            h = nn.functional.leaky_relu(conv(h), 0.01)
        return self.src(h), self.cls(h).view(x.shape[0], -1)


def fill(rng, m):
    """Draws every parameter of m as float32 and returns the state by name."""
    state = {}
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm.weight"):
                a = draw(rng, *p.shape, scale=0.1, shift=1.0)
            elif p.dim() == 1:
                a = draw(rng, *p.shape, scale=0.1)
            else:
                fan = p.shape[0] * np.prod(p.shape[2:]) if "up." in name else np.prod(p.shape[1:])
                a = draw(rng, *p.shape, scale=1.0 / np.sqrt(fan))
            p.copy_(t(a))
            state[name] = a
    return state


def g_case(seed, config, to):
    rng = np.random.default_rng(seed)
    m = Generator(config["channels"], config["domains"], config["gwidth"], config["blocks"])
    state = fill(rng, m)
    m.train()
    xs = [len(to), config["channels"], config["size"], config["size"]]
    xt = t(wave(xs, 0.5), True)
    out = m(xt, to)
    r = wave(list(out.shape), 1.5)
    params = dict(m.named_parameters())
    grads = torch.autograd.grad((out * t(r)).sum(), [xt] + list(params.values()))
    return {
        "config": config, "state": {n: inp(a) for n, a in state.items()}, "to": to,
        "x": {"shape": xs, "phase": 0.5}, "r": {"shape": list(out.shape), "phase": 1.5},
        "out": res(out), "grad_x": res(grads[0]),
        "grad": {n: res(g) for n, g in zip(params.keys(), grads[1:])},
    }


def d_case(seed, config, n):
    rng = np.random.default_rng(seed)
    m = Discriminator(config["size"], config["channels"], config["domains"], config["dwidth"], config["dlayers"])
    state = fill(rng, m)
    m.train()
    xs = [n, config["channels"], config["size"], config["size"]]
    xt = t(wave(xs, 0.5), True)
    src, cls = m(xt)
    r, r2 = wave(list(src.shape), 1.5), wave(list(cls.shape), 2.5)
    params = dict(m.named_parameters())
    loss = (src * t(r)).sum() + (cls * t(r2)).sum()
    grads = torch.autograd.grad(loss, [xt] + list(params.values()), create_graph=True)
    gx = grads[0]
    pen_grads = torch.autograd.grad((gx ** 2).sum(), list(params.values()), allow_unused=True)
    zero = lambda g, p: g if g is not None else torch.zeros_like(p)
    return {
        "config": config, "state": {n: inp(a) for n, a in state.items()},
        "x": {"shape": xs, "phase": 0.5}, "r": {"shape": list(src.shape), "phase": 1.5},
        "r2": {"shape": list(cls.shape), "phase": 2.5},
        "src": res(src), "cls": res(cls), "grad_x": res(gx),
        "grad": {n: res(g) for n, g in zip(params.keys(), grads[1:])},
        "pen_grad": {n: res(zero(g, p)) for (n, p), g in zip(params.items(), pen_grads)},
    }


def main():
    cfg = dict(size=28, channels=1, domains=3, gwidth=2, blocks=2, dwidth=2, dlayers=3)
    cases = {"g28": g_case(11, cfg, [2, 0]), "d28": d_case(12, cfg, 2)}
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_stargan.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
