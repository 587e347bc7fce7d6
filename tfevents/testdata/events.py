#!/usr/bin/python3
"""Independent check of Kallima's tfevents format with the protobuf runtime.

Debian has neither tensorboard nor tensorflow, so this script declares the
few messages Kallima uses (field numbers from tensorflow's event.proto and
summary.proto), compiles them with protoc, and frames records with a
pure-Python CRC-32C. It needs python3-protobuf and protobuf-compiler.

  events.py golden          writes testdata/golden.tfevents (read by golden_test.go)
  events.py check FILE...   verifies both CRCs of every record, parses each
                            Event with protobuf and prints it; exit 1 on error
"""
import importlib
import os
import struct
import subprocess
import sys
import tempfile

PROTO = """
syntax = "proto3";
package kallimacheck;
message Image {
  int32 height = 1;
  int32 width = 2;
  int32 colorspace = 3;
  bytes encoded_image_string = 4;
}
message Value {
  string tag = 1;
  oneof value {
    float simple_value = 2;
    Image image = 4;
  }
}
message Summary { repeated Value value = 1; }
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
"""


def load_pb():
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "kevent.proto"), "w") as f:
        f.write(PROTO)
    subprocess.run(["protoc", "-I", d, "--python_out", d, os.path.join(d, "kevent.proto")], check=True)
    sys.path.insert(0, d)
    return importlib.import_module("kevent_pb2")


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data):
    head = struct.pack("<Q", len(data))
    return head + struct.pack("<I", masked(head)) + data + struct.pack("<I", masked(data))


def golden(pb):
    evs = []
    e = pb.Event(wall_time=1700000000.25, file_version="brain.Event:2")
    evs.append(e)
    e = pb.Event(wall_time=1700000001.5, step=1)
    e.summary.value.add(tag="loss/d", simple_value=0.6931)
    evs.append(e)
    e = pb.Event(wall_time=1700000002.0, step=0)
    e.summary.value.add(tag="zero", simple_value=0.0)
    evs.append(e)
    e = pb.Event(wall_time=1700000003.125, step=-3)
    e.summary.value.add(tag="neg", simple_value=-1e-30)
    evs.append(e)
    e = pb.Event(wall_time=1700000004.0, step=1 << 40)
    e.summary.value.add(tag="a", simple_value=float("inf"))
    v = e.summary.value.add(tag="samples")
    v.image.height, v.image.width, v.image.colorspace = 2, 3, 3
    v.image.encoded_image_string = b"\x89PNG\r\n\x1a\nfake"
    evs.append(e)
    e = pb.Event(wall_time=1700000005.0, step=5)
    e.summary.SetInParent()
    evs.append(e)
    e = pb.Event(wall_time=1700000006.0, step=6)
    e.summary.value.add(tag="\u03bb/\u00df", simple_value=3.5)
    evs.append(e)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.tfevents")
    with open(out, "wb") as f:
        for e in evs:
            f.write(frame(e.SerializeToString()))
    print("wrote", out)


def check(pb, path):
    data = open(path, "rb").read()
    off, n = 0, 0
    while off < len(data):
        if off + 12 > len(data):
            raise SystemExit(f"{path}: truncated header at {off}")
        head = data[off:off + 8]
        (length,) = struct.unpack("<Q", head)
        (lcrc,) = struct.unpack("<I", data[off + 8:off + 12])
        if lcrc != masked(head):
            raise SystemExit(f"{path}: bad length crc at {off}")
        body = data[off + 12:off + 12 + length]
        if len(body) != length or off + 16 + length > len(data):
            raise SystemExit(f"{path}: truncated record at {off}")
        (dcrc,) = struct.unpack("<I", data[off + 12 + length:off + 16 + length])
        if dcrc != masked(body):
            raise SystemExit(f"{path}: bad data crc at {off}")
        e = pb.Event()
        e.ParseFromString(body)
        what = e.WhichOneof("what")
        if what == "file_version":
            desc = f"file_version={e.file_version!r}"
        else:
            parts = []
            for v in e.summary.value:
                k = v.WhichOneof("value")
                if k == "simple_value":
                    parts.append(f"{v.tag}={v.simple_value:.6g}")
                else:
                    im = v.image
                    png = im.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"
                    parts.append(f"{v.tag}=image {im.width}x{im.height} cs={im.colorspace} png={png} {len(im.encoded_image_string)}B")
            desc = " ".join(parts)
        print(f"record {n}: wall_time={e.wall_time:.3f} step={e.step} {desc}")
        off += 16 + length
        n += 1
    print(f"{path}: {n} records OK")


if __name__ == "__main__":
    pb = load_pb()
    if sys.argv[1:2] == ["golden"]:
        golden(pb)
    elif sys.argv[1:2] == ["check"] and len(sys.argv) > 2:
        for p in sys.argv[2:]:
            check(pb, p)
    else:
        raise SystemExit(__doc__)
