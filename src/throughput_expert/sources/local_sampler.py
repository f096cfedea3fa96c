"""Sample this machine (and optionally one process tree) into a ``ServiceMetrics``.

Counters (CPU time by mode, disk busy and weighted time, network bytes and drops, TCP
retransmits, major faults, swap pages, context switches, PSI totals) are read at the start and
the end: their difference over the elapsed time is an exact rate, like ``rate()`` in PromQL.
Gauges (memory, runnable tasks, load) are sampled every interval and averaged. The values go
through the same signal names and checks as Prometheus data (``sources/signals.py``).

Linux files are read where they exist (/proc/stat, /proc/vmstat, /proc/diskstats,
/proc/net/snmp, /proc/pressure/*); elsewhere psutil alone gives what it can, and what could not
be measured is absent, never zero.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psutil

from throughput_expert.errors import InputError, MeasurementError, Parameter
from throughput_expert.model import InputRef, ServiceMetrics
from throughput_expert.outputs import write_atomically
from throughput_expert.sources.signals import Signals, metrics_from_signals

__all__ = ["Progress", "metrics_document", "observe", "save_metrics"]

_IDLE = ("idle", "iowait", "steal")
_GUEST = ("guest", "guest_nice")  # already counted in user and nice
_SKIP_DISK = re.compile(r"^(loop|ram|sr|fd|zram)")


@dataclass(frozen=True)
class Progress:
    """Told to ``on_progress`` after each interval: for a terminal display."""

    elapsed_s: float
    duration_s: float
    cpu_utilization: float | None


@dataclass
class _Snapshot:
    t: float
    cpu: dict[str, float]
    counters: dict[str, float]
    disks: dict[str, tuple[float, float]]  # device -> (busy s, weighted busy s)
    nics: dict[str, tuple[float, float, float]]  # nic -> (rx bytes, tx bytes, drops)
    psi: dict[str, float]  # kind -> "some" total stall, s
    tree: dict[int, float] = field(default_factory=dict)  # pid -> CPU seconds
    rss: float = 0.0


def observe(
    duration_s: float = 30.0,
    interval_s: float = 1.0,
    pid: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[Progress], None] | None = None,
) -> ServiceMetrics:
    """Sample for ``duration_s`` every ``interval_s``; ``pid`` adds its process tree's usage."""
    for value, name in ((duration_s, "duration"), (interval_s, "interval")):
        if not value > 0:
            raise InputError(f"must be positive, got {value:g} s", source=Parameter(name))
    proc = _process(pid)
    first = previous = _snapshot(clock, proc)
    gauges: list[dict[str, float]] = []
    while previous.t - first.t < duration_s - 1e-9:
        sleep(min(interval_s, duration_s - (previous.t - first.t)))
        gauges.append(_gauges())
        current = _snapshot(clock, proc)
        if on_progress is not None:
            step = _cpu_fractions(previous.cpu, current.cpu)
            on_progress(Progress(current.t - first.t, duration_s, step[1] if step else None))
        previous = current
    return _metrics(first, previous, gauges, pid)


def _process(pid: int | None) -> psutil.Process | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid)
    except psutil.Error:
        raise InputError(f"no process with pid {pid}", source=Parameter("pid")) from None


# --- reading the machine --------------------------------------------------------------------


def _snapshot(clock: Callable[[], float], proc: psutil.Process | None) -> _Snapshot:
    snap = _Snapshot(
        t=clock(),
        cpu=dict(psutil.cpu_times()._asdict()),
        counters=_counters(),
        disks=_disks(),
        nics=_nics(),
        psi=_psi(),
    )
    if proc is not None:
        snap.tree, snap.rss = _tree(proc)
    return snap


def _counters() -> dict[str, float]:
    out = {"context_switches": float(psutil.cpu_stats().ctx_switches)}
    vmstat = _keyed("/proc/vmstat")
    for key in ("pgmajfault", "pswpin", "pswpout"):
        if key in vmstat:
            out[key] = vmstat[key]
    if "pswpin" not in vmstat:  # psutil gives swap bytes; pages are what the signal counts
        swap = psutil.swap_memory()
        out["swap_bytes"] = float(swap.sin + swap.sout)
    retrans = _snmp_tcp("RetransSegs")
    if retrans is not None:
        out["tcp_retransmits"] = retrans
    return out


