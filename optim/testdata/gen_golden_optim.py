#!/usr/bin/env python3
"""Writes golden_optim.json: torch.optim reference trajectories for optim's tests.

Run with Debian's python3-torch 1.13 (/usr/bin/python3 gen_golden_optim.py) from
this folder. Every optimizer configuration runs for 5 steps on the same small
problem: two parameters p0 [2, 3] and p1 [3] whose gradient at each step is

    grad = a * (p - c) + noise[step]

(a quadratic pull towards c plus a fixed gradient sequence), computed in
float32 one op at a time so the Go test can rebuild it bit for bit. p1 has no
gradient at step index 2 (grad is None), so optimizers must skip it there.
Hyperparameters are rounded to float32 first, since Kallima keeps them as
float32. The file records the parameters after every step and the
optimizer's state after the last one, plus clip_grad_norm_ cases.
"""
import json

import numpy as np
import torch

STEPS = 5
SKIP = (2, 1)  # (step, param): no gradient there

rng = np.random.default_rng(20240611)


def f32(x):
    return float(np.float32(x))


def arr(shape, lo, hi):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


shapes = [[2, 3], [3]]
init = [arr(s, -1.5, 1.5) for s in shapes]
a = [arr(s, 0.2, 2.0) for s in shapes]
c = [arr(s, -1.0, 1.0) for s in shapes]
noise = [[arr(s, -0.5, 0.5) for s in shapes] for _ in range(STEPS)]

CASES = [
    ("sgd_plain", "sgd", dict(lr=0.1)),
    ("sgd_momentum", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("sgd_nesterov_wd", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("adam", "adam", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8)),
    ("adam_wd", "adam", dict(lr=0.01, betas=(0.5, 0.99), eps=1e-8, weight_decay=0.1)),
    ("adam_gan", "adam", dict(lr=2e-4, betas=(0.0, 0.9), eps=1e-8)),
    ("adamw", "adamw", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
    ("rmsprop", "rmsprop", dict(lr=0.01, alpha=0.99, eps=1e-8)),
    ("rmsprop_centered_momentum", "rmsprop",
     dict(lr=0.01, alpha=0.9, eps=1e-8, momentum=0.5, centered=True, weight_decay=0.01)),
]


def rounded(cfg):
    out = {}
    for k, v in cfg.items():
        if isinstance(v, bool):
            out[k] = v
        elif isinstance(v, tuple):
            out[k] = tuple(f32(x) for x in v)
        else:
            out[k] = f32(v)
    return out


def make(kind, params, cfg):
    if kind == "sgd":
        return torch.optim.SGD(params, foreach=False, **cfg)
    if kind == "adam":
        return torch.optim.Adam(params, foreach=False, **cfg)
    if kind == "adamw":
        return torch.optim.AdamW(params, foreach=False, **cfg)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, foreach=False, **cfg)
    raise ValueError(kind)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run(kind, cfg):
    params = [torch.tensor(x.copy(), requires_grad=True) for x in init]
    opt = make(kind, params, cfg)
    traj = []
    for step in range(STEPS):
        for i, p in enumerate(params):
            if (step, i) == SKIP:
                p.grad = None
                continue
            with torch.no_grad():
                g = torch.from_numpy(a[i]) * (p - torch.from_numpy(c[i]))
                g = g + torch.from_numpy(noise[step][i])
            p.grad = g
        opt.step()
        traj.append([flat(p) for p in params])
    state = []
    for p in params:
        st = {}
        for k, v in opt.state[p].items():
            if v is None:
                continue
            st[k] = float(v) if (not torch.is_tensor(v) or v.dim() == 0) else flat(v)
        state.append(st)
    return traj, state


cases = []
for name, kind, cfg in CASES:
    cfg = rounded(cfg)
    traj, state = run(kind, cfg)
    jcfg = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items()}
    cases.append(dict(name=name, optimizer=kind, config=jcfg, params=traj, state=state))

clip_grads = [arr(s, -2.0, 2.0) for s in shapes]
clips = []
for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, float("inf")), (0.75, 3.0)]:
    ps = [torch.zeros(s, requires_grad=True) for s in shapes]
    for p, g in zip(ps, clip_grads):
        p.grad = torch.from_numpy(g.copy())
    total = torch.nn.utils.clip_grad_norm_(ps, f32(max_norm), norm_type)
    clips.append(dict(max_norm=f32(max_norm), norm_type="inf" if norm_type == float("inf") else norm_type,
                      total_norm=float(total), grads=[flat(p.grad) for p in ps]))

out = dict(
    torch_version=torch.__version__,
    steps=STEPS,
    skip=list(SKIP),
    shapes=shapes,
    init=[flat(torch.from_numpy(x)) for x in init],
    a=[flat(torch.from_numpy(x)) for x in a],
    c=[flat(torch.from_numpy(x)) for x in c],
    noise=[[flat(torch.from_numpy(x)) for x in n] for n in noise],
    cases=cases,
    clip=dict(grads=[flat(torch.from_numpy(g)) for g in clip_grads], cases=clips),
)
with open("golden_optim.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
