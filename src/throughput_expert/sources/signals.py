"""From raw Prometheus series to named signals, and from signals to a ``ServiceMetrics``.

Signals carry the names of docs/formats.md §5.2 (``cpu_utilization``, ``disk_busy``,
``service_rps``…) so that the three Prometheus inputs meet here: raw series from text scrapes or a
bare API response go through ``signals_from_series``; an export already holds signals, computed
by Prometheus with the USE-method queries of docs/formats.md §1.4. ``metrics_from_signals`` then
checks the values and fills the record.

A NaN signal means "measured but undefined" (a 0/0, e.g. an idle disk's latency): it becomes
None with a note, never zero.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from throughput_expert.errors import InputError
from throughput_expert.model import InputRef, Latency, Resource, Saturation, ServiceMetrics
from throughput_expert.model.quantity import RANGES, in_range
from throughput_expert.sources.series import (
    Series,
    SeriesIndex,
    can_rate,
    gauge_last,
    gauge_mean,
    histogram_quantile,
)

__all__ = [
    "FRACTION_SIGNALS",
    "SIGNAL_NAMES",
    "Signals",
    "clamp_jitter",
    "metrics_from_signals",
    "signals_from_series",
]

SIGNAL_NAMES = (
    "cpu_utilization", "cpu_cores", "run_queue_per_core", "memory_utilization",
    "major_faults_rate", "swap_rate", "disk_busy", "disk_queue", "network_rx_bytes_rate",
    "network_tx_bytes_rate", "network_utilization", "network_drops_rate", "tcp_retransmits_rate",
    "psi_cpu", "psi_memory", "psi_io", "context_switches_rate", "service_rps",
    "service_latency_mean_s", "service_latency_p50_s", "service_latency_p90_s",
    "service_latency_p95_s", "service_latency_p99_s", "service_errors_rps", "concurrency",
)  # fmt: skip
FRACTION_SIGNALS = frozenset(
    {"cpu_utilization", "memory_utilization", "disk_busy", "network_utilization"}
    | {"psi_cpu", "psi_memory", "psi_io", "iowait", "cpu_steal"}
)
# A rate of a seconds counter over a measured gap is off by the scrape jitter (a few ms out of
# a second): a busy fraction up to this far past 1 is read as 1, with a note.
JITTER = 0.05
_IDLE_MODES = ("idle", "iowait", "steal")
_SKIP_DISK = re.compile(r"^(loop|ram|sr|fd)")


@dataclass(frozen=True)
class Signals:
    """Named signal values (NaN: measured but undefined), and where they came from."""

    values: Mapping[str, float] = field(default_factory=dict)
    cpu_by_mode: Mapping[str, float] = field(default_factory=dict)
    picked: Mapping[str, str] = field(default_factory=dict)
    interval_s: float | None = None
    service: str | None = None
    notes: tuple[str, ...] = ()
    unrated: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        """True when nothing useful was computed (a core count alone is not an analysis)."""
        return not self.cpu_by_mode and not set(self.values) - {"cpu_cores"}

    def describe(self) -> str:
        """Which metric each application signal came from, for the report's inputs."""
        return "; ".join(f"{k} from {v}" for k, v in sorted(self.picked.items()))


def clamp_jitter(name: str, value: float, notes: list[str]) -> float:
    """A fraction a little outside 0..1 (scrape jitter, rate extrapolation) read as 0 or 1."""
    edge = 1.0 if value > 1.0 else 0.0
    if 0.0 < abs(value - edge) <= JITTER and not 0.0 <= value <= 1.0:
        notes.append(f"{name}: {value:.4f} read as {edge} (scrape timing jitter)")
        return edge
    return value


def signals_from_series(series: Sequence[Series], *, service: str | None) -> Signals:
    """The signals (docs/formats.md §5.2) of node_exporter and instrumented-service series."""
    idx = SeriesIndex(series)
    out: dict[str, float] = {}
    notes: list[str] = []
    by_mode = _cpu(idx, out)
    for compute in (_memory, _disk, _network, _kernel):
        compute(idx, out, notes)
    picked = _app_signals(idx, service, out)
    if "cpu_cores" in out and "node_load1" in idx.by_name:
        load = sum(gauge_mean(s) for s in idx.get("node_load1"))
        out["run_queue_per_core"] = load / out["cpu_cores"]
    if len({s.label("instance") for s in idx.get("node_cpu_seconds_total")}) > 1:
        notes.append("several instances: resources are summed or averaged over them")
    return Signals(
        values=out,
        cpu_by_mode=by_mode,
        picked=picked,
        interval_s=idx.span or None,
        service=service,
        notes=tuple(notes),
        unrated=tuple(sorted(idx.unrated)),
    )


