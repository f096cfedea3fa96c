"""The public API: friendly keyword arguments around the advisors' one call shape.

The CLI and the agent front doors call these functions; heavy modules (numpy, scipy) are imported
inside them so that importing the package stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, Literal

from throughput_expert.errors import InputError, Parameter

if TYPE_CHECKING:
    from throughput_expert.advisors.concurrency import LatencySlo
    from throughput_expert.live import PrometheusOptions
    from throughput_expert.model import Report, ServiceMetrics
    from throughput_expert.model.settings import Settings
    from throughput_expert.model.sweep import Sweep

__all__ = [
    "analyze",
    "design_batching",
    "find_bottleneck",
    "fit_usl",
    "optimize_concurrency",
    "scaling_plan",
    "sweep",
]

RUNTIMES = ("python", "jvm", "go", "node", "native")
Quantity = str | float | int
PathArg = str | PathLike[str]


def analyze(
    metrics: Sequence[PathArg] = (),
    *,
    current_rps: Quantity | None = None,
    target_rps: Quantity | None = None,
    system_type: str | None = None,
    service: str | None = None,
    interval: Quantity | None = None,
    defaults: PathArg | None = None,
    prometheus: PrometheusOptions | None = None,
    observe: Quantity | None = None,
) -> Report:
    """Analyze measured metrics: bottleneck, headroom, latency growth and recommendations.

    ``metrics`` are files: tpx metrics JSON, Prometheus API responses or tpx exports, or
    Prometheus text-exposition scrapes (two or more, ``interval`` apart when they carry no
    timestamps). ``prometheus`` asks a running server instead (or as well); ``observe`` samples
    this machine for that long ("30s"). Rates and durations may be human strings ("10K").
    """
    from throughput_expert.advisors.analyze import AnalyzeInputs, advise
    from throughput_expert.sources.settings import load_settings

    settings = load_settings(defaults)
    loaded = _host_metrics(metrics, interval, service, prometheus, observe, settings)
    inputs = AnalyzeInputs(
        metrics=loaded,
        current_rps=None
        if current_rps is None
        else parse_rate(current_rps, source=Parameter("current_rps")),
        target_rps=None
        if target_rps is None
        else parse_rate(target_rps, source=Parameter("target_rps")),
        system_type=system_type,
        service=service,
    )
    return advise(inputs, settings)


def _host_metrics(
    files: Sequence[PathArg],
    interval: Quantity | None,
    service: str | None,
    prometheus: PrometheusOptions | None,
    observe: Quantity | None,
    settings: Settings,
) -> ServiceMetrics:
    """Metrics from files, a live Prometheus and this machine, merged in that order."""
    from throughput_expert.live import observe_metrics, prometheus_metrics
    from throughput_expert.sources import load_metrics
    from throughput_expert.sources.merge import merge_metrics

    records = []
    if files:
        interval_s = None
        if interval is not None:
            interval_s = parse_duration(interval, source=Parameter("interval"), default_unit="s")
        records.append(
            load_metrics([str(p) for p in files], interval_s=interval_s, service=service)
        )
    if prometheus is not None:
        records.append(prometheus_metrics(prometheus, settings, service))
    if observe is not None:
        records.append(observe_metrics(observe))
    if not records:
        raise InputError(
            "no metrics given: pass {metrics} FILE, {prometheus} URL or {observe} T",
            source="analyze",
            field="metrics",
            mentions=("metrics", "prometheus", "observe"),
        )
    return merge_metrics(records)


def find_bottleneck(
    profiles: Sequence[PathArg],
    *,
    gil_profile: PathArg | None = None,
    utilization: PathArg | None = None,
    metrics: Sequence[PathArg] = (),
    threads: bool = False,
    rules: PathArg | None = None,
    interval: Quantity | None = None,
    defaults: PathArg | None = None,
    prometheus: PrometheusOptions | None = None,
) -> Report:
    """Read CPU profiles (speedscope, collapsed stacks, .cpuprofile, pprof; several are merged)
    and say which component limits throughput, of what kind, with evidence and fixes.

    ``gil_profile`` is a py-spy ``--gil`` recording of the same run as an ``--idle`` one;
    ``utilization`` (tpx metrics JSON) or ``metrics`` (any ``analyze`` input) add the host's view.
    """
    from throughput_expert.advisors.bottleneck import FindBottleneckInputs, advise
    from throughput_expert.model.profile import merge
    from throughput_expert.sources.profiles import load_profile
    from throughput_expert.sources.rules import add_user_rules
    from throughput_expert.sources.settings import load_settings

    settings = load_settings(defaults)
    if rules is not None:
        settings = add_user_rules(settings, rules)
    profile = merge([load_profile(p) for p in profiles])
    gil = load_profile(gil_profile, measures="gil") if gil_profile is not None else None
    host = [*([utilization] if utilization is not None else []), *metrics]
    loaded = None
    if host or prometheus is not None:
        loaded = _host_metrics(host, interval, None, prometheus, None, settings)
    return advise(FindBottleneckInputs(profile, gil, loaded, threads), settings)


def optimize_concurrency(
    workload_type: str,
    current_thread_pool: int,
    *,
    cpu_cores: int | None = None,
    wait_time: Quantity | None = None,
    compute_time: Quantity | None = None,
    target_throughput: Quantity | None = None,
    arrival_rate: Quantity | None = None,
    latency_slo: str | None = None,
    runtime: str | None = None,
    sweep: PathArg | None = None,
    defaults: PathArg | None = None,
) -> Report:
    """Thread-pool sizes by the seed's formulas, Little's law, Erlang C for a latency SLO
    (``"200ms"`` for the mean, ``"p99=200ms"`` for a percentile), and the USL on a sweep file.
    ``cpu_cores`` defaults to this machine's."""
    import os

    from throughput_expert.advisors.concurrency import ConcurrencyInputs, advise
    from throughput_expert.sources.settings import load_settings
    from throughput_expert.sources.sweep import load_sweep

    if workload_type not in ("cpu", "io", "mixed"):
        raise InputError("expected cpu, io or mixed", source=Parameter("workload_type"))
    inputs = ConcurrencyInputs(
        workload_type=workload_type,  # type: ignore[arg-type]
        current_threads=_whole(current_thread_pool, Parameter("current_thread_pool")),
        cores=_whole(cpu_cores, Parameter("cpu_cores"))
        if cpu_cores is not None
        else os.cpu_count() or 1,
        cores_source=Parameter("cpu_cores") if cpu_cores is not None else "this machine",
        wait_s=_seconds(wait_time, Parameter("wait_time")),
        compute_s=_seconds(compute_time, Parameter("compute_time")),
        target_rps=_rps(target_throughput, Parameter("target_throughput")),
        arrival_rps=_rps(arrival_rate, Parameter("arrival_rate")),
        slo=parse_slo(latency_slo) if latency_slo is not None else None,
        runtime=_runtime(runtime),
        sweep=load_sweep(sweep) if sweep is not None else None,
    )
    return advise(inputs, load_settings(defaults))


