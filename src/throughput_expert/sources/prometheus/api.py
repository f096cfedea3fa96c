"""Prometheus HTTP API responses (docs/formats.md §1.1) and the tpx Prometheus export (§5.2).

Two shapes reach here. An *export* holds named queries, each with the server's response: the
name says which signal the values are (Prometheus already applied ``rate()``), so a vector's
values are aggregated over its series and a matrix's averaged over time. A *bare response*
(one ``/api/v1/query`` or ``/query_range`` answer saved with curl) is read only when its series
still carry ``__name__``: raw node_exporter or application metrics, which go through the same
signal code as text scrapes.

Values arrive as JSON strings; a matrix's points are converted in bulk with numpy.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from itertools import chain
from typing import Any

from throughput_expert.errors import InputError
from throughput_expert.model import InputRef, ServiceMetrics
from throughput_expert.safe_text import terminal_safe
from throughput_expert.sources.series import RATE_HINT, FloatArray, Series
from throughput_expert.sources.signals import (
    FRACTION_SIGNALS,
    SIGNAL_NAMES,
    Signals,
    clamp_jitter,
    metrics_from_signals,
    signals_from_series,
)

__all__ = ["EXPORT_FORMAT", "is_api_document", "load_api_document"]

EXPORT_FORMAT = "tpx-prometheus-export"
_MAX = frozenset({"disk_busy", "disk_queue"})
_SUM = frozenset(
    {"network_rx_bytes_rate", "network_tx_bytes_rate", "network_drops_rate", "cpu_cores"}
    | {"tcp_retransmits_rate", "service_rps", "service_errors_rps", "major_faults_rate"}
    | {"swap_rate", "context_switches_rate", "concurrency"}
)
_KNOWN = frozenset(SIGNAL_NAMES) | {"cpu_by_mode", "network_link_bytes"}
_NETWORK = ("network_rx_bytes_rate", "network_tx_bytes_rate", "network_link_bytes")
_APP = ("service_rps", "service_latency", "service_errors_rps", "concurrency")
_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")
_WINDOW = re.compile(r"(?:[0-9]+(?:ms|s|m|h|d|w|y))+")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}

# What a series may hold: Prometheus answers at most 11,000 points a series; a saved file is
# allowed far more, but not an unbounded array. Timestamps are Unix seconds up to 1e10 (the
# year 2286); values within ±2^63; a number is at most 40 characters before it is converted.
MAX_POINTS = 10_000_000
MAX_TIMESTAMP_S = 1e10
MAX_VALUE = 2.0**63
MAX_NUMBER_CHARS = 40
MAX_WINDOW_S = 365 * 86400.0  # Prometheus's 1y

Points = list[tuple[Mapping[str, str], FloatArray]]


def is_api_document(doc: object) -> bool:
    """An export (``"format": "tpx-prometheus-export"``) or a bare API response envelope."""
    if not isinstance(doc, dict):
        return False
    if doc.get("format") == EXPORT_FORMAT:
        return True
    return "status" in doc and ("data" in doc or "error" in doc)


def load_api_document(doc: object, *, source: str, service: str | None) -> ServiceMetrics:
    """Read an export or a bare API response into a ``ServiceMetrics``."""
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", source=source)
    if "format" in doc:
        return _load_export(doc, source, service)
    kind, points = _result(doc, source, "")
    signals = signals_from_series(_raw_series(points, source), service=service)
    if signals.is_empty():
        why = RATE_HINT if signals.unrated else "no node_exporter or request metrics found"
        raise InputError(f"nothing to analyze: {why}", source=source)
    detail = f"{kind} of {len(points)} series"
    if signals.describe():
        detail += f"; {signals.describe()}"
    return metrics_from_signals(signals, inputs=(InputRef(source, "prometheus-api", detail),))


# --- the envelope ---------------------------------------------------------------------------


def _result(doc: object, source: str, at: str) -> tuple[str, Points]:
    """``(resultType, [(labels, values)])`` of a success envelope; errors become InputError."""
    if not isinstance(doc, dict):
        raise InputError("expected an API response object", source=source, field=at or "response")
    if doc.get("status") == "error":
        error = terminal_safe(str(doc.get("errorType", "error")), 40)
        text = terminal_safe(str(doc.get("error", "no error text")), 200)
        raise InputError(
            f"the server answered {error}: {text}", source=source, field=at + "errorType"
        )
    if doc.get("status") != "success":
        raise InputError("status must be 'success' or 'error'", source=source, field=at + "status")
    data = doc.get("data")
    kind = data.get("resultType") if isinstance(data, dict) else None
    if kind not in ("vector", "matrix"):
        raise InputError(
            f"a {terminal_safe(repr(kind), 40)} result holds no series: query a vector or a matrix",
            source=source,
            field=at + "data.resultType",
        )
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        raise InputError("result must be a list", source=source, field=at + "data.result")
    return kind, [
        _item(item, kind, source, f"{at}data.result[{i}]") for i, item in enumerate(result)
    ]


def _item(item: object, kind: str, source: str, at: str) -> tuple[Mapping[str, str], FloatArray]:
    if not isinstance(item, dict) or not isinstance(item.get("metric"), dict):
        raise InputError("a series is {'metric': {...}, 'value(s)': ...}", source=source, field=at)
    labels: dict[str, Any] = item["metric"]
    if not all(isinstance(v, str) for v in labels.values()):
        raise InputError("label values must be strings", source=source, field=f"{at}.metric")
    pairs = [item.get("value")] if kind == "vector" else item.get("values")
    try:
        tv = _pairs(pairs)
    except (TypeError, ValueError, OverflowError):
        what = (
            'value is [time, "number"]'
            if kind == "vector"
            else 'values are [[time, "number"], ...]'
        )
        raise InputError(f"a series' {what}", source=source, field=at) from None
    _check_range(tv, source, at)
    return labels, tv


def _pairs(pairs: object) -> FloatArray:
    """``[[t, "v"], ...]`` as a (2, n) float array, converted in bulk."""
    import numpy as np  # lazy: only a range query builds arrays

    if not isinstance(pairs, list) or set(map(len, pairs)) - {2}:
        raise ValueError("not a list of pairs")
    if len(pairs) > MAX_POINTS:
        raise ValueError("too many points")
    flat = list(chain.from_iterable(pairs))
    stamps = np.array(flat[0::2], dtype=np.float64)
    texts = flat[1::2]
    if set(map(type, texts)) - {str}:
        raise ValueError("values must be strings")
    # a number longer than any float needs is out of range: not converted, refused as inf
    values = np.array(
        [float(v) if len(v) <= MAX_NUMBER_CHARS else math.inf for v in texts], dtype=np.float64
    )
    return np.stack([stamps, values])


def _check_range(tv: FloatArray, source: str, at: str) -> None:
    """Timestamps are Unix seconds from 0 to ``MAX_TIMESTAMP_S``; values are finite within
    ±2^63 (what a counter as an int64 holds), NaN standing for a gap (Prometheus's staleness
    marker)."""
    import numpy as np  # lazy: only a range query builds arrays

    stamps, values = tv
    if stamps.size and not (
        np.isfinite(stamps).all()
        and float(stamps.min()) >= 0
        and float(stamps.max()) <= MAX_TIMESTAMP_S
    ):
        raise InputError(
            f"timestamps must be Unix seconds from 0 to {MAX_TIMESTAMP_S:.0e} (year 2286)",
            source=source,
            field=at,
        )
    known = values[~np.isnan(values)]
    if known.size and not float(np.abs(known).max()) < MAX_VALUE:
        raise InputError(
            "sample values must be finite, within ±2^63 (NaN for a gap)", source=source, field=at
        )


def _raw_series(points: Points, source: str) -> list[Series]:
    named = [(labels, tv) for labels, tv in points if labels.get("__name__")]
    if points and not named:
        raise InputError(
            "the series carry no __name__ (rate() and sum() drop it): save the query in a tpx "
            "Prometheus export, whose query names say what each value is",
            source=source,
        )
    return [
        Series.of(
            labels["__name__"], {k: v for k, v in labels.items() if k != "__name__"}, tv[0], tv[1]
        )
        for labels, tv in named
    ]


# --- the export -----------------------------------------------------------------------------


def _load_export(doc: dict[str, Any], source: str, service: str | None) -> ServiceMetrics:
    if doc.get("format") != EXPORT_FORMAT:
        raise InputError(f"format must be {EXPORT_FORMAT!r}", source=source, field="format")
    if doc.get("version") != 1:
        raise InputError("this reader knows version 1", source=source, field="version")
    queries = doc.get("queries")
    if not isinstance(queries, dict) or not queries:
        raise InputError("queries must be a non-empty object", source=source, field="queries")
    signals = _export_signals(queries, source, service, _window_s(doc.get("window"), source))
    if signals.is_empty():
        raise InputError("no query of the export gave a known signal", source=source)
    detail = f"export of {doc.get('server', 'a Prometheus server')}, window {doc.get('window')}"
    if signals.describe():
        detail += f"; {signals.describe()}"
    return metrics_from_signals(signals, inputs=(InputRef(source, "prometheus-export", detail),))


def _export_signals(
    queries: dict[str, Any], source: str, service: str | None, window_s: float | None
) -> Signals:
    values: dict[str, float] = {}
    network: dict[str, dict[tuple[str, str], float]] = {}
    by_mode: dict[str, float] = {}
    picked: dict[str, str] = {}
    notes: list[str] = []
    unknown = sorted(n for n in queries if n not in _KNOWN)
    for name in sorted(set(queries) - set(unknown)):
        points = _named_points(name, queries[name], source)
        if not points:
            notes.append(f"{name}: the query returned no series: not measured")
        elif name == "cpu_by_mode":
            by_mode = _by_mode(points, notes)
        else:
            if name in _NETWORK:
                network[name] = {_nic(labels): _mean(tv[1]) for labels, tv in points}
            values[name] = _aggregate(name, [_mean(tv[1]) for _, tv in points], notes)
        if name.startswith(_APP) and points:
            picked[name] = str(queries[name].get("promql", "?"))
    values.pop("network_link_bytes", None)
    utilization = _network_utilization(*(network.get(n, {}) for n in _NETWORK))
    if utilization is not None:
        values["network_utilization"] = clamp_jitter("network_utilization", utilization, notes)
    if unknown:
        notes.append("kept, not interpreted: " + ", ".join(unknown))
    return Signals(values, by_mode, picked, window_s, service, tuple(notes))


def _named_points(name: str, entry: object, source: str) -> Points:
    if not isinstance(entry, dict):
        raise InputError("expected {promql, response}", source=source, field=f"queries.{name}")
    return _result(entry.get("response"), source, f"queries.{name}.response.")[1]


def _mean(values: FloatArray) -> float:
    """A matrix series' time average (a vector has one point); NaN points are skipped."""
    import numpy as np  # lazy: only a range query builds arrays

    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def _aggregate(name: str, values: list[float], notes: list[str]) -> float:
    """Over series: max for disks, sum for rates and counts, mean for the rest."""
    measured = [v for v in values if not math.isnan(v)]
    if not measured:
        return math.nan
    if name in _MAX:
        value = max(measured)
    elif name in _SUM:
        value = math.fsum(measured)
    else:
        value = math.fsum(measured) / len(measured)
    return clamp_jitter(name, value, notes) if name in FRACTION_SIGNALS else value


