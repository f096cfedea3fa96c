"""Live sources for the public API: ask a running Prometheus, or sample this machine.

``PrometheusOptions`` carries the server and its auth; secrets are read from an environment
variable or a file and never printed or saved (the export keeps the URL without credentials).
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from throughput_expert.model import ServiceMetrics
    from throughput_expert.model.architecture import Architecture
    from throughput_expert.model.settings import Settings
    from throughput_expert.sources.prometheus.live import PrometheusSource

__all__ = ["PrometheusOptions", "fill_architecture", "observe_metrics", "prometheus_metrics"]


@dataclass(frozen=True)
class PrometheusOptions:
    url: str
    window: str = "5m"
    at: str | None = None
    instance: str | None = None
    service_query: str | None = None
    latency_query: str | None = None
    save: str | PathLike[str] | None = None
    token_env: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    timeout: str | float | None = None  # each try of a query (else TPX_PROMETHEUS_TIMEOUT, 10 s)
    total_timeout: str | float | None = None  # all queries (else ..._TOTAL_TIMEOUT, 120 s)


def prometheus_metrics(
    options: PrometheusOptions, settings: Settings, service: str | None = None
) -> ServiceMetrics:
    """Run the USE-method queries (data: ``prometheus_queries.yaml``, overridable with
    ``--defaults``) on the server, save the export if asked, and read it as metrics."""
    from throughput_expert.sources.prometheus.live import (
        collect,
        export_to_metrics,
        parse_at,
        save_export,
    )

    source, queries = _server(options, settings)
    export = collect(
        source,
        window=options.window,
        at=parse_at(options.at) if options.at else None,
        instance=options.instance,
        service_query=options.service_query,
        latency_query=options.latency_query,
        queries=queries,
    )
    if options.save is not None:
        save_export(export, options.save)
    return export_to_metrics(export, service=service)


def fill_architecture(
    arch: Architecture, options: PrometheusOptions, settings: Settings
) -> Architecture:
    """Components with ``prometheus`` selectors and no measured utilization get it from the
    server (the USE-method node queries, averaged over the instances they select)."""
    from dataclasses import replace

    from throughput_expert.model import InputRef
    from throughput_expert.sources.prometheus.live import (
        collect,
        export_to_metrics,
        parse_at,
    )

    source, queries = _server(options, settings)
    if not any(c.prometheus and not c.utilization for c in arch.components):
        # nothing to fill, but the server was asked for: a dead one is said, not ignored
        source.query("vector(1)", None)
        ref = InputRef(
            source.server,
            "prometheus",
            "reachable; not queried: every component with selectors has its utilization in "
            "the file",
        )
        return replace(arch, source=arch.source if arch.source else ref)
    components = []
    for c in arch.components:
        if c.prometheus and not c.utilization:
            export = collect(
                source,
                window=options.window,
                at=parse_at(options.at) if options.at else None,
                queries=queries,
                labels=dict(c.prometheus),
            )
            measured = export_to_metrics(export).utilization
            c = replace(c, utilization=dict(measured))
        components.append(c)
    ref = InputRef(source.server, "prometheus", "utilization of components with selectors")
    return replace(arch, components=tuple(components), source=arch.source if arch.source else ref)


def _server(
    options: PrometheusOptions, settings: Settings
) -> tuple[PrometheusSource, dict[str, tuple[str, ...]]]:
    """The HTTP source with its auth, and the queries (data, overridable with --defaults)."""
    from throughput_expert.sources.prometheus.live import HttpPrometheus, queries_from_mapping

    source = HttpPrometheus(
        options.url,
        bearer_token_env=options.token_env,
        bearer_token_file=options.token_file,
        ca_file=options.ca_file,
        timeout_s=_timeout(options.timeout, "prometheus_timeout"),
        total_s=_timeout(options.total_timeout, "prometheus_total_timeout"),
    )
    queries = queries_from_mapping(settings.raw["prometheus_queries"], source="prometheus_queries")
    return source, queries


def observe_metrics(
    duration: str | float,
    interval: str | float = "1s",
    pid: int | None = None,
    save: str | PathLike[str] | None = None,
    on_progress: Callable[[object], None] | None = None,
) -> ServiceMetrics:
    """Sample this machine (and optionally one process tree) with psutil."""
    from throughput_expert.errors import Parameter
    from throughput_expert.model.quantity import parse_duration
    from throughput_expert.sources.local_sampler import observe, save_metrics

    metrics = observe(
        duration_s=parse_duration(duration, source=Parameter("duration"), default_unit="s"),
        interval_s=parse_duration(interval, source=Parameter("interval"), default_unit="s"),
        pid=pid,
        on_progress=on_progress,
    )
    if save is not None:
        save_metrics(metrics, save)
    return metrics


def _timeout(value: str | float | None, name: str) -> float | None:
    """A timeout given as seconds or text ("30s", "2m"); None leaves the environment's or the
    default; up to a day."""
    if value is None:
        return None
    from throughput_expert.errors import InputError, Parameter
    from throughput_expert.model.quantity import parse_duration
    from throughput_expert.sources.prometheus.http import MAX_TIMEOUT_S

    seconds = parse_duration(value, source=Parameter(name), default_unit="s")
    if not 0 < seconds <= MAX_TIMEOUT_S:
        raise InputError(
            f"must be above zero and at most {MAX_TIMEOUT_S:g} s (a day)", source=Parameter(name)
        )
    return seconds