def design_batching(
    operation: str,
    *,
    target_throughput: Quantity,
    current_latency: Quantity | None = None,
    fixed_overhead: Quantity | None = None,
    per_item_cost: Quantity | None = None,
    max_latency: Quantity | None = None,
    arrival_rate: Quantity | None = None,
    concurrency: int = 1,
    measurements: PathArg | None = None,
    measure: str | None = None,
    measure_budget: Quantity = "25s",
    on_progress: Callable[[str], None] | None = None,
    defaults: PathArg | None = None,
) -> Report:
    """The smallest batch meeting ``target_throughput`` within ``max_latency``, from the cost
    model T(b) = c0 + c1·b: measured by ``measure`` (a ``postgresql://`` or ``sqlite:///`` DSN:
    timed trial inserts into a temporary table, bounded by ``measure_budget``), fitted to
    ``measurements`` (CSV ``batch_size,latency_ms``), given as flags, or split from
    ``current_latency`` by the operation's default share."""
    from throughput_expert.advisors.batching import BatchingInputs, advise
    from throughput_expert.sources.batch_measurements import load_batch_measurements
    from throughput_expert.sources.settings import load_settings

    trials = None
    if measure is not None:
        from throughput_expert.measure.batch_trials import run_batch_trials

        budget = _seconds(measure_budget, Parameter("measure_budget")) or 25.0
        trials = run_batch_trials(measure, time_budget_s=budget, on_progress=on_progress)
    rows = load_batch_measurements(measurements) if measurements is not None else None
    target = _rps(target_throughput, Parameter("target_throughput"))
    assert target is not None
    inputs = BatchingInputs(
        operation=operation,
        target_rps=target,
        current_latency_s=_seconds(current_latency, Parameter("current_latency")),
        fixed_overhead_s=_seconds(fixed_overhead, Parameter("fixed_overhead")),
        per_item_s=_seconds(per_item_cost, Parameter("per_item_cost")),
        max_latency_s=_seconds(max_latency, Parameter("max_latency")),
        arrival_rps=_rps(arrival_rate, Parameter("arrival_rate")),
        concurrency=_whole(concurrency, Parameter("concurrency")),
        measurements=tuple(rows) if rows is not None else None,
        measurements_source=str(measurements) if measurements is not None else None,
        trials=trials,
    )
    return advise(inputs, load_settings(defaults))


