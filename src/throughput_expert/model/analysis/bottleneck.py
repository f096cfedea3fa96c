"""The analysis of ``find-bottleneck``: where a profile's time goes and the bottleneck it shows.

Shares are fractions of the profile's total weight (``share_pct`` in JSON) unless said to be of
the *active* weight: the samples that are not sleep or idle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from throughput_expert.model.profile import Measures, ProfileUnit
from throughput_expert.model.record import item, measure
from throughput_expert.model.records import BottleneckType

__all__ = [
    "Bottleneck",
    "BottleneckAnalysis",
    "CategoryShare",
    "FunctionShare",
    "GilFunction",
    "GilRecord",
    "HotPath",
    "ProfileInfo",
    "ThreadShare",
    "WaitCensus",
    "WaitSite",
]

GIL_LAW = "GIL wait ≈ 1 − gil samples / idle samples, per function (rates)"


@dataclass(frozen=True)
class ProfileInfo:
    """The profile read: its format and exporter, what its weights measure and in which unit
    (``total`` is their sum), its unique stacks, and whether idle threads were sampled."""

    format: str
    exporter: str | None
    measures: Measures
    unit: ProfileUnit
    total: float = item(doc="the sum of all weights, in unit")
    stacks: int = item(doc="unique stacks")
    idle_included: bool = item(doc="idle and waiting threads were sampled too (wall clock)")
    duration: float | None = measure("s", doc="how long the recording ran, when the file says")
    notes: tuple[str, ...] = item(doc="what the reader noticed or assumed")
    sample_means: str = item(
        default="", doc="what one sample (or unit of weight) stands for, and so what a share is of"
    )
    runtime: str | None = item(default=None, doc="python, go, node or jvm: the fixes offered")


@dataclass(frozen=True)
class Bottleneck:
    """The verdict: the bottleneck type (null when the profile is empty or only idle), the
    profile category and the function behind it."""

    type: BottleneckType | None
    category: str | None
    component: str | None
    share: float = measure("pct", doc="the category's share of active samples")
    reason: str = item()
    evidence_ids: tuple[str, ...] = item()
    state: str | None = item(
        default=None, doc="the thread state behind it (running, lock_wait, gil_wait, ...)"
    )
    component_share: float | None = measure(
        "pct", default=None, doc="the component's own share of the same active samples"
    )
    basis: str = item(default="", doc="what the shares are of (on-CPU samples, wall time, ...)")


@dataclass(frozen=True)
class CategoryShare:
    """One category of work in the profile and its share of the samples."""

    category: str
    label: str
    share: float = measure("pct", doc="of all samples")
    share_of_active: float | None = measure(
        "pct", doc="of active samples; null for sleep and idle, which are not a bottleneck"
    )
    waiting: bool = item(doc="samples in it wait (off CPU) rather than run")
    bottleneck_type: BottleneckType | None = item(doc="what it points to")
    top_function: str | None = item(doc="the function that decides most of its samples")


@dataclass(frozen=True)
class FunctionShare:
    """A function's self and total share of the samples."""

    function: str = item(doc="name (pkg/module.py)")
    name: str = item()
    file: str | None = item()
    self_share: float = measure("pct", key="self_pct", doc="samples where it is the leaf")
    total_share: float = measure("pct", key="total_pct", doc="samples where it is on the stack")


@dataclass(frozen=True)
class HotPath:
    """One of the heaviest stacks (threads merged), its last frames."""

    path: str = item(doc="frame names, root to leaf, ';'-separated; '…;' when cut")
    share: float = measure("pct", doc="of all samples")
    category: str = item()


@dataclass(frozen=True)
class ThreadShare:
    """One thread's share of the samples and what it mostly does."""

    thread: str | None = item(doc="the thread id (null: the profile has no threads)")
    name: str = item()
    share: float = measure("pct", doc="of all samples")
    top_category: str = item(doc="its heaviest active category (sleep_idle when none)")
    on_cpu: float | None = measure(
        "pct", doc="of its samples running; null when the profile has on-CPU samples only"
    )
    state: str | None = item(default=None, doc="its heaviest thread state")
    states: Mapping[str, float] | None = measure(
        "pct", default=None, doc="the share of its samples in each thread state"
    )


