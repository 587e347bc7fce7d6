#!/usr/bin/env python3
"""Writes golden_conv.json: PyTorch references for autograd/golden_conv_test.go.

For each configuration below it draws float32 inputs x (and weight w) and a
float32 projection r with a fixed seed, then computes in float64

    out = op(x, w)            (conv2d, conv_transpose2d, avg_pool2d,
                               max_pool2d, interpolate nearest/bilinear)
    gx, gw = d sum(out * r) / d(x, w)

and stores x, w, r exactly (shortest float32 decimal) and out, gx, gw to 8
significant digits. Float64 makes the reference exact to well below the
test's 1e-4 tolerance, so the test measures Kallima's float32 error alone.

Run from the repository root with Debian's python3-torch (1.13.1):

    /usr/bin/python3 autograd/testdata/gen_golden_conv.py
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240611


def conv(name, x, w, stride=1, padding=0, dilation=1):
    return dict(name=name, op="conv2d", x=x, w=w, stride=pair(stride), padding=pair(padding), dilation=pair(dilation))


def convt(name, x, w, stride=1, padding=0, dilation=1, output_padding=0):
    return dict(name=name, op="conv_transpose2d", x=x, w=w, stride=pair(stride), padding=pair(padding),
                dilation=pair(dilation), output_padding=pair(output_padding))


def pool(name, op, x, kernel, stride=None, padding=0):
    return dict(name=name, op=op, x=x, kernel=pair(kernel), stride=pair(stride if stride is not None else kernel),
                padding=pair(padding))


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


CASES = [
    conv("basic", [2, 3, 5, 5], [4, 3, 3, 3]),
    conv("stride2_pad1_odd", [2, 3, 7, 6], [5, 3, 3, 3], stride=2, padding=1),
    conv("asymmetric", [1, 2, 9, 8], [3, 2, 3, 2], stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    conv("dilation2_pad2", [2, 2, 6, 7], [2, 2, 3, 3], padding=2, dilation=2),
    conv("pointwise", [2, 4, 3, 5], [3, 4, 1, 1]),
    conv("stride3_even_kernel", [1, 2, 10, 11], [2, 2, 4, 2], stride=3, padding=(2, 1)),
    # DCGAN discriminator (ndf=4, 16x16 images): 4x4 kernels, stride 2, pad 1,
    # then a 4x4 valid conv to one logit.
    conv("dcgan_d1", [1, 3, 16, 16], [4, 3, 4, 4], stride=2, padding=1),
    conv("dcgan_d2", [1, 4, 8, 8], [8, 4, 4, 4], stride=2, padding=1),
    conv("dcgan_d3", [2, 8, 4, 4], [1, 8, 4, 4]),
    # conv_transpose2d weights are [Cin, Cout, kh, kw].
    convt("basic", [2, 3, 4, 4], [3, 2, 3, 3]),
    convt("stride2_pad1_outpad1", [2, 3, 3, 4], [3, 2, 3, 3], stride=2, padding=1, output_padding=1),
    convt("dilation2", [1, 2, 4, 3], [2, 3, 3, 2], padding=1, dilation=2),
    convt("asymmetric_outpad", [1, 2, 3, 3], [2, 2, 3, 4], stride=(2, 3), padding=(0, 1), output_padding=(1, 2)),
    convt("stride3_pad2_outpad2", [1, 2, 3, 3], [2, 3, 5, 5], stride=3, padding=2, output_padding=2),
    # DCGAN generator (nz=8, ngf=4, 16x16 images): 1x1 -> 4x4 valid, then
    # 4x4 kernels with stride 2, pad 1 doubling the size.
    convt("dcgan_g1", [2, 8, 1, 1], [8, 8, 4, 4]),
    convt("dcgan_g2", [1, 8, 4, 4], [8, 4, 4, 4], stride=2, padding=1),
    convt("dcgan_g3", [1, 4, 8, 8], [4, 3, 4, 4], stride=2, padding=1),
    pool("k2", "avg_pool2d", [2, 3, 4, 6], 2),
    pool("k3_s2_p1_odd", "avg_pool2d", [2, 3, 7, 7], 3, 2, 1),
    pool("k2x3_s1x2_p0x1", "avg_pool2d", [1, 2, 5, 7], (2, 3), (1, 2), (0, 1)),
    pool("k2", "max_pool2d", [2, 3, 4, 6], 2),
    pool("k3_s2_p1_odd", "max_pool2d", [2, 3, 7, 7], 3, 2, 1),
    pool("k3_s1_p1_overlap", "max_pool2d", [1, 2, 5, 5], 3, 1, 1),
    pool("k2x3_s1x2_p0x1", "max_pool2d", [1, 2, 5, 7], (2, 3), (1, 2), (0, 1)),
    dict(name="x2", op="upsample_nearest", x=[2, 3, 3, 4], scale=2),
    dict(name="x3", op="upsample_nearest", x=[1, 2, 2, 3], scale=3),
    dict(name="up_3x4_to_7x5", op="upsample_bilinear", x=[2, 2, 3, 4], size=[7, 5]),
    dict(name="up_4x4_to_8x8", op="upsample_bilinear", x=[1, 3, 4, 4], size=[8, 8]),
    dict(name="down_7x6_to_3x4", op="upsample_bilinear", x=[1, 2, 7, 6], size=[3, 4]),
    dict(name="same_3x5", op="upsample_bilinear", x=[1, 1, 3, 5], size=[3, 5]),
    # A deeper DCGAN discriminator (model.d_extra_layers) halves odd sides
    # below the base, rounding down: 7 -> 3 -> 1. Last, so the cases above
    # keep their draws.
    conv("dcgan_d_odd7", [2, 4, 7, 7], [8, 4, 4, 4], stride=2, padding=1),
    conv("dcgan_d_odd3", [2, 8, 3, 3], [16, 8, 4, 4], stride=2, padding=1),
    # A deeper DCGAN generator (model.g_extra_layers) grows 4 -> 7 with a
    # 3x3 kernel, stride 2, pad 1.
    convt("dcgan_g_4to7", [2, 8, 4, 4], [8, 4, 3, 3], stride=2, padding=1),
]


def forward(c, x, w):
    op = c["op"]
    if op == "conv2d":
        return F.conv2d(x, w, stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
    if op == "conv_transpose2d":
        return F.conv_transpose2d(x, w, stride=c["stride"], padding=c["padding"],
                                  output_padding=c["output_padding"], dilation=c["dilation"])
    if op == "avg_pool2d":
        return F.avg_pool2d(x, c["kernel"], c["stride"], c["padding"])
    if op == "max_pool2d":
        return F.max_pool2d(x, c["kernel"], c["stride"], c["padding"])
    if op == "upsample_nearest":
        return F.interpolate(x, scale_factor=c["scale"], mode="nearest")
    if op == "upsample_bilinear":
        return F.interpolate(x, size=c["size"], mode="bilinear", align_corners=False)
    raise ValueError(op)


def exact(t):
    """A float32 tensor as shape and shortest round-trip decimals."""
    a = t.detach().numpy().astype(np.float32)
    return dict(shape=list(a.shape), data=[float(str(v)) for v in a.ravel()])


def rounded(t):
    """A float64 tensor as shape and 8 significant digits."""
    a = t.detach().numpy()
    return dict(shape=list(a.shape), data=[float("%.8g" % v) for v in a.ravel()])


def main():
    torch.manual_seed(SEED)
    out_cases = []
    for c in CASES:
        x32 = torch.randn(c["x"], dtype=torch.float32)
        w32 = torch.randn(c["w"], dtype=torch.float32) * 0.5 if "w" in c else None
        x = x32.double().requires_grad_(True)
        w = w32.double().requires_grad_(True) if w32 is not None else None
        out = forward(c, x, w)
        r32 = torch.randn(out.shape, dtype=torch.float32)
        loss = (out * r32.double()).sum()
        inputs = [x] + ([w] if w is not None else [])
        grads = torch.autograd.grad(loss, inputs)
        rec = {k: v for k, v in c.items() if k not in ("x", "w")}
        rec["x"] = exact(x32)
        if w32 is not None:
            rec["w"] = exact(w32)
        rec["r"] = exact(r32)
        rec["out"] = rounded(out)
        rec["gx"] = rounded(grads[0])
        if w32 is not None:
            rec["gw"] = rounded(grads[1])
        out_cases.append(rec)
    doc = dict(
        generator="autograd/testdata/gen_golden_conv.py",
        torch=torch.__version__,
        seed=SEED,
        note="out = op(x[, w]); gx, gw = gradients of sum(out * r); computed in float64",
        cases=out_cases,
    )
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden_conv.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s: %d cases, %d bytes" % (path, len(out_cases), os.path.getsize(path)))


if __name__ == "__main__":
    main()
