"""What every load-test importer shares: the per-file result and checked number helpers.

Each tool module exposes ``parse(text, source) -> Imported`` (k6 and vegeta take the parsed
JSON document); ``loadtests/__init__.py`` detects the tool and merges the results.

Every importer keeps two rules. A failed request (a timeout, a socket error, a non-2xx/3xx
response, k6 ``http_req_failed``, Locust failures, vegeta errors, JMeter ``success=false``,
Gatling KO) counts in the level's ``errors`` and in its ``requests`` (the requests sent,
answered or not), so ``error_share`` is failed / sent. And latency comes from the requests that
were answered: where the tool keeps failed ones apart they are left out, a level with none
answered has no latency (unknown, never 0), and a note says when the latency is partial.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from throughput_expert.errors import InputError
from throughput_expert.model import Latency
from throughput_expert.model.quantity import gate, gate_int, in_range
from throughput_expert.model.sweep import SweepLevel, SweepMode
from throughput_expert.sources.sweep import gate_level

__all__ = [
    "CO_NOTE",
    "Imported",
    "check_level",
    "csv_table",
    "epoch_s",
    "error_share",
    "finite",
    "gate_level",
    "json_number",
    "latency_ms",
    "names",
    "nearest_rank",
    "number",
    "summarize_ms",
    "whole",
]

CO_NOTE = "closed loop: percentiles are prone to coordinated omission (docs/formats.md §3.9)"


@dataclass(frozen=True)
class Imported:
    """The levels one file holds, with how they were produced."""

    tool: str
    mode: SweepMode
    levels: tuple[SweepLevel, ...]
    closed_loop: bool
    notes: tuple[str, ...] = ()
    # what was loaded: URLs or request names, sorted and unique (empty: the file does not say)
    targets: tuple[str, ...] = ()
    started_at: str | None = None


def error_share(level: SweepLevel) -> float | None:
    """Failed / sent requests (at most 1); 1 when none was sent or answered; None if unknown."""
    if level.requests is None:
        return None
    if level.requests == 0:
        return 1.0
    return min(1.0, (level.errors or 0) / level.requests)


def names(values: Iterable[str]) -> tuple[str, ...]:
    """Target names sorted and unique, blanks dropped."""
    return tuple(sorted({v.strip() for v in values if v.strip()}))


def finite(value: float, source: str, field: str, kind: str = "count") -> float:
    """``value`` if it is finite and within ``kind``'s range (``model.quantity.RANGES``; a
    count by default: 0 to 2**63), else an InputError naming the field and the range."""
    return in_range(value, kind, source=source, field=field)


def number(text: str, source: str, field: str, kind: str = "count") -> float:
    """A number written as text (a CSV cell, a word of tool output), through the numeric gate:
    its length checked before it is read, then held to ``kind``'s range."""
    return gate(text, kind, source=source, field=field)


def whole(text: str, source: str, field: str) -> int:
    """A count written as text (``12345``), length-checked before ``int()`` (which raises past
    4,300 digits) and held below 2**63."""
    return gate_int(text, "count", source=source, field=field)


def json_number(value: object, source: str, field: str, kind: str = "count") -> float | None:
    """A JSON number (None when absent); booleans, strings, negatives, inf and values beyond
    ``kind``'s range are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("expected a number", source=source, field=field)
    return gate(value, kind, source=source, field=field)


def check_level(level: float, source: str, field: str) -> float:
    """A load level (VUs, users, threads, connections): a whole-ish number 1 to 2**24."""
    return in_range(level, "level", source=source, field=field)


def latency_ms(values: Mapping[str, float | None]) -> Latency:
    """A ``Latency`` from milliseconds keyed ``mean p50 p90 p95 p99 p999 max``."""
    return Latency(**{f"{k}_s": None if v is None else v / 1e3 for k, v in values.items()})


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile (0 < q <= 1) of sorted values by the nearest-rank method."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def summarize_ms(samples: Sequence[float]) -> Latency:
    """Mean, percentiles and max of latency samples in ms (nearest rank)."""
    if not samples:
        return Latency()
    ordered = sorted(samples)
    quantiles = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
    values: dict[str, float | None] = {k: nearest_rank(ordered, q) for k, q in quantiles.items()}
    values["mean"] = math.fsum(ordered) / len(ordered)
    values["max"] = ordered[-1]
    return latency_ms(values)


def csv_table(text: str, source: str) -> tuple[list[str], list[list[str]]]:
    """The header and the non-blank rows of a CSV text."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=source) from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise InputError("empty CSV", source=source)
    return [h.strip() for h in rows[0]], rows[1:]


def epoch_s(text: str, source: str, field: str) -> float:
    """Unix seconds from an RFC 3339 time (fractions past microseconds are dropped)."""
    try:
        stamp = datetime.fromisoformat(text.strip())
        if stamp.tzinfo is not None:
            return stamp.timestamp()
    except (ValueError, OverflowError):
        raise InputError(
            f"not an RFC 3339 time: {text[:40]!r}", source=source, field=field
        ) from None
    raise InputError("a time without a UTC offset", source=source, field=field)
