"""JMeter JTL in CSV mode (docs/formats.md §3.6), mapped by header names; closed loop.

One level per ``allThreads`` value (active threads of every thread group, recorded with each
sample). A step spans from its first sample's start (``timeStamp``, epoch ms) to its last
sample's end (``timeStamp + elapsed``); throughput = samples / that span. Values held for under
5 % of the busiest step's samples (or a single sample) are ramp-up or ramp-down and are skipped.
Transaction Controller parent rows (``Number of samples in transaction`` messages) duplicate
their children and are skipped; ``success`` false counts as an error, and its ``elapsed`` (a
timeout's wait, an error page's time) is left out of the latency: a step with no successful
sample has none. The target is the ``URL`` column's values (else the ``label``s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from throughput_expert.errors import InputError
from throughput_expert.model.sweep import SweepLevel
from throughput_expert.sources.loadtests._common import (
    CO_NOTE,
    Imported,
    check_level,
    csv_table,
    names,
    number,
    summarize_ms,
)

__all__ = ["looks_like", "parse"]

_NEEDED = ("timeStamp", "elapsed", "success")
_TRANSACTION = "Number of samples in transaction"
_MIN_SHARE = 0.05
_MAX_NAMES = 10_000


def looks_like(text: str) -> bool:
    header = text.lstrip().split("\n", 1)[0]
    return "timeStamp" in header and "elapsed" in header and "," in header


@dataclass
class _Step:
    threads: float
    start_ms: float = float("inf")
    end_ms: float = 0.0
    elapsed: list[float] = field(default_factory=list)
    ok_elapsed: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def parse(text: str, source: str) -> Imported:
    header, rows = csv_table(text, source)
    missing = [c for c in _NEEDED if c not in header]
    if missing:
        raise InputError(f"missing columns: {', '.join(missing)}", source=source, field="header")
    threads_col = _threads_column(header, source)
    steps: dict[float, _Step] = {}
    targets: set[str] = set()
    for i, cells in enumerate(rows):
        row = dict(zip(header, cells, strict=False))
        if not row.get("responseMessage", "").startswith(_TRANSACTION):
            _add(steps, row, threads_col, source, f"line {i + 2}")
            if len(targets) < _MAX_NAMES:
                targets.add((row.get("URL") or row.get("label") or "")[:2000])
    if not steps:
        raise InputError("no samples", source=source)
    busiest = max(len(s.elapsed) for s in steps.values())
    kept = [s for s in steps.values() if len(s.elapsed) >= max(2, _MIN_SHARE * busiest)] or [
        max(steps.values(), key=lambda s: len(s.elapsed))
    ]
    levels = tuple(_level(s) for s in sorted(kept, key=lambda s: s.threads))
    notes = _notes(steps, kept, threads_col)
    return Imported(
        "jmeter", "closed", levels, True, tuple(f"jmeter: {n}" for n in notes), names(targets)
    )


def _threads_column(header: list[str], source: str) -> str:
    for col in ("allThreads", "grpThreads"):
        if col in header:
            return col
    raise InputError(
        "no allThreads column: set jmeter.save.saveservice.thread_counts=true and re-run",
        source=source,
        field="header",
    )


def _add(
    steps: dict[float, _Step], row: Mapping[str, str], col: str, source: str, where: str
) -> None:
    stamp = row.get("timeStamp", "").strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 16):
        raise InputError(
            f"timeStamp {stamp[:30]!r} is not epoch ms: set "
            "jmeter.save.saveservice.timestamp_format=ms",
            source=source,
            field=where,
        )
    start = float(stamp)
    elapsed = number(row.get("elapsed", ""), source, f"{where}: elapsed")
    threads = number(row.get(col, ""), source, f"{where}: {col}")
    if threads < 1:
        return
    step = steps.setdefault(threads, _Step(check_level(threads, source, where)))
    step.start_ms = min(step.start_ms, start)
    step.end_ms = max(step.end_ms, start + elapsed)
    step.elapsed.append(elapsed)
    if row.get("success", "").strip().lower() != "true":
        step.errors += 1
        step.first_error = step.first_error or _why(row)
    else:
        step.ok_elapsed.append(elapsed)


def _why(row: Mapping[str, str]) -> str:
    return (
        row.get("failureMessage") or row.get("responseMessage") or row.get("responseCode") or ""
    )[:120]


def _level(step: _Step) -> SweepLevel:
    duration_s = (step.end_ms - step.start_ms) / 1e3
    count = len(step.elapsed)
    return SweepLevel(
        step.threads,
        count / duration_s if duration_s > 0 else 0.0,
        summarize_ms(step.ok_elapsed),
        step.errors,
        count,
        duration_s if duration_s > 0 else None,
    )


def _notes(steps: dict[float, _Step], kept: list[_Step], col: str) -> list[str]:
    notes = [CO_NOTE]
    if col != "allThreads":
        notes.append("no allThreads column: levels are grpThreads (one thread group's threads)")
    if len(kept) < len(steps):
        notes.append(f"{len(steps) - len(kept)} brief thread counts (ramps) skipped")
    errors = [s for s in kept if s.errors]
    if errors:
        first = next((s.first_error for s in errors if s.first_error), "")
        detail = f" (first: {first})" if first else ""
        notes.append(f"{sum(s.errors for s in errors)} failed samples{detail}")
    for s in errors:
        if s.ok_elapsed:
            notes.append(
                f"level {s.threads:g}: latency of the {len(s.ok_elapsed)} successful samples "
                f"only: the {s.errors} failed ones are left out"
            )
        else:
            notes.append(f"level {s.threads:g}: latency unknown, not 0: every sample failed")
    return notes
