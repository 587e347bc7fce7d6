#!/usr/bin/python3
"""Writes tobyte.json: float32 inputs and the bytes torchvision's
make_grid(normalize=True, value_range=(-1, 1)) + save_image give them,
computed with torch's ops in the same order (torchvision itself is not
installed): clamp(-1, 1), sub(-1), div(2), mul(255), add(0.5), clamp(0, 255),
to(uint8). Used by TestToByteGolden."""
import json
import os

import torch

g = torch.Generator().manual_seed(0)
vals = [-1.0, 1.0, 0.0, -2.0, 2.0, 0.5, -0.5, 1e-8, -1e-8, 0.999999, -0.999999]
vals += (torch.rand(300, generator=g) * 2.4 - 1.2).tolist()
# values whose byte is on a rounding edge: (k+0.5)/255 * 2 - 1 and neighbours
edges = torch.tensor([(k + 0.5) / 255 * 2 - 1 for k in range(255)], dtype=torch.float32)
vals += edges.tolist()
vals += torch.nextafter(edges, torch.full_like(edges, 2.0)).tolist()
vals += torch.nextafter(edges, torch.full_like(edges, -2.0)).tolist()
x = torch.tensor(vals, dtype=torch.float32)
y = x.clone().clamp(-1, 1).sub(-1).div(2).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tobyte.json")
with open(out, "w") as f:
    json.dump({"in": x.tolist(), "out": y.tolist()}, f)
print("wrote", out, len(vals), "values")