@dataclass(frozen=True)
class StateShare:
    """A thread state (thread_states.yaml) and its share of the samples."""

    state: str
    label: str
    share: float = measure("pct", doc="of all samples")
    share_of_active: float | None = measure(
        "pct", doc="of active samples; null for states that do not limit throughput"
    )
    limits: bool = item(doc="time in it limits throughput (idle and sleep do not)")
    top_site: str | None = item(doc="where most of its samples are: name (file:line)")


@dataclass(frozen=True)
class GilFunction:
    """A GIL-holding function: how often it held the GIL when the idle recording saw it."""

    function: str
    idle_samples: float = item(doc="its self weight in the --idle recording")
    gil_samples: float = item(doc="its self weight in the --gil recording")
    gil_held: float = measure("pct", doc="of its samples it holds the GIL")
    read_as: Literal["GIL wait", "blocked in a C call", "holding the GIL"] = item(
        doc="what its samples off the GIL are read as; holding the GIL: it held it in all"
    )


@dataclass(frozen=True)
class GilRecord:
    """GIL waiting estimated from a py-spy --gil recording against an --idle one."""

    law: str = item(doc="how the wait is estimated")
    gil_recording_scale: float = item(doc="weight of the --gil recording per --idle unit")
    waiting_share: float = measure("pct", doc="of all samples waiting for the GIL")
    functions: tuple[GilFunction, ...] = item(doc="the heaviest functions first (15 at most)")


@dataclass(frozen=True)
class BottleneckAnalysis:
    """find-bottleneck: the profile's categories, functions, hot paths and the verdict."""

    profile: ProfileInfo
    bottleneck: Bottleneck
    categories: tuple[CategoryShare, ...] = item(doc="heaviest first")
    functions: tuple[FunctionShare, ...] = item(doc="the heaviest by self time (15 at most)")
    hot_paths: tuple[HotPath, ...] = item(doc="the heaviest stacks (10 at most)")
    on_cpu: float | None = measure(
        "pct", doc="share of the samples on CPU (not waiting); null unless idle ones are included"
    )
    gil: GilRecord | None = item(omit_none=True, doc="with a GIL recording of the same run")
    threads: tuple[ThreadShare, ...] | None = item(
        omit_none=True, doc="when a per-thread breakdown was asked for"
    )
    utilization: Mapping[str, float] | None = measure(
        "pct", omit_none=True, doc="the host's utilization per resource, with host metrics"
    )
    states: tuple[StateShare, ...] = item(
        default=(), doc="thread states from frames (running, lock_wait, ...), heaviest first"
    )
    waits: WaitCensus | None = item(
        omit_none=True,
        doc="goroutine profiles, thread dumps, delay and allocation profiles: where the "
        "goroutines or threads wait (or allocate) and how much, benign waits apart",
    )


@dataclass(frozen=True)
class WaitSite:
    """One place goroutines or threads wait (or run, or allocate) in a snapshot, delay or
    allocation profile, and how much of the profile is there."""

    state: str = item(
        doc="running, lock_wait, chan_wait, cond_wait, io_network, io_disk, sleep, idle or alloc"
    )
    site: str = item(doc="the call site: the first frame above the wait (for a lock: where taken)")
    wait: str | None = item(
        doc="what is waited on: the wait frame (sync.(*Mutex).Lock) or the lock "
        "(<0x…> (a java.lang.Object)); null when running"
    )
    weight: float = item(doc="goroutines, thread observations, nanoseconds or bytes (the unit)")
    share: float = measure("pct", doc="of the profile's total")
    benign: bool = item(
        doc="idle or benign (an empty pool, a WaitGroup, a sleep): not a bottleneck"
    )
    holders: tuple[str, ...] = item(default=(), doc="thread dumps: the threads seen holding it")
    holder_stack: str | None = item(
        default=None, doc="thread dumps: a holder's stack, root to leaf, ';'-separated"
    )


@dataclass(frozen=True)
class WaitCensus:
    """Where a profile that is not a sample of running threads puts its weight: a goroutine
    census, lock delays by call site, threads per monitor, allocations by site."""

    measures: Measures
    unit: ProfileUnit
    total: float = item(doc="the sum of all weights, in unit")
    benign_share: float = measure("pct", doc="of the total that is idle or benign waiting")
    sites: tuple[WaitSite, ...] = item(doc="the heaviest first (15 at most)")