def scaling_plan(
    current_architecture: PathArg,
    *,
    target_rps: Quantity,
    defaults: PathArg | None = None,
    prometheus: PrometheusOptions | None = None,
) -> Report:
    """A plan from today's architecture (YAML) to ``target_rps``, component by component.
    With ``prometheus``, components carrying ``prometheus`` selectors and no measured
    utilization get it from the server."""
    from throughput_expert.advisors.scaling import ScalingInputs, advise
    from throughput_expert.sources.architecture import load_architecture
    from throughput_expert.sources.settings import load_settings
    from throughput_expert.sources.sweep import load_sweep

    settings = load_settings(defaults)
    arch = load_architecture(current_architecture)
    if prometheus is not None:
        from throughput_expert.live import fill_architecture

        arch = fill_architecture(arch, prometheus, settings)
    sweeps = {c.name: load_sweep(c.sweep) for c in arch.components if c.sweep}
    target = _rps(target_rps, Parameter("target_rps"))
    assert target is not None
    return advise(ScalingInputs(arch, target, sweeps), settings)


def sweep(
    *,
    url: str | None = None,
    command: str | None = None,
    callable: str | None = None,
    locustfile: PathArg | None = None,
    concurrency: Sequence[int] | Literal["auto"] | None = None,
    rates: Sequence[float] | None = None,
    duration: Quantity = "10s",
    warmup: Quantity = "2s",
    max_requests: int | None = None,
    max_levels: int | None = None,
    max_concurrency: int | None = None,
    method: str = "GET",
    body: PathArg | None = None,
    processes: bool = False,
    workers: int = 0,
    slo: Quantity | None = None,
    error_threshold: float = 0.5,
    allow_remote: bool = False,
    save: PathArg | None = None,
    from_files: Sequence[PathArg] = (),
    on_progress: Callable[[Any], None] | None = None,
    defaults: PathArg | None = None,
) -> Report:
    """Measure saturation: drive a workload at rising load (``concurrency``: closed loop, fitted
    with the USL; ``"auto"`` searches for the throughput peak, at most ``max_levels`` levels (6)
    up to ``max_concurrency`` (256); ``rates``: open loop, latency from each request's intended
    start) — or read load-test results users already have (``from_files``: k6, Locust, wrk/wrk2,
    JMeter, Gatling, vegeta). Targets must be on loopback unless ``allow_remote``; every level is
    bounded in time and requests. ``save`` writes the sweep file (atomically), even after Ctrl-C."""
    from throughput_expert.advisors.sweep import SweepInputs, advise
    from throughput_expert.sources.settings import load_settings

    slo_s = _seconds(slo, Parameter("slo"))
    if from_files:
        if any(x is not None for x in (url, command, callable, locustfile)):
            raise InputError(
                "{from_files} reads results: give no driver with it",
                source=Parameter("from_files"),
                mentions=("from_files",),
            )
        measured = _imported([str(p) for p in from_files], _opt_str(save))
    else:
        measured = _measure(
            url,
            command,
            callable,
            locustfile,
            _search(concurrency, max_levels, max_concurrency),
            rates,
            duration,
            warmup,
            max_requests,
            method,
            body,
            processes,
            workers,
            slo_s,
            error_threshold,
            allow_remote,
            on_progress,
        )
        if not measured.levels:  # nothing to save or advise on: say why, in one line
            from throughput_expert.errors import MeasurementError

            why = [n for n in measured.notes if n.startswith(("stopped at", "interrupted"))]
            raise MeasurementError(
                "no level finished" + (f": {why[0]}" if why else ""), source="sweep"
            )
        if save is not None:
            from throughput_expert.sources.sweep import save_sweep

            save_sweep(measured, save)
    return advise(SweepInputs(measured, slo_s), load_settings(defaults))


