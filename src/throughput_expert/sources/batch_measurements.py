"""Batch measurements: a CSV ``batch_size,latency_ms`` (one row per timed batch; sizes may
repeat), for ``design-batching --measurements FILE``; with optional columns ``cpu_ms`` (the CPU
time every process serving the call spent on it: client and database) and ``disk_ms`` (the
disk's busy time it took), for ``analyze --batch-trials FILE``. Other columns are ignored."""

from __future__ import annotations

import csv
import io
import math
from os import PathLike

from throughput_expert.errors import InputError
from throughput_expert.model.quantity import MAX_NUMBER_CHARS, RANGES, gate, in_range
from throughput_expert.model.trials import CallCost
from throughput_expert.sources.files import read_text

__all__ = ["MAX_ROWS", "call_costs_from_text", "load_batch_measurements", "load_call_costs"]

_OPTIONAL = ("cpu_ms", "disk_ms")
# Rows bound the fit's work and the report's size; more timed batches than this are not one
# trial (a trial times each batch size a few dozen times).
MAX_ROWS = 100_000


def load_batch_measurements(path: str | PathLike[str]) -> list[tuple[float, float]]:
    """(batch size, latency in seconds) pairs."""
    return [(c.batch_size, c.latency_s) for c in load_call_costs(path)]


def load_call_costs(path: str | PathLike[str]) -> list[CallCost]:
    """One ``CallCost`` per row; a CPU or disk column, when present, must be filled in every
    row (a missing cell is refused: a fit on some rows would mix conditions)."""
    return call_costs_from_text(read_text(path), str(path))


def call_costs_from_text(text: str, source: str) -> list[CallCost]:
    """``load_call_costs`` of a CSV text already in hand (errors name ``source``)."""
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(r)]
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=source) from None
    if not rows:
        raise InputError("empty: expected a header batch_size,latency_ms", source=source)
    header = [h.strip().lower() for h in rows[0]]
    if "batch_size" not in header or "latency_ms" not in header:
        raise InputError(
            "expected columns batch_size and latency_ms", source=source, field="header"
        )
    at = {
        name: header.index(name)
        for name in ("batch_size", "latency_ms", *_OPTIONAL)
        if name in header
    }
    if len(rows) - 1 > MAX_ROWS:
        raise InputError(
            f"{len(rows) - 1:,} rows: at most {MAX_ROWS:,} timed batches in one file",
            source=source,
        )
    out = [_row(r, at, source, n) for n, r in enumerate(rows[1:], start=2)]
    if len(out) < 2:
        raise InputError("needs at least two measurements", source=source)
    return out


def _number(row: list[str], at: int, name: str, source: str, line: int) -> float:
    """A cell, its length checked before it is read (``MAX_NUMBER_CHARS``) and held below the
    numeric gate's bound: a batch of at most 2**24 items, a time in ms of at most a year
    (``model.quantity.RANGES``). Signs and zeros are ``_row``'s to judge."""
    if at >= len(row):
        raise InputError(f"{name}: expected a number", source=source, field=f"line {line}")
    text = row[at].strip()
    if len(text) > MAX_NUMBER_CHARS:
        gate(text, "count", source=source, field=f"line {line}: {name}")  # the length message
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{name}: expected a number", source=source, field=f"line {line}"
        ) from None
    if not math.isfinite(value):
        raise InputError(f"{name}: expected a finite number", source=source, field=f"line {line}")
    kind, scale = ("batch", 1.0) if name == "batch_size" else ("duration", 1e3)  # ms -> s
    if value / scale > RANGES[kind].high:
        in_range(value / scale, kind, text, source=source, field=f"line {line}: {name}")
    return value


def _row(row: list[str], at: dict[str, int], source: str, line: int) -> CallCost:
    size = _number(row, at["batch_size"], "batch_size", source, line)
    latency = _number(row, at["latency_ms"], "latency_ms", source, line)
    if not (size >= 1 and latency > 0):
        raise InputError(
            "batch_size must be >= 1 and latency_ms > 0", source=source, field=f"line {line}"
        )
    extra: dict[str, float | None] = {}
    for name in _OPTIONAL:
        if name not in at:
            extra[name] = None
            continue
        value = _number(row, at[name], name, source, line)
        if value < 0:
            raise InputError(f"{name} must be >= 0", source=source, field=f"line {line}")
        extra[name] = value / 1e3
    return CallCost(size, latency / 1e3, extra["cpu_ms"], extra["disk_ms"])