def _cpu(idx: SeriesIndex, out: dict[str, float]) -> dict[str, float]:
    """cores, per-mode fractions and utilization from ``node_cpu_seconds_total``.

    Fractions are of the CPU time counted over the interval (Σ of every mode's rate, which is
    the core count): the same as ``rate / cores`` but immune to the gap between scrapes.
    """
    series = idx.get("node_cpu_seconds_total")
    if not series:
        return {}
    out["cpu_cores"] = float(len({(s.label("instance"), s.label("cpu")) for s in series}))
    rated = idx.rates(series)
    total = sum(r for _, r in rated)
    if not total > 0:
        return {}
    by_mode: dict[str, float] = defaultdict(float)
    for s, r in rated:
        by_mode[s.label("mode")] += r / total
    out["cpu_utilization"] = 1.0 - sum(by_mode.get(m, 0.0) for m in _IDLE_MODES)
    return dict(by_mode)


def _memory(idx: SeriesIndex, out: dict[str, float], notes: list[str]) -> None:
    avail = idx.get("node_memory_MemAvailable_bytes")
    total = sum(gauge_mean(s) for s in idx.get("node_memory_MemTotal_bytes"))
    if avail and total > 0:
        out["memory_utilization"] = 1.0 - sum(gauge_mean(s) for s in avail) / total
    for signal, names in (
        ("major_faults_rate", ("node_vmstat_pgmajfault",)),
        ("swap_rate", ("node_vmstat_pswpin", "node_vmstat_pswpout")),
    ):
        _put(out, signal, idx.rate_sum(s for n in names for s in idx.get(n)))


def _disk(idx: SeriesIndex, out: dict[str, float], notes: list[str]) -> None:
    def device_max(name: str) -> float | None:
        picked = [s for s in idx.get(name) if not _SKIP_DISK.match(s.label("device"))]
        rated = idx.rates(picked)
        return max(r for _, r in rated) if rated else None

    busy = device_max("node_disk_io_time_seconds_total")
    if busy is not None:
        out["disk_busy"] = clamp_jitter("disk_busy", busy, notes)
    _put(out, "disk_queue", device_max("node_disk_io_time_weighted_seconds_total"))


def _network(idx: SeriesIndex, out: dict[str, float], notes: list[str]) -> None:
    def per_device(name: str) -> dict[tuple[str, str], float]:
        nics = [s for s in idx.get(name) if s.label("device") != "lo"]
        return {(s.label("instance"), s.label("device")): r for s, r in idx.rates(nics)}

    rx = per_device("node_network_receive_bytes_total")
    tx = per_device("node_network_transmit_bytes_total")
    _put(out, "network_rx_bytes_rate", sum(rx.values()) if rx else None)
    _put(out, "network_tx_bytes_rate", sum(tx.values()) if tx else None)
    speeds = {
        (s.label("instance"), s.label("device")): gauge_last(s)
        for s in idx.get("node_network_speed_bytes")
    }
    busy = [
        max(rx.get(k, 0.0), tx.get(k, 0.0)) / speed
        for k, speed in speeds.items()
        if speed > 0 and (k in rx or k in tx)
    ]
    if busy:
        out["network_utilization"] = clamp_jitter("network_utilization", max(busy), notes)
    drops = (
        s
        for n in ("node_network_receive_drop_total", "node_network_transmit_drop_total")
        for s in idx.get(n)
        if s.label("device") != "lo"
    )
    _put(out, "network_drops_rate", idx.rate_sum(drops))


def _kernel(idx: SeriesIndex, out: dict[str, float], notes: list[str]) -> None:
    _put(out, "tcp_retransmits_rate", idx.rate_sum(idx.get("node_netstat_Tcp_RetransSegs")))
    _put(out, "context_switches_rate", idx.rate_sum(idx.get("node_context_switches_total")))
    for kind in ("cpu", "memory", "io"):
        psi = idx.rate_sum(idx.get(f"node_pressure_{kind}_waiting_seconds_total"))
        if psi is not None:
            out[f"psi_{kind}"] = clamp_jitter(f"psi_{kind}", psi, notes)


def _put(out: dict[str, float], name: str, value: float | None) -> None:
    if value is not None:
        out[name] = value


# --- application (RED) signals --------------------------------------------------------------

_NOT_APP = ("node_", "go_", "process_", "python_", "promhttp_", "prometheus_", "scrape_")
_LATENCY_COUNT = re.compile(r"(request|duration|latency)\w*_seconds_count$")
_REQUESTS = re.compile(r"_(requests|messages|processed)_total$")
_ERRORS = re.compile(r"_errors_total$")
_INFLIGHT = re.compile(r"^(?!.*_(total|count|sum|bucket)$).*(in_progress|inflight|in_flight)")
_FIVE_XX = re.compile(r"5..")
_PERCENTILES = {0.5: "p50", 0.9: "p90", 0.95: "p95", 0.99: "p99"}


