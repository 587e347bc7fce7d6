#!/usr/bin/python3
"""Writes golden_resnet.json: PyTorch references for models/golden_resnet_test.go.

The layers and networks of the SN-GAN/SAGAN families, written here in
PyTorch with the same module names as Kallima's nn and models packages, so
their state_dict keys (less BatchNorm's num_batches_tracked) are the names
the Go modules list and the Go test loads the state with nn.LoadState:

    cbn          nn.CondBatchNorm2d (class-conditional gain and bias)
    lcbn         nn.LinearCondBatchNorm2d with spectral norm (gain and bias
                 linear in a vector v, BigGAN's form)
    attn         nn.SelfAttention with spectral norm (SAGAN)
    gblock*      models.GBlock: batch norm or conditional batch norm, with
                 or without upsampling (a learnt or identity shortcut)
    dblock*, dopt  models.DBlock and the optimized first block, with
                 spectral norm on every convolution
    g28, cg32_attn_sn, d28, cd32_attn  whole SN-GAN / SAGAN networks

Weights and buffers are drawn by numpy from fixed seeds, rounded to float32
(so Go sees exactly the same numbers) and stored. The input x (and v) and
the output weights r are the wave sin(0.731 i + phase) over the row-major
index i, rounded to float32, which the Go test recomputes. PyTorch computes
in float64, in training mode (batch statistics, one power iteration):

    out        = M(x[, labels or v])
    grad_x     = d sum(out * r) / dx                 (recorded)
    grad_v     = d sum(out * r) / dv                 (lcbn only)
    grad.P     = d sum(out * r) / dP  for every parameter P
    pen_grad.P = d sum(grad_x^2) / dP                (second order: the path
                                                      of WGAN-GP and R1)
    after.B    = every buffer after the forward pass (running statistics,
                                                      spectral norm's u, v)
    eval_out   = M(x) in evaluation mode after that forward pass (running
                 statistics; u and v as they are)

Tensors are {"shape": [...], "data": [...]} (row-major); the state is
written with 9 significant digits (exact for float32), results with 8.

Run from this directory with Debian's python3-torch (1.13) and numpy:

    /usr/bin/python3 gen_golden_resnet.py
"""
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
SN = nn.utils.spectral_norm


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


# The layers, mirroring nn/condnorm.go and nn/attention.go.

class CondBN(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.gain = nn.Embedding(classes, c)
        self.bias = nn.Embedding(classes, c)
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))

    def forward(self, x, labels):
        y = torch.tensor(labels)
        h = F.batch_norm(x, self.running_mean, self.running_var, None, None, self.training, 0.1, 1e-5)
        n, c = x.shape[:2]
        return h * self.gain(y).view(n, c, 1, 1) + self.bias(y).view(n, c, 1, 1)


class LinearCondBN(nn.Module):
    def __init__(self, c, dim):
        super().__init__()
        self.gain = SN(nn.Linear(dim, c, bias=False))
        self.bias = SN(nn.Linear(dim, c, bias=False))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))

    def forward(self, x, v):
        h = F.batch_norm(x, self.running_mean, self.running_var, None, None, self.training, 0.1, 1e-5)
        n, c = x.shape[:2]
        return h * (1 + self.gain(v)).view(n, c, 1, 1) + self.bias(v).view(n, c, 1, 1)


