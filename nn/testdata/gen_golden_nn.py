#!/usr/bin/python3
"""Writes golden_nn.json: PyTorch reference values for nn/golden_nn_test.go.

Run from this directory with Debian's python3-torch (1.13) and numpy:

    /usr/bin/python3 gen_golden_nn.py

Inputs and weights are drawn by numpy from fixed seeds, rounded to float32
(so Go sees exactly the same numbers) and stored in the file; PyTorch then
computes in float64, so the golden values carry no float32 rounding of their
own. Each tensor is stored as {"shape": [...], "data": [...]} (row-major).
Every gradient is of sum(y * grad_out) for the stored grad_out.
"""
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def draw(rng, *shape, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def enc(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().numpy()
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1)]}


def batchnorm_case(seed, shape, cls):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = draw(rng, *shape, scale=1.5, shift=0.3)
    w = draw(rng, c, scale=0.5, shift=1.0)
    b = draw(rng, c, scale=0.5)
    rm = draw(rng, c, scale=0.2)
    rv = np.abs(draw(rng, c)) + np.float32(0.5)
    gout = draw(rng, *shape)
    bn = cls(c, eps=1e-5, momentum=0.1)
    with torch.no_grad():
        bn.weight.copy_(t(w))
        bn.bias.copy_(t(b))
        bn.running_mean.copy_(t(rm))
        bn.running_var.copy_(t(rv))
    out = {"x": enc(x), "weight": enc(w), "bias": enc(b), "running_mean": enc(rm),
           "running_var": enc(rv), "grad_out": enc(gout)}
    bn.train()
    xt = t(x, True)
    y = bn(xt)
    (y * t(gout)).sum().backward()
    out.update({"train_y": enc(y), "train_grad_x": enc(xt.grad), "train_grad_weight": enc(bn.weight.grad),
                "train_grad_bias": enc(bn.bias.grad), "train_running_mean": enc(bn.running_mean),
                "train_running_var": enc(bn.running_var)})
    bn.eval()
    xt = t(x, True)
    y = bn(xt)
    (y * t(gout)).sum().backward()
    out.update({"eval_y": enc(y), "eval_grad_x": enc(xt.grad)})
    return out


def layernorm_case(seed):
    rng = np.random.default_rng(seed)
    shape, ns = (3, 2, 4), (2, 4)
    x = draw(rng, *shape, scale=2.0, shift=-0.5)
    w = draw(rng, *ns, scale=0.5, shift=1.0)
    b = draw(rng, *ns, scale=0.5)
    gout = draw(rng, *shape)
    ln = nn.LayerNorm(ns, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(t(w))
        ln.bias.copy_(t(b))
    xt = t(x, True)
    y = ln(xt)
    (y * t(gout)).sum().backward()
    return {"x": enc(x), "weight": enc(w), "bias": enc(b), "grad_out": enc(gout), "y": enc(y),
            "grad_x": enc(xt.grad), "grad_weight": enc(ln.weight.grad), "grad_bias": enc(ln.bias.grad)}


def instancenorm_case(seed):
    rng = np.random.default_rng(seed)
    shape = (2, 3, 4, 4)
    x = draw(rng, *shape, scale=1.2, shift=0.7)
    w = draw(rng, 3, scale=0.5, shift=1.0)
    b = draw(rng, 3, scale=0.5)
    gout = draw(rng, *shape)
    inorm = nn.InstanceNorm2d(3, eps=1e-5, affine=True)
    with torch.no_grad():
        inorm.weight.copy_(t(w))
        inorm.bias.copy_(t(b))
    xt = t(x, True)
    y = inorm(xt)
    (y * t(gout)).sum().backward()
    return {"x": enc(x), "weight": enc(w), "bias": enc(b), "grad_out": enc(gout), "y": enc(y),
            "grad_x": enc(xt.grad), "grad_weight": enc(inorm.weight.grad), "grad_bias": enc(inorm.bias.grad)}


def spectral_case(seed, layer, x_shape, dim):
    """One training forward (one power iteration) and one eval forward."""
    rng = np.random.default_rng(seed)
    w = draw(rng, *layer.weight.shape, scale=0.5)
    b = draw(rng, *layer.bias.shape, scale=0.5)
    with torch.no_grad():
        layer.weight.copy_(t(w))
        layer.bias.copy_(t(b))
    layer = nn.utils.spectral_norm(layer, dim=dim)
    u = draw(rng, layer.weight_u.shape[0])
    u /= np.float32(np.linalg.norm(u.astype(np.float64)))
    v = draw(rng, layer.weight_v.shape[0])
    v /= np.float32(np.linalg.norm(v.astype(np.float64)))
    with torch.no_grad():
        layer.weight_u.copy_(t(u))
        layer.weight_v.copy_(t(v))
    x = draw(rng, *x_shape)
    out = {"weight": enc(w), "bias": enc(b), "u": enc(u), "v": enc(v), "x": enc(x)}
    layer.train()
    xt = t(x, True)
    y = layer(xt)
    gout = draw(rng, *y.shape)
    (y * t(gout)).sum().backward()
    out.update({"grad_out": enc(gout), "train_y": enc(y), "train_grad_x": enc(xt.grad),
                "train_grad_weight": enc(layer.weight_orig.grad), "train_grad_bias": enc(layer.bias.grad),
                "train_u": enc(layer.weight_u), "train_v": enc(layer.weight_v)})
    layer.eval()
    with torch.no_grad():
        out["eval_y"] = enc(layer(t(x)))
    return out


def wgan_gp_case(seed):
    """WGAN-GP penalty 10*mean((||grad_x D(x_hat)||_2 - 1)^2) (Gulrajani et
    al. 2017, arXiv:1704.00028) differentiated to the critic's weights."""
    rng = np.random.default_rng(seed)
    critic = nn.Sequential(
        nn.Conv2d(1, 4, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(4, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(8 * 2 * 2, 1))
    out = {}
    with torch.no_grad():
        for name, p in critic.named_parameters():
            a = draw(rng, *p.shape, scale=0.3)
            p.copy_(t(a))
            out["param." + name] = enc(a)
    xh = draw(rng, 3, 1, 8, 8)
    out["x_hat"] = enc(xh)
    xt = t(xh, True)
    d = critic(xt)
    (g,) = torch.autograd.grad(d, xt, grad_outputs=torch.ones_like(d), create_graph=True)
    norm = g.view(g.shape[0], -1).norm(2, dim=1)
    penalty = 10 * ((norm - 1) ** 2).mean()
    penalty.backward()
    out["critic_out"] = enc(d)
    out["grad_x"] = enc(g)
    out["penalty"] = enc(penalty)
    for name, p in critic.named_parameters():
        # The last bias does not reach the penalty: its gradient is zero
        # (PyTorch leaves it None).
        out["grad." + name] = enc(p.grad if p.grad is not None else torch.zeros_like(p))
    return out


def main():
    golden = {
        "torch_version": torch.__version__,
        "batchnorm2d": batchnorm_case(1, (3, 2, 3, 3), nn.BatchNorm2d),
        "batchnorm1d": batchnorm_case(2, (5, 3), nn.BatchNorm1d),
        "batchnorm1d_3d": batchnorm_case(3, (4, 3, 2), nn.BatchNorm1d),
        "layernorm": layernorm_case(4),
        "instancenorm2d": instancenorm_case(5),
        "sn_linear": spectral_case(6, nn.Linear(4, 5), (3, 4), 0),
        "sn_conv_transpose2d": spectral_case(
            7, nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 3, 3), 1),
        "wgan_gp": wgan_gp_case(8),
    }
    with open("golden_nn.json", "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
