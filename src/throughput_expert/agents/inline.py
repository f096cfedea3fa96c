"""Data an MCP client sends inline, read into the records the public API accepts.

An agent holding numbers in its context passes them as the tool argument itself instead of a
path on the server: a metrics object (tpx metrics JSON, a Prometheus ``/api/v1/query(_range)``
response or a tpx export), a profile's text (collapsed stacks, a jstack dump) or JSON object
(speedscope, ``.cpuprofile``), sweep levels, batch measurements, an architecture object. Each
is handed to the reader that reads the same format from a file (``sources/``): one parser per
format, the same checks, the same one-line errors, whose SOURCE is the tool argument
(``metrics[1]: utilization.cpu: ...``). Each value is capped in size like a file
(``MAX_INLINE_BYTES``; an architecture at ``sources.architecture.MAX_BYTES``) and serialized
JSON is parsed again by ``sources.files.read_json``, so NaN and Infinity are refused as in a
file.

Strings: in an argument that also takes a path, a string holding a line break (or a line of
collapsed stacks, ``a;b;c 10``) is the data itself (CSV, YAML, profile text); any other string is
a path.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from throughput_expert.errors import InputError
from throughput_expert.sources.files import read_json, size_text

if TYPE_CHECKING:
    from throughput_expert.model.architecture import Architecture
    from throughput_expert.model.profile import Measures, Profile
    from throughput_expert.model.records import ServiceMetrics
    from throughput_expert.model.sweep import Sweep
    from throughput_expert.model.trials import CallCost

__all__ = [
    "MAX_DOCUMENTS",
    "MAX_INLINE_BYTES",
    "architecture",
    "call_costs",
    "few_documents",
    "is_inline",
    "metrics",
    "profile",
    "sweep",
]

MAX_INLINE_BYTES = 64 << 20  # per argument: what one tool call may make the server parse
# Documents (files, objects, texts) one list may name: each costs its reader's fixed work
# (parse, detect the format, merge) of about a millisecond whatever its size, so a megabyte of
# tiny objects would be seconds of work; a hundred is more than one question needs (a
# Prometheus range is one document, a sweep's levels are one).
MAX_DOCUMENTS = 100
_ROW_KEYS = ("batch_size", "latency_ms", "cpu_ms", "disk_ms")
_LEVEL_KINDS = ("concurrency", "instances")


def is_inline(value: object) -> bool:
    """Data rather than a path: an object, a list of objects, or text holding a line break
    (or a single line of collapsed stacks)."""
    if isinstance(value, Mapping):
        return True
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, Mapping) for v in value)
    if isinstance(value, str):
        if "\n" in value:
            return True
        from throughput_expert.sources.profiles.collapsed import looks_collapsed

        return looks_collapsed(value)
    return False


def few_documents(items: Sequence[object], argument: str, field: str = "") -> None:
    """Refuse a list of more than ``MAX_DOCUMENTS`` documents, before any is read."""
    if len(items) > MAX_DOCUMENTS:
        raise InputError(
            f"{len(items):,} documents: at most {MAX_DOCUMENTS} (merge them into fewer files)",
            source=argument,
            field=field,
        )


def metrics(
    doc: object,
    argument: str,
    *,
    service: str | None = None,
    interval_s: float | None = None,
) -> ServiceMetrics:
    """A metrics object (tpx metrics JSON, a Prometheus API response or tpx export) or a
    Prometheus text-exposition scrape, read by the format's own reader."""
    from throughput_expert.sources.metrics import MetricsFile, ReadOptions, detect_format

    text = doc if isinstance(doc, str) else _json_text(doc, argument)
    _capped(text, argument)
    file = MetricsFile(argument, text)
    if file.is_json:
        file.doc = read_json(text, argument)  # NaN and Infinity refused, as in a file
    return detect_format(file).read([file], ReadOptions(interval_s, service))


def scrapes(
    texts: Sequence[tuple[str, str]], *, service: str | None, interval_s: float | None
) -> ServiceMetrics:
    """Prometheus text-exposition scrapes (argument, text), read together: a rate needs two."""
    from throughput_expert.sources.metrics import MetricsFile, ReadOptions, detect_format

    files = []
    for argument, text in texts:
        _capped(text, argument)
        files.append(MetricsFile(argument, text))
    fmt = detect_format(files[0])
    return fmt.read(files, ReadOptions(interval_s, service))


def profile(value: object, argument: str, *, measures: Measures | None = None) -> Profile:
    """A profile's text (collapsed stacks, a jstack dump) or JSON object (speedscope,
    ``.cpuprofile``), read by the format's reader; ``measures`` as ``load_profile`` takes it."""
    import dataclasses

    from throughput_expert.sources.profiles import ProfileFile, detect_format

    if isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
    else:
        text = _json_text(value, argument)
        read_json(text, argument)
        data = text.encode("utf-8", "surrogatepass")
    _capped(data, argument)
    file = ProfileFile(data, argument)
    found = detect_format(file).read(file)
    if measures is None or measures == found.measures:
        return found
    return dataclasses.replace(
        found,
        measures=measures,
        idle_included=found.idle_included or measures == "wall",
        notes=(*found.notes, f"values taken to measure {measures}, as the caller said"),
    )


