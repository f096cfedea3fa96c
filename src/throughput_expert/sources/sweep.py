"""The sweep file (docs/formats.md §5.1): CSV or JSON, written by ``tpx sweep --save``.

CSV: a header; the first column is the level (``concurrency`` or ``instances``), then
``throughput_rps`` (alias ``throughput``) and optional ``p50_ms p90_ms p99_ms p999_ms max_ms
errors requests duration_s offered_rps``. JSON: ``{"format": "tpx-sweep", "version": 1, ...}``.
Readers accept unknown keys and columns.

A sweep's ``target`` (the URL, command or function loaded) and its notes never carry a secret:
``redact_text`` masks them when a sweep file is written and again when one is read (it may come
from another program).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from os import PathLike
from typing import Any

from throughput_expert.errors import InputError, Parameter
from throughput_expert.model import InputRef, Latency
from throughput_expert.model.quantity import echo, gate, in_range
from throughput_expert.model.sweep import LevelKind, Sweep, SweepLevel
from throughput_expert.outputs import write_atomically
from throughput_expert.redact import redact_text
from throughput_expert.sources.files import read_json, read_text

__all__ = [
    "FORMAT",
    "MAX_LEVELS",
    "check_levels",
    "gate_level",
    "is_sweep_file",
    "load_sweep",
    "save_sweep",
    "sweep_to_json",
]

FORMAT = "tpx-sweep"
# A sweep steps its load a few dozen times; its levels bound the fit's and the report's work.
MAX_LEVELS = 1_000
VERSION = 1
_LEVEL_KINDS: tuple[LevelKind, ...] = ("concurrency", "instances")
_LATENCY_KEYS = ("mean", "p50", "p90", "p95", "p99", "p999", "max")
_LATENCY_COLUMNS = {
    "mean_ms": "mean_s",
    "p50_ms": "p50_s",
    "p90_ms": "p90_s",
    "p95_ms": "p95_s",
    "p99_ms": "p99_s",
    "p999_ms": "p999_s",
    "max_ms": "max_s",
}


# --- reading ------------------------------------------------------------------------------------


def is_sweep_file(path: str | PathLike[str]) -> bool:
    """True for a tpx sweep file (JSON ``"format": "tpx-sweep"`` or the CSV's level header)."""
    try:
        head = read_text(path)[:4096].lstrip()
    except InputError:
        return False
    if head.startswith("{"):
        return f'"{FORMAT}"' in head
    first = head.split("\n", 1)[0].strip().lower()
    return first.split(",", 1)[0].strip() in _LEVEL_KINDS


def load_sweep(path: str | PathLike[str]) -> Sweep:
    source = str(path)
    text = read_text(path)
    if text.lstrip().startswith("{"):
        return _from_json(read_json(text, source), source)
    return _from_csv(text, source)


def _from_csv(text: str, source: str) -> Sweep:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if any(cell.strip() for cell in row):
                rows.append(row)
                if len(rows) > MAX_LEVELS + 1:  # the header and one level too many: stop here
                    break
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=source) from None
    if len(rows) < 2:
        raise InputError("a sweep CSV needs a header and at least one row", source=source)
    header = [h.strip().lower() for h in rows[0]]
    kind = header[0]
    if kind not in _LEVEL_KINDS:
        raise InputError(
            f"the first column must be 'concurrency' or 'instances', not {echo(kind)}",
            source=source,
            field="header",
        )
    tp = "throughput_rps" if "throughput_rps" in header else "throughput"
    if tp not in header:
        raise InputError("no throughput_rps column", source=source, field="header")
    check_levels(len(rows) - 1, source)
    levels = tuple(
        _csv_level(dict(zip(header, r, strict=False)), kind, tp, source, i + 2)
        for i, r in enumerate(rows[1:])
    )
    return Sweep(
        kind, "closed", levels, source=InputRef(source, "sweep-csv", f"{len(levels)} rows")
    )


def _csv_level(row: Mapping[str, str], kind: str, tp: str, source: str, line: int) -> SweepLevel:
    def num(key: str) -> float | None:
        cell = (row.get(key) or "").strip()
        return None if cell == "" else _number(cell, source, f"line {line}: {key}")

    level, throughput = num(kind), num(tp)
    if level is None or throughput is None:
        raise InputError("level and throughput are required", source=source, field=f"line {line}")
    latency = Latency(**{attr: _ms(num(col)) for col, attr in _LATENCY_COLUMNS.items()})
    return _level(
        level,
        throughput,
        latency,
        num("errors"),
        num("requests"),
        num("duration_s"),
        num("offered_rps"),
        source,
        f"line {line}",
    )


def _from_json(doc: object, source: str) -> Sweep:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(f'not a sweep file: expected "format": "{FORMAT}"', source=source)
    if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
        raise InputError(
            f"unsupported version {echo(doc.get('version'))} (this tpx reads {VERSION})",
            source=source,
            field="version",
        )
    kind = doc.get("level", "concurrency")
    if kind not in _LEVEL_KINDS:
        raise InputError("must be 'concurrency' or 'instances'", source=source, field="level")
    raw = doc.get("levels")
    if not isinstance(raw, list) or not raw:
        raise InputError("expected a non-empty list", source=source, field="levels")
    check_levels(len(raw), source)
    levels = tuple(_json_level(x, source, f"levels[{i}]") for i, x in enumerate(raw))
    given = doc.get("source")
    src: Mapping[str, Any] = given if isinstance(given, dict) else {}
    return Sweep(
        kind,
        "open" if doc.get("mode") == "open" else "closed",
        levels,
        closed_loop_percentiles=bool(doc.get("closed_loop_percentiles", False)),
        source=InputRef(source, "sweep-json", f"{len(levels)} levels"),
        driver=_str(src.get("driver")),
        target=_redacted(_str(src.get("target"))),
        started_at=_str(src.get("started_at")),
        notes=_notes(doc.get("notes"), source),
    )