def _norm(text: str) -> str:
    return text.lower().replace("-", "_")


class _App:
    """Finds the application's metrics, preferring the named service's own."""

    def __init__(self, idx: SeriesIndex, service: str | None) -> None:
        self.idx = idx
        self.service = _norm(service) if service else None

    def names(self, pattern: re.Pattern[str]) -> list[str]:
        """Application metric names matching ``pattern``: the service's own when it has any."""
        names = sorted(n for n in self.idx.by_name if pattern.search(n) and self._is_app(n))
        own = [n for n in names if self._owns(n)]
        return own or names

    def series(self, name: str) -> list[Series]:
        """A metric's series: only those labelled with the service when there are such."""
        every = self.idx.get(name)
        return [s for s in every if self._labelled(s)] or every

    def busiest(self, names: list[str]) -> str:
        return max(names, key=lambda n: sum(gauge_last(s) for s in self.series(n)))

    def _is_app(self, name: str) -> bool:
        return not name.startswith(_NOT_APP) or self._by_name(name)

    def _owns(self, name: str) -> bool:
        return self._by_name(name) or any(self._labelled(s) for s in self.idx.get(name))

    def _by_name(self, name: str) -> bool:
        return self.service is not None and _norm(name).startswith(self.service)

    def _labelled(self, s: Series) -> bool:
        return self.service is not None and self.service in (
            _norm(s.label("job")),
            _norm(s.label("service")),
        )


def _app_signals(idx: SeriesIndex, service: str | None, out: dict[str, float]) -> dict[str, str]:
    """RED signals of an instrumented service; returns which metric gave each."""
    app = _App(idx, service)
    picked: dict[str, str] = {}
    families = [n.removesuffix("_count") for n in app.names(_LATENCY_COUNT)]
    families = [f for f in families if f"{f}_sum" in idx.by_name]
    if families:
        histograms = [f for f in families if f"{f}_bucket" in idx.by_name]
        _latency(app, app.busiest([f"{f}_count" for f in histograms or families]), out, picked)
    if "service_rps" not in out and (counters := app.names(_REQUESTS)):
        name = app.busiest(counters)
        if (rps := idx.rate_sum(app.series(name))) is not None:
            out["service_rps"], picked["service_rps"] = rps, name
    _errors(app, out, picked)
    if gauges := app.names(_INFLIGHT):
        out["concurrency"] = sum(gauge_mean(s) for s in app.series(gauges[0]))
        picked["concurrency"] = gauges[0]
    return picked


def _latency(app: _App, count: str, out: dict[str, float], picked: dict[str, str]) -> None:
    """rps from ``X_count``; mean = rate(X_sum) / rate(X_count); percentiles from X's kind."""
    family = count.removesuffix("_count")
    rps = app.idx.rate_sum(app.series(count))
    if rps is None:
        return
    out["service_rps"], picked["service_rps"] = rps, count
    total = app.idx.rate_sum(app.series(f"{family}_sum"))
    out["service_latency_mean_s"] = total / rps if total is not None and rps > 0 else math.nan
    buckets = app.series(f"{family}_bucket")
    picked["service_latency"] = f"{family} ({'histogram' if buckets else 'summary'})"
    quantiles = _bucket_quantiles(app, buckets) if buckets else _summary_quantiles(app, family)
    out.update({f"service_latency_{k}_s": v for k, v in quantiles.items()})


def _bucket_quantiles(app: _App, buckets: list[Series]) -> dict[str, float]:
    """``histogram_quantile(q, sum by (le) (rate(X_bucket)))`` for each percentile."""
    by_le: dict[float, float] = defaultdict(float)
    for s, r in app.idx.rates(buckets):
        le = _float_or_nan(s.label("le"))
        if not math.isnan(le):
            by_le[le] += r
    if not by_le:
        return {}
    bounds, counts = list(by_le), list(by_le.values())
    return {k: histogram_quantile(q, bounds, counts) for q, k in _PERCENTILES.items()}


def _summary_quantiles(app: _App, family: str) -> dict[str, float]:
    """A summary's own quantiles; they cannot be aggregated, so the largest series wins."""
    found: dict[str, list[float]] = defaultdict(list)
    for s in app.series(family):
        key = _PERCENTILES.get(_float_or_nan(s.label("quantile")))
        if key is not None:
            found[key].append(gauge_mean(s))
    return {k: max(v) for k, v in found.items()}


