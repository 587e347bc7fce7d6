#!/usr/bin/python3
"""pytorch_bench.py: the PyTorch peer for `kallima bench`.

Runs the dcgan and wgangp workloads of /work/shared/bench/WORKLOAD.md (batch 64,
28x28x1, Adam lr 2e-4 betas (0.5, 0.999); one iteration = one D update on a
real and a fake batch + one G update) and prints, per workload, the median
iterations/s over the timed iterations and the effective GFLOP/s.

The FLOP count is nominal and analytic (conv and linear layers only, 2 FLOPs
per multiply-add, counting only the products an iteration needs): it is the
same formula as Kallima's bench package (bench/flops.go), so the GFLOP/s of
both are comparable. dcgan is 9.441 GFLOP/iteration, wgangp 12.835.

Usage:
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_bench.py [--json]
        [--iters 30] [--warmup 5] [--seed 1] [--threads 2] [workload ...]
"""

import argparse
import json
import os
import statistics
import sys
import time

# The peer's thread settings must be in place before torch loads its pools.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BATCH, NZ = 64, 100


# --- FLOPs ------------------------------------------------------------------

def layer_flops():
    """Forward FLOPs of every conv/linear layer at batch 64 (2 per MAC)."""
    n = BATCH
    return {
        "g_linear": 2 * n * NZ * 6272,
        "g_convt1": 2 * n * 128 * 7 * 7 * 64 * 4 * 4,   # 128x7x7 -> 64x14x14
        "g_convt2": 2 * n * 64 * 14 * 14 * 1 * 4 * 4,   # 64x14x14 -> 1x28x28
        "d_conv1": 2 * n * 1 * 4 * 4 * 64 * 14 * 14,    # 1x28x28 -> 64x14x14
        "d_conv2": 2 * n * 64 * 4 * 4 * 128 * 7 * 7,    # 64x14x14 -> 128x7x7
        "d_linear": 2 * n * 6272 * 1,
    }


def iteration_flops(workload):
    """Nominal FLOPs of one iteration.

    dcgan: G forward once (its output is reused, detached, by the D update);
    D(real) and D(fake) forward + weight gradients + input gradients of all
    but D's first layer; the G update's D forward + input gradients of all of
    D + G's weight gradients and input gradients of all but G's first layer.
    wgangp adds D(x_hat), its input gradient (all D layers) and the backward of
    that gradient with respect to D's weights (a weight and an input gradient
    per layer of the gradient graph, bar the constant seed of the last layer).
    """
    f = layer_flops()
    sg = f["g_linear"] + f["g_convt1"] + f["g_convt2"]
    sd = f["d_conv1"] + f["d_conv2"] + f["d_linear"]
    g_update = 2 * sd + 2 * sg - f["g_linear"]
    if workload == "dcgan":
        return sg + 2 * (3 * sd - f["d_conv1"]) + g_update
    if workload == "wgangp":
        d_update = 3 * sd + sd + 2 * (2 * sd - f["d_conv1"]) + (2 * sd - f["d_linear"])
        return sg + d_update + g_update
    raise ValueError(workload)


# --- models -------------------------------------------------------------------

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(NZ, 6272)
        self.bn0 = nn.BatchNorm1d(6272)
        self.up1 = nn.ConvTranspose2d(128, 64, 4, 2, 1)
        self.bn1 = nn.BatchNorm2d(64)
        self.up2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)

    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z))).view(-1, 128, 7, 7)
        h = F.relu(self.bn1(self.up1(h)))
        return torch.tanh(self.up2(h))


class Discriminator(nn.Module):
    def __init__(self, batchnorm):
        super().__init__()
        self.c1 = nn.Conv2d(1, 64, 4, 2, 1)
        self.c2 = nn.Conv2d(64, 128, 4, 2, 1)
        self.bn = nn.BatchNorm2d(128) if batchnorm else nn.Identity()
        self.fc = nn.Linear(6272, 1)

    def forward(self, x):
        h = F.leaky_relu(self.c1(x), 0.2)
        h = F.leaky_relu(self.bn(self.c2(h)), 0.2)
        return self.fc(h.flatten(1))


# --- one iteration ------------------------------------------------------------

class Workload:
    def __init__(self, name, seed):
        torch.manual_seed(seed)
        self.name = name
        self.G = Generator()
        self.D = Discriminator(batchnorm=(name == "dcgan"))
        self.optG = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optD = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = torch.rand(BATCH, 1, 28, 28) * 2 - 1
        self.ones = torch.ones(BATCH, 1)
        self.zeros = torch.zeros(BATCH, 1)

    def step(self):
        G, D = self.G, self.D
        z = torch.randn(BATCH, NZ)
        fake = G(z)
        # D update on a real and a fake batch.
        self.optD.zero_grad(set_to_none=True)
        if self.name == "dcgan":
            loss_d = (F.binary_cross_entropy_with_logits(D(self.real), self.ones)
                      + F.binary_cross_entropy_with_logits(D(fake.detach()), self.zeros))
        else:
            fd = fake.detach()
            e = torch.rand(BATCH, 1, 1, 1)
            x_hat = (e * self.real + (1 - e) * fd).requires_grad_(True)
            (gx,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
            gp = ((gx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
            loss_d = D(fd).mean() - D(self.real).mean() + 10 * gp
        loss_d.backward()
        self.optD.step()
        # G update through the (just updated) D; D's weight gradients are not
        # needed, so D is frozen for it.
        for p in D.parameters():
            p.requires_grad_(False)
        self.optG.zero_grad(set_to_none=True)
        if self.name == "dcgan":
            loss_g = F.binary_cross_entropy_with_logits(D(fake), self.ones)
        else:
            loss_g = -D(fake).mean()
        loss_g.backward()
        self.optG.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return float(loss_d), float(loss_g)


def run(name, iters, warmup, seed):
    w = Workload(name, seed)
    for _ in range(warmup):
        w.step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        w.step()
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    flops = iteration_flops(name)
    return {
        "workload": name,
        "impl": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "iters": iters,
        "warmup": warmup,
        "median_seconds": med,
        "iters_per_second": 1 / med,
        "gflop_per_iteration": flops / 1e9,
        "gflops": flops / med / 1e9,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("workloads", nargs="*", metavar="workload", help="dcgan and/or wgangp (default both)")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print one JSON object per line")
    args = ap.parse_args()
    for name in args.workloads:
        if name not in ("dcgan", "wgangp"):
            ap.error(f"unknown workload {name!r} (want dcgan or wgangp)")
    torch.set_num_threads(args.threads)
    for name in args.workloads or ["dcgan", "wgangp"]:
        r = run(name, args.iters, args.warmup, args.seed)
        if args.json:
            print(json.dumps(r), flush=True)
        else:
            print(f"pytorch {name}: {r['iters_per_second']:.2f} it/s (median of {r['iters']}), "
                  f"{r['gflops']:.1f} GFLOP/s effective ({r['gflop_per_iteration']:.3f} GFLOP/it, "
                  f"torch {r['version']}, {r['threads']} threads)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
