"""What several benchmarks need: the `tpx` to time, and protobuf encoding for pprof files."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def find_tpx(script: str) -> str:
    """The `tpx` console script beside this interpreter (no pyenv shim in the timing), else
    PATH; ``script`` names the benchmark in the message when there is none."""
    beside = Path(sys.executable).parent / "tpx"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("tpx")
    if found is None:
        sys.exit(f"benchmarks/{script}: `tpx` not found; install the package: pip install -e .")
    return found


def varint(n: int) -> bytes:
    """A protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    """A protobuf field: a varint for an int, length-delimited bytes otherwise."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value