def _imported(files: list[str], save: str | None) -> Sweep:
    """A tpx sweep file as it is, or load-test results users already have."""
    from throughput_expert.sources.loadtests import import_to_sweep
    from throughput_expert.sources.sweep import is_sweep_file, load_sweep, save_sweep

    if len(files) == 1 and is_sweep_file(files[0]):
        loaded = load_sweep(files[0])
        if save is not None:
            save_sweep(loaded, save)
        return loaded
    return import_to_sweep(files, save=save)


def _opt_str(value: PathArg | None) -> str | None:
    return None if value is None else str(value)


def _search(
    concurrency: Sequence[int] | Literal["auto"] | None,
    max_levels: int | None,
    max_concurrency: int | None,
) -> Any:
    """A ``PeakSearch`` for ``"auto"``, else the levels as given."""
    if not isinstance(concurrency, str):
        if max_levels is not None or max_concurrency is not None:
            flag = (
                Parameter("max_levels") if max_levels is not None else Parameter("max_concurrency")
            )
            raise InputError(
                "goes with {concurrency} auto only", source=flag, mentions=("concurrency",)
            )
        return concurrency
    if concurrency != "auto":
        raise InputError(
            f'expected "auto" or whole numbers, not {concurrency[:40]!r}',
            source=Parameter("concurrency"),
        )
    from throughput_expert.measure import search

    return search.PeakSearch(
        max_levels=search.DEFAULT_MAX_LEVELS if max_levels is None else max_levels,
        max_concurrency=(
            search.DEFAULT_MAX_CONCURRENCY if max_concurrency is None else max_concurrency
        ),
    )


def _measure(
    url: str | None,
    command: str | None,
    call: str | None,
    locustfile: PathArg | None,
    concurrency: Any,
    rates: Sequence[float] | None,
    duration: Quantity,
    warmup: Quantity,
    max_requests: int | None,
    method: str,
    body: PathArg | None,
    processes: bool,
    workers: int,
    slo_s: float | None,
    error_threshold: float,
    allow_remote: bool,
    on_progress: Callable[[Any], None] | None,
) -> Sweep:
    from throughput_expert.measure.runner import run_sweep

    given = [x for x in (url, command, call, locustfile) if x is not None]
    if len(given) != 1:
        raise InputError(
            "give exactly one of {url}, {command}, {callable}, {locustfile}, or {from_files} FILE",
            source="sweep",
            mentions=("url", "command", "callable", "locustfile", "from_files"),
        )
    driver = _driver(url, command, call, locustfile, method, body, processes, workers)
    return run_sweep(
        driver,
        concurrency=concurrency,
        rates=rates,
        duration_s=_seconds(duration, Parameter("duration")) or 10.0,
        warmup_s=_seconds(warmup, Parameter("warmup")) or 0.0,
        max_requests=max_requests,
        error_threshold=error_threshold,
        allow_remote=allow_remote,
        slo_s=slo_s,
        on_progress=on_progress,
    )


