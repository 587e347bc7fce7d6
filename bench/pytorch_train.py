#!/usr/bin/python3
"""pytorch_train.py: the PyTorch peer of `kallima train -preset dcgan-mnist`.

Trains the networks of Kallima's dcgan-mnist preset (models.DCGANGenerator and
DCGANDiscriminator at 28x28, width 64, z_dim 100: the layers of
/work/shared/bench/WORKLOAD.md, with bias-free layers before batch norm) on MNIST
the way Kallima's pipeline does, so the two training loops can be timed against
each other:
- each step: one D update on a shuffled real batch of 64 and a fake batch of
  fresh noise (G run without gradients), then one G update on another fresh
  noise batch through the updated D, non-saturating BCE losses;
  With --reuse-fake, G's update scores D's fake batch instead (G run with
  gradients in D's update, its output detached for D's loss), as PyTorch's
  DCGAN example does: Kallima's train.reuse_fake;
- Adam lr 2e-4, betas (0.5, 0.999); an EMA of G's weights and buffers (decay
  0.999, with Kallima's warm-up min(decay, (1+t)/(10+t))) after every step;
- every step's losses read back as Python floats (as Kallima logs them).

It reads MNIST's training images from the IDX files Kallima fetches
(`kallima data fetch mnist`; default ~/.cache/kallima/mnist) and prints the
median seconds per step over the timed steps (after --warmup steps).

Usage:
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_train.py [--steps 60] [--warmup 10]
        [--mnist DIR] [--threads 2] [--seed 1] [--reuse-fake] [--json]
"""

import argparse
import gzip
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BATCH, NZ, W = 64, 100, 64


def load_idx(path):
    """Reads an IDX image file (optionally gzipped) as uint8 [N, 28, 28]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, 28, 28)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.project = nn.Linear(NZ, 2 * W * 7 * 7, bias=False)
        self.project_bn = nn.BatchNorm1d(2 * W * 7 * 7)
        self.up1 = nn.ConvTranspose2d(2 * W, W, 4, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(W)
        self.out = nn.ConvTranspose2d(W, 1, 4, 2, 1)

    def forward(self, z):
        h = F.relu(self.project_bn(self.project(z))).view(-1, 2 * W, 7, 7)
        h = F.relu(self.bn1(self.up1(h)))
        return torch.tanh(self.out(h))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, W, 4, 2, 1)
        self.c2 = nn.Conv2d(W, 2 * W, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * W)
        self.head = nn.Linear(2 * W * 7 * 7, 1)

    def forward(self, x):
        h = F.leaky_relu(self.c1(x), 0.2)
        h = F.leaky_relu(self.bn2(self.c2(h)), 0.2)
        return self.head(h.flatten(1))


def init(m):
    """The DCGAN paper's initialisation, as Kallima's NormalInit."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1, 0.02)
        nn.init.zeros_(m.bias)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mnist", default=os.path.expanduser("~/.cache/kallima/mnist"))
    ap.add_argument("--reuse-fake", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    name = "train-images-idx3-ubyte"
    path = os.path.join(a.mnist, name)
    if not os.path.exists(path):
        path += ".gz"
    x = torch.from_numpy(load_idx(path).astype(np.float32) / 127.5 - 1).unsqueeze(1)

    g, d = Generator(), Discriminator()
    g.apply(init)
    d.apply(init)
    ema = [t.detach().clone() for t in list(g.parameters()) + list(g.buffers())]
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    order, pos = torch.randperm(len(x)), 0
    times = []
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        if pos + BATCH > len(x):
            order, pos = torch.randperm(len(x)), 0
        real = x[order[pos:pos + BATCH]]
        pos += BATCH
        if a.reuse_fake:
            kept = g(torch.randn(BATCH, NZ))
            fake = kept.detach()
        else:
            with torch.no_grad():
                fake = g(torch.randn(BATCH, NZ))
        loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        opt_d.zero_grad(set_to_none=False)
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        loss_g = F.softplus(-d(kept if a.reuse_fake else g(torch.randn(BATCH, NZ)))).mean()
        opt_g.zero_grad(set_to_none=False)
        loss_g.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        with torch.no_grad():
            decay = min(0.999, (1 + step) / (10 + step))
            for e, t in zip(ema, list(g.parameters()) + list(g.buffers())):
                if t.dtype.is_floating_point:
                    e.mul_(decay).add_(t.detach(), alpha=1 - decay)
        _ = (loss_d.item(), loss_g.item())
        if step >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    if a.json:
        print(json.dumps({"impl": "pytorch", "workload": "dcgan-mnist-train", "reuse_fake": a.reuse_fake, "steps": a.steps,
                          "median_s": med, "it_per_s": 1 / med, "torch": torch.__version__, "threads": a.threads}))
    else:
        print(f"pytorch dcgan-mnist training: {1 / med:.2f} it/s (median {med * 1000:.1f} ms/step over {a.steps} steps, torch {torch.__version__}, {a.threads} threads)")


if __name__ == "__main__":
    main()
