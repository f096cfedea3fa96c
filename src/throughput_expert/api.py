"""The public API: friendly keyword arguments around the advisors' one call shape.

The CLI and the agent front doors call these functions (and only these: no other front door
calls an advisor); heavy modules (numpy, scipy) are imported inside them so that importing the
package stays cheap. Where a front door or a library user already holds a loaded object, the
functions take it as well as a path: ``metrics`` a ``ServiceMetrics`` (or a list mixing paths
and records), ``current_architecture`` an ``Architecture``, ``profiles`` and ``gil_profile`` a
``Profile``, ``sweep`` and ``from_files`` a ``Sweep``, ``measurements`` and ``batch_trials`` a
list of ``CallCost``. Durations and rates are quantity strings or bare numbers in seconds and per
second.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Annotated, Any, Literal

from throughput_expert.errors import InputError, Parameter
from throughput_expert.live import PrometheusOptions
from throughput_expert.model.architecture import Architecture
from throughput_expert.model.profile import Profile
from throughput_expert.model.records import ServiceMetrics
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.trials import CallCost
from throughput_expert.params import Arg

if TYPE_CHECKING:
    from throughput_expert.advisors.concurrency import LatencySlo
    from throughput_expert.model import Report
    from throughput_expert.model.settings import Settings

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

# Parameters several functions share: declared once here.
Defaults = Annotated[
    PathArg | None,
    Arg(
        "YAML/JSON overriding saturation targets, thresholds, playbook, benchmarks "
        '(e.g. saturation_targets: {cpu: "60%"})',
        kind="file",
        metavar="FILE",
    ),
]
Interval = Annotated[
    Quantity | None,
    Arg('time between scrapes that carry no timestamps: 15 or "15s"', kind="duration", metavar="T"),
]
Prometheus = Annotated[
    PrometheusOptions | None,
    Arg("a live Prometheus server to ask, and how", cli=False, tool=False),
]
Progress = Annotated[
    Callable[..., None] | None, Arg("called with progress events", cli=False, tool=False)
]


def analyze(
    metrics: Annotated[
        Sequence[PathArg | ServiceMetrics] | ServiceMetrics,
        Arg(
            "metrics files: tpx metrics JSON, a Prometheus /api/v1/query(_range) response or "
            "tpx export, or text-exposition scrapes (two or more for rates)",
            kind="files",
            metavar="FILE",
            tool_bounds={"min_length": 1},
            tool_required=True,
        ),
    ] = (),
    *,
    current_rps: Annotated[
        Quantity | None, Arg("today's rate, if the metrics do not say it", kind="rate", metavar="N")
    ] = None,
    target_rps: Annotated[
        Quantity | None, Arg("the rate to reach", kind="rate", metavar="N")
    ] = None,
    system_type: Annotated[
        Literal["web-api", "message-processing", "database-writes", "stream-processing"] | None,
        Arg("rates the throughput against the seed's good/excellent benchmarks"),
    ] = None,
    service: Annotated[
        str | None, Arg("the service's name (selects its series in the metrics)", metavar="NAME")
    ] = None,
    interval: Interval = None,
    defaults: Defaults = None,
    prometheus: Prometheus = None,
    batch_trials: Annotated[
        PathArg | Sequence[CallCost] | None,
        Arg(
            "calls measured at several batch sizes (CSV batch_size,latency_ms, and cpu_ms, "
            "disk_ms where measured): how much of each resource a batch cuts",
            kind="file",
            metavar="FILE",
        ),
    ] = None,
    observe: Annotated[
        Quantity | None,
        Arg(
            'sample this machine for this long ("30s") and analyze it',
            kind="duration",
            metavar="T",
            tool=False,
        ),
    ] = None,
    sweep: Annotated[
        PathArg | Sweep | None,
        Arg(
            "a sweep of one instance (CSV concurrency,throughput_rps or tpx sweep JSON): its "
            "USL fit caps the workers per instance",
            kind="file",
            metavar="FILE",
        ),
    ] = None,
) -> Report:
    """Analyze measured metrics: the bottleneck, the headroom, latency growth and what to do.

    ``metrics`` are files or a loaded ``ServiceMetrics`` (or ``prometheus`` asks a running
    server, or ``observe`` samples this machine). The Report's ``analysis.current_throughput``
    gives rps, processing time, concurrency by Little's law L = X·R and utilization per
    resource; ``analysis.bottleneck`` the type (cpu, memory, io_disk, io_network, contention or
    downstream), the resource and evidence ids; ``analysis.headroom`` per resource: utilization,
    its saturation target, the rate max_rps_at_target = X·target/U and headroom (ceiling_rps is
    the lowest of those rates, binding_resource the one that sets it); ``analysis.latency``
    response time as load grows (Erlang C, M/M/1); recommendations with expected_improvement_pct
    computed from the evidence, an implementation plan, evidence, assumptions and inputs. A
    ``sweep`` of one instance makes its USL fit the workers' limit: the plan never sizes more
    workers than the level ``tpx sweep`` recommends from the same file.
    """
    from throughput_expert.advisors.analyze import AnalyzeInputs, advise
    from throughput_expert.outputs import deferred
    from throughput_expert.sources.batch_measurements import load_call_costs
    from throughput_expert.sources.sentence import sink_of
    from throughput_expert.sources.settings import load_settings

    settings = load_settings(defaults)
    files, given = _files_or_loaded(metrics)
    # the Prometheus export is saved only once the analysis stands: a call that raises writes
    # nothing (as the command line stages --save until exit 0)
    with deferred([prometheus.save] if prometheus and prometheus.save else []):
        loaded = _host_metrics(files, interval, service, prometheus, observe, settings, given)
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
            sink=sink_of(loaded.architecture),
            trials=()
            if batch_trials is None
            else tuple(
                load_call_costs(batch_trials)
                if isinstance(batch_trials, str | PathLike)
                else batch_trials
            ),
            sweep=_sweep_of(sweep),
        )
        return advise(inputs, settings)


def _sweep_of(sweep: PathArg | Sweep | None) -> Sweep | None:
    from throughput_expert.sources.sweep import load_sweep

    return sweep if sweep is None or isinstance(sweep, Sweep) else load_sweep(sweep)


def price_on_model(
    metrics: ServiceMetrics,
    change: Literal["instances", "servers", "batch", "workers"],
    value: float,
    *,
    station: str | None = None,
    defaults: PathArg | None = None,
) -> tuple[float, str, float, str] | None:
    """One change priced on the system model ``analyze`` builds from ``metrics`` (not a
    command: the task worker prices its advisors' advice with it, so that one result holds one
    answer per change). ``(ceiling_today, binding_today, ceiling_after, binding_after)`` at the
    saturation targets, per second; None when the metrics give no model (no measured rate or
    no busy resource)."""
    from throughput_expert.advisors.system.price import price_change
    from throughput_expert.sources.sentence import sink_of
    from throughput_expert.sources.settings import load_settings

    found = price_change(
        metrics, change, value, sink_of(metrics.architecture), load_settings(defaults), station
    )
    if found is None:
        return None
    return found.ceiling_today, found.binding_today, found.ceiling_after, found.binding_after


def _host_metrics(
    files: Sequence[PathArg],
    interval: Quantity | None,
    service: str | None,
    prometheus: PrometheusOptions | None,
    observe: Quantity | None,
    settings: Settings,
    loaded: ServiceMetrics | None = None,
) -> ServiceMetrics:
    """Metrics from files, already loaded, a live Prometheus and this machine, merged in that
    order."""
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
    if loaded is not None:
        records.append(loaded)
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


def _files_or_loaded(
    metrics: Sequence[PathArg | ServiceMetrics] | ServiceMetrics,
) -> tuple[Sequence[PathArg], ServiceMetrics | None]:
    """Metrics files to read, and metrics a caller already holds (merged)."""
    if isinstance(metrics, ServiceMetrics):
        return (), metrics
    from throughput_expert.sources.merge import merge_metrics

    held = [m for m in metrics if isinstance(m, ServiceMetrics)]
    files = [m for m in metrics if not isinstance(m, ServiceMetrics)]
    return files, merge_metrics(held) if held else None


def find_bottleneck(
    profiles: Annotated[
        Sequence[PathArg | Profile],
        Arg(
            "CPU profiles, merged: speedscope JSON (py-spy), collapsed stacks, Chrome/Node "
            ".cpuprofile, Go pprof",
            kind="files",
            metavar="FILE",
            flag="--profile",
            tool_bounds={"min_length": 1},
            tool_required=True,
        ),
    ] = (),
    *,
    gil_profile: Annotated[
        PathArg | Profile | None,
        Arg(
            "a py-spy --gil recording of the same run as an --idle profile",
            kind="file",
            metavar="FILE",
        ),
    ] = None,
    utilization: Annotated[
        PathArg | None, Arg("the host's metrics (tpx metrics JSON)", kind="file", metavar="FILE")
    ] = None,
    metrics: Annotated[
        Sequence[PathArg | ServiceMetrics] | ServiceMetrics,
        Arg("any analyze input for the host's view", kind="files", metavar="FILE"),
    ] = (),
    threads: Annotated[bool, Arg("add a per-thread breakdown")] = False,
    rules: Annotated[
        PathArg | None,
        Arg("extra category rules (YAML, categories.yaml's shape)", kind="file", metavar="FILE"),
    ] = None,
    interval: Interval = None,
    defaults: Defaults = None,
    prometheus: Prometheus = None,
    pid: Annotated[
        int | None,
        Arg(
            "record this running Python process with py-spy instead of reading files "
            "(needs ptrace permission: root or CAP_SYS_PTRACE)",
            metavar="PID",
            tool=False,
            group="record a Python process (py-spy)",
        ),
    ] = None,
    duration: Annotated[
        Quantity | None,
        Arg(
            "how long to record {pid} or the command after --: 10 s unless given, at most 120 s",
            kind="duration",
            metavar="T",
            tool=False,
            group="record a Python process (py-spy)",
        ),
    ] = None,
    save_profiles: Annotated[
        PathArg | None,
        Arg(
            "keep the recordings and the measured CPU in this folder (default: removed)",
            metavar="DIR",
            tool=False,
            group="record a Python process (py-spy)",
        ),
    ] = None,
    command: Annotated[
        Sequence[str],
        Arg(
            "a command to start, record and stop: tpx find-bottleneck -- python app.py",
            cli=False,
            tool=False,
        ),
    ] = (),
) -> Report:
    """Read CPU profiles and say which component limits throughput, of what kind, and the fixes.

    Time is split into categories (compute, serialization, regex, logging, GC and allocation,
    lock contention, GIL, network and disk waits, database driver, sleep) with self and total
    time per function and the hot paths; shares are percent of the profile's samples. Each
    fix's expected_improvement_pct is Amdahl's law on the measured share and the fix's speed-up
    (from a data file, with its source and confidence). ``gil_profile`` is a py-spy ``--gil``
    recording of the same run as an ``--idle`` one; with host metrics (``utilization``,
    ``metrics``: files or a loaded ``ServiceMetrics``, ``prometheus``) an I/O-wait profile on
    an idle host is a downstream bottleneck, not a CPU one.

    ``pid`` (a running Python process) or ``command`` (started, then stopped) is recorded for
    ``duration`` with py-spy instead: a wall-clock (``--idle``) and a GIL (``--gil``) recording
    of the same window are the profile and ``gil_profile``, and the process's own CPU over it
    (psutil, children included) is the metrics, as a share of this machine's cores.
    """
    from throughput_expert.advisors.bottleneck import FindBottleneckInputs, advise
    from throughput_expert.model.profile import merge
    from throughput_expert.sources.profiles import load_profile
    from throughput_expert.sources.rules import add_user_rules
    from throughput_expert.sources.settings import load_settings

    settings = load_settings(defaults)
    if rules is not None:
        settings = add_user_rules(settings, rules)
    if pid is not None or command:
        _check_recording(profiles, gil_profile, utilization, metrics, prometheus, pid, command)
        wall, held, recorded = _record_python(pid, command, duration, save_profiles)
        return advise(FindBottleneckInputs(wall, held, recorded, threads), settings)
    if not profiles:
        raise InputError(
            "no profile given: pass {profiles} FILE, or record a Python process with {pid} PID "
            "or a command after --",
            source="find-bottleneck",
            field="profiles",
            mentions=("profiles", "pid"),
        )
    profile = merge([p if isinstance(p, Profile) else load_profile(p) for p in profiles])
    gil: Profile | None = None
    if isinstance(gil_profile, Profile):
        gil = gil_profile  # loaded by the caller, as a --gil recording
    elif gil_profile is not None:
        gil = load_profile(gil_profile, measures="gil")
    files, given = _files_or_loaded(metrics)
    host = [*([utilization] if utilization is not None else []), *files]
    loaded = None
    if host or given is not None or prometheus is not None:
        loaded = _host_metrics(host, interval, None, prometheus, None, settings, given)
    return advise(FindBottleneckInputs(profile, gil, loaded, threads), settings)


def _check_recording(
    profiles: Sequence[PathArg | Profile],
    gil_profile: PathArg | Profile | None,
    utilization: PathArg | None,
    metrics: Sequence[PathArg | ServiceMetrics] | ServiceMetrics,
    prometheus: PrometheusOptions | None,
    pid: int | None,
    command: Sequence[str],
) -> None:
    """A recording is its own profile and metrics: no files beside it, one target."""
    if pid is not None and command:
        raise InputError(
            "record {pid} or a command after --, not both",
            source=Parameter("pid"),
            mentions=("pid",),
        )
    given = [
        name
        for name, value in (
            ("profiles", profiles),
            ("gil_profile", gil_profile),
            ("utilization", utilization),
            ("metrics", metrics),
            ("prometheus", prometheus),
        )
        if value is not None and value != () and value != []
    ]
    if given:
        shown = ", ".join("{" + g + "}" for g in given)
        raise InputError(
            f"a recording brings its own profiles and CPU: drop {shown}",
            source=Parameter("pid" if pid is not None else "command"),
            mentions=tuple(given),
        )


def _record_python(
    pid: int | None, command: Sequence[str], duration: Quantity | None, keep: PathArg | None
) -> tuple[Profile, Profile, ServiceMetrics]:
    """Record with py-spy (``measure/pyspy.py``) and read the recordings back."""
    import dataclasses

    from throughput_expert.measure.pyspy import record_command, record_pid, recording_folder
    from throughput_expert.model.records import InputRef
    from throughput_expert.sources.local_sampler import save_metrics
    from throughput_expert.sources.profiles import load_profile

    seconds = 10.0 if duration is None else _seconds(duration, Parameter("duration"))
    assert seconds is not None
    with recording_folder(keep) as folder:
        if pid is not None:
            rec = record_pid(pid, seconds, folder)
        else:
            rec = record_command(command, seconds, folder)
        idle = load_profile(rec.idle, measures="wall")
        gil = load_profile(rec.gil, measures="gil")
        if keep is not None:
            save_metrics(rec.metrics, folder / "metrics.json")
    shown = {p: str(p) if keep is not None else f"pid {rec.pid}" for p in (rec.idle, rec.gil)}
    idle = dataclasses.replace(idle, source=InputRef(shown[rec.idle], "profile", rec.idle_detail))
    gil = dataclasses.replace(gil, source=InputRef(shown[rec.gil], "gil profile", rec.gil_detail))
    return idle, gil, rec.metrics


def optimize_concurrency(
    workload_type: Annotated[Literal["cpu", "io", "mixed"], Arg("what a request mostly does")],
    current_thread_pool: Annotated[
        int | None,
        Arg(
            "threads in the pool today (without it no gain against today is priced)",
            metavar="N",
            tool_bounds={"ge": 1},
        ),
    ] = None,
    *,
    cpu_cores: Annotated[
        int | None,
        Arg(
            "cores of the system advised (needed: tpx does not assume the machine it runs on)",
            metavar="N",
            tool_bounds={"ge": 1},
        ),
    ] = None,
    wait_time: Annotated[
        Quantity | None, Arg("time a request waits on I/O (W)", kind="duration", metavar="T")
    ] = None,
    compute_time: Annotated[
        Quantity | None, Arg("CPU time per request (C)", kind="duration", metavar="T")
    ] = None,
    target_throughput: Annotated[
        Quantity | None, Arg("the rate to reach", kind="rate", metavar="X")
    ] = None,
    arrival_rate: Annotated[
        Quantity | None,
        Arg("offered rate for latency-SLO sizing by Erlang C", kind="rate", metavar="X"),
    ] = None,
    latency_slo: Annotated[
        str | None, Arg('"0.2s" or "200ms" (mean response time), or "p99=200ms"', metavar="SLO")
    ] = None,
    runtime: Annotated[
        Literal["python", "jvm", "go", "node", "native"] | None,
        Arg("the runtime (CPU-bound Python needs processes, not threads)"),
    ] = None,
    sweep: Annotated[
        PathArg | Sweep | None,
        Arg(
            "a sweep file (CSV concurrency,throughput_rps or tpx sweep JSON): fit the USL",
            kind="file",
            metavar="FILE",
        ),
    ] = None,
    defaults: Defaults = None,
) -> Report:
    """Size thread pools: the seed's formulas, then Little's law, Erlang C and the USL.

    CPU-bound: cores; I/O-bound: cores × (1 + W/C); mixed: separate pools (I/O cores × 10 when
    W/C is unknown). ``analysis.pools`` gives each pool's threads and formula;
    ``analysis.expected`` the max throughput now and recommended; ``cpu_ceiling_rps`` is
    cores / C. A target rate gives N = X·(W + C) (Little); an arrival rate and a latency SLO
    give the smallest pool meeting it by Erlang C, with P(wait); a sweep file gives the USL fit
    and the smallest concurrency reaching 95 % of its peak. ``cpu_cores`` (the cores of the
    system advised) is needed: every path sizes the CPU pool from it (the seed's CPU-bound pool
    is always given), and tpx does not assume the machine it runs on.
    """
    from throughput_expert.advisors.concurrency import ConcurrencyInputs, advise
    from throughput_expert.sources.settings import load_settings
    from throughput_expert.sources.sweep import load_sweep

    if workload_type not in ("cpu", "io", "mixed"):
        raise InputError("expected cpu, io or mixed", source=Parameter("workload_type"))
    threads = (
        None
        if current_thread_pool is None
        else _whole(current_thread_pool, Parameter("current_thread_pool"))
    )
    wait_s = _seconds(wait_time, Parameter("wait_time"))
    compute_s = _seconds(compute_time, Parameter("compute_time"))
    target_rps = _rps(target_throughput, Parameter("target_throughput"))
    arrival_rps = _rps(arrival_rate, Parameter("arrival_rate"))
    slo = parse_slo(latency_slo) if latency_slo is not None else None
    chosen = _runtime(runtime)
    if cpu_cores is None:  # after the other parameters: their errors come first
        raise InputError(
            "needed to size a pool (the cores of the system advised; tpx does not assume the "
            "machine it runs on)",
            source=Parameter("cpu_cores"),
        )
    inputs = ConcurrencyInputs(
        workload_type=workload_type,
        current_threads=threads,
        cores=_whole(cpu_cores, Parameter("cpu_cores")),
        cores_source=Parameter("cpu_cores"),
        wait_s=wait_s,
        compute_s=compute_s,
        target_rps=target_rps,
        arrival_rps=arrival_rps,
        slo=slo,
        runtime=chosen,
        sweep=sweep if sweep is None or isinstance(sweep, Sweep) else load_sweep(sweep),
    )
    return advise(inputs, load_settings(defaults))


def design_batching(
    operation: Annotated[
        str,
        Arg(
            "database-insert, api-call, message-publish, file-write, or any name (sets the "
            "default split of today's latency into per-call and per-item cost)"
        ),
    ],
    *,
    target_throughput: Annotated[
        Quantity, Arg("items per second to reach", kind="rate", metavar="X")
    ],
    current_latency: Annotated[
        Quantity | None, Arg("one item's latency today", kind="duration", metavar="T")
    ] = None,
    fixed_overhead: Annotated[
        Quantity | None, Arg("cost per call (c0)", kind="duration", metavar="T")
    ] = None,
    per_item_cost: Annotated[
        Quantity | None, Arg("cost per item (c1)", kind="duration", metavar="T")
    ] = None,
    max_latency: Annotated[
        Quantity | None,
        Arg("budget for the latency batching adds", kind="duration", metavar="T"),
    ] = None,
    arrival_rate: Annotated[
        Quantity | None,
        Arg("items per second arriving (default: the target)", kind="rate", metavar="X"),
    ] = None,
    concurrency: Annotated[int, Arg("batches in flight", metavar="N", tool_bounds={"ge": 1})] = 1,
    measurements: Annotated[
        PathArg | Sequence[CallCost] | None,
        Arg(
            "measured cost: CSV batch_size,latency_ms, fitted by least squares (a disk_ms "
            "column: the disk's busy time per call, a limit too)",
            kind="file",
            metavar="FILE",
        ),
    ] = None,
    measure: Annotated[
        str | None,
        Arg(
            "time trial inserts: postgresql://... or sqlite:///path (into a durable table of "
            "their own, dropped at the end)",
            metavar="DSN",
            tool=False,
        ),
    ] = None,
    measure_budget: Annotated[
        Quantity, Arg("time limit of measure", kind="duration", metavar="T", tool=False)
    ] = "25s",
    on_progress: Annotated[
        Callable[[str], None] | None, Arg("called with progress lines", cli=False, tool=False)
    ] = None,
    defaults: Defaults = None,
) -> Report:
    """Design batching from the cost model T(b) = c0 + c1·b (time for a batch of b items).

    The model comes from ``measure`` (a ``postgresql://`` or ``sqlite:///`` DSN: timed trial
    inserts, bounded by ``measure_budget``), from ``measurements`` (least squares), from c0 and
    c1, or from today's latency split by the operation's default share (listed under
    assumptions). The analysis gives the batch size, flush interval, expected throughput
    (k·b / T(b) with k batches in flight), added latency (p50, max), the gain over today and
    whether the target is feasible: batching alone is capped at k / c1 (limit_rps), and
    ``what_else`` says what else is needed. The throughput/latency curve by batch size is in
    ``series``.
    """
    from throughput_expert.advisors.batching import BatchingInputs, advise
    from throughput_expert.sources.batch_measurements import load_call_costs
    from throughput_expert.sources.settings import load_settings

    trials = None
    if measure is not None:
        from throughput_expert.measure.batch_trials import run_batch_trials

        budget = _seconds(measure_budget, Parameter("measure_budget")) or 25.0
        trials = run_batch_trials(measure, time_budget_s=budget, on_progress=on_progress)
    calls = None
    if isinstance(measurements, str | PathLike):
        calls = tuple(load_call_costs(measurements))
    elif measurements is not None:  # loaded by the caller
        calls = tuple(measurements)
    rows = None if calls is None else [(c.batch_size, c.latency_s) for c in calls]
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
        measurements_source=None
        if measurements is None
        else str(measurements)
        if isinstance(measurements, str | PathLike)
        else "measurements",
        trials=trials,
        calls=calls,
    )
    return advise(inputs, load_settings(defaults))


def scaling_plan(
    current_architecture: Annotated[
        PathArg | Architecture,
        Arg("the architecture YAML (shape: examples/three-tier.yaml)", kind="file", metavar="FILE"),
    ],
    *,
    target_rps: Annotated[Quantity, Arg("the entry rate to reach", kind="rate", metavar="X")],
    defaults: Defaults = None,
    prometheus: Prometheus = None,
) -> Report:
    """Plan the way from today's architecture to a target entry rate, component by component.

    Per component (``analysis.components``): the demand at the target, the capacity per
    instance at its saturation targets, the instances needed (bent by the USL when known; past
    the USL peak, adding instances cannot reach it), the strategy (vertical, horizontal,
    functional, read replicas or sharding), partitions, an autoscaling policy and the cost;
    ``analysis.saturation_order`` is what breaks next as load rises. ``current_architecture``
    is a file or a loaded ``Architecture`` (its components' sweep files are read either way).
    With ``prometheus``, components carrying ``prometheus`` selectors and no measured
    utilization get it from the server.
    """
    from throughput_expert.advisors.scaling import ScalingInputs, advise
    from throughput_expert.sources.architecture import load_architecture
    from throughput_expert.sources.settings import load_settings
    from throughput_expert.sources.sweep import load_sweep

    settings = load_settings(defaults)
    arch = (
        current_architecture
        if isinstance(current_architecture, Architecture)
        else load_architecture(current_architecture)
    )
    if prometheus is not None:
        from throughput_expert.live import fill_architecture

        arch = fill_architecture(arch, prometheus, settings)
    sweeps = {c.name: load_sweep(c.sweep) for c in arch.components if c.sweep}
    target = _rps(target_rps, Parameter("target_rps"))
    assert target is not None
    return advise(ScalingInputs(arch, target, sweeps), settings)


MAX_TOOL_LEVELS = 8  # an agent's sweep: at most 8 levels of at most 5 s, loopback only


def sweep(
    *,
    url: Annotated[
        str | None,
        Arg(
            "HTTP/1.1 keep-alive requests to this URL (on loopback unless remote targets "
            "are allowed)",
            group="what to drive (one of them), or {from_files}",
        ),
    ] = None,
    command: Annotated[
        str | None,
        Arg(
            "a shell command, one process per operation",
            tool=False,
            group="what to drive (one of them), or {from_files}",
        ),
    ] = None,
    callable: Annotated[
        str | None,
        Arg(
            "a Python function, in threads",
            metavar="MODULE:FUNCTION",
            tool=False,
            group="what to drive (one of them), or {from_files}",
        ),
    ] = None,
    locustfile: Annotated[
        PathArg | None,
        Arg(
            "Locust headless, one run per level",
            kind="file",
            metavar="FILE",
            tool=False,
            group="what to drive (one of them), or {from_files}",
        ),
    ] = None,
    concurrency: Annotated[
        Sequence[int] | str | None,
        Arg(
            'closed-loop levels, e.g. "1,2,4,8,16,32" or [1, 2, 4]; "auto" searches for the '
            "throughput peak (climb ×3 while it rises, then measure where the USL through the "
            "levels so far peaks)",
            kind="levels",
            metavar="LIST|auto",
            tool_bounds={"max_length": MAX_TOOL_LEVELS},
        ),
    ] = None,
    rates: Annotated[
        Sequence[Quantity] | str | None,
        Arg(
            'open-loop offered rates per second, e.g. "100,200,400"',
            kind="rates",
            metavar="LIST",
            tool_bounds={"max_length": MAX_TOOL_LEVELS},
        ),
    ] = None,
    duration: Annotated[
        Quantity, Arg("time per level", kind="duration", metavar="T", tool_default="2s")
    ] = "10s",
    warmup: Annotated[
        Quantity, Arg("warm-up per level", kind="duration", metavar="T", tool=False)
    ] = "2s",
    max_requests: Annotated[
        int | None, Arg("cap on requests per level", metavar="N", tool=False)
    ] = None,
    max_levels: Annotated[
        int | None,
        Arg(
            "with concurrency auto: readings at most (default 16; a level read again counts)",
            metavar="N",
            tool_bounds={"ge": 2, "le": MAX_TOOL_LEVELS},
        ),
    ] = None,
    max_concurrency: Annotated[
        int | None,
        Arg("with concurrency auto: highest level to try (default 256)", metavar="N", tool=False),
    ] = None,
    method: Annotated[str, Arg("HTTP method for url", tool=False)] = "GET",
    body: Annotated[
        PathArg | None,
        Arg("request body file for url", kind="file", metavar="FILE", tool=False),
    ] = None,
    processes: Annotated[bool, Arg("run the callable in processes", tool=False)] = False,
    workers: Annotated[
        int, Arg("locustfile: run Locust distributed with N workers", metavar="N", tool=False)
    ] = 0,
    slo: Annotated[
        Quantity | None,
        Arg("p99 a sustained open-loop rate must meet", kind="duration", metavar="T"),
    ] = None,
    error_threshold: Annotated[
        float,
        Arg(
            "a level whose error share (failed / sent requests) passes this is failed, not "
            "throughput: it stops a measured sweep; an imported one is kept apart, unfitted",
            metavar="F",
            tool=False,
        ),
    ] = 0.1,
    allow_remote: Annotated[
        bool, Arg("allow a target that is not on loopback", tool=False)
    ] = False,
    save: Annotated[
        PathArg | None,
        Arg("write the sweep file (JSON, docs/formats.md §5.1)", metavar="PATH", tool=False),
    ] = None,
    from_files: Annotated[
        Sequence[PathArg] | Sweep,
        Arg(
            "read load-test results instead: k6, Locust CSV, wrk/wrk2, JMeter JTL, Gatling "
            "simulation.log, vegeta JSON, or a tpx sweep file",
            kind="files",
            metavar="FILE",
            flag="--from",
            group="what to drive (one of them), or {from_files}",
        ),
    ] = (),
    merge: Annotated[
        bool,
        Arg(
            "read results run against different targets (URLs, request names) into one sweep; "
            "without it they are refused"
        ),
    ] = False,
    on_progress: Progress = None,
    defaults: Defaults = None,
) -> Report:
    """Measure saturation: drive a workload at rising load, or read load-test results.

    ``concurrency`` levels run a closed loop, fitted with the Universal Scalability Law
    (``"auto"`` searches for the throughput peak, at most ``max_levels`` levels up to
    ``max_concurrency``); ``rates`` run an open loop (latency from each request's intended
    start; the highest rate sustained within ``slo``). ``from_files`` reads results users
    already have (k6, Locust, wrk/wrk2, JMeter, Gatling, vegeta). Targets must be on loopback
    unless ``allow_remote``; every level is bounded in time and requests. ``save`` writes the
    sweep file (atomically) once the analysis stands (a call that raises writes nothing), even
    after Ctrl-C, SIGTERM or SIGHUP (the levels finished before it;
    ``measure.runner.interrupted_by()`` then names the signal).
    """
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
        if isinstance(from_files, Sweep):  # levels the caller already holds
            measured = from_files
        else:
            measured = _imported([str(p) for p in from_files], error_threshold, merge=merge)
    else:
        measured = _measure(
            url,
            command,
            callable,
            locustfile,
            _search(_levels(concurrency), max_levels, max_concurrency),
            _rates(rates),
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
            from throughput_expert.measure.runner import reraise_interruption

            reraise_interruption()  # stopped by a signal before any level: exit 128 + N
            why = [n for n in measured.notes if n.startswith(("stopped at", "interrupted"))]
            raise MeasurementError(
                "no level finished" + (f": {why[0]}" if why else ""), source="sweep"
            )
    report = advise(SweepInputs(measured, slo_s), load_settings(defaults))
    if save is not None:  # only once the analysis stands: a failed call writes nothing
        from throughput_expert.sources.sweep import save_sweep

        save_sweep(measured, save)
    return report


def _imported(files: list[str], error_threshold: float, *, merge: bool) -> Sweep:
    """A tpx sweep file as it is, or load-test results users already have (a level whose error
    share passes ``error_threshold`` kept apart as failed; different targets only with
    ``merge``)."""
    from throughput_expert.sources.loadtests import import_to_sweep
    from throughput_expert.sources.sweep import is_sweep_file, load_sweep

    if len(files) == 1 and is_sweep_file(files[0]):
        return load_sweep(files[0])
    return import_to_sweep(files, save=None, error_threshold=error_threshold, merge=merge)


def _levels(value: Sequence[int] | str | None) -> Sequence[int] | Literal["auto"] | None:
    """Levels as given, or from text: "auto", or whole numbers separated by commas."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() == "auto":
            return "auto"
        try:
            return [int(x) for x in value.split(",") if x.strip()]
        except ValueError:
            raise InputError(
                f'expected "auto" or whole numbers separated by commas, not {value[:40]!r}',
                source=Parameter("concurrency"),
            ) from None
    return [_whole(v, Parameter("concurrency")) for v in value]


def _rates(value: Sequence[Quantity] | str | None) -> list[float] | None:
    """Rates as given, or from text separated by commas ("100,200,1K")."""
    if value is None:
        return None
    items: Sequence[Quantity] = (
        [x.strip() for x in value.split(",") if x.strip()] if isinstance(value, str) else value
    )
    return [parse_rate(x, source=Parameter("rates")) for x in items]


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


def fit_usl(sweep: PathArg | Sweep, *, defaults: PathArg | None = None) -> dict[str, object]:
    """The USL fit of a sweep file as the Report's ``analysis.usl`` dictionary; a fit whose R²
    is below ``thresholds.usl_min_r_squared`` is marked ``reliable: false``, with no
    recommended concurrency."""
    from throughput_expert.advisors.ledger import Ledger
    from throughput_expert.advisors.usl_report import usl_report
    from throughput_expert.model.record import dump
    from throughput_expert.sources.settings import load_settings
    from throughput_expert.sources.sweep import load_sweep

    floor = load_settings(defaults).threshold("usl_min_r_squared")
    loaded = sweep if isinstance(sweep, Sweep) else load_sweep(sweep)
    return dump(usl_report(loaded, Ledger(), min_r_squared=floor).analysis)


def parse_slo(text: str) -> LatencySlo:
    """``"200ms"`` (mean response time) or ``"p99=200ms"`` / ``"p99.9=1s"`` (a percentile)."""
    from throughput_expert.advisors.concurrency import LatencySlo
    from throughput_expert.model.quantity import parse_duration

    which, _, value = text.partition("=") if "=" in text else ("", "", text)
    seconds = parse_duration(value.strip(), source=Parameter("latency_slo"), default_unit="s")
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
    """A duration: a quantity string, or a bare number of seconds (the SI unit, everywhere)."""
    return None if value is None else parse_duration(value, source=source, default_unit="s")


def _rps(value: Quantity | None, source: str) -> float | None:
    return None if value is None else parse_rate(value, source=source)


def _runtime(value: str | None) -> str | None:
    if value is not None and value not in RUNTIMES:
        raise InputError(f"expected one of {', '.join(RUNTIMES)}", source=Parameter("runtime"))
    return value
