"""Batch measurements for ``design-batching --measurements FILE``: a CSV ``batch_size,latency_ms``
(one row per timed batch; sizes may repeat)."""

from __future__ import annotations

import csv
import io
import math
from os import PathLike

from throughput_expert.errors import InputError
from throughput_expert.sources.files import read_text

__all__ = ["load_batch_measurements"]


def load_batch_measurements(path: str | PathLike[str]) -> list[tuple[float, float]]:
    """(batch size, latency in seconds) pairs."""
    source = str(path)
    try:
        rows = [r for r in csv.reader(io.StringIO(read_text(path), newline="")) if any(r)]
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=source) from None
    if not rows:
        raise InputError("empty: expected a header batch_size,latency_ms", source=source)
    header = [h.strip().lower() for h in rows[0]]
    if "batch_size" not in header or "latency_ms" not in header:
        raise InputError(
            "expected columns batch_size and latency_ms", source=source, field="header"
        )
    size_at, latency_at = header.index("batch_size"), header.index("latency_ms")
    out = [_row(r, size_at, latency_at, source, n) for n, r in enumerate(rows[1:], start=2)]
    if len(out) < 2:
        raise InputError("needs at least two measurements", source=source)
    return out


def _row(
    row: list[str], size_at: int, latency_at: int, source: str, line: int
) -> tuple[float, float]:
    try:
        size, latency = float(row[size_at]), float(row[latency_at])
    except (IndexError, ValueError):
        raise InputError("expected two numbers", source=source, field=f"line {line}") from None
    if not (math.isfinite(size) and size >= 1 and math.isfinite(latency) and latency > 0):
        raise InputError(
            "batch_size must be >= 1 and latency_ms > 0", source=source, field=f"line {line}"
        )
    return size, latency / 1e3
