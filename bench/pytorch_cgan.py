#!/usr/bin/python3
"""pytorch_cgan.py: the PyTorch side of bench/ttq_compare.sh (time to quality).

A class-conditional DCGAN on MNIST as PyTorch users write it: the networks of
bench/pytorch_train.py (Kallima's dcgan-mnist layers) with the label as a
one-hot code beside G's noise and as ten one-hot channels beside D's image,
non-saturating BCE losses, Adam 2e-4 (0.5, 0.999; --lr), batch 64 (--batch), fresh noise and
uniformly drawn labels for each update, no EMA.

Every --every seconds of training wall time the clock stops and the script
writes --per-class images of every class (G in eval mode, fixed noise) to
OUT/check-K.npy (float32 in [-1, 1], [10*per, 1, 28, 28], class 0's block
first) and a line {"impl", "check", "train_s", "step"} to OUT/checks.jsonl;
`go run ./bench/ttq -judge OUT` then judges them with Kallima's MNIST feature
network, so both sides have the same judge. Training stops after --budget
seconds of training time.

Usage:
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_cgan.py --out DIR [--budget 600] [--every 30]
        [--per-class 100] [--threads 2] [--seed 1] [--batch 64] [--lr 2e-4] [--mnist DIR]
"""
import argparse
import json
import os
import sys
import time

# Debian's torch runs its BLAS through OpenBLAS: left at its default, OpenBLAS
# starts its own threads beside OpenMP's and this script ran at half speed
# (5 against 11 steps/s on a 2-core Intel Xeon).
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_train import NZ, W, init, load_idx  # noqa: E402

CLASSES = 10


class CondGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.project = nn.Linear(NZ + CLASSES, 2 * W * 7 * 7, bias=False)
        self.project_bn = nn.BatchNorm1d(2 * W * 7 * 7)
        self.up1 = nn.ConvTranspose2d(2 * W, W, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(W)
        self.out = nn.ConvTranspose2d(W, 1, 4, 2, 1)

    def forward(self, z, y):
        h = torch.cat([z, F.one_hot(y, CLASSES).float()], 1)
        h = F.relu(self.project_bn(self.project(h))).view(-1, 2 * W, 7, 7)
        h = F.relu(self.bn1(self.up1(h)))
        return torch.tanh(self.out(h))


class CondDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1 + CLASSES, W, 4, 2, 1)
        self.c2 = nn.Conv2d(W, 2 * W, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * W)
        self.head = nn.Linear(2 * W * 7 * 7, 1)

    def forward(self, x, y):
        maps = F.one_hot(y, CLASSES).float()[:, :, None, None].expand(-1, -1, 28, 28)
        h = F.leaky_relu(self.c1(torch.cat([x, maps], 1)), 0.2)
        h = F.leaky_relu(self.bn2(self.c2(h)), 0.2)
        return self.head(h.flatten(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget", type=float, default=600)
    ap.add_argument("--every", type=float, default=30)
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--mnist", default=os.path.expanduser("~/.cache/kallima/mnist"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    def idx(name):
        p = os.path.join(a.mnist, name)
        return p if os.path.exists(p) else p + ".gz"
    x = torch.from_numpy(load_idx(idx("train-images-idx3-ubyte")).astype(np.float32) / 127.5 - 1).unsqueeze(1)
    opener = open
    lp = idx("train-labels-idx1-ubyte")
    if lp.endswith(".gz"):
        import gzip
        opener = gzip.open
    with opener(lp, "rb") as f:
        labels = torch.from_numpy(np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64))

    g, d = CondGenerator(), CondDiscriminator()
    g.apply(init)
    d.apply(init)
    opt_g = torch.optim.Adam(g.parameters(), lr=a.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=a.lr, betas=(0.5, 0.999))
    fixed_z = torch.randn(CLASSES * a.per_class, NZ, generator=torch.Generator().manual_seed(0x77a))
    fixed_y = torch.arange(CLASSES).repeat_interleave(a.per_class)
    order, pos, step, check = torch.randperm(len(x)), 0, 0, 0
    trained, nxt = 0.0, a.every
    log = open(os.path.join(a.out, "checks.jsonl"), "w")
    impl = "pytorch cgan (label channels)"
    if a.batch != 64 or a.lr != 2e-4:
        impl += f", batch {a.batch}, lr {a.lr:g}"
    stretch = time.perf_counter()
    while True:
        if pos + a.batch > len(x):
            order, pos = torch.randperm(len(x)), 0
        real, yr = x[order[pos:pos + a.batch]], labels[order[pos:pos + a.batch]]
        pos += a.batch
        yf = torch.randint(0, CLASSES, (a.batch,))
        with torch.no_grad():
            fake = g(torch.randn(a.batch, NZ), yf)
        loss_d = F.softplus(-d(real, yr)).mean() + F.softplus(d(fake, yf)).mean()
        opt_d.zero_grad(set_to_none=False)
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        yg = torch.randint(0, CLASSES, (a.batch,))
        loss_g = F.softplus(-d(g(torch.randn(a.batch, NZ), yg), yg)).mean()
        opt_g.zero_grad(set_to_none=False)
        loss_g.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        _ = (loss_d.item(), loss_g.item())
        step += 1
        now = trained + time.perf_counter() - stretch
        if now < nxt:
            continue
        trained = now
        check += 1
        g.eval()
        with torch.no_grad():
            imgs = g(fixed_z, fixed_y).numpy().astype(np.float32)
        g.train()
        np.save(os.path.join(a.out, f"check-{check}.npy"), imgs)
        log.write(json.dumps({"impl": impl, "check": check, "train_s": trained, "step": step}) + "\n")
        log.flush()
        print(f"check {check}: {trained:.0f} s, step {step}", file=sys.stderr)
        nxt += a.every
        stretch = time.perf_counter()
        if trained >= a.budget:
            break


if __name__ == "__main__":
    main()
