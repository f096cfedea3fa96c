"""Prometheus text exposition (``text/plain; version=0.0.4``) and OpenMetrics 1.0 scrapes.

A scrape is what a ``/metrics`` endpoint answered once. One scrape gives gauges (memory, load,
requests in flight); a rate needs two scrapes of the same target, ordered by their samples'
timestamps or, when they carry none, spaced by the ``--interval`` the user gives. The two
formats differ in timestamps (milliseconds in 0.0.4, seconds in OpenMetrics, which ends with
``# EOF``) and in exemplars (OpenMetrics only; ignored here). docs/formats.md §1.2.
"""

from __future__ import annotations

import math
import re
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from throughput_expert.errors import InputError
from throughput_expert.model import InputRef, ServiceMetrics
from throughput_expert.sources.series import RATE_HINT, Labels, MetricKind, Series
from throughput_expert.sources.signals import metrics_from_signals, signals_from_series

__all__ = ["Sample", "Scrape", "load_scrapes", "looks_like_exposition", "parse_exposition"]

# Every regex here is linear on hostile text: possessive repeats (``*+``, ``++``) keep no
# backtracking state per character (a plain ``(?:a|b)*`` keeps some for every character it
# matches, 180 bytes each: a 10 MB label value took 1.8 GB), and no two repeats can share a
# character, so a failed match never retries a split of the same run.
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*+")
_BLANK = re.compile(r"\s*+")
_LABEL = re.compile(
    r'\s*+(?:([a-zA-Z_][a-zA-Z0-9_]*+)\s*+=\s*+)?+"([^"\\\n]*+(?:\\.[^"\\\n]*+)*+)"\s*+'
)
_VALUE = re.compile(
    r"[+-]?+(?:(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+|(?i:inf|infinity|nan))"
)
_SNIFF = re.compile(r"(?:[a-zA-Z_:][a-zA-Z0-9_:]*+(?:\{.*\})?|\{.*\})[ \t]++[-+.0-9a-zA-Z]")
_MS = re.compile(r"-?+[0-9]++")
_EOF = re.compile(r"^# EOF\r*+$", re.MULTILINE)
_SHOWN = 40  # characters of an offending text quoted in a message
_NUMBER_CHARS = 40  # no float needs more: a longer number is refused before conversion
_MAX_TIMESTAMP_S = 1e10
_TYPES: Mapping[str, MetricKind] = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "untyped",
    "unknown": "untyped",
    "gaugehistogram": "histogram",
    "stateset": "gauge",
    "info": "gauge",
}
_SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created", "_gcount", "_gsum", "_info")


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample line: the timestamp is in seconds (None when the line has none)."""

    name: str
    labels: Labels
    value: float
    timestamp_s: float | None = None


@dataclass(frozen=True)
class Scrape:
    """One parsed exposition: the declared types of its families, and its samples."""

    source: str
    types: Mapping[str, MetricKind]
    samples: tuple[Sample, ...]
    openmetrics: bool = False

    def kind_of(self, name: str) -> MetricKind:
        """A sample's type, from its family's ``# TYPE`` (``X_bucket`` belongs to ``X``)."""
        if name in self.types:
            return self.types[name]
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in self.types:
                return self.types[name.removesuffix(suffix)]
        return "untyped"

    def time(self) -> float | None:
        """The latest sample timestamp, taken as the scrape's time (None when untimed)."""
        stamps = [s.timestamp_s for s in self.samples if s.timestamp_s is not None]
        return max(stamps) if stamps else None


def looks_like_exposition(text: str) -> bool:
    """A cheap sniff: the first meaningful line is a ``#`` comment or a sample line."""
    for line in text[:4096].split("\n"):
        line = line.strip()
        if line:
            return line.startswith("#") or bool(_SNIFF.match(line))
    return False


