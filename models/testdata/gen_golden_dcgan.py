#!/usr/bin/python3
"""Writes golden_dcgan.json: PyTorch references for models/golden_dcgan_test.go.

Each case is a small DCGAN or conditional DCGAN network written here in
PyTorch with the same module names as Kallima's models package, so its
state_dict keys (less BatchNorm's num_batches_tracked) are the names the Go
networks list: the Go test loads the state with nn.LoadState, which fails on
any missing or extra name.

Weights and buffers are drawn by numpy from fixed seeds, rounded to float32
(so Go sees exactly the same numbers) and stored. The inputs x or z and the
output weights r are not stored: they are the wave sin(0.731 i + phase),
i the row-major index, rounded to float32, which the Go test recomputes
(the case stores shape and phase). PyTorch computes in float64, in training
mode (batch statistics, one power iteration), so the golden values carry no
float32 rounding of their own. For a discriminator D (logits [N, 1]):

    out      = D(x[, labels])
    grad_x   = d sum(out * r) / dx                 (recorded)
    grad.P   = d sum(out * r) / dP  for every parameter P
    pen_grad.P = d sum(grad_x^2) / dP               (second order: what
                                                     WGAN-GP's penalty needs)
    after.B  = every buffer after the forward pass  (running statistics,
                                                     spectral norm's u and v)

and for a generator G, out = G(z[, labels]), grad_z and grad.P of
sum(out * r), and after.B. Tensors are {"shape": [...], "data": [...]}
(row-major); the state is written with 9 significant digits (exact for
float32), results with 8.

Run from this directory with Debian's python3-torch (1.13) and numpy:

    /usr/bin/python3 gen_golden_dcgan.py
"""
import json

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)


def draw(rng, *shape, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def enc(x, digits):
    if isinstance(x, torch.Tensor):
        x = x.detach().numpy()
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [float(f"{v:.{digits}g}") for v in x.reshape(-1)]}


def inp(x):
    return enc(x, 9)


def res(x):
    return enc(x, 8)


def wave(shape, phase):
    """sin(0.731 i + phase) over the row-major index i, as float32."""
    n = int(np.prod(shape))
    return np.sin(np.arange(n, dtype=np.float64) * 0.731 + phase).astype(np.float32).reshape(shape)


# The networks, mirroring models/dcgan.go and models/cgan.go.

def levels(size):
    base, n = size, 0
    while base % 2 == 0 and base > 4:
        base //= 2
        n += 1
    return base, n


class Block(nn.Module):
    def __init__(self, conv, bn, act):
        super().__init__()
        self.conv = conv
        if bn is not None:
            self.bn = bn
        self.act = act

    def forward(self, x):
        x = self.conv(x)
        if hasattr(self, "bn"):
            x = self.bn(x)
        return self.act(x)


class Generator(nn.Module):
    def __init__(self, size, channels, width, zdim):
        super().__init__()
        base, n = levels(size)
        self.base, self.c0 = base, width << (n - 1)
        self.project = nn.Linear(zdim, self.c0 * base * base, bias=False)
        self.project_bn = nn.BatchNorm1d(self.c0 * base * base)
        self.blocks = nn.ModuleList()
        for i in range(n - 1):
            cin, cout = width << (n - 1 - i), width << (n - 2 - i)
            self.blocks.append(Block(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()))
        self.out = nn.ConvTranspose2d(width, channels, 4, 2, 1)

    def forward(self, z):
        h = torch.relu(self.project_bn(self.project(z))).view(z.shape[0], self.c0, self.base, self.base)
        for b in self.blocks:
            h = b(h)
        return torch.tanh(self.out(h))


class Minibatch(nn.Module):
    """Minibatch discrimination (Salimans et al. 2016): o_i,b = sum_j
    exp(-||M_i,b - M_j,b||_1), M = x T as [N, B, C]; out concat(x, o)."""

    def __init__(self, features, kernels, dim):
        super().__init__()
        self.kernels, self.dim = kernels, dim
        self.T = nn.Parameter(torch.zeros(features, kernels * dim))

    def forward(self, x):
        m = (x @ self.T).view(x.shape[0], self.kernels, self.dim)
        l1 = (m[:, None] - m[None, :]).abs().sum(3)
        return torch.cat([x, torch.exp(-l1).sum(1)], 1)


class Discriminator(nn.Module):
    def __init__(self, size, cin, width, bn, sn, kernels=0, kdim=5):
        super().__init__()
        base, n = levels(size)
        self.blocks = nn.ModuleList()
        for i in range(n):
            cout = width << i
            use_bn = i > 0 and bn and not sn
            conv = nn.Conv2d(cin, cout, 4, 2, 1, bias=not use_bn)
            if sn:
                conv = nn.utils.spectral_norm(conv)
            self.blocks.append(Block(conv, nn.BatchNorm2d(cout) if use_bn else None, nn.LeakyReLU(0.2)))
            cin = cout
        features = cin * base * base
        if kernels > 0:
            self.minibatch = Minibatch(features, kernels, kdim)
        self.head = nn.Linear(features + kernels, 1)
        if sn:
            self.head = nn.utils.spectral_norm(self.head)

    def features(self, x):
        h = x
        for b in self.blocks:
            h = b(h)
        phi = h.flatten(1)
        if hasattr(self, "minibatch"):
            return phi, self.head(self.minibatch(phi))
        return phi, self.head(phi)

    def forward(self, x):
        return self.features(x)[1]


