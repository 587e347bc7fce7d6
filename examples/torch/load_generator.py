#!/usr/bin/env python3
"""load_generator.py: Kallima's generators in PyTorch.

Builds the torch module matching a Kallima generator (the mlp family's
perceptron, the DCGAN generator, the conditional DCGAN generator of cgan and
acgan), loads a Kallima checkpoint's weights into it by tensor name (Kallima's
names are PyTorch's state_dict keys), and, given a folder written by
`kallima export RUN -dump DIR`, reproduces Kallima's samples of the same noise
and labels, printing the largest absolute difference (exit 1 above --tol).

Usage:
  kallima export runs/dcgan -out g.onnx -dump dump/
  /usr/bin/python3 examples/torch/load_generator.py runs/dcgan dump/
  /usr/bin/python3 examples/torch/load_generator.py runs/dcgan dump/ --raw   # G's live weights
  ... --checkpoint runs/dcgan/checkpoints/step-001000.safetensors

The weights are the ones the dump used (meta.json's "weights": the EMA of G's
weights, "ema", or G's own, "g") unless --raw asks for G's own. Needs torch,
numpy and yaml (Debian's python3-torch, python3-numpy, python3-yaml); the
safetensors reader is the 20 lines below (no safetensors package needed).
"""
import argparse
import glob
import json
import os
import struct
import sys

import numpy as np
import torch
import yaml
from torch import nn

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    """Returns {name: numpy array} and the metadata of a safetensors file:
    8-byte little-endian header length, a JSON header of name -> dtype,
    shape, data_offsets (into the data after the header), raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=DTYPES[h["dtype"]]).reshape(h["shape"])
    return out, meta


class Block(nn.Module):
    """A DCGAN level: transposed convolution (no bias), batch norm, ReLU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class DCGANGenerator(nn.Module):
    """models.DCGANGenerator: [dense -> BN -> ReLU] -> project -> BN -> ReLU
    -> reshape [C0, b, b] -> blocks -> ConvTranspose2d -> tanh."""

    def __init__(self, zin, dense, c0, base, widths, channels):
        super().__init__()
        if dense:
            self.dense = nn.Linear(zin, dense, bias=False)
            self.dense_bn = nn.BatchNorm1d(dense)
            zin = dense
        else:
            self.dense = None
        self.c0, self.base = c0, base
        self.project = nn.Linear(zin, c0 * base * base, bias=False)
        self.project_bn = nn.BatchNorm1d(c0 * base * base)
        self.blocks = nn.ModuleList(Block(a, b) for a, b in zip(widths, widths[1:]))
        self.out = nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1)

    def forward(self, z):
        h = z
        if self.dense is not None:
            h = torch.relu(self.dense_bn(self.dense(h)))
        h = torch.relu(self.project_bn(self.project(h)))
        h = h.reshape(z.shape[0], self.c0, self.base, self.base)
        for b in self.blocks:
            h = b(h)
        return torch.tanh(self.out(h))


class CondGenerator(nn.Module):
    """models.CondGenerator: the label's code (learnt embedding, or one-hot)
    concatenated to z, then the DCGAN generator under "net"."""

    def __init__(self, classes, embed_dim, net):
        super().__init__()
        self.classes = classes
        self.embed = nn.Embedding(classes, embed_dim) if embed_dim else None
        self.net = net

    def forward(self, z, labels):
        if self.embed is not None:
            code = self.embed(labels)
        else:
            code = nn.functional.one_hot(labels, self.classes).to(z.dtype)
        return self.net(torch.cat([z, code], 1))


ACTS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU, "softplus": nn.Softplus}


def mlp(model, zdim, state):
    """models.NewMLP as the mlp family builds G: Linear [-> BatchNorm1d] ->
    activation per hidden width, then Linear to the data's dimension."""
    layers, i = [], zdim
    act = ACTS[model.get("g_act") or "relu"]
    for h in model.get("g_hidden") or [128, 128, 128]:
        layers.append(nn.Linear(i, h))
        if model.get("g_batchnorm"):
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        i = h
    out = state["%d.weight" % len(layers)].shape[0]
    layers.append(nn.Linear(i, out))
    return nn.Sequential(*layers)