def parse_exposition(text: str, *, source: str) -> Scrape:
    """Parse one scrape; a malformed line is an ``InputError`` naming ``line N``."""
    openmetrics = _EOF.search(text) is not None
    types: dict[str, MetricKind] = {}
    samples: list[Sample] = []
    for number, raw in enumerate(_lines(text), start=1):
        line = raw.rstrip("\r")
        if line == "# EOF":
            break
        try:
            if line.startswith("#"):
                _parse_comment(line, types)
            elif line.strip():
                samples.append(_parse_sample(line, openmetrics))
        except ValueError as exc:
            raise InputError(str(exc), source=source, field=f"line {number}") from None
    return Scrape(source, types, tuple(samples), openmetrics)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (a list of them all would double the memory)."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield text[start:end]
        start = end + 1


def _cut(text: str) -> str:
    """``text`` for a message, cut to a few dozen characters (a name or value may be huge)."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _parse_comment(line: str, types: dict[str, MetricKind]) -> None:
    parts = line.split(None, 3)
    if len(parts) < 2 or parts[1] != "TYPE":
        return  # HELP, UNIT and free comments carry nothing we need
    if len(parts) != 4 or not _NAME.fullmatch(parts[2]):
        raise ValueError("a TYPE line is '# TYPE <name> <type>'")
    kind = _TYPES.get(parts[3].strip())
    if kind is None:
        raise ValueError(f"unknown metric type {_cut(parts[3].strip())!r}")
    types[parts[2]] = kind


def _parse_sample(line: str, openmetrics: bool) -> Sample:
    match = _NAME.match(line)
    # Names and label keys repeat on every line: one shared copy of each (sys.intern).
    name, pos = (sys.intern(match.group()), match.end()) if match else ("", 0)
    labels: list[tuple[str, str]] = []
    if line.startswith("{", pos):
        name, pos = _parse_labels(line, pos + 1, name, labels)
    if not name:
        raise ValueError("a sample line starts with a metric name")
    rest = line[pos:].split("#", 1)[0]  # an OpenMetrics exemplar follows ' # '
    if not rest[:1].isspace():
        raise ValueError(f"{_cut(name)}: expected a space and a value after the name and labels")
    parts = rest.split(maxsplit=2)
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"{_cut(name)}: expected a value and an optional timestamp")
    stamp = _timestamp(parts[1], openmetrics) if len(parts) == 2 else None
    return Sample(name, tuple(sorted(labels)), _value(parts[0], name), stamp)


def _parse_labels(line: str, pos: int, name: str, labels: list[tuple[str, str]]) -> tuple[str, int]:
    """Labels from just after ``{`` to ``}``; a bare quoted string is a UTF-8 metric name."""
    while True:
        blank = _BLANK.match(line, pos)  # not line[pos:].lstrip(): a copy per label
        brace = blank.end() if blank else pos
        if line.startswith("}", brace):
            return name, brace + 1
        match = _LABEL.match(line, pos)
        if match is None:
            raise ValueError('malformed label: expected name="value"')
        key, value = match.group(1), _unescape(match.group(2))
        if key is None and name:
            raise ValueError("a quoted metric name after the name")
        if key is None:
            name = value
        else:
            labels.append((sys.intern(key), value))
        pos = match.end()
        if line.startswith(",", pos):
            pos += 1
        elif not line.startswith("}", pos):
            raise ValueError("labels are separated by ',' and closed by '}'")


def _unescape(text: str) -> str:
    r"""Escapes decoded: ``\n`` a newline, ``\\`` a backslash, ``\"`` a quote; others kept.

    String methods, not a ``re.sub`` callback per escape: a value of a million escapes costs a
    few copies of itself. Splitting on ``\\`` first takes the escaped backslashes left to right,
    as a reader of the escapes does, so each part holds only single ones.
    """
    if "\\" not in text:
        return text
    return "\\".join(part.replace("\\n", "\n").replace('\\"', '"') for part in text.split("\\\\"))


def _value(text: str, name: str) -> float:
    """A sample value: a float, ``+Inf``, ``-Inf`` or ``NaN`` as the format allows; digits
    beyond float range are refused (their length checked before conversion)."""
    if len(text) > _NUMBER_CHARS or not _VALUE.fullmatch(text):
        raise ValueError(f"{_cut(name)}: {_cut(text)!r} is not a number within float range")
    value = float(text)
    if math.isinf(value) and text.lstrip("+-")[:1].isdigit():
        raise ValueError(f"{_cut(name)}: {_cut(text)!r} is beyond float range (±1.8e308)")
    return value


def _timestamp(text: str, openmetrics: bool) -> float:
    """Seconds: OpenMetrics writes seconds (a float), the 0.0.4 format integer milliseconds;
    from 0 to ``_MAX_TIMESTAMP_S`` (the year 2286)."""
    if len(text) > _NUMBER_CHARS or not (_VALUE if openmetrics else _MS).fullmatch(text):
        raise ValueError(f"{_cut(text)!r} is not a timestamp")
    stamp = float(text) if openmetrics else float(text) / 1000.0
    if not (math.isfinite(stamp) and 0 <= stamp <= _MAX_TIMESTAMP_S):
        raise ValueError(
            f"timestamp {_cut(text)!r} is not Unix time from 0 to {_MAX_TIMESTAMP_S:.0e} s"
        )
    return stamp


# Without one of these a report has neither a rate nor a CPU verdict: one scrape is not enough.
_CORE_RATES = frozenset({"service_rps", "cpu_utilization"})


def load_scrapes(
    items: Sequence[tuple[str, str]], *, interval_s: float | None, service: str | None
) -> ServiceMetrics:
    """Scrapes of one target (``(source, text)`` each) to a ``ServiceMetrics``.

    Rates span the first to the last scrape. With one scrape only gauges are read, and a note
    says that counters need a second scrape.
    """
    if not items:
        raise InputError("no scrapes given", source="prometheus")
    scrapes = [parse_exposition(text, source=source) for source, text in items]
    timed = _scrape_times(scrapes, interval_s)
    signals = signals_from_series(_to_series(timed), service=service)
    notes = list(signals.notes)
    if len(scrapes) == 1:
        if signals.unrated and not _CORE_RATES.intersection(signals.values):
            raise InputError(f"one scrape: {RATE_HINT}", source=scrapes[0].source)
        notes.append(f"one scrape: gauges only, counters give no rates ({RATE_HINT})")
    if signals.is_empty():
        why = RATE_HINT if signals.unrated else "no node_exporter or request metrics found"
        raise InputError(f"nothing to analyze: {why}", source=scrapes[0].source)
    detail = signals.describe()
    inputs = tuple(
        InputRef(s.source, "openmetrics" if s.openmetrics else "prometheus-text", detail)
        for s, _ in timed
    )
    return metrics_from_signals(replace(signals, notes=tuple(notes)), inputs=inputs)


def _scrape_times(scrapes: list[Scrape], interval_s: float | None) -> list[tuple[Scrape, float]]:
    """Each scrape with its time: its samples' timestamps, else ``interval_s`` apart."""
    if interval_s is not None and not (math.isfinite(interval_s) and interval_s > 0):
        raise InputError(
            f"{{interval}} must be a positive time, not {interval_s!r}",
            field="interval",
            mentions=("interval",),
        )
    times = [s.time() for s in scrapes]
    if len(scrapes) > 1 and None in times:
        if interval_s is None:
            raise InputError(
                "scrapes carry no timestamps: give {interval} (the time between scrapes)",
                mentions=("interval",),
                source=scrapes[0].source,
            )
        return [(s, i * interval_s) for i, s in enumerate(scrapes)]
    timed = sorted(zip(scrapes, [t or 0.0 for t in times], strict=True), key=lambda p: p[1])
    for (a, ta), (b, tb) in pairwise(timed):
        if tb <= ta:
            raise InputError(f"has the same timestamp as {a.source}", source=b.source)
    return timed


def _to_series(timed: list[tuple[Scrape, float]]) -> list[Series]:
    points: dict[tuple[str, Labels], list[tuple[float, float]]] = defaultdict(list)
    kinds: dict[str, MetricKind] = {}
    for scrape, at in timed:
        latest = {(s.name, s.labels): s for s in scrape.samples}  # a repeated line: keep the last
        for key, s in latest.items():
            points[key].append((s.timestamp_s if s.timestamp_s is not None else at, s.value))
            kinds.setdefault(s.name, scrape.kind_of(s.name))
    out = []
    for (name, labels), pts in points.items():
        pts.sort()
        out.append(Series.of(name, labels, [t for t, _ in pts], [v for _, v in pts], kinds[name]))
    return out