def _keyed(path: str) -> dict[str, float]:
    """``key value`` lines (/proc/vmstat); empty when the file is not there."""
    try:
        with open(path, encoding="ascii") as fh:
            pairs = (line.split() for line in fh)
            return {p[0]: float(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}
    except OSError:
        return {}


def _snmp_tcp(name: str) -> float | None:
    """A ``Tcp:`` counter of /proc/net/snmp (a header line, then a value line)."""
    try:
        with open("/proc/net/snmp", encoding="ascii") as fh:
            rows = [line.split() for line in fh if line.startswith("Tcp:")]
    except OSError:
        return None
    if len(rows) < 2 or name not in rows[0]:
        return None
    return float(rows[1][rows[0].index(name)])


def _disks() -> dict[str, tuple[float, float]]:
    """Busy and weighted busy seconds per device: /proc/diskstats, else psutil's busy_time."""
    try:
        with open("/proc/diskstats", encoding="ascii") as fh:
            rows = [line.split() for line in fh]
        return {r[2]: (int(r[12]) / 1e3, int(r[13]) / 1e3) for r in rows if len(r) >= 14}
    except (OSError, ValueError):
        pass
    counters = psutil.disk_io_counters(perdisk=True) or {}
    return {
        d: (c.busy_time / 1e3, float("nan")) for d, c in counters.items() if hasattr(c, "busy_time")
    }


def _nics() -> dict[str, tuple[float, float, float]]:
    counters = psutil.net_io_counters(pernic=True)
    return {
        nic: (float(c.bytes_recv), float(c.bytes_sent), float(c.dropin + c.dropout))
        for nic, c in counters.items()
        if nic != "lo"
    }


def _psi() -> dict[str, float]:
    """``some ... total=µs`` of /proc/pressure/{cpu,memory,io}, in seconds."""
    out = {}
    for kind in ("cpu", "memory", "io"):
        try:
            with open(f"/proc/pressure/{kind}", encoding="ascii") as fh:
                some = next(line for line in fh if line.startswith("some"))
        except (OSError, StopIteration):
            continue
        found = re.search(r"total=(\d+)", some)
        if found:
            out[kind] = int(found.group(1)) / 1e6
    return out


def _tree(proc: psutil.Process) -> tuple[dict[int, float], float]:
    """CPU seconds per process of the tree, and the tree's RSS in bytes."""
    cpu: dict[int, float] = {}
    rss = 0.0
    for p in (proc, *_children(proc)):
        try:
            with p.oneshot():
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
                rss += p.memory_info().rss
        except psutil.Error:
            continue
    return cpu, rss


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return list(proc.children(recursive=True))
    except psutil.Error:
        return []


def _gauges() -> dict[str, float]:
    memory = psutil.virtual_memory()
    out = {"memory_utilization": 1.0 - memory.available / memory.total}
    out["load1"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    stat = _keyed_stat("procs_running")
    if stat is not None:
        out["procs_running"] = max(stat - 1.0, 0.0)  # minus this sampler, running as it reads
    return out


def _keyed_stat(key: str) -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key + " "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


# --- from two snapshots to signals ----------------------------------------------------------


def _cpu_fractions(
    start: Mapping[str, float], end: Mapping[str, float]
) -> tuple[dict[str, float], float] | None:
    """Per-mode fractions of the CPU time counted, and utilization (1 − idle − iowait − steal)."""
    delta = {m: end[m] - start[m] for m in end if m not in _GUEST}
    total = sum(delta.values())
    if not total > 0:
        return None
    modes = {m: max(d, 0.0) / total for m, d in delta.items()}
    return modes, 1.0 - sum(modes.get(m, 0.0) for m in _IDLE)


def _metrics(
    first: _Snapshot, last: _Snapshot, gauges: list[dict[str, float]], pid: int | None
) -> ServiceMetrics:
    elapsed = last.t - first.t
    if not elapsed > 0:
        raise MeasurementError("no time elapsed between samples", source="observe")
    values: dict[str, float] = {"cpu_cores": float(psutil.cpu_count() or 0)}
    notes: list[str] = []
    cpu = _cpu_fractions(first.cpu, last.cpu)
    if cpu is not None:
        values["cpu_utilization"] = cpu[1]
    values |= _counter_rates(first, last, elapsed)
    values |= _disk_and_network(first, last, elapsed)
    values |= _averaged(gauges, values["cpu_cores"], notes)
    if pid is not None:
        notes.append(_tree_note(pid, first, last, elapsed, values["cpu_cores"]))
    if cpu is not None:
        notes.append("cpu by mode: " + ", ".join(f"{m} {v:.1%}" for m, v in sorted(cpu[0].items())))
    signals = Signals(values, cpu[0] if cpu else {}, {}, elapsed, None, tuple(notes))
    detail = f"psutil {psutil.__version__}, {len(gauges)} samples over {elapsed:.3g} s"
    return metrics_from_signals(signals, inputs=(InputRef("observe", "local-sampler", detail),))


def _counter_rates(first: _Snapshot, last: _Snapshot, elapsed: float) -> dict[str, float]:
    def rate(*keys: str) -> float | None:
        if not all(k in first.counters and k in last.counters for k in keys):
            return None
        return max(sum(last.counters[k] - first.counters[k] for k in keys), 0.0) / elapsed

    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    found = {
        "context_switches_rate": rate("context_switches"),
        "major_faults_rate": rate("pgmajfault"),
        "swap_rate": rate("pswpin", "pswpout"),
        "tcp_retransmits_rate": rate("tcp_retransmits"),
    }
    if found["swap_rate"] is None and (swap := rate("swap_bytes")) is not None:
        found["swap_rate"] = swap / page
    for kind in ("cpu", "memory", "io"):
        if kind in first.psi and kind in last.psi:
            found[f"psi_{kind}"] = max(last.psi[kind] - first.psi[kind], 0.0) / elapsed
    return {k: v for k, v in found.items() if v is not None}


def _disk_and_network(first: _Snapshot, last: _Snapshot, elapsed: float) -> dict[str, float]:
    """Busiest disk's busy fraction and queue; network totals, drops and link utilization."""
    out: dict[str, float] = {}
    disks = [d for d in last.disks if d in first.disks and not _SKIP_DISK.match(d)]
    if disks:
        deltas = [
            [b - a for a, b in zip(first.disks[d], last.disks[d], strict=True)] for d in disks
        ]
        out["disk_busy"] = max(d[0] for d in deltas) / elapsed
        out["disk_queue"] = max(d[1] for d in deltas) / elapsed
    nics = [n for n in last.nics if n in first.nics]
    if nics:
        rates = {n: [d / elapsed for d in _deltas(first.nics[n], last.nics[n])] for n in nics}
        out["network_rx_bytes_rate"] = sum(r[0] for r in rates.values())
        out["network_tx_bytes_rate"] = sum(r[1] for r in rates.values())
        out["network_drops_rate"] = max(sum(r[2] for r in rates.values()), 0.0)
        busy = _link_utilization(rates)
        if busy is not None:
            out["network_utilization"] = busy
    return out


def _deltas(start: tuple[float, ...], end: tuple[float, ...]) -> list[float]:
    return [b - a for a, b in zip(start, end, strict=True)]


def _link_utilization(rates: Mapping[str, list[float]]) -> float | None:
    """max(rx, tx) / link speed per NIC with a known speed (psutil: Mbit/s, 0 when unknown)."""
    stats = psutil.net_if_stats()
    busy = [
        max(r[0], r[1]) / (stats[n].speed * 125_000)
        for n, r in rates.items()
        if n in stats and stats[n].speed > 0
    ]
    return max(busy) if busy else None


def _averaged(gauges: list[dict[str, float]], cores: float, notes: list[str]) -> dict[str, float]:
    def mean(key: str) -> float | None:
        seen = [g[key] for g in gauges if key in g and g[key] == g[key]]
        return sum(seen) / len(seen) if seen else None

    out: dict[str, float] = {}
    if (memory := mean("memory_utilization")) is not None:
        out["memory_utilization"] = memory
    running, load = mean("procs_running"), mean("load1")
    if cores and running is not None:
        out["run_queue_per_core"] = running / cores
        notes.append(
            "run queue: runnable tasks of /proc/stat (procs_running), this sampler excluded"
        )
    elif cores and load is not None:
        out["run_queue_per_core"] = load / cores
        notes.append("run queue: 1-minute load average, which lags a short observation")
    return out


def _tree_note(pid: int, first: _Snapshot, last: _Snapshot, elapsed: float, cores: float) -> str:
    """The process tree's CPU (cores busy) and RSS; processes that ended mid-way are not counted."""
    used = sum(t - first.tree.get(p, 0.0) for p, t in last.tree.items())
    share = f" ({used / elapsed / cores:.1%} of {cores:g} cores)" if cores else ""
    return (
        f"process tree of pid {pid} ({len(last.tree)} processes): "
        f"{used / elapsed:.3g} cores of CPU{share}, RSS {last.rss / 2**20:.1f} MiB"
    )


# --- saving ---------------------------------------------------------------------------------


def metrics_document(metrics: ServiceMetrics) -> dict[str, Any]:
    """Our metrics JSON (``schemas/metrics.schema.json``) for a record; fractions stay 0..1."""
    doc: dict[str, Any] = {"format": "tpx-metrics", "version": 1}
    for key in ("service", "system_type", "architecture"):
        if getattr(metrics, key) is not None:
            doc[key] = getattr(metrics, key)
    for key in ("interval_s", "throughput_rps", "target_rps", "errors_rps", "concurrency"):
        if getattr(metrics, key) is not None:
            doc[key] = getattr(metrics, key)
    if metrics.workers is not None:
        doc["workers"] = metrics.workers
    if metrics.cores:
        doc["cores"] = metrics.cores
    if latency := metrics.latency.known():
        doc["latency_ms"] = {k: v * 1e3 for k, v in latency.items()}
    if metrics.utilization:
        doc["utilization"] = dict(metrics.utilization)
    if saturation := metrics.saturation.known():
        doc["saturation"] = saturation
    if metrics.memory_grows_with_rate is not None:
        doc["memory_grows_with_rate"] = metrics.memory_grows_with_rate
    if metrics.notes:
        doc["notes"] = list(metrics.notes)
    return doc


def save_metrics(metrics: ServiceMetrics, path: str | os.PathLike[str]) -> None:
    """Write the metrics JSON atomically; ``tpx analyze --metrics`` reads it back."""
    text = json.dumps(metrics_document(metrics), indent=1, allow_nan=False) + "\n"
    write_atomically(path, text, source=Parameter("save"))