def dcgan(state, prefix=""):
    """The DCGAN generator whose weights state holds under prefix, its
    geometry read from the weights' shapes."""
    w = lambda n: state[prefix + n]
    dense = w("dense.weight").shape[0] if prefix + "dense.weight" in state else 0
    zin = w("dense.weight").shape[1] if dense else w("project.weight").shape[1]
    nblocks = len({k.split(".")[1] for k in state if k.startswith(prefix + "blocks.")})
    widths = [w("blocks.%d.conv.weight" % i).shape[0] for i in range(nblocks)] + [w("out.weight").shape[0]]
    c0 = widths[0]
    base = int(round((w("project.weight").shape[0] / c0) ** 0.5))
    return DCGANGenerator(zin, dense, c0, base, widths, w("out.weight").shape[1])


def newest_checkpoint(run):
    paths = sorted(glob.glob(os.path.join(run, "checkpoints", "step-*.safetensors")))
    if not paths:
        sys.exit("%s: no checkpoints" % run)
    return paths[-1]


def load(run, checkpoint, raw):
    """Builds the generator of run and loads checkpoint's weights: the EMA
    (group ema_g, its shadows in the module's parameter and buffer order)
    unless raw, else G's own (group g, by name)."""
    with open(os.path.join(run, "config.yaml")) as f:
        cfg = yaml.safe_load(f)
    model = cfg["model"]
    kind = model["kind"]
    tensors, meta = read_safetensors(checkpoint)
    state = {k[2:]: v for k, v in tensors.items() if k.startswith("g/")}
    if kind == "mlp":
        g = mlp(model, model.get("z_dim") or 8, state)
    elif kind == "dcgan":
        g = dcgan(state)
    elif kind in ("cgan", "acgan"):
        classes = int(meta["data.classes"])
        embed = state["embed.weight"].shape[1] if "embed.weight" in state else 0
        g = CondGenerator(classes, embed, dcgan(state, "net."))
    else:
        sys.exit("model.kind %s: this script builds mlp, dcgan, cgan and acgan generators" % kind)
    used = load_weights(g, tensors, state, checkpoint, raw)
    return g.eval(), kind, used


def load_weights(g, tensors, state, checkpoint, raw):
    """Loads G's weights (state: group g/ by name) into module g, then,
    unless raw, the EMA's shadows (group ema_g, in the module's parameter
    and buffer order) when the checkpoint has them. Returns "ema" or "g"."""
    sd = {k: torch.from_numpy(v.copy()) for k, v in state.items()}
    missing, unexpected = g.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit("%s: names do not match: missing %s, unexpected %s" % (checkpoint, missing, unexpected))
    if raw or "ema_g/ema.param.0" not in tensors:
        return "g"
    params = [p for _, p in g.named_parameters()]
    buffers = [b for n, b in g.named_buffers() if not n.endswith("num_batches_tracked")]
    with torch.no_grad():
        for kind, ts in (("param", params), ("buffer", buffers)):
            for i, t in enumerate(ts):
                src = tensors["ema_g/ema.%s.%d" % (kind, i)]
                if tuple(src.shape) != tuple(t.shape):
                    sys.exit("ema.%s.%d: shape %s, module has %s" % (kind, i, src.shape, tuple(t.shape)))
                t.copy_(torch.from_numpy(src.copy()))
    return "ema"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a Kallima run folder")
    ap.add_argument("dump", help="a folder written by kallima export -dump")
    ap.add_argument("--checkpoint", help="a checkpoint file (default: the run's newest)")
    ap.add_argument("--raw", action="store_true", help="G's live weights instead of their EMA")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    with open(os.path.join(a.dump, "meta.json")) as f:
        meta = json.load(f)
    raw = a.raw or meta["weights"] == "g"
    ck = a.checkpoint or newest_checkpoint(a.run)
    g, kind, used = load(a.run, ck, raw)
    z = torch.from_numpy(np.load(os.path.join(a.dump, "z.npy")))
    want = np.load(os.path.join(a.dump, "x.npy"))
    with torch.no_grad():
        if isinstance(g, CondGenerator):
            x = g(z, torch.from_numpy(np.load(os.path.join(a.dump, "label.npy"))))
        else:
            x = g(z)
    x = x.numpy()
    if "data_mean" in meta:  # the mlp family's standardisation
        x = (x.astype(np.float64) * meta["data_std"] + np.array(meta["data_mean"])).astype(np.float32)
    diff = float(np.abs(x - want).max())
    print("%s (%s, %s weights, %s): torch %s, %d samples %s, max |diff| %.3e" % (a.run, kind, used, os.path.basename(ck), torch.__version__, x.shape[0], list(x.shape[1:]), diff))
    if not diff <= a.tol:
        sys.exit("difference above %g" % a.tol)


if __name__ == "__main__":
    main()
