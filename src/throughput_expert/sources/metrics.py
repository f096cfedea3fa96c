"""Metrics files (docs/formats.md §1): which format each file is, and reading them into one record.

``FORMATS`` is the table ``load_metrics`` tries in order, one ``(name, detect, read)`` entry per
format: the first whose ``detect`` accepts a file reads it. A file that starts with ``{`` or ``[``
is JSON (parsed once, however many entries look at it); any other is text. The readers' modules
are imported only when a file asks for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from throughput_expert.errors import InputError
from throughput_expert.model import ServiceMetrics
from throughput_expert.sources.files import read_json, read_text
from throughput_expert.sources.merge import merge_metrics

__all__ = [
    "FORMATS",
    "MetricsFile",
    "MetricsFormat",
    "ReadOptions",
    "detect_format",
    "load_metrics",
]

UNKNOWN_JSON = (
    "unknown format: expected tpx metrics JSON, a Prometheus API response or a tpx "
    "Prometheus export"
)
UNKNOWN_TEXT = "unknown format: neither JSON nor Prometheus text exposition"


@dataclass
class MetricsFile:
    """One metrics file's text; its JSON is parsed on first use, once."""

    source: str
    text: str

    @cached_property
    def is_json(self) -> bool:
        return self.text.lstrip()[:1] in ("{", "[")

    @cached_property
    def doc(self) -> object:
        return read_json(self.text, self.source)


@dataclass(frozen=True)
class ReadOptions:
    """What the caller knows that a file may not say."""

    interval_s: float | None = None  # between two text scrapes without timestamps
    service: str | None = None  # the service's name, for readers that pick one out of several


@dataclass(frozen=True)
class MetricsFormat:
    """One format: its name, whether a file is in it, and how to read its files."""

    name: str
    detect: Callable[[MetricsFile], bool]
    read: Callable[[Sequence[MetricsFile], ReadOptions], ServiceMetrics]
    together: bool = False
    """All the files in this format are read in one call, after the others (text scrapes: a
    rate needs two scrapes of one target); otherwise each file is read alone, in order."""


def load_metrics(
    paths: Sequence[str | Path], *, interval_s: float | None = None, service: str | None = None
) -> ServiceMetrics:
    """Read and merge metrics files, detecting each one's format from its content."""
    if not paths:
        raise InputError(
            "no metrics given: pass {metrics} FILE",
            source="analyze",
            field="metrics",
            mentions=("metrics",),
        )
    options = ReadOptions(interval_s, service)
    records: list[ServiceMetrics] = []
    together: dict[str, tuple[MetricsFormat, list[MetricsFile]]] = {}
    for path in paths:
        file = MetricsFile(str(path), read_text(path))
        fmt = detect_format(file)
        if fmt.together:
            together.setdefault(fmt.name, (fmt, []))[1].append(file)
        else:
            records.append(fmt.read([file], options))
    records.extend(fmt.read(files, options) for fmt, files in together.values())
    return merge_metrics(records)


def detect_format(file: MetricsFile) -> MetricsFormat:
    """The first format of ``FORMATS`` that accepts ``file``; ``InputError`` if none does."""
    for fmt in FORMATS:
        if fmt.detect(file):
            return fmt
    raise InputError(UNKNOWN_JSON if file.is_json else UNKNOWN_TEXT, source=file.source)


def _is_api(file: MetricsFile) -> bool:
    from throughput_expert.sources.prometheus import api

    return file.is_json and api.is_api_document(file.doc)


def _read_api(files: Sequence[MetricsFile], options: ReadOptions) -> ServiceMetrics:
    from throughput_expert.sources.prometheus import api

    (file,) = files
    return api.load_api_document(file.doc, source=file.source, service=options.service)


def _is_metrics_json(file: MetricsFile) -> bool:
    from throughput_expert.sources import metrics_json

    return file.is_json and metrics_json.is_metrics_document(file.doc)


def _read_metrics_json(files: Sequence[MetricsFile], options: ReadOptions) -> ServiceMetrics:
    from throughput_expert.sources import metrics_json

    (file,) = files
    return metrics_json.load_metrics_document(file.doc, source=file.source)


def _is_exposition(file: MetricsFile) -> bool:
    from throughput_expert.sources.prometheus import text

    return not file.is_json and text.looks_like_exposition(file.text)


def _read_scrapes(files: Sequence[MetricsFile], options: ReadOptions) -> ServiceMetrics:
    from throughput_expert.sources.prometheus import text

    return text.load_scrapes(
        [(f.source, f.text) for f in files], interval_s=options.interval_s, service=options.service
    )


FORMATS: tuple[MetricsFormat, ...] = (
    MetricsFormat("Prometheus API response or tpx Prometheus export", _is_api, _read_api),
    MetricsFormat("tpx metrics JSON", _is_metrics_json, _read_metrics_json),
    MetricsFormat("Prometheus text exposition", _is_exposition, _read_scrapes, together=True),
)