def _errors(app: _App, out: dict[str, float], picked: dict[str, str]) -> None:
    """5xx by ``code``/``status`` on the request metric, else an ``*_errors_total`` counter."""
    for name in [picked.get("service_rps", ""), *app.names(_REQUESTS)]:
        coded = [s for s in app.series(name) if s.label("code") or s.label("status")]
        if not coded:
            continue
        five = [s for s in coded if _FIVE_XX.fullmatch(s.label("code") or s.label("status"))]
        rate = app.idx.rate_sum(five) if five else (0.0 if any(map(can_rate, coded)) else None)
        if rate is not None:
            out["service_errors_rps"], picked["service_errors_rps"] = rate, f"{name} 5xx"
        return
    if errors := app.names(_ERRORS):
        name = app.busiest(errors)
        if (rate := app.idx.rate_sum(app.series(name))) is not None:
            out["service_errors_rps"], picked["service_errors_rps"] = rate, name


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


# --- signals -> ServiceMetrics --------------------------------------------------------------

_UTILIZATION: tuple[tuple[str, Resource], ...] = (
    ("cpu_utilization", "cpu"),
    ("memory_utilization", "memory"),
    ("disk_busy", "disk_io"),
    ("network_utilization", "network"),
)
_SATURATION = {
    "run_queue_per_core": "run_queue_per_core", "disk_queue": "disk_queue", "psi_cpu": "psi_cpu",
    "psi_memory": "psi_memory", "psi_io": "psi_io", "swap_rate": "swap_pages_per_s",
    "major_faults_rate": "major_faults_per_s", "network_drops_rate": "network_drops_per_s",
    "tcp_retransmits_rate": "tcp_retransmits_per_s",
    "context_switches_rate": "context_switches_per_s",
}  # fmt: skip
_LATENCY = {f"service_latency_{k}_s": f"{k}_s" for k in ("mean", "p50", "p90", "p95", "p99")}


def metrics_from_signals(signals: Signals, *, inputs: tuple[InputRef, ...]) -> ServiceMetrics:
    """Check every signal (fractions in 0..1, rates ≥ 0) and fill a ``ServiceMetrics``."""
    notes = list(signals.notes)
    check = _Checker(inputs[0].source if inputs else "prometheus", notes)
    modes = signals.cpu_by_mode
    values = {**signals.values, **{k: modes[m] for k, m in _MODE_SIGNALS if m in modes}}
    got = {name: check(name, v) for name, v in values.items() if name in _KNOWN}
    known = {k: v for k, v in got.items() if v is not None}
    util = {res: known[name] for name, res in _UTILIZATION if name in known}
    sat = {field: known[name] for name, field in _SATURATION.items() if name in known}
    sat |= {k: known[k] for k in ("iowait", "cpu_steal") if k in known}
    latency = {field: known[name] for name, field in _LATENCY.items() if name in known}
    by_mode = {m: c for m, v in modes.items() if (c := check(f"cpu {m}", v)) is not None}
    return ServiceMetrics(
        service=signals.service,
        throughput_rps=known.get("service_rps"),
        latency=Latency(**latency),
        concurrency=known.get("concurrency"),
        cores=known.get("cpu_cores") or None,  # zero cores: not measured
        utilization=util,
        saturation=Saturation(**sat),
        cpu_by_mode=by_mode,
        errors_rps=known.get("service_errors_rps"),
        interval_s=signals.interval_s,
        inputs=inputs,
        notes=tuple(notes),
    )


_MODE_SIGNALS = (("iowait", "iowait"), ("cpu_steal", "steal"))
_KNOWN = frozenset(SIGNAL_NAMES) | {"iowait", "cpu_steal"}


@dataclass
class _Checker:
    """Turns one raw signal value into a checked one (None: not measured, noted)."""

    source: str
    notes: list[str]
    tolerance: float = 1e-6

    def __call__(self, name: str, value: float) -> float | None:
        if math.isnan(value):
            self.notes.append(f"{name}: NaN from the source (e.g. 0/0 when idle): not measured")
            return None
        if math.isinf(value):
            raise InputError(f"{name} is infinite", source=self.source, field=name)
        upper = 1.0 if (name in FRACTION_SIGNALS or name.startswith("cpu ")) else math.inf
        if not -self.tolerance <= value <= upper + self.tolerance:
            what = "a fraction in 0..1" if upper == 1.0 else "not negative"
            raise InputError(f"{name} = {value!r} must be {what}", source=self.source, field=name)
        kind = _kind(name)
        if value > RANGES[kind].high:  # the numeric gate: no 1e300 rps leaves a reader
            in_range(value, kind, source=self.source, field=name)
        return min(max(value, 0.0), upper)


def _kind(name: str) -> str:
    """The numeric gate's kind of a signal (``model.quantity.RANGES``) by its name's unit."""
    if name.endswith(("_rps", "_rate")):
        return "rate"
    if name.endswith("_s"):
        return "duration"
    if name == "cpu_cores":
        return "cores"
    return "count"
