"""What the machine and the pipeline's processes spent over a window, read from /proc and psutil.

- Host CPU: /proc/stat, busy = all − idle − iowait − steal (as ``tpx observe`` counts it).
- Run queue: /proc/PID/schedstat, the time the consumers and their backends were runnable but
  waited for a CPU (other processes, or each other, holding the cores).
- Disk: /proc/diskstats per device, io_ticks (ms the device had I/O in flight: "busy"), writes
  completed and sectors written.
- Processes: user + system CPU seconds (psutil) of the consumers, the producer, and PostgreSQL
  (the postmaster and every child: our backends, the WAL writer, the checkpointer, ...; not the
  client backends of other programs sharing the server).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import psutil

from _pipeline.pipeline import Pipeline, Totals

__all__ = [
    "Sample",
    "Window",
    "device_of",
    "disks",
    "host_cpu",
    "postgres_pids",
    "sample",
    "window",
]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    t: float
    totals: Totals
    cpu_busy_s: float
    cpu_all_s: float
    disks: Mapping[str, tuple[float, int, int]]
    """device -> (busy s, writes completed, sectors written)"""
    procs: Mapping[str, Mapping[int, float]]
    """group -> pid -> CPU seconds (user + system)"""
    waits: Mapping[int, float]
    """pid -> seconds runnable but waiting for a CPU (/proc/PID/schedstat), of the consumers
    and their backends"""


@dataclass(frozen=True)
class Window:
    """Two samples' difference: rates, utilizations and costs per item."""

    seconds: float
    items: int
    calls: int
    cpu_util: float
    """Host CPU busy, a fraction of all cores."""
    disk_util: float
    disk_writes: int
    disk_sectors: int
    proc_cpu_s: Mapping[str, float]
    statement_s: float
    commit_s: float
    workers: int
    runqueue_s: float = 0.0
    """The consumers' and their backends' time runnable but waiting for a CPU."""

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0

    @property
    def mean_batch(self) -> float:
        return self.items / self.calls if self.calls else 0.0

    def per_item(self, seconds: float) -> float:
        return seconds / self.items if self.items else float("nan")

    @property
    def cpu_per_item_s(self) -> float:
        """Host CPU seconds (every core, every process) per item."""
        return self.per_item(self.cpu_util * self.seconds * (os.cpu_count() or 1))

    @property
    def disk_per_item_s(self) -> float:
        return self.per_item(self.disk_util * self.seconds)

    @property
    def worker_db_share(self) -> float:
        """Share of the consumers' wall time spent in the statement and the commit."""
        wall = self.workers * self.seconds
        return (self.statement_s + self.commit_s) / wall if wall > 0 else float("nan")


def host_cpu() -> tuple[float, float]:
    with open("/proc/stat", encoding="ascii") as fh:
        fields = fh.readline().split()[1:]
    ticks = [int(x) for x in fields[:8]]  # user nice system idle iowait irq softirq steal
    total = sum(ticks)
    idle = ticks[3] + ticks[4] + ticks[7]
    return (total - idle) / _TICK, total / _TICK


def disks() -> dict[str, tuple[float, int, int]]:
    out: dict[str, tuple[float, int, int]] = {}
    with open("/proc/diskstats", encoding="ascii") as fh:
        for line in fh:
            r = line.split()
            if len(r) >= 14:
                out[r[2]] = (int(r[12]) / 1e3, int(r[7]), int(r[9]))
    return out


def _cpu_of(pids: Iterable[int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        out[pid] = t.user + t.system
    return out


def postgres_pids(backend_pid: int, others: Iterable[int] = ()) -> list[int]:
    """The postmaster of a backend and all its children (its backends, the WAL writer, the
    checkpointer, the background writer, autovacuum ...) but ``others``: other programs' client
    backends, which serve their calls, not ours (empty when they cannot be read)."""
    skip = set(others)
    try:
        postmaster = psutil.Process(backend_pid).parent()
        if postmaster is None:
            return []
        children = [c.pid for c in postmaster.children() if c.pid not in skip]
        return [postmaster.pid, *children]
    except psutil.Error:
        return []


def _waits(pids: Iterable[int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/schedstat", encoding="ascii") as fh:
                out[pid] = int(fh.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue
    return out


def sample(pipeline: Pipeline, postgres: list[int], t: float) -> Sample:
    own = pipeline.pids()
    busy, total = host_cpu()
    return Sample(
        t=t,
        totals=pipeline.totals(),
        cpu_busy_s=busy,
        cpu_all_s=total,
        disks=disks(),
        procs={
            "consumers": _cpu_of(own["consumers"]),
            "producer": _cpu_of(own["producer"]),
            "postgres": _cpu_of(postgres),
        },
        waits=_waits([*own["consumers"], *pipeline.backend_pids()]),
    )


def window(a: Sample, b: Sample, device: str, workers: int) -> Window:
    seconds = b.t - a.t
    d0, d1 = a.disks.get(device, (0.0, 0, 0)), b.disks.get(device, (0.0, 0, 0))
    cpu_all = b.cpu_all_s - a.cpu_all_s
    return Window(
        seconds=seconds,
        items=b.totals.items - a.totals.items,
        calls=b.totals.calls - a.totals.calls,
        cpu_util=(b.cpu_busy_s - a.cpu_busy_s) / cpu_all if cpu_all > 0 else float("nan"),
        disk_util=(d1[0] - d0[0]) / seconds if seconds > 0 else float("nan"),
        disk_writes=d1[1] - d0[1],
        disk_sectors=d1[2] - d0[2],
        proc_cpu_s={
            g: sum(t - a.procs[g][p] for p, t in b.procs[g].items() if p in a.procs[g])
            for g in b.procs
        },
        statement_s=b.totals.statement_s - a.totals.statement_s,
        commit_s=b.totals.commit_s - a.totals.commit_s,
        workers=workers,
        runqueue_s=sum(t - a.waits[p] for p, t in b.waits.items() if p in a.waits),
    )


def device_of(path: str) -> tuple[str, str] | None:
    """The block device holding ``path`` and the whole disk it is on (the same name when it is
    not a partition); None when /sys does not say."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    node = f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    try:
        real = os.path.realpath(node)
    except OSError:
        return None
    if not os.path.exists(real):
        return None
    name = os.path.basename(real)
    parent = os.path.basename(os.path.dirname(real))
    disk = parent if os.path.exists(os.path.join(real, "partition")) else name
    return name, disk