class SelfAttention(nn.Module):
    """SAGAN's block (Zhang et al. 2019, arXiv:1805.08318)."""

    def __init__(self, c, sn):
        super().__init__()
        k = max(c // 8, 1)
        w = SN if sn else (lambda m: m)
        self.f, self.g, self.h = w(nn.Conv2d(c, k, 1)), w(nn.Conv2d(c, k, 1)), w(nn.Conv2d(c, c, 1))
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        n, c, hh, ww = x.shape
        p = hh * ww
        f = self.f(x).view(n, -1, p)
        g = self.g(x).view(n, -1, p)
        h = self.h(x).view(n, c, p)
        beta = torch.softmax(torch.bmm(g.transpose(1, 2), f), dim=2)  # [n, j, i]
        o = torch.bmm(h, beta.transpose(1, 2))
        return self.gamma * o.view(n, c, hh, ww) + x


# The blocks and networks, mirroring models/resblock.go and models/sngan.go.

class PlainBN(nn.BatchNorm2d):
    def forward(self, x, labels=None):
        return super().forward(x)


def norm(c, classes):
    return CondBN(c, classes) if classes > 0 else PlainBN(c)


class GBlock(nn.Module):
    def __init__(self, cin, cout, up, classes, sn=False):
        super().__init__()
        w = SN if sn else (lambda m: m)
        self.b1 = norm(cin, classes)
        self.c1 = w(nn.Conv2d(cin, cout, 3, padding=1))
        self.b2 = norm(cout, classes)
        self.c2 = w(nn.Conv2d(cout, cout, 3, padding=1))
        if cin != cout or up:
            self.c_sc = w(nn.Conv2d(cin, cout, 1))
        self.up = up

    def forward(self, x, labels=None):
        up = (lambda v: F.interpolate(v, scale_factor=2, mode="nearest")) if self.up else (lambda v: v)
        h = self.c1(up(F.relu(self.b1(x, labels))))
        h = self.c2(F.relu(self.b2(h, labels)))
        sc = up(x)
        if hasattr(self, "c_sc"):
            sc = self.c_sc(sc)
        return h + sc


class DBlock(nn.Module):
    def __init__(self, cin, cout, down, optimized=False):
        super().__init__()
        self.c1 = SN(nn.Conv2d(cin, cout if optimized else cin, 3, padding=1))
        self.c2 = SN(nn.Conv2d(cout if optimized else cin, cout, 3, padding=1))
        if cin != cout or down or optimized:
            self.c_sc = SN(nn.Conv2d(cin, cout, 1))
        self.down, self.optimized = down or optimized, optimized

    def forward(self, x):
        down = (lambda v: F.avg_pool2d(v, 2)) if self.down else (lambda v: v)
        h = x if self.optimized else F.relu(x)
        h = down(self.c2(F.relu(self.c1(h))))
        if self.optimized:
            sc = self.c_sc(down(x))
        elif hasattr(self, "c_sc"):
            sc = down(self.c_sc(x))
        else:
            sc = x
        return h + sc


def g_levels(size):
    base, n = size, 0
    while base % 2 == 0 and base > 4:
        base //= 2
        n += 1
    return base, n


def d_downs(size):
    n = 0
    while size % 2 == 0 and size > 8:
        size //= 2
        n += 1
    return n


class Generator(nn.Module):
    def __init__(self, size, channels, width, zdim, classes, attention, sn):
        super().__init__()
        w = SN if sn else (lambda m: m)
        self.base, n = g_levels(size)
        self.width = width
        self.l1 = w(nn.Linear(zdim, self.base * self.base * width))
        self.blocks = nn.ModuleList([GBlock(width, width, True, classes, sn) for _ in range(n)])
        self.attn_at = (n - 1) // 2
        if attention:
            self.attn = SelfAttention(width, sn)
        self.b_out = nn.BatchNorm2d(width)
        self.c_out = w(nn.Conv2d(width, channels, 3, padding=1))

    def forward(self, z, labels=None):
        h = self.l1(z).view(z.shape[0], self.width, self.base, self.base)
        for i, b in enumerate(self.blocks):
            h = b(h, labels)
            if hasattr(self, "attn") and i == self.attn_at:
                h = self.attn(h)
        return torch.tanh(self.c_out(F.relu(self.b_out(h))))


class Discriminator(nn.Module):
    def __init__(self, size, channels, width, classes, attention):
        super().__init__()
        blocks = [DBlock(channels, width, True, optimized=True)]
        blocks += [DBlock(width, width, True) for _ in range(d_downs(size) - 1)]
        blocks += [DBlock(width, width, False) for _ in range(2)]
        self.blocks = nn.ModuleList(blocks)
        if attention:
            self.attn = SelfAttention(width, True)
        self.l_out = SN(nn.Linear(width, 1))
        if classes > 0:
            self.embed = SN(nn.Embedding(classes, width))

    def forward(self, x, labels=None):
        h = x
        for i, b in enumerate(self.blocks):
            h = b(h)
            if hasattr(self, "attn") and i == 0:
                h = self.attn(h)
        phi = F.relu(h).sum(dim=(2, 3))
        out = self.l_out(phi)
        if hasattr(self, "embed"):
            out = out + (self.embed(torch.tensor(labels)) * phi).sum(1, keepdim=True)
        return out


def fill(rng, m):
    """Draws every parameter and buffer of m as float32 and returns the
    state by name (num_batches_tracked left out)."""
    state = {}
    with torch.no_grad():
        for name, p in m.named_parameters():
            # Batch norm scales and class gains near 1.
            if name.endswith("gain.weight") or (name.endswith("weight") and p.dim() == 1):
                a = draw(rng, *p.shape, scale=0.2, shift=1.0)
            elif name.endswith("gamma"):
                a = draw(rng, *p.shape, scale=0.3, shift=0.7)
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


def case(seed, m, xs, labels=None, vs=None):
    rng = np.random.default_rng(seed)
    state = fill(rng, m)
    m.train()
    x = wave(xs, 0.5)
    xt = t(x, True)
    args = [xt]
    if labels is not None:
        args.append(labels)
    vt = None
    if vs is not None:
        vt = t(wave(vs, 2.5), True)
        args.append(vt)
    out = m(*args)
    r = wave(list(out.shape), 1.5)
    params = dict(m.named_parameters())
    wrt = [xt] + ([vt] if vt is not None else []) + list(params.values())
    grads = torch.autograd.grad((out * t(r)).sum(), wrt, create_graph=True)
    gx = grads[0]
    gp = grads[2:] if vt is not None else grads[1:]
    pen = (gx ** 2).sum()
    pen_grads = torch.autograd.grad(pen, list(params.values()), allow_unused=True)
    zero = lambda g, p: g if g is not None else torch.zeros_like(p)
    c = {
        "state": {n: inp(a) for n, a in state.items()},
        "x": {"shape": xs, "phase": 0.5}, "labels": labels, "r": {"shape": list(out.shape), "phase": 1.5},
        "out": res(out), "grad_x": res(gx),
        "grad": {n: res(g) for n, g in zip(params.keys(), gp)},
        "pen_grad": {n: res(zero(g, p)) for (n, p), g in zip(params.items(), pen_grads)},
        "after": {n: res(b) for n, b in m.named_buffers() if not n.endswith("num_batches_tracked")},
    }
    if vt is not None:
        c["v"] = {"shape": vs, "phase": 2.5}
        c["grad_v"] = res(grads[1])
    m.eval()
    with torch.no_grad():
        args[0] = t(x)
        if vt is not None:
            args[-1] = vt.detach()
        c["eval_out"] = res(m(*args))
    return c


def main():
    cases = {
        "cbn": case(1, CondBN(2, 3), [3, 2, 3, 3], labels=[2, 0, 2]),
        "lcbn": case(2, LinearCondBN(2, 4), [3, 2, 3, 3], vs=[3, 4]),
        "attn": case(3, SelfAttention(8, True), [2, 8, 3, 2]),
        "gblock": case(4, GBlock(3, 2, True, 0), [3, 3, 3, 3]),
        "gblock_cond": case(5, GBlock(2, 2, True, 3), [3, 2, 2, 3], labels=[1, 2, 1]),
        "gblock_noup": case(6, GBlock(2, 2, False, 0), [2, 2, 3, 3]),
        "dblock": case(7, DBlock(2, 3, True), [2, 2, 6, 5]),
        "dblock_id": case(8, DBlock(3, 3, False), [2, 3, 4, 4]),
        "dopt": case(9, DBlock(1, 2, True, optimized=True), [2, 1, 6, 6]),
        "g28": case(10, Generator(28, 1, 2, 3, 0, False, False), [2, 3]),
        "cg32_attn_sn": case(11, Generator(32, 1, 4, 3, 3, True, True), [2, 3], labels=[2, 0]),
        "d28": case(12, Discriminator(28, 1, 2, 0, False), [2, 1, 28, 28]),
        "cd32_attn": case(13, Discriminator(32, 1, 4, 3, True), [2, 1, 32, 32], labels=[1, 2]),
    }
    golden = {"torch_version": torch.__version__, "cases": cases}
    with open("golden_resnet.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
