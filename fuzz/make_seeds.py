#!/usr/bin/env python3
"""Writes the fuzz targets' seeds to fuzz/seeds/<target>/: small valid
files (and a few near misses) for the safetensors loader and the IDX reader,
and the bodies of the `network!` invocations in tests/ui/ for the macro.
scripts/fuzz.sh adds the LeNet-5 weights of tests/fixtures/ at run time.

Standard library only: the files are written byte by byte."""

import gzip
import json
import pathlib
import re
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"

# The `Small` network of fuzz_targets/safetensors.rs.
SMALL = [("conv.weight", [2, 1, 3, 3]), ("conv.bias", [2]), ("fc.weight", [2, 8]), ("fc.bias", [2])]


def safetensors_file(tensors, metadata=None, order=None):
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for i, (name, shape) in enumerate(tensors):
        n = 1
        for d in shape:
            n *= d
        blob = struct.pack(f"<{n}f", *[(i + 1) * 0.25 * (k - n / 2) for k in range(n)])
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        data += blob
        offset += len(blob)
    keys = list(header)
    if order is not None:
        keys = order(keys)
    text = json.dumps({k: header[k] for k in keys}, separators=(",", ":"))
    text += " " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text.encode() + data


def idx_images(count, rows, cols):
    head = struct.pack(">IIII", 0x803, count, rows, cols)
    return head + bytes((i * 7) % 256 for i in range(count * rows * cols))


def idx_labels(labels):
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def network_bodies():
    """The text inside `network! { … }` of every trybuild case."""
    for path in sorted((ROOT / "tests" / "ui").glob("*/*.rs")):
        text = path.read_text()
        for m in re.finditer(r"network!\s*\{", text):
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            yield path.stem, text[m.end() : i - 1]


def write(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def main():
    write("safetensors", "small", safetensors_file(SMALL, {"format": "pt"}))
    write("safetensors", "small-no-metadata", safetensors_file(SMALL))
    write("safetensors", "small-reversed", safetensors_file(SMALL, {"format": "pt"}, order=lambda k: k[::-1]))
    write("safetensors", "small-extra", safetensors_file(SMALL + [("bn.running_mean", [2])], {"format": "pt", "note": "x"}))
    write("safetensors", "small-f64", safetensors_file(SMALL).replace(b'"F32"', b'"F64"', 1))
    write("idx", "images", idx_images(3, 4, 5))
    write("idx", "labels", idx_labels([0, 1, 2, 9]))
    write("idx", "images.gz", gzip.compress(idx_images(2, 6, 6), mtime=0))
    write("idx", "labels.gz", gzip.compress(idx_labels([3, 1, 4, 1, 5]), mtime=0))
    write("idx", "images-trailing", idx_images(1, 2, 2) + b"\0\0")
    for stem, body in network_bodies():
        write("macro_entry", stem, body)


if __name__ == "__main__":
    main()