def _by_mode(points: Points, notes: list[str]) -> dict[str, float]:
    modes: dict[str, list[float]] = defaultdict(list)
    for labels, tv in points:
        if "mode" in labels:
            modes[labels["mode"]].append(_mean(tv[1]))
    if not modes:
        notes.append("cpu_by_mode: the series carry no mode label: not used")
    means = {m: math.fsum(v) / len(v) for m, v in modes.items()}
    return {m: clamp_jitter(f"cpu {m}", v, notes) for m, v in means.items()}


def _nic(labels: Mapping[str, str]) -> tuple[str, str]:
    return labels.get("instance", ""), labels.get("device", "")


def _network_utilization(
    rx: dict[tuple[str, str], float],
    tx: dict[tuple[str, str], float],
    link: dict[tuple[str, str], float],
) -> float | None:
    """``max(rx, tx) / link speed`` per device, max over devices; totals when unlabelled."""
    speeds = {k: s for k, s in link.items() if s > 0}
    if not speeds or not (rx or tx):
        return None
    per_nic = [
        max(rx.get(k, 0.0), tx.get(k, 0.0)) / s for k, s in speeds.items() if k in rx or k in tx
    ]
    if per_nic:
        return max(per_nic)
    return max(sum(rx.values()), sum(tx.values())) / sum(speeds.values())


def _window_s(window: object, source: str) -> float | None:
    """A Prometheus duration (``5m``, ``1h30m``, ``90s``) in seconds; None when absent."""
    if window is None:
        return None
    text = str(window)
    if isinstance(window, int | float) and not isinstance(window, bool):
        seconds = float(window)
    elif isinstance(window, str) and len(window) <= MAX_NUMBER_CHARS and _WINDOW.fullmatch(window):
        seconds = math.fsum(int(n) * _UNIT_S[u] for n, u in _DURATION.findall(window))
    else:
        raise InputError(
            f"{terminal_safe(repr(text), 40)} is not a duration such as 5m",
            source=source,
            field="window",
        )
    if not 0 < seconds <= MAX_WINDOW_S:  # NaN fails too
        raise InputError(
            f"{terminal_safe(repr(text), 40)} is not a positive duration up to 1y (365d)",
            source=source,
            field="window",
        )
    return seconds