def _notes(value: object, source: str) -> tuple[str, ...]:
    """The run's notes (how each level was chosen, what stopped it): an optional list of text."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
        raise InputError("expected a list of strings", source=source, field="notes")
    return tuple(redact_text(n) for n in value)


def _json_level(x: object, source: str, field: str) -> SweepLevel:
    if not isinstance(x, dict):
        raise InputError("expected an object", source=source, field=field)
    raw = x.get("latency_ms")
    lat: Mapping[str, Any] = raw if isinstance(raw, dict) else {}

    def num(doc: Mapping[str, Any], key: str, where: str) -> float | None:
        return _opt(doc.get(key), source, f"{where}.{key}")

    latency = Latency(**{f"{k}_s": _ms(num(lat, k, f"{field}.latency_ms")) for k in _LATENCY_KEYS})
    level, throughput = num(x, "level", field), num(x, "throughput_rps", field)
    if level is None or throughput is None:
        raise InputError("level and throughput_rps are required", source=source, field=field)
    return _level(
        level,
        throughput,
        latency,
        num(x, "errors", field),
        num(x, "requests", field),
        num(x, "duration_s", field),
        num(x, "offered_rps", field),
        source,
        field,
    )


def _level(
    level: float,
    throughput: float,
    latency: Latency,
    errors: float | None,
    requests: float | None,
    duration: float | None,
    offered: float | None,
    source: str,
    field: str,
) -> SweepLevel:
    if level < 1:
        raise InputError(f"a level must be >= 1, got {level:g}", source=source, field=field)
    swept = SweepLevel(level, throughput, latency, _int(errors), _int(requests), duration, offered)
    return gate_level(swept, source, field)


def gate_level(level: SweepLevel, source: str, field: str = "") -> SweepLevel:
    """``level`` when every value in it is within its quantity's range (the numeric gate, for
    what a tool's own arithmetic made: a rate from a count over a span, a mean of samples),
    else an InputError naming the value: no inf, NaN or 300-digit rate leaves a reader."""
    where = f"{field}: " if field else ""
    in_range(level.level, "level", source=source, field=f"{where}level")
    in_range(level.throughput_rps, "rate", source=source, field=f"{where}throughput")
    for name in ("errors", "requests"):
        value = getattr(level, name)
        if value is not None:
            in_range(value, "count", source=source, field=f"{where}{name}")
    for name, kind in (("duration_s", "duration"), ("offered_rps", "rate")):
        value = getattr(level, name)
        if value is not None:
            in_range(value, kind, source=source, field=f"{where}{name}")
    for key, value in level.latency.known().items():
        in_range(value, "duration", source=source, field=f"{where}latency.{key}")
    return level


def check_levels(count: int, source: str) -> None:
    """Refuse more than ``MAX_LEVELS`` levels: they bound the USL fit's and the report's work."""
    if count > MAX_LEVELS:
        raise InputError(
            f"more than {MAX_LEVELS:,} levels: at most {MAX_LEVELS:,} in one sweep",
            source=source,
            field="levels",
        )


# The numeric gate's kind of each column or key (model.quantity.RANGES); latencies in ms are
# held to a duration once in seconds, by gate_level.
_KINDS = {
    "concurrency": "level",
    "instances": "level",
    "level": "level",
    "throughput": "rate",
    "throughput_rps": "rate",
    "offered_rps": "rate",
    "duration_s": "duration",
}


def _kind(field: str) -> str:
    return _KINDS.get(field.rsplit(" ", 1)[-1].rsplit(".", 1)[-1], "count")


def _number(text: str, source: str, field: str) -> float:
    return gate(text, _kind(field), source=source, field=field)


def _opt(value: object, source: str, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("expected a number", source=source, field=field)
    return gate(value, _kind(field), source=source, field=field)


def _ms(value: float | None) -> float | None:
    return None if value is None else value / 1e3


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _redacted(value: str | None) -> str | None:
    return None if value is None else redact_text(value)


def sweep_to_json(sweep: Sweep) -> dict[str, Any]:
    """The JSON form of docs/formats.md §5.1."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "level": sweep.level_kind,
        "mode": sweep.mode,
        "levels": [_level_json(lv) for lv in sweep.levels],
        "source": {
            "driver": sweep.driver,
            "target": _redacted(sweep.target),
            "started_at": sweep.started_at,
        },
        "closed_loop_percentiles": sweep.closed_loop_percentiles,
        # an added key: readers accept unknown keys (docs/formats.md §5.1)
        "notes": [redact_text(n) for n in sweep.notes],
    }


def _level_json(lv: SweepLevel) -> dict[str, Any]:
    latency = {k: v * 1e3 for k, v in lv.latency.known().items()}
    out: dict[str, Any] = {
        "level": lv.level,
        "throughput_rps": lv.throughput_rps,
        "latency_ms": latency,
    }
    for key in ("errors", "requests", "duration_s", "offered_rps"):
        if getattr(lv, key) is not None:
            out[key] = getattr(lv, key)
    return out


def save_sweep(sweep: Sweep, path: str | PathLike[str]) -> None:
    """Write the sweep file atomically (a temporary file, then a rename)."""
    write_atomically(
        path, json.dumps(sweep_to_json(sweep), indent=2) + "\n", source=Parameter("save")
    )
