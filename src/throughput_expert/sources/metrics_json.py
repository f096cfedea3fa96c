"""Our own metrics JSON (schema: ``schemas/metrics.schema.json``; the README shows an example).

Numbers may be written as human quantities ("10,000 msgs/sec", "45%", "5ms"). Percent values
follow docs/formats.md §5.3: ``"45%"`` is a percent, a number under a ``*_pct`` key is 0-100, a
bare number under a bare key is a fraction 0-1. Unknown keys are errors (they are usually typos).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, cast

from throughput_expert.errors import InputError
from throughput_expert.model import InputRef, Latency, Resource, Saturation, ServiceMetrics
from throughput_expert.model.quantity import (
    check_keys,
    echo,
    parse_count,
    parse_duration,
    parse_fraction,
    parse_rate,
)

__all__ = ["FORMAT", "is_metrics_document", "load_metrics_document"]

FORMAT = "tpx-metrics"

_RESOURCES: tuple[Resource, ...] = ("cpu", "memory", "disk_io", "network")
_LATENCY_KEYS = ("mean", "p50", "p90", "p95", "p99", "p999", "max")
_FRACTION_SIGNALS = ("iowait", "cpu_steal", "psi_cpu", "psi_memory", "psi_io")
_RATE_SIGNALS = (
    "swap_pages_per_s",
    "major_faults_per_s",
    "network_drops_per_s",
    "tcp_retransmits_per_s",
    "context_switches_per_s",
)
_COUNT_SIGNALS = ("run_queue_per_core", "run_queue", "disk_queue")
_SYSTEM_TYPES = ("web-api", "message-processing", "database-writes", "stream-processing")

_TOP_KEYS = (
    "$schema",
    "format",
    "version",
    "service",
    "system_type",
    "architecture",
    "interval_s",
    "throughput_rps",
    "target_rps",
    "errors_rps",
    "latency_ms",
    "concurrency",
    "workers",
    "instances",
    "max_instances",
    "batch_size",
    "cores",
    "utilization",
    "saturation",
    "memory_grows_with_rate",
    "notes",
)


def is_metrics_document(doc: object) -> bool:
    """True for a JSON object that is not some other known format."""
    return isinstance(doc, dict) and doc.get("format", FORMAT) == FORMAT


def load_metrics_document(doc: object, *, source: str) -> ServiceMetrics:
    """Read one metrics JSON document into a ``ServiceMetrics`` record."""
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object", source=source)
    check_keys(doc, _TOP_KEYS, source, "")
    reader = _Reader(source)
    cores = reader.opt(doc, "cores", parse_count)
    instances = _int(reader.opt(doc, "instances", parse_count), source, "instances")
    most = _int(reader.opt(doc, "max_instances", parse_count), source, "max_instances")
    if instances is not None and most is not None and instances > most:
        raise InputError(
            f"{instances} instances today is more than max_instances ({most})",
            source=source,
            field="instances",
        )
    return ServiceMetrics(
        service=reader.text(doc, "service"),
        throughput_rps=reader.opt(doc, "throughput_rps", parse_rate),
        target_rps=reader.opt(doc, "target_rps", parse_rate),
        errors_rps=reader.opt(doc, "errors_rps", parse_rate),
        latency=_latency(doc.get("latency_ms"), reader),
        concurrency=reader.opt(doc, "concurrency", parse_count),
        workers=_int(reader.opt(doc, "workers", parse_count), source, "workers"),
        instances=instances,
        max_instances=most,
        batch_size=_int(reader.opt(doc, "batch_size", parse_count), source, "batch_size"),
        cores=cores,
        utilization=_utilization(doc.get("utilization"), reader),
        saturation=_saturation(doc.get("saturation"), reader, cores),
        memory_grows_with_rate=_bool(doc.get("memory_grows_with_rate"), source),
        interval_s=_interval(doc.get("interval_s"), source),
        system_type=_system_type(doc.get("system_type"), source),
        architecture=reader.text(doc, "architecture"),
        inputs=(InputRef(source, "metrics-json", _detail(doc)),),
        notes=tuple(str(n) for n in _list(doc.get("notes"), source, "notes")),
    )


class _Reader:
    """Reads fields of one document, naming the source and the field path in errors."""

    def __init__(self, source: str) -> None:
        self.source = source

    def opt(
        self, doc: Mapping[str, Any], key: str, parse: Callable[..., float], path: str = ""
    ) -> float | None:
        if doc.get(key) is None:
            return None
        return parse(doc[key], source=self.source, field=path + key)

    def text(self, doc: Mapping[str, Any], key: str) -> str | None:
        value = doc.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise InputError("expected a string", source=self.source, field=key)
        return value


def _mapping(value: object, source: str, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError("expected an object", source=source, field=field)
    return value


def _latency(value: object, reader: _Reader) -> Latency:
    doc = _mapping(value, reader.source, "latency_ms")
    check_keys(doc, _LATENCY_KEYS, reader.source, "latency_ms.")

    def ms(key: str) -> float | None:
        if doc.get(key) is None:
            return None
        return parse_duration(
            doc[key], source=reader.source, field=f"latency_ms.{key}", default_unit="ms"
        )

    values = {k: ms(k) for k in _LATENCY_KEYS}
    _check_order(values, reader.source)
    return Latency(*values.values())


def _check_order(values: Mapping[str, float | None], source: str) -> None:
    """Percentiles rise with their rank and none passes the maximum (a law of any distribution,
    not a threshold): p99 below p50 is a typo or two sources mixed, never a measurement."""
    known = [(k, v) for k, v in values.items() if v is not None and k != "mean"]  # rank order
    for (low, a), (high, b) in itertools.pairwise(known):
        if b < a:
            raise InputError(
                f"{high} ({b * 1e3:g} ms) is below {low} ({a * 1e3:g} ms): a higher percentile "
                "is never lower",
                source=source,
                field=f"latency_ms.{high}",
            )
    mean, most = values.get("mean"), values.get("max")
    if mean is not None and most is not None and mean > most:
        raise InputError(
            f"mean ({mean * 1e3:g} ms) is above max ({most * 1e3:g} ms)",
            source=source,
            field="latency_ms.mean",
        )


def _utilization(value: object, reader: _Reader) -> dict[Resource, float]:
    doc = _mapping(value, reader.source, "utilization")
    allowed = _RESOURCES + tuple(f"{r}_pct" for r in _RESOURCES)
    check_keys(doc, allowed, reader.source, "utilization.")
    out: dict[Resource, float] = {}
    for key, raw in doc.items():
        if raw is None:
            continue
        resource = key.removesuffix("_pct")
        if resource in out:
            raise InputError("given twice (bare and _pct)", source=reader.source, field=key)
        field = f"utilization.{key}"
        out[cast(Resource, resource)] = parse_fraction(
            raw, key=key, source=reader.source, field=field
        )
    return out


def _saturation(value: object, reader: _Reader, cores: float | None) -> Saturation:
    doc = _mapping(value, reader.source, "saturation")
    fractions = _FRACTION_SIGNALS + tuple(f"{k}_pct" for k in _FRACTION_SIGNALS)
    check_keys(doc, fractions + _RATE_SIGNALS + _COUNT_SIGNALS, reader.source, "saturation.")
    found: dict[str, float] = {}
    for key, raw in doc.items():
        if raw is None:
            continue
        field = f"saturation.{key}"
        if key in fractions:
            name = key.removesuffix("_pct")
            found[name] = parse_fraction(raw, key=key, source=reader.source, field=field)
        elif key in _RATE_SIGNALS:
            found[key] = parse_rate(raw, source=reader.source, field=field)
        else:
            found[key] = parse_count(raw, source=reader.source, field=field)
    return Saturation(**_run_queue(found, cores, reader.source))


def _run_queue(found: dict[str, float], cores: float | None, source: str) -> dict[str, float]:
    """An absolute run queue becomes per core (it needs ``cores``)."""
    absolute = found.pop("run_queue", None)
    if absolute is not None and "run_queue_per_core" not in found:
        if not cores:
            raise InputError(
                "an absolute run queue needs 'cores' (or give run_queue_per_core)",
                source=source,
                field="saturation.run_queue",
            )
        found["run_queue_per_core"] = absolute / cores
    return found


def _int(value: float | None, source: str, field: str) -> int | None:
    if value is None:
        return None
    if value != int(value) or value < 1:
        raise InputError(f"expected a whole number >= 1, got {value:g}", source=source, field=field)
    return int(value)


def _bool(value: object, source: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InputError("expected true or false", source=source, field="memory_grows_with_rate")


def _interval(value: object, source: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise InputError("expected a duration", source=source, field="interval_s")
    return parse_duration(value, source=source, field="interval_s", default_unit="s")


def _system_type(value: object, source: str) -> str | None:
    if value is None:
        return None
    if value not in _SYSTEM_TYPES:
        known = ", ".join(_SYSTEM_TYPES)
        raise InputError(
            f"unknown system type {echo(value)} (known: {known})",
            source=source,
            field="system_type",
        )
    return str(value)


def _list(value: object, source: str, field: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("expected a list", source=source, field=field)
    return value


def _detail(doc: Mapping[str, Any]) -> str:
    parts = [
        f"{k}" for k in ("throughput_rps", "latency_ms", "utilization", "saturation") if k in doc
    ]
    return "fields: " + ", ".join(parts) if parts else "no measurements"