def _driver(
    url: str | None,
    command: str | None,
    call: str | None,
    locustfile: PathArg | None,
    method: str,
    body: PathArg | None,
    processes: bool,
    workers: int,
) -> Any:
    from throughput_expert.measure.drivers import CallableDriver, CommandDriver

    if url is not None:
        from throughput_expert.measure.http_driver import UrlDriver

        return UrlDriver(url, method=method, body=body)
    if command is not None:
        return CommandDriver(command)
    if call is not None:
        return CallableDriver(call, processes=processes)
    from throughput_expert.measure.locust_driver import LocustDriver

    return LocustDriver(str(locustfile), workers=workers)


def fit_usl(sweep: PathArg) -> dict[str, object]:
    """The USL fit of a sweep file as the Report's ``analysis.usl`` dictionary."""
    from throughput_expert.advisors.ledger import Ledger
    from throughput_expert.advisors.usl_report import usl_report
    from throughput_expert.sources.sweep import load_sweep

    return usl_report(load_sweep(sweep), Ledger()).analysis


def parse_slo(text: str) -> LatencySlo:
    """``"200ms"`` (mean response time) or ``"p99=200ms"`` / ``"p99.9=1s"`` (a percentile)."""
    from throughput_expert.advisors.concurrency import LatencySlo
    from throughput_expert.model.quantity import parse_duration

    which, _, value = text.partition("=") if "=" in text else ("", "", text)
    seconds = parse_duration(value.strip(), source=Parameter("latency_slo"), default_unit="ms")
    if seconds <= 0:
        raise InputError("must be above zero", source=Parameter("latency_slo"))
    if not which:
        return LatencySlo(seconds)
    match = re.fullmatch(r"\s*p(\d+(?:\.\d+)?)\s*", which)
    if match is None or not 0 < float(match.group(1)) < 100:
        raise InputError(
            f"expected 200ms or p99=200ms, not {text[:30]!r}", source=Parameter("latency_slo")
        )
    return LatencySlo(seconds, float(match.group(1)) / 100)


def _whole(value: object, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InputError("expected a whole number", source=source)
    try:
        number = int(value)
    except ValueError:
        raise InputError(
            f"expected a whole number, not {str(value)[:20]!r}", source=source
        ) from None
    if number < 1:
        raise InputError("must be at least 1", source=source)
    return number


def parse_rate(value: Quantity, *, source: str, field: str = "") -> float:
    from throughput_expert.model.quantity import parse_rate as parse

    return parse(value, source=source, field=field)


def parse_duration(
    value: Quantity, *, source: str, field: str = "", default_unit: Any = None
) -> float:
    from throughput_expert.model.quantity import parse_duration as parse

    return parse(value, source=source, field=field, default_unit=default_unit)


def _seconds(value: Quantity | None, source: str) -> float | None:
    return None if value is None else parse_duration(value, source=source, default_unit="ms")


def _rps(value: Quantity | None, source: str) -> float | None:
    return None if value is None else parse_rate(value, source=source)


def _runtime(value: str | None) -> str | None:
    if value is not None and value not in RUNTIMES:
        raise InputError(f"expected one of {', '.join(RUNTIMES)}", source=Parameter("runtime"))
    return value