def sweep(value: object, argument: str) -> Sweep:
    """Sweep levels: a list of ``{concurrency | instances | level, throughput_rps,
    latency_ms: {p99, ...}, errors, requests, duration_s}``, a tpx sweep object, or the sweep
    CSV's text."""
    from throughput_expert.sources import sweep as reader

    if isinstance(value, str):
        _capped(value, argument)
        if value.lstrip().startswith("{"):
            return reader._from_json(read_json(value, argument), argument)
        return reader._from_csv(value, argument)
    if isinstance(value, list):
        value = _levels_document(value, argument)
    elif isinstance(value, Mapping) and "format" not in value:
        value = {"format": reader.FORMAT, "version": reader.VERSION, **value}
    text = _json_text(value, argument)
    _capped(text, argument)
    return reader._from_json(read_json(text, argument), argument)


def _levels_document(levels: list[Any], argument: str) -> dict[str, Any]:
    """A list of levels as a tpx sweep object: ``concurrency`` or ``instances`` in a level
    names its kind and its value (the CSV's first column), ``level`` the value alone."""
    from throughput_expert.sources import sweep as reader

    kinds = {k for lv in levels if isinstance(lv, Mapping) for k in _LEVEL_KINDS if k in lv}
    if len(kinds) > 1:
        raise InputError(
            "levels mix concurrency and instances: one kind per sweep", source=argument
        )
    kind = next(iter(kinds), "concurrency")
    out = []
    for lv in levels:
        if isinstance(lv, Mapping) and kind in lv:
            lv = {("level" if k == kind else k): v for k, v in lv.items()}
        out.append(lv)
    return {"format": reader.FORMAT, "version": reader.VERSION, "level": kind, "levels": out}


def call_costs(value: object, argument: str) -> list[CallCost]:
    """Batch measurements: rows ``{batch_size, latency_ms, cpu_ms?, disk_ms?}`` or the CSV's
    text, read by the CSV reader; a row's error names it (``measurements: [2]: ...``)."""
    from throughput_expert.model.quantity import check_keys
    from throughput_expert.sources.batch_measurements import call_costs_from_text

    if isinstance(value, str):
        _capped(value, argument)
        return call_costs_from_text(value, argument)
    if not isinstance(value, list):
        raise InputError("expected rows {batch_size, latency_ms} or the CSV text", source=argument)
    for i, row in enumerate(value):
        if not isinstance(row, Mapping):
            raise InputError("expected an object", source=argument, field=f"[{i}]")
        check_keys(row, _ROW_KEYS, argument, f"[{i}].")
    columns = [k for k in _ROW_KEYS if k in ("batch_size", "latency_ms") or _any(value, k)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in value:
        writer.writerow(["" if row.get(k) is None else _cell(row.get(k)) for k in columns])
    text = out.getvalue()
    _capped(text, argument)
    try:
        return call_costs_from_text(text, argument)
    except InputError as exc:
        raise _by_row(exc) from None


def _any(rows: list[Any], key: str) -> bool:
    return any(key in row for row in rows)


def _cell(value: object) -> str:
    """A row's value as the CSV cell the reader checks: numbers and text as written, anything
    else (a list, an object, a boolean) as a word no number parses from."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return type(value).__name__
    return str(value)


def _by_row(exc: InputError) -> InputError:
    """The CSV reader's ``line N`` (header on line 1) as the row's index, ``[N-2]``."""
    match = re.fullmatch(r"line (\d+)", exc.field)
    if match is None:
        return exc
    return InputError(exc.template, source=exc.source, field=f"[{int(match.group(1)) - 2}]")


def architecture(value: object, argument: str, folder: Path) -> Architecture:
    """An architecture object (the YAML file's shape) or its YAML text; components' ``sweep``
    files are named relative to ``folder``."""
    from throughput_expert.sources.architecture import MAX_BYTES, architecture_from_doc
    from throughput_expert.sources.yaml_safe import load_yaml

    if isinstance(value, str):
        _capped(value, argument, MAX_BYTES)
        doc: object = load_yaml(value, argument)
    else:
        text = _json_text(value, argument)
        _capped(text, argument, MAX_BYTES)
        doc = read_json(text, argument)
    if not isinstance(doc, Mapping):
        raise InputError(
            "expected an object with system, entry_rate and components", source=argument
        )
    return architecture_from_doc(doc, argument, folder)


def _json_text(value: object, argument: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except RecursionError:
        raise InputError("nested too deeply", source=argument) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"not JSON data: {exc}", source=argument) from None


def _capped(data: str | bytes, argument: str, limit: int = MAX_INLINE_BYTES) -> None:
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise InputError(
            f"larger than {size_text(limit)}: pass a file path instead", source=argument
        )
