#!/usr/bin/python3
"""Golden files for Kallima's safetensors package, from the Python side.

Debian has no python3-safetensors package (`apt-cache policy python3-safetensors`
finds nothing) and PyPI is out of reach, so this script implements the format
by hand from its specification with struct + json + numpy, following the
reference (Rust) writer's layout: tensors ordered by descending dtype alignment
then by name, "__metadata__" first, compact JSON with raw UTF-8, the header
padded with spaces to a multiple of 8 bytes.

It does two things (run it from anywhere, with /usr/bin/python3):

1. Writes from_python.safetensors (every dtype Kallima converts, a scalar,
   empty tensors, metadata with non-ASCII text) and from_python.json, which
   holds each tensor's values after NumPy's own conversion to float32, as
   uint32 bit patterns; the Go test must reproduce them bit for bit.
2. Reads from_kallima.safetensors (written by `go test -run TestWriteGolden
   ./safetensors -update`) with an independent reader and checks the layout
   rules, the exact header bytes, names, shapes, values and metadata against
   the expectations below, which mirror goldenFile() in golden_test.go.
   It exits non-zero on any mismatch.
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# Bytes per element and the reference writer's ordering rank (larger first).
DTYPES = {
    "BOOL": (np.dtype("bool"), 0), "U8": (np.dtype("<u1"), 1),
    "I8": (np.dtype("<i1"), 2), "I16": (np.dtype("<i2"), 5),
    "F16": (np.dtype("<f2"), 7), "BF16": (np.dtype("<u2"), 8),
    "I32": (np.dtype("<i4"), 9), "F32": (np.dtype("<f4"), 11),
    "F64": (np.dtype("<f8"), 12), "I64": (np.dtype("<i8"), 13),
}


def bf16_bits(values):
    """float32 -> bfloat16 bits, rounding to nearest-even (no NaNs here)."""
    u = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def to_float32(dtype, arr):
    """The float32 values Kallima must read for arr stored as dtype."""
    if dtype == "BF16":
        return (arr.astype(np.uint32) << 16).view(np.float32)
    with np.errstate(over="ignore"):
        return arr.astype(np.float32)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write_file(path, tensors, metadata):
    """tensors: name -> (dtype, numpy array already of that storage type)."""
    order = sorted(tensors, key=lambda n: (-DTYPES[tensors[n][0]][1], n.encode()))
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in order:
        dtype, arr = tensors[name]
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    hb = compact(header).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(chunks))


def make_from_python():
    f32 = lambda v, s: ("F32", np.array(v, dtype="<f4").reshape(s))
    tensors = {
        "a.f32": f32([1.5, -2.25, 3.4028235e38, 1e-45, -0.0, 0.1], (2, 3)),
        "b.f32.scalar": f32(-7.75, ()),
        "c.f32.empty": f32([], (0,)),
        "d.f16.empty": ("F16", np.zeros((3, 0), dtype="<f2")),
        "e.f64": ("F64", np.array([[1 / 3, -1e300], [1e-50, 2.5]], dtype="<f8")),
        "f.f16": ("F16", np.array([1, -2, 65504, 6e-8, -0.0, np.inf, np.nan, 0.1],
                                  dtype="<f2").reshape(2, 4)),
        "g.bf16": ("BF16", bf16_bits([3.14159, -1e30, 2.5e-39])),
        "h.i64": ("I64", np.array([[-3, 2**53 + 1], [-(2**62), 2**63 - 1]], dtype="<i8")),
        "i.i32": ("I32", np.array([-2**31, 2**24 + 1, 7], dtype="<i4")),
        "j.i16": ("I16", np.array([-32768, 32767], dtype="<i2")),
        "k.i8": ("I8", np.array([-128, 127], dtype="<i1")),
        "l.u8": ("U8", np.array([0, 200, 255], dtype="<u1")),
        "m.bool": ("BOOL", np.array([[True, False], [False, True]])),
        "n.f32.4d": f32(np.arange(12) * 0.5 - 2, (2, 1, 2, 3)),
    }
    metadata = {"format": "pt", "source": "gen_golden.py",
                "note": "ünïcode \"quoted\"\n"}
    write_file(os.path.join(HERE, "from_python.safetensors"), tensors, metadata)
    expected = {"metadata": metadata, "tensors": {}}
    for name, (dtype, arr) in tensors.items():
        bits = to_float32(dtype, arr).reshape(-1).view(np.uint32)
        expected["tensors"][name] = {"dtype": dtype, "shape": list(arr.shape),
                                     "float32_bits": [int(b) for b in bits]}
    with open(os.path.join(HERE, "from_python.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def f32_bits(values):
    return [int(b) for b in np.array(values, dtype=np.float32).view(np.uint32)]


# What goldenFile() in golden_test.go writes: name -> (shape, float32 bits).
EXPECTED_KALLIMA = {
    "disc.fc.bias": ([3], f32_bits([0.5, -1.25, 2.0])),
    "disc.fc.weight": ([3, 4], f32_bits([(i - 6) * 0.125 for i in range(12)])),
    "gen.conv.weight": ([2, 1, 3, 3], f32_bits([i * 0.5 - 4 for i in range(18)])),
    "gen.scalar": ([], [0x40490FDB]),
    "gen.empty": ([0, 5], []),
    "special": ([7], [0x00000000, 0x80000000, 0x00000001, 0xFF7FFFFF,
                      0x7F800000, 0xFF800000, 0x7FC00000]),
    'quote"back\\slash\ttab\x01': ([1], f32_bits([42])),
    "ünïcode.näme": ([2], f32_bits([1, -1])),
}
EXPECTED_KALLIMA_METADATA = {"format": "pt", "kallima.version": "0",
                             "note": "line1\nline2 \"quoted\" ü <&>"}


def check_from_kallima():
    path = os.path.join(HERE, "from_kallima.safetensors")
    errors = []
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    hb = raw[8:8 + n]
    data = raw[8 + n:]
    if n % 8:
        errors.append(f"header length {n} is not a multiple of 8")
    text = hb.decode("utf-8")
    body = text.rstrip(" ")
    if len(text) - len(body) >= 8:
        errors.append("more than 7 bytes of padding")
    header = json.loads(body)
    # The exact bytes the reference writer would produce for this content.
    names = sorted((k for k in header if k != "__metadata__"), key=str.encode)
    canon = {}
    if "__metadata__" in header:
        canon["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    for k in names:
        canon[k] = header[k]
    if compact(canon) != body:
        errors.append(f"header is not canonical:\n got  {body!r}\n want {compact(canon)!r}")
    if header.get("__metadata__") != EXPECTED_KALLIMA_METADATA:
        errors.append(f"metadata {header.get('__metadata__')!r}")
    if set(names) != set(EXPECTED_KALLIMA):
        errors.append(f"names {names!r}, want {sorted(EXPECTED_KALLIMA)!r}")
    offset = 0
    for name in names:
        info = header[name]
        begin, end = info["data_offsets"]
        if begin != offset:
            errors.append(f"{name}: begins at {begin}, want {offset}")
        offset = end
        if info["dtype"] != "F32":
            errors.append(f"{name}: dtype {info['dtype']}")
            continue
        if name not in EXPECTED_KALLIMA:
            continue
        shape, bits = EXPECTED_KALLIMA[name]
        got = np.frombuffer(data[begin:end], dtype="<u4")
        if info["shape"] != shape:
            errors.append(f"{name}: shape {info['shape']}, want {shape}")
        if got.tolist() != bits:
            errors.append(f"{name}: bits {[hex(b) for b in got]}, want {[hex(b) for b in bits]}")
    if offset != len(data):
        errors.append(f"tensors cover {offset} bytes, data buffer has {len(data)}")
    return errors


def main():
    make_from_python()
    print("wrote from_python.safetensors and from_python.json")
    errors = check_from_kallima()
    for e in errors:
        print("from_kallima.safetensors:", e, file=sys.stderr)
    if errors:
        sys.exit(1)
    print("from_kallima.safetensors: OK")


if __name__ == "__main__":
    main()