class CondGenerator(nn.Module):
    def __init__(self, size, channels, width, zdim, classes, embed):
        super().__init__()
        self.classes = classes
        if embed > 0:
            self.embed = nn.Embedding(classes, embed)
        self.net = Generator(size, channels, width, zdim + (embed if embed > 0 else classes))

    def forward(self, z, labels):
        y = torch.tensor(labels)
        code = self.embed(y) if hasattr(self, "embed") else nn.functional.one_hot(y, self.classes).double()
        return self.net(torch.cat([z, code], 1))


class CondDiscriminator(nn.Module):
    def __init__(self, size, channels, width, bn, sn, classes, cond):
        super().__init__()
        self.classes, self.size, self.cond = classes, size, cond
        if cond == "channels":
            self.net = Discriminator(size, channels + classes, width, bn, sn)
        else:
            self.net = Discriminator(size, channels, width, bn, sn)
            self.embed = nn.Embedding(classes, self.net.head.in_features)
            if sn:
                self.embed = nn.utils.spectral_norm(self.embed)

    def forward(self, x, labels):
        y = torch.tensor(labels)
        if self.cond == "channels":
            maps = nn.functional.one_hot(y, self.classes).double()[:, :, None, None].expand(-1, -1, self.size, self.size)
            return self.net(torch.cat([x, maps], 1))
        phi, psi = self.net.features(x)
        return psi + (self.embed(y) * phi).sum(1, keepdim=True)


def fill(rng, m):
    """Draws every parameter and buffer of m as float32 and returns the
    state by name (num_batches_tracked left out)."""
    state = {}
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bn.weight"):
                a = draw(rng, *p.shape, scale=0.1, shift=1.0)
            elif name.endswith("bias") or p.dim() == 1:
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
            elif name.endswith("weight_u") or name.endswith("weight_v"):
                a = draw(rng, *b.shape)
                a = (a / np.float32(np.linalg.norm(a.astype(np.float64)))).astype(np.float32)
            else:
                a = draw(rng, *b.shape, scale=0.1)
            b.copy_(t(a))
            state[name] = a
    return state


def buffers_after(m):
    return {n: res(b) for n, b in m.named_buffers() if not n.endswith("num_batches_tracked")}


def d_case(seed, config, m, labels):
    rng = np.random.default_rng(seed)
    state = fill(rng, m)
    m.train()
    xs = [len(labels), config["channels"], config["size"], config["size"]]
    x, r = wave(xs, 0.5), wave([len(labels), 1], 1.5)
    xt = t(x, True)
    out = m(xt, labels) if isinstance(m, CondDiscriminator) else m(xt)
    params = dict(m.named_parameters())
    grads = torch.autograd.grad((out * t(r)).sum(), [xt] + list(params.values()), create_graph=True)
    gx = grads[0]
    pen = (gx ** 2).sum()
    pen_grads = torch.autograd.grad(pen, list(params.values()), allow_unused=True)
    zero = lambda g, p: g if g is not None else torch.zeros_like(p)
    return {
        "config": config, "state": {n: inp(a) for n, a in state.items()},
        "x": {"shape": xs, "phase": 0.5}, "labels": labels, "r": {"shape": [len(labels), 1], "phase": 1.5},
        "out": res(out), "grad_x": res(gx),
        "grad": {n: res(g) for n, g in zip(params.keys(), grads[1:])},
        "pen_grad": {n: res(zero(g, p)) for (n, p), g in zip(params.items(), pen_grads)},
        "after": buffers_after(m),
    }


def g_case(seed, config, m, labels):
    rng = np.random.default_rng(seed)
    state = fill(rng, m)
    m.train()
    zs = [len(labels), config["zdim"]]
    z = wave(zs, 0.5)
    zt = t(z, True)
    out = m(zt, labels) if isinstance(m, CondGenerator) else m(zt)
    r = wave(list(out.shape), 1.5)
    params = dict(m.named_parameters())
    grads = torch.autograd.grad((out * t(r)).sum(), [zt] + list(params.values()))
    return {
        "config": config, "state": {n: inp(a) for n, a in state.items()},
        "z": {"shape": zs, "phase": 0.5}, "labels": labels, "r": {"shape": list(out.shape), "phase": 1.5},
        "out": res(out), "grad_z": res(grads[0]),
        "grad": {n: res(g) for n, g in zip(params.keys(), grads[1:])},
        "after": buffers_after(m),
    }


def main():
    cases = {}
    c = dict(size=28, channels=1, width=2, bn=True)
    cases["d28_bn"] = d_case(1, c, Discriminator(28, 1, 2, True, False), [0, 0])
    c = dict(size=28, channels=1, width=2, bn=True, kernels=3, kdim=2)
    cases["d28_minibatch"] = d_case(10, c, Discriminator(28, 1, 2, True, False, 3, 2), [0, 0, 0])
    c = dict(size=32, channels=1, width=1, sn=True)
    cases["d32_sn"] = d_case(3, c, Discriminator(32, 1, 1, True, True), [0, 0])
    c = dict(size=28, channels=1, width=1, zdim=4)
    cases["g28"] = g_case(4, c, Generator(28, 1, 1, 4), [0, 0])
    c = dict(size=28, channels=1, width=1, classes=3, cond="projection", bn=False)
    cases["cd28_projection"] = d_case(6, c, CondDiscriminator(28, 1, 1, False, False, 3, "projection"), [2, 0])
    c = dict(size=28, channels=1, width=1, classes=3, cond="channels", bn=True)
    cases["cd28_channels"] = d_case(8, c, CondDiscriminator(28, 1, 1, True, False, 3, "channels"), [1, 2])
    c = dict(size=28, channels=1, width=1, zdim=3, classes=3, embed=2)
    cases["cg28_embed"] = g_case(9, c, CondGenerator(28, 1, 1, 3, 3, 2), [2, 1])
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_dcgan.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
