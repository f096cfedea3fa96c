"""Sources: one module per input family; this module detects a file's kind by content.

``load_metrics`` reads any number of metrics files (our metrics JSON, a Prometheus API response
or export, Prometheus text-exposition scrapes) and merges them into one ``ServiceMetrics``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from throughput_expert.errors import InputError
from throughput_expert.model import ServiceMetrics
from throughput_expert.sources.merge import merge_metrics

__all__ = [
    "MAX_FILE_BYTES",
    "load_metrics",
    "read_bytes",
    "read_json",
    "read_text",
    "write_atomically",
]

MAX_FILE_BYTES = 1 << 30


def load_metrics(
    paths: Sequence[str | Path], *, interval_s: float | None = None, service: str | None = None
) -> ServiceMetrics:
    """Read and merge metrics files, detecting each one's format from its content."""
    if not paths:
        raise InputError("no metrics given: pass --metrics FILE", source="analyze", field="metrics")
    records: list[ServiceMetrics] = []
    scrapes: list[tuple[str, str]] = []
    for path in paths:
        text = read_text(path)
        if text.lstrip()[:1] in ("{", "["):
            records.append(_load_json(text, str(path), service))
        else:
            scrapes.append((str(path), text))
    if scrapes:
        records.append(_load_scrapes(scrapes, interval_s, service))
    return merge_metrics(records)


def read_bytes(path: str | PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """A file's bytes, with one-line errors for what cannot be read."""
    source = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", source=source) from None
    if len(data) > limit:
        raise InputError(f"larger than {limit >> 20} MiB", source=source)
    return data


def read_text(path: str | PathLike[str]) -> str:
    """A file's text (UTF-8), with one-line errors for what cannot be read."""
    source = str(path)
    data = read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=source) from None


def write_atomically(path: str | PathLike[str], text: str, *, source: str = "--output") -> None:
    """Write the whole file or nothing: a temporary file in the same folder, then a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tpx-", dir=folder)
    except OSError as exc:
        raise InputError(
            exc.strerror or "cannot write here", source=source, field=str(path)
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise InputError(exc.strerror or "cannot write", source=source, field=str(path)) from None
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json(text: str, source: str) -> object:
    """Parse JSON, refusing NaN/Infinity literals, with the line and column of an error."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"malformed JSON: {exc.msg}",
            source=source,
            field=f"line {exc.lineno} column {exc.colno}",
        ) from None
    except ValueError as exc:
        raise InputError(str(exc), source=source) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", source=source) from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows; write null for a missing value")


def _load_json(text: str, source: str, service: str | None) -> ServiceMetrics:
    from throughput_expert.sources import metrics_json, prometheus_api

    doc = read_json(text, source)
    if prometheus_api.is_api_document(doc):
        return prometheus_api.load_api_document(doc, source=source, service=service)
    if metrics_json.is_metrics_document(doc):
        return metrics_json.load_metrics_document(doc, source=source)
    raise InputError(
        "unknown format: expected tpx metrics JSON, a Prometheus API response or a tpx "
        "Prometheus export",
        source=source,
    )


def _load_scrapes(
    scrapes: list[tuple[str, str]], interval_s: float | None, service: str | None
) -> ServiceMetrics:
    from throughput_expert.sources import prometheus_text

    for source, text in scrapes:
        if not prometheus_text.looks_like_exposition(text):
            raise InputError(
                "unknown format: neither JSON nor Prometheus text exposition", source=source
            )
    return prometheus_text.load_scrapes(scrapes, interval_s=interval_s, service=service)
